"""The connection's rules as a caller meets them: the sentence of every storage error, the
modes of the folder and the file (made private, only ever tightened, even where chmod is
refused), a link or a race refused with a sentence, a read-only file system, a damaged
file moved aside under a name of its own, a newer schema refused, WAL in force.

Real files in tmp_path, real SQLite, real links and modes; a real read-only file system
(a tmpfs remounted read-only) where this sandbox lets us mount one. What cannot be made
to happen for real (a file system without chmod, with modes of its own, without shared
memory or without locks; SQLite naming damage in an ``OperationalError``; another process
acting between two system calls; two damaged files in one second) is brought about at
the boundary: ``os``, ``fcntl.flock``, ``sqlite3.connect``, ``time.strftime``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fixtures import small_tmpfs

from lemlist_tui.db import DB_NAME, StorageError, private_folder
from lemlist_tui.db import connection as connection_module
from lemlist_tui.db.connection import BUSY_TIMEOUT, connect, storage_error
from lemlist_tui.db.schema import MIGRATIONS, SCHEMA_VERSION

FINGERPRINT = "cd" * 32
COMPANIONS = ("-wal", "-shm", "-journal")
NEWER = (
    "The local inbox was made by a newer lemlist-tui: upgrade, or run lemlist-tui --clear-cache."
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def corrupt_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(f"{DB_NAME}.corrupt-*"))


@contextlib.contextmanager
def connected(folder: Path) -> Iterator[tuple[sqlite3.Connection, str | None]]:
    connection, notice = connect(folder)
    try:
        yield connection, notice
    finally:
        connection.close()


def refused(folder: Path) -> str:
    """The sentence ``connect`` refuses ``folder`` with: one line, ending in a stop."""
    with pytest.raises(StorageError) as caught:
        connect(folder)
    text = str(caught.value)
    assert "\n" not in text
    assert text.endswith(".")
    return text


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / FINGERPRINT


# --- the sentence of a storage error ------------------------------------------------------


def os_error(code: int, *filename: str) -> OSError:
    return OSError(code, os.strerror(code), *filename)


@pytest.mark.parametrize(
    ("error", "doing", "sentence"),
    [
        (os_error(errno.ENOSPC), None, "The local inbox could not be written: the disk is full."),
        (
            sqlite3.OperationalError("database or disk is full"),
            "read",
            "The local inbox could not be read: the disk is full.",
        ),
        (
            os_error(errno.EROFS, "/x/inbox.sqlite3"),
            "opened",
            "The local inbox could not be opened: the folder is read-only.",
        ),
        (
            os_error(errno.EACCES),
            None,
            "The local inbox could not be written: the folder is read-only.",
        ),
        (
            sqlite3.OperationalError("attempt to write a readonly database"),
            None,
            "The local inbox could not be written: the folder is read-only.",
        ),
        (
            sqlite3.OperationalError("database is locked"),
            None,
            "The local inbox could not be written: another lemlist-tui kept it busy too long.",
        ),
        (
            os_error(errno.EBUSY),
            "made",
            "The local inbox could not be made: another lemlist-tui kept it busy too long.",
        ),
        # Any other reason is the system's own words, without the errno or the file name.
        (
            os_error(errno.EIO, "/x/inbox.sqlite3"),
            None,
            "The local inbox could not be written: Input/output error.",
        ),
        (
            OSError("the volume went away"),
            None,
            "The local inbox could not be written: the volume went away.",
        ),
        (
            sqlite3.OperationalError("disk I/O error"),
            "rebuilt",
            "The local inbox could not be rebuilt: disk I/O error.",
        ),
        # An error without words is named by its kind.
        (
            sqlite3.OperationalError(),
            "read",
            "The local inbox could not be read: OperationalError.",
        ),
    ],
    ids=[
        "enospc",
        "sqlite-full",
        "erofs",
        "eacces",
        "sqlite-readonly",
        "sqlite-locked",
        "ebusy",
        "eio",
        "oserror-without-errno",
        "sqlite-io",
        "sqlite-without-words",
    ],
)
def test_a_storage_error_is_one_sentence_saying_what_failed_and_why(
    error: BaseException, doing: str | None, sentence: str
) -> None:
    made = storage_error(error) if doing is None else storage_error(error, doing)
    assert isinstance(made, StorageError)
    assert str(made) == sentence


def test_a_storage_error_is_passed_on_as_it_is() -> None:
    error = StorageError("Already one sentence.")
    assert storage_error(error, "read") is error


# --- the fresh file and its connection -------------------------------------------------------


def test_a_fresh_connection_is_private_wal_migrated_and_in_autocommit(folder: Path) -> None:
    with umask(0o000), connected(folder) as (connection, notice):
        assert notice is None
        assert mode(folder.parent) == 0o700
        assert mode(folder) == 0o700
        assert mode(folder / DB_NAME) == 0o600
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert connection.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
        assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT * 1000
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # Autocommit: a write outside ``transaction()`` is committed at once, and holds
        # no lock another writer would wait for.
        connection.execute("INSERT INTO contacts (id, full_name) VALUES ('c1', 'Ada')")
        assert not connection.in_transaction
        with contextlib.closing(sqlite3.connect(folder / DB_NAME, timeout=0)) as other:
            assert other.execute("SELECT full_name FROM contacts").fetchall() == [("Ada",)]
            other.execute("INSERT INTO contacts (id) VALUES ('c2')")
            other.commit()
        for name in [DB_NAME, *(f"{DB_NAME}{s}" for s in ("-wal", "-shm"))]:
            assert mode(folder / name) == 0o600, name


def test_the_parents_of_the_folder_are_made_0700_too(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "c" / FINGERPRINT
    with connected(folder) as (_, notice):
        assert notice is None
    for path in (tmp_path / "a" / "b" / "c", folder):
        assert mode(path) == 0o700, path


def test_an_existing_private_database_opens_as_it_is(folder: Path) -> None:
    with connected(folder) as (connection, _):
        connection.execute("INSERT INTO contacts (id) VALUES ('kept')")
    with connected(folder) as (connection, notice):
        assert notice is None
        assert connection.execute("SELECT id FROM contacts").fetchall() == [("kept",)]
    assert corrupt_files(folder) == []


def test_modes_are_only_ever_tightened(folder: Path) -> None:
    """A folder or file someone made stricter than ours is left as they made it."""
    with connected(folder):
        pass
    folder.chmod(0o500)
    (folder / DB_NAME).chmod(0o400)
    try:
        with connected(folder) as (_, notice):  # root here: the bits do not stop us
            assert notice is None
        assert mode(folder) == 0o500
        assert mode(folder / DB_NAME) == 0o400
        assert private_folder(folder) == folder
        assert mode(folder) == 0o500
    finally:
        folder.chmod(0o700)


def test_a_lax_folder_and_file_are_tightened(folder: Path) -> None:
    with connected(folder):
        pass
    folder.chmod(0o777)
    (folder / DB_NAME).chmod(0o666)
    with connected(folder):
        assert mode(folder) == 0o700
        assert mode(folder / DB_NAME) == 0o600


def refuse_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that keeps its own modes: every chmod is refused."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

    for name in ("chmod", "fchmod"):
        monkeypatch.setattr(os, name, refuse)


def test_where_chmod_is_refused_a_new_folder_and_file_are_made_private(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_chmod(monkeypatch)
    # Made with their modes, not fixed afterwards: even umask 000 leaves no moment when
    # another user could open them.
    with umask(0o000), connected(folder) as (_, notice):
        assert notice is None
        assert mode(folder.parent) == 0o700
        assert mode(folder) == 0o700
        assert mode(folder / DB_NAME) == 0o600


def test_where_chmod_is_refused_a_lax_folder_and_file_still_open(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connected(folder) as (connection, _):
        connection.execute("INSERT INTO contacts (id) VALUES ('kept')")
    folder.chmod(0o755)
    (folder / DB_NAME).chmod(0o644)
    refuse_chmod(monkeypatch)
    with connected(folder) as (connection, notice):
        assert notice is None
        assert connection.execute("SELECT id FROM contacts").fetchall() == [("kept",)]
    assert (mode(folder), mode(folder / DB_NAME)) == (0o755, 0o644)
    assert private_folder(folder, create=False) == folder


# --- links, odd paths and races ---------------------------------------------------------


def test_a_link_is_refused_with_a_sentence_naming_it(tmp_path: Path, folder: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    assert refused(folder) == f"{folder} is a symbolic link: refusing to follow it. Remove it."
    with pytest.raises(StorageError) as caught:
        private_folder(folder, create=False)
    assert str(caught.value) == f"{folder} is a symbolic link: refusing to follow it. Remove it."
    assert list(elsewhere.iterdir()) == []
    assert mode(elsewhere) == 0o755


@pytest.mark.parametrize("suffix", ["", *COMPANIONS])
def test_a_link_where_a_file_of_the_database_goes_is_refused(
    tmp_path: Path, folder: Path, suffix: str
) -> None:
    folder.mkdir(parents=True, mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    link = folder / f"{DB_NAME}{suffix}"
    link.symlink_to(victim)
    assert refused(folder) == f"{link} is a symbolic link: refusing to follow it. Remove it."
    assert victim.read_bytes() == b"precious"
    assert mode(victim) == 0o644
    assert sorted(p.name for p in folder.iterdir()) == [link.name]


def test_a_path_through_a_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"a file, not a folder")
    assert refused(tmp_path / "plain" / FINGERPRINT) == (
        "The local inbox could not be opened: Not a directory."
    )


def test_without_create_a_missing_folder_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / FINGERPRINT
    assert private_folder(missing, create=False) == missing
    assert not (tmp_path / "missing").exists()


def test_without_create_a_file_is_refused_as_a_folder_and_left_alone(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"a file")
    plain.chmod(0o644)
    with pytest.raises(StorageError) as caught:
        private_folder(plain, create=False)
    assert str(caught.value) == f"{plain} cannot be opened as a folder (Not a directory)."
    assert mode(plain) == 0o644


def test_without_create_a_lax_folder_is_tightened(tmp_path: Path) -> None:
    lax = tmp_path / "lax"
    lax.mkdir(mode=0o755)
    lax.chmod(0o755)
    assert private_folder(lax, create=False) == lax
    assert mode(lax) == 0o700


@pytest.fixture
def race(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Another process acting around our exclusive create of the database file."""

    def install(
        *, before: Callable[[Path], None] | None = None, after: Callable[[Path], None] | None = None
    ) -> None:
        real_open = os.open

        def racing(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            target = Path(os.fsdecode(path))
            if not (flags & os.O_EXCL and target.name == DB_NAME):
                return real_open(path, flags, *args, **kwargs)
            if before is not None:
                before(target)
            try:
                return real_open(path, flags, *args, **kwargs)
            except FileExistsError:
                if after is not None:
                    after(target)
                raise

        monkeypatch.setattr(os, "open", racing)

    return install


def test_a_link_planted_between_the_check_and_the_create_is_refused(
    tmp_path: Path, folder: Path, race: Callable[..., None]
) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    folder.mkdir(parents=True, mode=0o700)
    race(before=lambda path: path.symlink_to(victim))
    link = folder / DB_NAME
    assert refused(folder) == f"{link} is a symbolic link: refusing to follow it. Remove it."
    assert victim.read_bytes() == b"precious"
    assert mode(victim) == 0o644


def test_a_file_removed_between_the_create_and_the_look_gives_a_sentence(
    folder: Path, race: Callable[..., None]
) -> None:
    with connected(folder):
        pass
    race(after=lambda path: path.unlink())
    assert refused(folder) == "The local inbox could not be opened: No such file or directory."
    assert corrupt_files(folder) == []


def test_a_link_planted_where_the_folder_was_before_it_is_opened_is_refused(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    victim.chmod(0o755)
    real_open = os.open
    planted: list[Path] = []

    def racing(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        target = Path(os.fsdecode(path))
        if target == folder and not planted:  # checked and made: now swapped for a link
            target.rename(tmp_path / "moved")
            target.symlink_to(victim, target_is_directory=True)
            planted.append(target)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", racing)
    with pytest.raises(StorageError) as caught:
        private_folder(folder)
    assert str(caught.value) == (f"{folder} cannot be opened as a folder (Not a directory).")
    assert planted == [folder]
    assert mode(victim) == 0o755  # not "tightened" through the link


@pytest.mark.parametrize("chmod", ["honoured", "refused"])
def test_a_file_system_that_ignores_the_mode_asked_gets_a_0600_file_if_it_can(
    folder: Path, monkeypatch: pytest.MonkeyPatch, chmod: str
) -> None:
    real_open = os.open

    def own_modes(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        # Some network and FUSE file systems make every new file 0644, but honour chmod.
        if flags & os.O_CREAT:
            return real_open(path, flags, 0o644)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", own_modes)
    if chmod == "refused":  # and some keep their modes whatever is asked: it still opens
        refuse_chmod(monkeypatch)
    with umask(0o000), connected(folder) as (_, notice):
        assert notice is None
        assert mode(folder / DB_NAME) == (0o600 if chmod == "honoured" else 0o644)


# --- a read-only file system ------------------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    """A small tmpfs to fill, then remount read-only (root, CAP_SYS_ADMIN), or a skip."""
    with small_tmpfs(tmp_path / "mounted") as mount_point:

        def freeze() -> None:
            subprocess.run(
                ["mount", "-o", "remount,ro", str(mount_point)],
                check=True,
                capture_output=True,
                timeout=30,
            )

        yield mount_point, freeze


def test_a_read_only_file_system_is_refused_with_a_sentence_and_left_alone(
    read_only: tuple[Path, Callable[[], None]],
) -> None:
    root, freeze = read_only
    empty = root / "empty"
    empty.mkdir(mode=0o700)
    damaged = root / "damaged"
    damaged.mkdir(mode=0o700)
    (damaged / DB_NAME).write_bytes(b"not a database " * 500)
    rollback = root / "rollback"
    rollback.mkdir(mode=0o700)
    with contextlib.closing(sqlite3.connect(rollback / DB_NAME)) as raw:
        raw.execute("CREATE TABLE t (x)")
        raw.commit()
    freeze()
    read_only_sentence = "The local inbox could not {}: the folder is read-only."
    assert refused(root / "missing") == read_only_sentence.format("be made")
    assert refused(empty) == read_only_sentence.format("be opened")
    assert refused(rollback) == read_only_sentence.format("be opened")
    assert refused(damaged) == read_only_sentence.format("be rebuilt")
    assert sorted(p.name for p in damaged.iterdir()) == [DB_NAME]
    assert list(empty.iterdir()) == []


# --- the schema -------------------------------------------------------------------------


def test_a_file_from_a_newer_schema_is_refused_and_kept(folder: Path) -> None:
    with connected(folder) as (connection, _):
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = (folder / DB_NAME).read_bytes()
    assert refused(folder) == NEWER
    assert (folder / DB_NAME).read_bytes() == before
    assert corrupt_files(folder) == []


def test_a_file_at_the_schema_version_is_not_migrated_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connected(folder):
        pass
    # Were the migrations run again, this one would fail the opening.
    monkeypatch.setattr(connection_module, "MIGRATIONS", [(1, ["NOT SQL AT ALL"])])
    with connected(folder) as (connection, notice):
        assert notice is None
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_migration_meeting_damaged_data_moves_the_file_aside(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connected(folder) as (connection, _):
        connection.execute("INSERT INTO conversations (id, labels) VALUES ('c1', '[\"broken')")
    later = [
        *MIGRATIONS,
        (
            SCHEMA_VERSION + 1,
            [
                "CREATE TABLE label_rows AS SELECT c.local_id AS conversation, j.value AS label "
                "FROM conversations c, json_each(c.labels) j"
            ],
        ),
    ]
    monkeypatch.setattr(connection_module, "MIGRATIONS", later)
    monkeypatch.setattr(connection_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with connected(folder) as (connection, notice):
        (aside,) = corrupt_files(folder)
        assert notice == f"The local inbox was damaged: moved it to {aside} and started anew."
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
        assert connection.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0


# --- a damaged file -----------------------------------------------------------------------

FROZEN = time.struct_time((2025, 3, 14, 9, 30, 0, 4, 73, 0))


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    real = time.strftime

    def strftime(fmt: str, when: Any = None) -> str:
        return real(fmt, FROZEN if when is None else when)

    monkeypatch.setattr(time, "strftime", strftime)


@pytest.mark.usefixtures("frozen_clock")
def test_damaged_files_are_moved_aside_under_names_of_their_own(folder: Path) -> None:
    folder.mkdir(parents=True, mode=0o700)
    stamp = "20250314-093000"
    names = [
        f"{DB_NAME}.corrupt-{stamp}",
        f"{DB_NAME}.corrupt-{stamp}-2",
        f"{DB_NAME}.corrupt-{stamp}-3",
    ]
    for n, name in enumerate(names):
        garbage = f"garbage {n} ".encode() * 500
        (folder / DB_NAME).write_bytes(garbage)
        for suffix in COMPANIONS:
            (folder / f"{DB_NAME}{suffix}").write_bytes(b"stale companion " * 64)
        with umask(0o022), connected(folder) as (connection, notice):
            assert notice == f"The local inbox was damaged: moved it to {name} and started anew."
            assert (folder / name).read_bytes() == garbage
            # A fresh, private database took its place; the stale companions went.
            assert mode(folder / DB_NAME) == 0o600
            assert not (folder / f"{DB_NAME}-journal").exists()
            for suffix in ("-wal", "-shm"):
                assert b"stale companion" not in (folder / f"{DB_NAME}{suffix}").read_bytes()
            connection.execute("INSERT INTO contacts (id) VALUES ('new')")
        with connected(folder) as (connection, notice):
            assert notice is None
            assert connection.execute("SELECT id FROM contacts").fetchall() == [("new",)]
    assert corrupt_files(folder) == names


def test_the_name_aside_carries_the_time_it_was_moved(folder: Path) -> None:
    folder.mkdir(parents=True, mode=0o700)
    (folder / DB_NAME).write_bytes(b"garbage " * 500)
    before = time.time()
    with connected(folder) as (_, notice):
        (aside,) = corrupt_files(folder)
    stamp = aside.removeprefix(f"{DB_NAME}.corrupt-")
    moved = time.mktime(time.strptime(stamp, "%Y%m%d-%H%M%S"))
    # Whole seconds, read from a wall clock that a VM may step back a little: within 2 s.
    assert before - 2 <= moved <= time.time() + 2
    assert notice == f"The local inbox was damaged: moved it to {aside} and started anew."


def test_damaged_schema_bytes_are_damage_all_the_same(folder: Path) -> None:
    with connected(folder) as (connection, _):
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute(
            "UPDATE sqlite_schema SET sql = CAST(X'435245415445205441424c452074287829ff' AS TEXT) "
            "WHERE name = 'contacts'"
        )
    with connected(folder) as (connection, notice):
        (aside,) = corrupt_files(folder)
        assert notice == f"The local inbox was damaged: moved it to {aside} and started anew."
        assert connection.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


class _Reported(sqlite3.Connection):
    """A connection on which SQLite reports ``message`` once, as an ``OperationalError``."""

    message = ""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if type(self).message and sql.startswith("SELECT count(*) FROM sqlite_schema"):
            message, type(self).message = type(self).message, ""
            raise sqlite3.OperationalError(message)
        return super().execute(sql, *args)


@pytest.mark.parametrize(
    ("message", "damaged"),
    [
        ("database disk image is malformed", True),
        ("file is not a database", True),
        ("database corruption at page 7", True),
        ("disk I/O error", False),
    ],
)
def test_an_operational_error_is_damage_only_when_it_says_so(
    folder: Path, monkeypatch: pytest.MonkeyPatch, message: str, damaged: bool
) -> None:
    with connected(folder) as (connection, _):
        connection.execute("INSERT INTO contacts (id) VALUES ('kept')")
    before = (folder / DB_NAME).read_bytes()
    real_connect = sqlite3.connect
    monkeypatch.setattr(_Reported, "message", message)
    monkeypatch.setattr(
        sqlite3, "connect", lambda *args, **kwargs: real_connect(*args, factory=_Reported, **kwargs)
    )
    if not damaged:
        assert refused(folder) == f"The local inbox could not be opened: {message}."
        assert corrupt_files(folder) == []
        assert (folder / DB_NAME).read_bytes() == before
        return
    with connected(folder) as (connection, notice):
        (aside,) = corrupt_files(folder)
        assert notice == f"The local inbox was damaged: moved it to {aside} and started anew."
        assert (folder / aside).read_bytes() == before
        assert connection.execute("SELECT count(*) FROM contacts").fetchone()[0] == 0


def test_a_damaged_file_that_cannot_be_replaced_gives_a_sentence(folder: Path) -> None:
    folder.mkdir(parents=True, mode=0o700)
    (folder / DB_NAME).write_bytes(b"garbage " * 500)
    (folder / f"{DB_NAME}-shm").mkdir()  # not a file: cannot be removed with it
    assert refused(folder) == "The local inbox could not be rebuilt: Is a directory."


def test_a_file_system_without_shared_memory_is_refused_for_want_of_wal(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.mkdir(parents=True, mode=0o700)
    real_connect = sqlite3.connect

    def without_shm(path: Any, **kwargs: Any) -> sqlite3.Connection:
        # SQLite's dot-file locking (file systems without POSIX locks) has no shared memory.
        return real_connect(f"file:{path}?vfs=unix-dotfile", uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", without_shm)
    assert refused(folder) == "The local inbox needs a file system that supports SQLite's WAL."
    assert corrupt_files(folder) == []


# --- one opener at a time ---------------------------------------------------------------


def test_an_opener_kept_waiting_too_long_gets_a_sentence(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connected(folder):
        pass
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT", 0.05)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another opener, mid-way
        assert refused(folder) == (
            "The local inbox could not be opened: another lemlist-tui kept it busy too long."
        )
    finally:
        os.close(fd)
    with connected(folder) as (_, notice):
        assert notice is None
        # The opening's hold on the folder ends with it: the next opener goes straight in.
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)


def test_a_file_system_without_locks_still_opens(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with connected(folder) as (connection, notice):
        assert notice is None
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
