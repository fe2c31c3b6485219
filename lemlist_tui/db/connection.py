"""The one way this project opens its database: private, never through a link, WAL, migrated.

No ``textual`` import. Each account has one folder under the cache root (named by the
account fingerprint) holding one SQLite file. The folder is 0700 and the files 0600; a
symbolic link where the folder, the database or its ``-wal``/``-shm`` companions should
be is refused with a sentence, never followed (a planted link would otherwise let another
user of the machine redirect our writes). A file SQLite cannot read is moved aside under
a name given in the message, and a new one is made in its place.

Connections run in autocommit mode: a write is ``with transaction(connection):`` (one
``BEGIN IMMEDIATE`` … ``COMMIT``), short, so a second process waits at most a moment,
within the busy timeout, and never sees "database is locked".
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (see _opening)
    fcntl = None  # type: ignore[assignment]

from lemlist_tui.api.errors import LemlistError
from lemlist_tui.db.schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT",
    "DB_NAME",
    "StorageError",
    "connect",
    "private_folder",
    "storage_error",
    "transaction",
]

DB_NAME = "inbox.sqlite3"
BUSY_TIMEOUT = 15.0
"""Seconds a connection waits for another writer (another app, ``sync``) to commit."""
_COMPANIONS = ("-wal", "-shm", "-journal")


class StorageError(LemlistError):
    """The local database cannot be used or written; ``str()`` is one sentence."""


def storage_error(error: BaseException, doing: str = "written") -> StorageError:
    """One sentence for an ``OSError`` or ``sqlite3.Error`` met while using the database."""
    if isinstance(error, StorageError):
        return error
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
    else:
        reason = str(error) or type(error).__name__
    lowered = reason.lower()
    if "full" in lowered or "no space" in lowered:
        reason = "the disk is full"
    elif "readonly" in lowered or "read-only" in lowered or "permission" in lowered:
        reason = "the folder is read-only"
    elif "locked" in lowered or "busy" in lowered:
        reason = "another lemlist-tui kept it busy too long"
    return StorageError(f"The local inbox could not be {doing}: {reason}.")


def _refuse_link(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise storage_error(error, "opened") from None
    if stat.S_ISLNK(info.st_mode):
        raise StorageError(f"{path} is a symbolic link: refusing to follow it. Remove it.")


def private_folder(path: Path, *, create: bool = True) -> Path:
    """``path`` as a real folder of ours, 0700: made if missing, refused if a link."""
    _refuse_link(path)
    if create:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise storage_error(error, "made") from None
        _refuse_link(path)  # made by someone else between the check and the mkdir
    # Opened without following a link: the mode is then set on the folder itself.
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return path
    except OSError as error:
        raise StorageError(f"{path} cannot be opened as a folder ({error.strerror}).") from None
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
    return path


def _prepare_file(path: Path) -> None:
    """Create the database file 0600 without following a link (SQLite then opens it).

    An existing file is never opened here: closing any descriptor of a file drops every
    POSIX lock this process holds on it, SQLite's included (another process could then
    checkpoint and delete the ``-wal`` under this process's open connections).
    """
    for suffix in ("", *_COMPANIONS):
        _refuse_link(Path(f"{path}{suffix}"))
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except FileExistsError:
        _refuse_link(path)  # made by someone else between the check and the open
        try:
            lax = stat.S_IMODE(path.lstat().st_mode) & 0o077
        except OSError as error:
            raise storage_error(error, "opened") from None
        if lax:
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        return
    except OSError as error:
        raise storage_error(error, "opened") from None
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            with contextlib.suppress(OSError):
                os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write: ``BEGIN IMMEDIATE`` (takes the write lock up front, so the busy
    timeout applies), ``COMMIT`` on success, ``ROLLBACK`` on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    # WAL: readers (the list on the event loop) never wait for the writer (a page being
    # committed), and NORMAL sync is durable across an application crash.
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()
    if mode is None or str(mode[0]).lower() != "wal":
        raise StorageError("The local inbox needs a file system that supports SQLite's WAL.")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA temp_store = MEMORY")


def _migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StorageError(
            "The local inbox was made by a newer lemlist-tui: upgrade, or run "
            "lemlist-tui --clear-cache."
        )
    with transaction(connection):
        # Re-read inside the write lock: another process may have migrated meanwhile.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        for target, script in MIGRATIONS:
            if target > version:
                for statement in script:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {target}")


def _open(path: Path) -> sqlite3.Connection:
    # check_same_thread=False: the owner serialises use (see InboxDatabase); writes run in
    # a worker thread, reads on the event loop, each on a connection of its own.
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT
    )
    try:
        _configure(connection)
        _migrate(connection)
        # A cheap look at the first pages: a file that is not a database fails here.
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in _COMPANIONS:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    return aside


@contextlib.contextmanager
def _opening(folder: Path) -> Iterator[None]:
    """Held (an advisory lock on the folder) while a connection is opened.

    Two connections making the file at the same moment trip over each other: SQLite's
    switch to WAL fails at once ("database is locked", "disk I/O error"), not after the
    busy timeout; and two openers finding a damaged file would both move it aside, the
    second moving the first one's new file away. Opening is short, so others wait here.
    """
    if fcntl is None:
        yield
        return
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(folder, flags)
    except OSError as error:
        raise storage_error(error, "opened") from None
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    break  # no locks on this file system: go on without
                if time.monotonic() > deadline:
                    raise StorageError(
                        "The local inbox could not be opened: another lemlist-tui kept it "
                        "busy too long."
                    ) from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # releases the lock


def connect(folder: Path) -> tuple[sqlite3.Connection, str | None]:
    """Open (creating and migrating) the account's database in ``folder``.

    Returns the connection and, when the file was unreadable and had to be moved aside, a
    sentence saying where it went (the caller shows it). Raises :class:`StorageError`.
    """
    private_folder(folder)
    with _opening(folder):
        return _connect(folder)


def _connect(folder: Path) -> tuple[sqlite3.Connection, str | None]:
    path = folder / DB_NAME
    _prepare_file(path)
    try:
        return _open(path), None
    except sqlite3.DatabaseError as error:
        if isinstance(error, sqlite3.OperationalError) and not _is_corruption(error):
            raise storage_error(error, "opened") from None
    except UnicodeDecodeError:
        pass  # SQLite quoted damaged schema bytes in its message: damage all the same
    try:
        aside = _move_aside(path)
        _prepare_file(path)
        connection = _open(path)
    except (OSError, sqlite3.Error) as error:
        raise storage_error(error, "rebuilt") from None
    return connection, f"The local inbox was damaged: moved it to {aside.name} and started anew."


def _is_corruption(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text
