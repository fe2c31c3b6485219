"""The local database: modes, links, damage, migrations, the inbox queries, concurrency.

Every test uses a real SQLite file under ``tmp_path``. The list queries are checked
against brute-force references computed in Python from the conversations stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import sqlite3
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.fixtures import small_tmpfs

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    ConversationMessage,
    Label,
    Opportunity,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
    parse_inbox_page,
)
from lemlist_tui.db import (
    DB_NAME,
    InboxDatabase,
    ListRow,
    PageWrite,
    SortKey,
    StorageError,
    SyncState,
    fold,
    query_terms,
)
from lemlist_tui.db import connection as connection_module
from lemlist_tui.db.schema import MIGRATIONS, MISSING, SCHEMA_VERSION
from lemlist_tui.text import html_to_text

USER = "usr_me"
OTHER = "usr_other"
THIRD = "usr_third"
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BIG = 1 << 40
FINGERPRINT = "ab" * 32
SORTS = list(SortKey)
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "Fullwidth")
"""The letters of 'Fullwidth' in their full-width forms: NFKD makes it plain "Fullwidth"."""


# --- building conversations -------------------------------------------------------------


def conversation(
    i: int,
    *,
    unread: bool = False,
    minutes: int | None = None,
    name: str | None = None,
    email: str | None = None,
    others: Sequence[Participant] = (),
) -> Conversation:
    when = T0 - timedelta(minutes=i if minutes is None else minutes)
    return Conversation(
        id=f"ibx_{i:06d}",
        contact=Contact(f"ctc_{i:06d}", name or f"Person {i}", email or f"p{i}@example.test"),
        last_activity_at=when,
        created_at=when - timedelta(days=1),
        last_replied_at=when - timedelta(hours=1),
        channels=("email",),
        participants=(Participant(USER, False, not unread), *others),
        have_replies=True,
        team_id="tea_1",
        created_by=f"act_{i}",
    )


NAMES = [
    "José Álvarez",
    "JOSE MARTIN",
    "Zoë Ångström",
    "Straße Müller",
    "STRASSE Co",
    "Łukasz Żak",
    f"ﬁnn {FULLWIDTH}",
    "Ἀθηνᾶ",
    "山田 太郎",
    "O'Brien",
    "",
    None,
    None,
]
EMAIL_STEMS = ["jose", "zoe", "strasse", "anna", "muller", "josé.straße", "x"]


def random_conversation(
    rng: random.Random, i: int, *, users: Sequence[str] = (USER, OTHER)
) -> Conversation:
    """A conversation with accents, missing fields and many sort ties."""

    def when() -> datetime | None:
        return None if rng.random() < 0.2 else T0 - timedelta(minutes=rng.randrange(25))

    participants = [
        Participant(user, rng.random() < 0.3, rng.random() < 0.5)
        for user in users
        if rng.random() < 0.8
    ]
    rng.shuffle(participants)
    email = None if rng.random() < 0.25 else f"{rng.choice(EMAIL_STEMS)}{i}@example.test"
    return Conversation(
        id=f"ibx_{i:06d}",
        contact=Contact(f"ctc_{i:06d}", rng.choice(NAMES), email),
        last_activity_at=when(),
        created_at=when(),
        last_replied_at=when(),
        channels=tuple(rng.sample(["email", "linkedin", "whatsapp"], rng.randrange(3))),
        participants=tuple(participants),
        have_replies=rng.random() < 0.5,
        opportunities=tuple(Opportunity(f"opp_{i}_{n}") for n in range(rng.randrange(3))),
        labels=("lbl_1",) if rng.random() < 0.3 else (),
    )


# --- references -------------------------------------------------------------------------


def sort_time(c: Conversation, sort: SortKey) -> datetime | None:
    return {
        SortKey.LAST_ACTIVITY: c.last_activity_at,
        SortKey.LAST_REPLY: c.last_replied_at,
        SortKey.CREATED: c.created_at,
    }[sort]


def sort_value(c: Conversation, sort: SortKey) -> int:
    when = sort_time(c, sort)
    return MISSING if when is None else (when - EPOCH) // timedelta(microseconds=1)


def matches(c: Conversation, terms: Sequence[str]) -> bool:
    haystack = fold(f"{c.contact.full_name or ''}\n{c.contact.email or ''}")
    return all(term in haystack for term in terms)


def local_ids(folder: Path) -> dict[str, int]:
    """Conversation id → local id, read straight from the file."""
    uri = f"file:{folder / DB_NAME}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as raw:
        return dict(raw.execute("SELECT id, local_id FROM conversations").fetchall())


def expected_rows(
    inbox: dict[str, Conversation],
    ids: dict[str, int],
    user: str,
    *,
    sort: SortKey = SortKey.LAST_ACTIVITY,
    unread_only: bool = False,
    terms: Sequence[str] = (),
    held: dict[str, Conversation] | None = None,
) -> list[ListRow]:
    """What ``rows()`` must return for ``user`` whose inbox holds ``inbox``.

    Sort keys, unread and search come from the copy stored in ``user``'s inbox; what the
    row shows comes from the conversation as last stored by anyone (``held``), which is a
    newer copy when another user's page brought one since.
    """
    held = held or {}
    chosen = [
        c
        for c in inbox.values()
        if (not unread_only or c.is_unread_for(user)) and matches(c, terms)
    ]
    chosen.sort(key=lambda c: (sort_value(c, sort), ids[c.id]), reverse=True)
    return [
        ListRow(
            local_id=ids[c.id],
            sort_value=sort_value(c, sort),
            id=c.id,
            name=shown.contact.full_name,
            email=shown.contact.email,
            channels=shown.channels,
            unread=c.is_unread_for(user),
            last_activity_at=shown.last_activity_at,
            last_replied_at=shown.last_replied_at,
            created_at=shown.created_at,
            have_replies=shown.have_replies,
            opportunities=len(shown.opportunities),
            labels=tuple(dict.fromkeys(shown.labels)),
            owner=min((p.user_id for p in shown.participants if p.sender), default=None),
        )
        for c in chosen
        for shown in [held.get(c.id, c)]
    ]


def all_rows(db: InboxDatabase, user: str, **view: object) -> list[ListRow]:
    return db.rows(user, limit=BIG, **view)  # type: ignore[arg-type]


def brute_counts(db: InboxDatabase, user: str) -> tuple[int, int]:
    rows = all_rows(db, user)
    return len(rows), sum(row.unread for row in rows)


def keyset_pages(db: InboxDatabase, user: str, size: int, **view: object) -> list[ListRow]:
    """Every row, a screen of ``size`` at a time, each screen after the last row seen."""
    out: list[ListRow] = []
    after: tuple[int, int] | None = None
    most = len(all_rows(db, user, **view))
    while len(out) <= most:
        page = db.rows(user, limit=size, after=after, **view)  # type: ignore[arg-type]
        out += page
        if len(page) < size:
            return out
        after = (page[-1].sort_value, page[-1].local_id)
    raise AssertionError(f"keyset paging gave more than the {most} rows there are")


def offset_pages(db: InboxDatabase, user: str, size: int, **view: object) -> list[ListRow]:
    out: list[ListRow] = []
    most = len(all_rows(db, user, **view))
    while len(out) <= most:
        page = db.rows(user, limit=size, offset=len(out), **view)  # type: ignore[arg-type]
        out += page
        if len(page) < size:
            return out
    raise AssertionError(f"offset paging gave more than the {most} rows there are")


def by_user(c: Conversation) -> Conversation:
    """``c`` as the database gives it back: participants sorted by user id."""
    return dataclasses.replace(
        c, participants=tuple(sorted(c.participants, key=lambda p: p.user_id))
    )


def assert_same_conversation(got: Conversation | None, want: Conversation) -> None:
    assert got is not None
    want = by_user(want)
    for f in dataclasses.fields(Conversation):
        assert getattr(got, f.name) == getattr(want, f.name), f.name
    assert got == want


def one_sentence(error: BaseException) -> str:
    text = str(error)
    assert text.endswith(".")
    assert "\n" not in text
    assert "Traceback" not in text
    return text


def one_sentence_or_two(error: BaseException) -> str:
    """The refusal of a link names it, then says what to do: short, no traceback."""
    text = str(error)
    assert "\n" not in text
    assert text.endswith(".")
    return text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def corrupt_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{DB_NAME}.corrupt-*"))


@contextlib.contextmanager
def opened(folder: Path) -> Iterator[InboxDatabase]:
    database = InboxDatabase(folder)
    try:
        yield database
    finally:
        database.close()


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


@pytest.fixture
def db(folder: Path) -> Iterator[InboxDatabase]:
    with opened(folder) as database:
        yield database


# --- the folder and the file ------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_folder_is_0700_and_files_0600(tmp_path: Path, mask: int) -> None:
    root = tmp_path / "cache"
    folder = root / FINGERPRINT
    with umask(mask), opened(folder) as db:
        db.store_page(USER, [conversation(i) for i in range(5)], SyncState())
        assert db.counts(USER) == (5, 0)
        assert mode(root) == 0o700
        assert mode(folder) == 0o700
        files = sorted(folder.iterdir())
        names = {p.name for p in files}
        assert {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"} <= names
        for path in files:
            assert stat.S_ISREG(path.lstat().st_mode), path
            assert mode(path) == 0o600, path


def test_a_lax_folder_and_file_made_by_someone_else_are_tightened(folder: Path) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(1)], SyncState())
    folder.chmod(0o755)
    (folder / DB_NAME).chmod(0o644)
    with opened(folder) as db:
        assert db.counts(USER) == (1, 0)
        assert mode(folder) == 0o700
        assert mode(folder / DB_NAME) == 0o600


def test_a_link_where_the_account_folder_is_is_refused(tmp_path: Path, folder: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / DB_NAME
    victim.write_bytes(b"someone else's file")
    modes = (mode(elsewhere), mode(victim))
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(StorageError) as caught:
        InboxDatabase(folder)
    assert str(folder) in str(caught.value)
    assert "symbolic link" in str(caught.value)
    assert sorted(p.name for p in elsewhere.iterdir()) == [DB_NAME]
    assert victim.read_bytes() == b"someone else's file"
    assert (mode(elsewhere), mode(victim)) == modes  # not "tightened" through the link


def test_a_dangling_link_where_the_folder_is_is_refused_and_not_followed(
    tmp_path: Path, folder: Path
) -> None:
    target = tmp_path / "not-yet"
    folder.parent.mkdir(parents=True)
    folder.symlink_to(target, target_is_directory=True)
    with pytest.raises(StorageError, match="symbolic link"):
        InboxDatabase(folder)
    assert not target.exists()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_a_link_where_the_database_or_a_companion_is_is_refused(
    tmp_path: Path, folder: Path, suffix: str
) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(i) for i in range(3)], SyncState())
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    link = folder / f"{DB_NAME}{suffix}"
    if suffix == "":
        (folder / DB_NAME).rename(tmp_path / "kept")
    else:
        assert not link.exists()  # the last close checkpointed and removed it
    link.symlink_to(victim)
    with pytest.raises(StorageError) as caught:
        InboxDatabase(folder)
    assert str(link) in one_sentence_or_two(caught.value)
    assert victim.read_bytes() == b"precious"
    assert mode(victim) == 0o644  # not "tightened" through the link
    # Once the link is gone the database opens again, whole.
    link.unlink()
    if suffix == "":
        (tmp_path / "kept").rename(folder / DB_NAME)
    with opened(folder) as db:
        assert db.counts(USER) == (3, 0)


def test_a_dangling_link_where_the_database_is_is_refused_and_not_followed(
    tmp_path: Path, folder: Path
) -> None:
    folder.mkdir(parents=True)
    target = tmp_path / "would-be-made"
    (folder / DB_NAME).symlink_to(target)
    with pytest.raises(StorageError, match="symbolic link"):
        InboxDatabase(folder)
    assert not target.exists()


def real_database_bytes(tmp_path: Path) -> bytes:
    source = tmp_path / "source"
    with opened(source) as db:
        rng = random.Random(3)
        db.store_page(USER, [random_conversation(rng, i) for i in range(300)], SyncState())
    return (source / DB_NAME).read_bytes()


@pytest.mark.parametrize(
    "damage",
    [
        lambda real: random.Random(7).randbytes(8192),
        lambda real: real[: len(real) // 2],
        lambda real: real[:4096],
        lambda real: real[:100],
        lambda real: real[:16] + bytes(len(real) - 16),
    ],
    ids=["random-bytes", "truncated-half", "first-page-only", "header-only", "zeroed-body"],
)
def test_a_file_that_is_not_a_database_is_moved_aside(
    tmp_path: Path, folder: Path, damage: Callable[[bytes], bytes]
) -> None:
    old = damage(real_database_bytes(tmp_path))
    folder.mkdir(parents=True, mode=0o700)
    (folder / DB_NAME).write_bytes(old)
    (folder / f"{DB_NAME}-wal").write_bytes(b"stale wal of the damaged file")
    with opened(folder) as db:
        assert db.notice is not None
        (aside,) = corrupt_files(folder)
        assert aside.name in db.notice
        assert "moved" in db.notice
        assert aside.read_bytes() == old
        assert mode(aside) == 0o600
        # A fresh, working database took its place.
        assert db.counts(USER) == (0, 0)
        assert db.store_page(USER, [conversation(1, unread=True)], SyncState()) == PageWrite(
            1, 0, 0
        )
        assert db.counts(USER) == (1, 1)
    with opened(folder) as again:
        assert again.notice is None
        assert again.counts(USER) == (1, 1)
        assert len(corrupt_files(folder)) == 1


def test_a_second_damaged_file_gets_a_name_of_its_own(folder: Path) -> None:
    folder.mkdir(parents=True, mode=0o700)
    for n in range(2):
        (folder / DB_NAME).write_bytes(f"garbage {n}".encode() * 100)
        with opened(folder) as db:
            assert db.notice is not None
    asides = corrupt_files(folder)
    assert len(asides) == 2
    assert {p.read_bytes() for p in asides} == {b"garbage 0" * 100, b"garbage 1" * 100}


def test_a_file_from_a_newer_schema_is_refused_with_a_sentence(folder: Path) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(1)], SyncState())
    with contextlib.closing(sqlite3.connect(folder / DB_NAME)) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = (folder / DB_NAME).read_bytes()
    with pytest.raises(StorageError) as caught:
        InboxDatabase(folder)
    text = one_sentence(caught.value)
    assert "newer" in text
    assert corrupt_files(folder) == []
    assert (folder / DB_NAME).read_bytes() == before
    with contextlib.closing(sqlite3.connect(folder / DB_NAME)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


# --- migrations -------------------------------------------------------------------------


def schema_of(folder: Path) -> tuple[int, list[tuple[str, str]]]:
    with contextlib.closing(sqlite3.connect(folder / DB_NAME)) as raw:
        version = raw.execute("PRAGMA user_version").fetchone()[0]
        objects = raw.execute("SELECT type, name FROM sqlite_schema ORDER BY name").fetchall()
    return version, objects


def test_a_fresh_file_reaches_the_schema_version_and_reopening_is_idempotent(
    folder: Path,
) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(i) for i in range(4)], SyncState())
    version, objects = schema_of(folder)
    assert version == SCHEMA_VERSION
    names = {name for _, name in objects}
    assert {"conversations", "participants", "inbox", "inbox_counts", "threads"} <= names
    for _ in range(2):
        with opened(folder) as db:
            assert db.notice is None
            assert db.counts(USER) == (4, 0)
        assert schema_of(folder) == (version, objects)


def test_a_later_migration_runs_once_and_keeps_the_data(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(i) for i in range(4)], SyncState())
    later = [*MIGRATIONS, (SCHEMA_VERSION + 1, ["CREATE TABLE extra (x INTEGER)"])]
    monkeypatch.setattr(connection_module, "MIGRATIONS", later)
    monkeypatch.setattr(connection_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):  # a second run of the migration would fail: the table exists
        with opened(folder) as db:
            assert db.counts(USER) == (4, 0)
        version, objects = schema_of(folder)
        assert version == SCHEMA_VERSION + 1
        assert ("table", "extra") in objects


def test_a_failing_migration_leaves_the_file_at_its_version(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(i) for i in range(4)], SyncState())
    broken = [*MIGRATIONS, (SCHEMA_VERSION + 1, ["CREATE TABLE extra (x)", "NOT SQL AT ALL"])]
    monkeypatch.setattr(connection_module, "MIGRATIONS", broken)
    monkeypatch.setattr(connection_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StorageError) as caught:
        InboxDatabase(folder)
    one_sentence(caught.value)
    version, objects = schema_of(folder)
    assert version == SCHEMA_VERSION
    assert ("table", "extra") not in objects
    assert corrupt_files(folder) == []
    monkeypatch.undo()
    with opened(folder) as db:
        assert db.counts(USER) == (4, 0)


# --- store_page -------------------------------------------------------------------------


def test_store_page_counts_new_updated_and_new_to_crawl(db: InboxDatabase) -> None:
    page = [conversation(i, unread=i % 2 == 0) for i in range(5)]
    state = SyncState()
    assert db.store_page(USER, page, state) == PageWrite(5, 0, 0)
    assert db.store_page(USER, page, state) == PageWrite(0, 0, 0)
    assert db.store_page(USER, page, state, crawl=1) == PageWrite(0, 0, 5)
    assert db.store_page(USER, page, state, crawl=1) == PageWrite(0, 0, 0)
    # The user's read flag changed: the list shows it.
    flipped = [page[0].marked_read_for(USER), *page[1:]]
    assert db.store_page(USER, flipped, state, crawl=1) == PageWrite(0, 1, 0)
    # New activity.
    newer = dataclasses.replace(page[1], last_activity_at=T0 + timedelta(hours=1))
    assert db.store_page(USER, [newer], state, crawl=1) == PageWrite(0, 1, 0)
    # What the list does not show changed too: a label, a teammate's read flag.
    labelled = dataclasses.replace(page[2], labels=("lbl_1",))
    others = dataclasses.replace(page[3], participants=(*page[3].participants, Participant(OTHER)))
    assert db.store_page(USER, [labelled, others], state, crawl=1) == PageWrite(0, 2, 0)
    assert db.store_page(USER, [labelled, others], state, crawl=1) == PageWrite(0, 0, 0)
    # A new crawl: everything is new to it, and one conversation is new altogether.
    fresh = conversation(9)
    assert db.store_page(USER, [fresh, page[4]], state, crawl=2) == PageWrite(1, 0, 2)
    # The same conversations are new in another user's inbox.
    assert db.store_page(OTHER, [fresh, labelled], state) == PageWrite(2, 0, 0)
    assert db.counts(USER) == (6, 2)
    assert db.counts(OTHER) == (2, 0)


def test_a_page_repeating_an_id_keeps_the_last_copy(db: InboxDatabase) -> None:
    first = conversation(1, unread=True, name="First Copy")
    last = dataclasses.replace(conversation(1, unread=False, name="Last Copy"), labels=("lbl_9",))
    written = db.store_page(USER, [first, conversation(2), last], SyncState(), crawl=1)
    assert written == PageWrite(2, 0, 2)
    assert_same_conversation(db.conversation(first.id), last)
    (row,) = [r for r in all_rows(db, USER) if r.id == first.id]
    assert row.name == "Last Copy"
    assert not row.unread
    assert db.counts(USER) == (2, 0)


def test_a_user_listed_twice_in_a_conversation_stores_idempotently(db: InboxDatabase) -> None:
    twice = dataclasses.replace(
        conversation(1),
        participants=(Participant(USER, False, False), Participant(USER, True, True)),
    )
    assert db.store_page(USER, [twice], SyncState()) == PageWrite(1, 0, 0)
    assert db.store_page(USER, [twice], SyncState()) == PageWrite(0, 0, 0)
    held = db.conversation(twice.id)
    assert held is not None
    # The list and the detail agree on the read state, and agree with the model.
    assert held.is_unread_for(USER) == twice.is_unread_for(USER)
    assert db.counts(USER) == (1, int(twice.is_unread_for(USER)))


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: s.name)
def test_missing_timestamps_sort_last_and_ties_are_deterministic(
    db: InboxDatabase, folder: Path, sort: SortKey
) -> None:
    field = {
        SortKey.LAST_ACTIVITY: "last_activity_at",
        SortKey.LAST_REPLY: "last_replied_at",
        SortKey.CREATED: "created_at",
    }[sort]
    times: list[datetime | None] = [
        None,
        T0,
        datetime(1, 1, 2, tzinfo=UTC),  # far before 1970: still above "missing"
        EPOCH,
        None,
        T0,
        datetime(9999, 12, 30, tzinfo=UTC),
        T0,
        None,
    ]
    stored = [
        dataclasses.replace(conversation(i), **dict[str, Any]({field: when}))
        for i, when in enumerate(times)
    ]
    for c in stored:  # one page each: each is newer-stored than the one before
        db.store_page(USER, [c], SyncState())
    ids = [row.id for row in all_rows(db, USER, sort=sort)]
    assert ids == [stored[i].id for i in (6, 7, 5, 1, 3, 2, 8, 4, 0)]
    missing = [row for row in all_rows(db, USER, sort=sort) if getattr(row, field) is None]
    assert {row.sort_value for row in missing} == {MISSING}
    # Storing them again, in another order, keeps the order: the local ids stay.
    db.store_page(USER, list(reversed(stored)), SyncState())
    assert [row.id for row in all_rows(db, USER, sort=sort)] == ids
    inbox = {c.id: c for c in stored}
    assert all_rows(db, USER, sort=sort) == expected_rows(inbox, local_ids(folder), USER, sort=sort)


# --- counts through every kind of change ------------------------------------------------


class Model:
    """What the database should hold: each user's inbox (the copy last stored by anyone:
    a conversation carries every teammate's read flag), what each crawl saw, and each
    conversation as last stored."""

    def __init__(self) -> None:
        self.inbox: dict[str, dict[str, Conversation]] = {USER: {}, OTHER: {}}
        self.seen: dict[str, dict[str, int]] = {USER: {}, OTHER: {}}
        self.held: dict[str, Conversation] = {}

    def store(self, user: str, page: Sequence[Conversation], crawl: int | None) -> None:
        for c in page:
            for inbox in self.inbox.values():  # every teammate's row follows the new copy
                if c.id in inbox:
                    inbox[c.id] = c
            self.inbox[user][c.id] = c
            self.seen[user][c.id] = max(self.seen[user].get(c.id, 0), crawl or 0)
            self.held[c.id] = c

    def mark_read(self, user: str, cid: str) -> bool:
        if cid not in self.held:
            return False
        self.held[cid] = self.held[cid].marked_read_for(user)
        if cid in self.inbox[user]:
            self.inbox[user][cid] = self.inbox[user][cid].marked_read_for(user)
        return True

    def reconcile(self, user: str, crawl: int) -> int:
        gone = [cid for cid, seen in self.seen[user].items() if seen < crawl]
        for cid in gone:
            del self.inbox[user][cid]
            del self.seen[user][cid]
            if all(cid not in inbox for inbox in self.inbox.values()):
                del self.held[cid]
        return len(gone)

    def counts(self, user: str) -> tuple[int, int]:
        inbox = self.inbox[user]
        return len(inbox), sum(c.is_unread_for(user) for c in inbox.values())


def check_against(db: InboxDatabase, folder: Path, model: Model) -> None:
    ids = local_ids(folder)
    for user in (USER, OTHER):
        assert db.counts(user) == model.counts(user) == brute_counts(db, user)
        assert db.count(user) == model.counts(user)[0]
        assert db.count(user, unread_only=True) == model.counts(user)[1]
        for sort in SORTS:
            want = expected_rows(model.inbox[user], ids, user, sort=sort, held=model.held)
            assert all_rows(db, user, sort=sort) == want
    assert set(ids) == set(model.held)  # no orphan is left behind, nothing held is lost
    for cid, c in model.held.items():
        assert_same_conversation(db.conversation(cid), c)


def test_counts_stay_right_through_inserts_flags_mark_read_and_reconcile(
    db: InboxDatabase, folder: Path
) -> None:
    rng = random.Random(2025)
    model = Model()
    universe = [random_conversation(rng, i) for i in range(120)]
    crawl = {USER: 0, OTHER: 0}
    check_against(db, folder, model)
    for _ in range(80):
        action = rng.random()
        user = USER if rng.random() < 0.75 else OTHER
        if action < 0.55:
            page = []
            for c in rng.sample(universe, rng.randrange(1, 15)):
                if rng.random() < 0.4:  # the same conversation, changed
                    c = dataclasses.replace(
                        random_conversation(rng, int(c.id[4:])),
                        contact=c.contact,
                    )
                page.append(c)
            using = crawl[user] if crawl[user] and rng.random() < 0.7 else None
            db.store_page(user, page, SyncState(), crawl=using)
            model.store(user, page, using)
        elif action < 0.75:
            cid = rng.choice(universe).id
            assert db.mark_read(user, cid) is model.mark_read(user, cid)
        elif action < 0.85:
            crawl[user] += 1
        else:
            if crawl[user]:
                assert db.seen_count(user, crawl[user]) == sum(
                    seen >= crawl[user] for seen in model.seen[user].values()
                )
                assert db.reconcile(user, crawl[user]) == model.reconcile(user, crawl[user])
        check_against(db, folder, model)
    assert model.counts(USER)[0] > 10, "the walk should leave a sizeable inbox"


# --- rows: every view against a brute-force reference -----------------------------------

_ids = st.integers(0, 40).map(lambda n: f"ibx_{n:03d}")
_names = st.sampled_from(NAMES) | st.text(max_size=10)
_emails = (
    st.none()
    | st.sampled_from(EMAIL_STEMS).map(lambda s: f"{s}@example.test")
    | st.text(max_size=8)
)
_few_times = [T0 - timedelta(minutes=n) for n in range(4)]
_times = (
    st.none()
    | st.sampled_from(_few_times)
    | st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
_participants = st.lists(
    st.builds(
        Participant,
        user_id=st.sampled_from([USER, OTHER, THIRD]),
        sender=st.booleans(),
        read=st.booleans(),
    ),
    max_size=3,
    unique_by=lambda p: p.user_id,
).map(tuple)
_short = st.none() | st.text(max_size=8)
_conversations = st.builds(
    Conversation,
    id=_ids,
    contact=st.builds(Contact, id=st.none() | _ids, full_name=st.none() | _names, email=_emails),
    last_activity_at=_times,
    created_at=_times,
    last_replied_at=_times,
    channels=st.lists(st.sampled_from(["email", "linkedin", "sms"]), max_size=3).map(tuple),
    participants=_participants,
    have_replies=st.booleans(),
    last_replied_channel=st.none() | st.sampled_from(["email", "linkedin"]),
    opportunities=st.lists(
        st.builds(Opportunity, id=_short, type=_short, done=st.booleans()), max_size=2
    ).map(tuple),
    labels=st.lists(st.sampled_from(["lbl_1", "lbl_2"]), max_size=2).map(tuple),
    team_id=st.none() | st.just("tea_1"),
    created_by=st.none() | _short,
    lead_id=st.none() | _ids,
    messages=st.lists(
        st.builds(
            ConversationMessage, id=_short, sender=_short, recipient=_short, body=_short,
            sent_at=_times,
        ),
        max_size=2,
    ).map(tuple),
)  # fmt: skip
_queries = st.sampled_from(
    ["", "jose", "JOSÉ", "strasse", "ß", "example", "e", "zz", "jose example", "a e", FULLWIDTH[:1]]
) | st.text(max_size=3)

_hypothesis = settings(
    max_examples=30,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@_hypothesis
@given(
    pages=st.lists(st.lists(_conversations, max_size=12), min_size=1, max_size=3),
    read=st.lists(_ids, max_size=4),
    queries=st.lists(_queries, min_size=1, max_size=2),
    size=st.integers(1, 7),
)
def test_rows_match_a_brute_force_reference_in_every_view(
    tmp_path: Path,
    pages: list[list[Conversation]],
    read: list[str],
    queries: list[str],
    size: int,
) -> None:
    folder = tmp_path / uuid.uuid4().hex
    model = Model()
    with opened(folder) as db:
        for page in pages:
            db.store_page(USER, page, SyncState())
            model.store(USER, page, None)
        for cid in read:
            assert db.mark_read(USER, cid) is model.mark_read(USER, cid)
        ids = local_ids(folder)
        assert db.counts(USER) == model.counts(USER) == brute_counts(db, USER)
        for sort in SORTS:
            for unread_only in (False, True):
                for query in queries:
                    terms = query_terms(query)
                    view = {"sort": sort, "unread_only": unread_only, "terms": terms}
                    want = expected_rows(
                        model.inbox[USER],
                        ids,
                        USER,
                        held=model.held,
                        **view,  # type: ignore[arg-type]
                    )
                    assert all_rows(db, USER, **view) == want
                    assert keyset_pages(db, USER, size, **view) == want
                    assert offset_pages(db, USER, size, **view) == want
                    assert db.count(USER, unread_only=unread_only, terms=terms) == len(want)
                    for index, row in enumerate(want):
                        assert db.position(USER, row.local_id, **view) == index  # type: ignore[arg-type]
                    outside = set(ids.values()) - {row.local_id for row in want}
                    for local_id in outside:
                        assert db.position(USER, local_id, **view) is None  # type: ignore[arg-type]


@pytest.fixture
def people(db: InboxDatabase) -> dict[str, str]:
    """A small inbox of accented and cased names; name → conversation id."""
    contacts = [
        ("José Álvarez", "jose@example.test"),
        ("JOSE MARTIN", None),
        ("Straße Müller", "s.mueller@example.test"),
        ("STRASSE Co", "info@strasse.test"),
        (None, "zoë@example.test"),
        (FULLWIDTH, None),
        ("Ann", "bell@example.test"),
    ]
    page = [
        dataclasses.replace(
            conversation(i, unread=i % 2 == 0), contact=Contact(f"ctc_{i}", name, email)
        )
        for i, (name, email) in enumerate(contacts)
    ]
    db.store_page(USER, page, SyncState())
    return {name or email or "": c.id for (name, email), c in zip(contacts, page, strict=True)}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("jose", {"José Álvarez", "JOSE MARTIN"}),
        ("JOSÉ", {"José Álvarez", "JOSE MARTIN"}),
        ("josé álvarez", {"José Álvarez"}),
        ("ALVAREZ  jose", {"José Álvarez"}),
        ("strasse", {"Straße Müller", "STRASSE Co"}),
        ("straße", {"Straße Müller", "STRASSE Co"}),
        ("ß", {"Straße Müller", "STRASSE Co"}),
        ("müller", {"Straße Müller"}),
        ("mueller", {"Straße Müller"}),
        ("zoe", {"zoë@example.test"}),
        ("fullwidth", {FULLWIDTH}),
        ("jose nobody", set()),
        ("annbell", set()),
        ("ann bell", {"Ann"}),
        ("", {"José Álvarez", "JOSE MARTIN", "Straße Müller", "STRASSE Co", "zoë@example.test",
              FULLWIDTH, "Ann"}),
    ],
)  # fmt: skip
def test_terms_ignore_accents_and_case_and_all_must_match(
    db: InboxDatabase, people: dict[str, str], query: str, found: set[str]
) -> None:
    terms = query_terms(query)
    wanted = {people[name] for name in found}
    for sort in SORTS:
        assert {row.id for row in all_rows(db, USER, sort=sort, terms=terms)} == wanted
    assert db.count(USER, terms=terms) == len(wanted)
    unread = {row.id for row in all_rows(db, USER, unread_only=True, terms=terms)}
    assert unread == {cid for cid in wanted if int(cid[4:]) % 2 == 0}


def test_fold_and_query_terms() -> None:
    assert fold("José") == fold("JOSE") == "jose"
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert query_terms("  José \t ÁLVAREZ ") == ("jose", "alvarez")
    assert query_terms("\u0301") == ()


def test_paging_on_a_larger_inbox(db: InboxDatabase, folder: Path) -> None:
    rng = random.Random(11)
    inbox: dict[str, Conversation] = {}
    for start in range(0, 600, 100):
        page = [random_conversation(rng, i) for i in range(start, start + 100)]
        db.store_page(USER, page, SyncState())
        inbox.update((c.id, c) for c in page)
    ids = local_ids(folder)
    for sort in SORTS:
        for unread_only in (False, True):
            for terms in [(), ("jose",), ("example", "1")]:
                view = {"sort": sort, "unread_only": unread_only, "terms": terms}
                want = expected_rows(inbox, ids, USER, **view)  # type: ignore[arg-type]
                assert want, view
                assert all_rows(db, USER, **view) == want
                assert keyset_pages(db, USER, 64, **view) == want
                assert offset_pages(db, USER, 50, **view) == want
                assert db.count(USER, unread_only=unread_only, terms=terms) == len(want)
                # A keyset and an offset together: skip within the screen after a row.
                middle = want[len(want) // 3]
                after = (middle.sort_value, middle.local_id)
                tail = db.rows(USER, after=after, offset=2, limit=5, **view)  # type: ignore[arg-type]
                start = len(want) // 3 + 3
                assert tail == want[start : start + 5]
                for index in (0, len(want) // 2, len(want) - 1):
                    row = want[index]
                    assert db.position(USER, row.local_id, **view) == index  # type: ignore[arg-type]


# --- reconcile --------------------------------------------------------------------------


def participant_rows(folder: Path) -> set[tuple[str, str]]:
    uri = f"file:{folder / DB_NAME}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as raw:
        return set(
            raw.execute(
                "SELECT c.id, p.user_id FROM participants AS p "
                "LEFT JOIN conversations AS c ON c.local_id = p.conversation"
            ).fetchall()
        )


def test_reconcile_removes_only_what_the_crawl_did_not_see(db: InboxDatabase, folder: Path) -> None:
    shared = [conversation(i, others=[Participant(OTHER, False, False)]) for i in range(3)]
    mine = [conversation(i, unread=True) for i in range(10, 16)]
    db.store_page(USER, shared + mine, SyncState(), crawl=1)
    db.store_page(OTHER, shared, SyncState())
    db.store_page(USER, [conversation(20)], SyncState())  # stored outside any crawl
    assert db.counts(USER) == (10, 6)
    # Crawl 2 sees some of them: the rest goes from USER's inbox, and only from it.
    seen = [shared[0], mine[0], mine[1]]
    db.store_page(USER, seen, SyncState(), crawl=2)
    assert db.seen_count(USER, 2) == 3
    assert db.seen_count(USER, 1) == 9
    assert db.reconcile(USER, 2) == 7
    assert db.counts(USER) == (3, 2) == brute_counts(db, USER)
    assert {row.id for row in all_rows(db, USER)} == {c.id for c in seen}
    # The other user's rows of the same conversations stay, with their participants.
    assert db.counts(OTHER) == (3, 3)
    assert {row.id for row in all_rows(db, OTHER)} == {c.id for c in shared}
    for c in shared:
        assert_same_conversation(db.conversation(c.id), c)
    # Conversations left in no inbox went, with their participants.
    for c in [*mine[2:], conversation(20)]:
        assert db.conversation(c.id) is None
    assert set(local_ids(folder)) == {c.id for c in shared} | {mine[0].id, mine[1].id}
    remaining = participant_rows(folder)
    assert all(cid is not None for cid, _ in remaining)
    assert {cid for cid, _ in remaining} == set(local_ids(folder))
    # Nothing more to remove: nothing changes.
    assert db.reconcile(USER, 2) == 0
    assert db.reconcile(OTHER, 0) == 0
    assert db.counts(OTHER) == (3, 3)


# --- mark_read --------------------------------------------------------------------------


def test_mark_read_sets_unread_and_the_participant_flag(db: InboxDatabase) -> None:
    c = conversation(1, unread=True, others=[Participant(OTHER, True, False)])
    db.store_page(USER, [c, conversation(2, unread=True)], SyncState())
    db.store_page(OTHER, [c], SyncState())
    assert db.counts(USER) == (2, 2)
    assert db.counts(OTHER) == (1, 1)
    assert db.mark_read(USER, c.id) is True
    assert db.counts(USER) == (2, 1) == brute_counts(db, USER)
    marked, other = sorted(all_rows(db, USER), key=lambda row: row.id)
    assert db.position(USER, marked.local_id, unread_only=True) is None
    assert db.position(USER, other.local_id, unread_only=True) == 0
    assert [row.id for row in all_rows(db, USER, unread_only=True)] == [conversation(2).id]
    assert_same_conversation(db.conversation(c.id), c.marked_read_for(USER))
    # The other user's row keeps its own flag.
    assert db.counts(OTHER) == (1, 1)
    # Marking again changes nothing; an unknown conversation is not held.
    assert db.mark_read(USER, c.id) is True
    assert db.counts(USER) == (2, 1)
    assert db.mark_read(USER, "ibx_unknown") is False
    # A user who was not a participant becomes one, read.
    assert db.mark_read(THIRD, c.id) is True
    assert_same_conversation(db.conversation(c.id), c.marked_read_for(USER).marked_read_for(THIRD))
    assert db.counts(THIRD) == (0, 0)


# --- conversation(): every field back ---------------------------------------------------


@_hypothesis
@given(conversations=st.lists(_conversations, min_size=1, max_size=6, unique_by=lambda c: c.id))
def test_conversation_round_trips_every_field(
    tmp_path: Path, conversations: list[Conversation]
) -> None:
    with opened(tmp_path / uuid.uuid4().hex) as db:
        db.store_page(USER, conversations, SyncState())
        for c in conversations:
            assert_same_conversation(db.conversation(c.id), c)
        # Stored again unchanged, nothing is reported as changed.
        assert db.store_page(USER, conversations, SyncState()) == PageWrite(0, 0, 0)
        assert db.conversation("ibx_none") is None


API_SHAPE = {
    "_id": "ibx_api",
    "contactId": "ctc_api",
    "leadId": "lea_api",
    "teamId": "tea_1",
    "createdBy": "usr_me",
    "contact": {"_id": "ctc_api", "fullName": "José Álvarez", "email": "jose@example.test"},
    "lastActivityAt": "2025-03-14T09:30:12.345Z",
    "createdAt": "2025-03-01T08:00:00.000Z",
    "lastRepliedAt": "2025-03-13T10:00:00+02:00",
    "channels": ["email", "linkedin"],
    "users": [
        {"userId": "usr_z", "sender": True, "read": True},
        {"userId": USER, "sender": False, "read": False},
    ],
    "haveReplies": True,
    "lastRepliedChannel": "linkedin",
    "opportunities": [{"id": "opp_1", "type": "deal", "done": True}, {"_id": "opp_2"}],
    "labels": ["lbl_1", "lbl_2"],
}
SCHEMA_SHAPE = {
    "_id": "ibx_schema",
    "leadId": "lea_schema",
    "contact": {"fullName": None, "email": "zoë@example.test"},
    "messages": [
        {
            "_id": "msg_1",
            "sender": "zoë@example.test",
            "recipient": "me@x",
            "body": "<p>Hi</p>",
            "sentAt": "2025-03-10T10:00:00Z",
        },
        {"_id": "msg_2", "sender": None, "body": None, "sentAt": 1741600800000},
        {"_id": "msg_3"},
    ],
}


def test_conversation_round_trips_both_documented_shapes(db: InboxDatabase) -> None:
    page = parse_inbox_page({"data": [API_SHAPE, SCHEMA_SHAPE, {"_id": "ibx_bare"}]})
    assert len(page.conversations) == 3
    assert page.conversations[1].messages  # the schema shape's messages are kept
    db.store_page(USER, page.conversations, SyncState())
    for c in page.conversations:
        assert_same_conversation(db.conversation(c.id), c)
    assert db.counts(USER) == (3, 1)
    held = db.conversation("ibx_api")
    assert held is not None
    assert [p.user_id for p in held.participants] == sorted(["usr_z", USER])


# --- iter_conversations -----------------------------------------------------------------


def test_iter_conversations_streams_newest_first(db: InboxDatabase) -> None:
    rng = random.Random(5)
    page = [random_conversation(rng, i) for i in range(40)]
    db.store_page(USER, page[:30], SyncState())
    db.store_page(OTHER, page[25:], SyncState())  # 30..39 are only OTHER's
    by_id = {c.id: c for c in page}
    for unread_only in (False, True):
        streamed = list(db.iter_conversations(USER, unread_only=unread_only, batch=4))
        rows = all_rows(db, USER, unread_only=unread_only)
        assert [c.id for c in streamed] == [row.id for row in rows]
        assert len(streamed) == (30 if not unread_only else sum(row.unread for row in rows))
        for c in streamed:
            assert_same_conversation(c, by_id[c.id])
    assert {c.id for c in db.iter_conversations(OTHER)} == {c.id for c in page[25:]}
    assert list(db.iter_conversations("usr_nobody")) == []


# --- threads, team, labels, sync state --------------------------------------------------


def test_threads_round_trip_with_their_text_per_viewer(db: InboxDatabase) -> None:
    mine = ThreadPage(
        (
            ThreadMessage(
                "act_1", "emailsSent", T0, "Hi", "<p>Hello <b>José</b></p><p>Line&nbsp;2</p>",
                "usr_1", "Ann", "a@x", "lead@x",
            ),
            ThreadMessage(None, None, None, None, None),
            ThreadMessage(
                "act_3", "linkedinReplied", T0 + timedelta(microseconds=7), None,
                "<div>précis</div>", text="kept as given",
            ),
        ),
        Pagination(7, 1, None, None, 100, 1),
        ("message 4: not an object",),
    )  # fmt: skip
    theirs = ThreadPage(
        (ThreadMessage("act_9", "emailsReplied", T0, "Re", "<p>other view</p>"),),
        Pagination(None, 1, None, None, 100, 1),
    )
    assert db.thread("ctc_1", USER) is None
    db.save_thread("ctc_1", USER, mine, now=1.5e9)
    db.save_thread("ctc_1", OTHER, theirs, now=1.5e9)

    def with_text(page: ThreadPage) -> tuple[ThreadMessage, ...]:
        return tuple(
            dataclasses.replace(m, text=html_to_text(m.html) if m.text is None else m.text)
            for m in page.messages
        )

    got = db.thread("ctc_1", USER)
    assert got is not None
    assert got.messages == with_text(mine)
    assert [m.text for m in got.messages][:2] == [html_to_text(mine.messages[0].html), ""]
    assert "José" in (got.messages[0].text or "")
    assert got.messages[2].text == "kept as given"
    assert got.pagination.total_items == 7
    assert got.skipped == mine.skipped
    other = db.thread("ctc_1", OTHER)
    assert other is not None
    assert other.messages == with_text(theirs)
    assert other.pagination.total_items == 1
    assert db.thread("ctc_2", USER) is None
    # Saved again, the thread is replaced whole.
    db.save_thread("ctc_1", USER, theirs, now=1.6e9)
    again = db.thread("ctc_1", USER)
    assert again is not None
    assert again.messages == with_text(theirs)
    assert again.skipped == ()


def test_team_round_trips(db: InboxDatabase) -> None:
    assert db.team() is None
    team = Team(
        "tea_1", "Acme", (USER, OTHER), (TeamUser(USER, "Ann", "a@x", "admin"), TeamUser(OTHER))
    )
    db.save_team(team)
    assert db.team() == team
    bare = Team(None, None, (), ())
    db.save_team(bare)
    assert db.team() == bare


def test_labels_round_trip(db: InboxDatabase) -> None:
    assert db.labels() == ()
    labels = [
        Label("lbl_b", "Hot", "#ff0000"),
        Label("lbl_a", None, None),
        Label("lbl_c", "Ça", ""),
    ]
    db.save_labels(labels)
    assert sorted(db.labels(), key=lambda x: x.id) == sorted(labels, key=lambda x: x.id)
    db.save_labels(labels[:1])
    assert db.labels() == (labels[0],)
    db.save_labels([])
    assert db.labels() == ()


def test_labels_repeating_an_id_keep_the_last(db: InboxDatabase) -> None:
    db.save_labels([Label("lbl_a", "Old", None), Label("lbl_a", "New", "#000")])
    assert db.labels() == (Label("lbl_a", "New", "#000"),)


def test_sync_state_round_trips_with_the_page(db: InboxDatabase) -> None:
    assert db.sync_state(USER) is None
    state = SyncState(5, 50, 2, True, None, 3, 5, False, 1.5e9, 1.6e9)
    db.store_page(USER, [conversation(1)], state)
    assert db.sync_state(USER) == state
    assert db.sync_state(OTHER) is None
    db.save_sync_state(USER, SyncState())
    assert db.sync_state(USER) == SyncState()


# --- several writers --------------------------------------------------------------------


def writer_page(user: str, ids: Sequence[int]) -> list[Conversation]:
    """A page every writer builds the same way (the child process too)."""
    return [
        Conversation(
            f"ibx_{j:06d}",
            Contact(f"ctc_{j}", f"P {j}", None),
            T0 - timedelta(minutes=j),
            participants=(Participant(user, False, j % 3 != 0),),
        )
        for j in ids
    ]


WRITER_IDS = [list(range(k * 100, k * 100 + 60)) + list(range(1000, 1030)) for k in range(3)]

CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from lemlist_tui.api.models import Contact, Conversation, Participant
from lemlist_tui.db import InboxDatabase, SyncState
folder, user, ids = Path(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
t0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
print("ready", flush=True)
sys.stdin.readline()
db = InboxDatabase(folder)
for n in range(0, len(ids), 5):
    page = [
        Conversation(
            f"ibx_{j:06d}", Contact(f"ctc_{j}", f"P {j}", None), t0 - timedelta(minutes=j),
            participants=(Participant(user, False, j % 3 != 0),),
        )
        for j in ids[n : n + 5]
    ]
    db.store_page(user, page, SyncState())
db.close()
print("done", flush=True)
"""


def write_pages(folder: Path, ids: Sequence[int], barrier: threading.Barrier) -> None:
    barrier.wait()
    with opened(folder) as db:  # opened at the same time as the others: a fresh file
        for n in range(0, len(ids), 5):
            db.store_page(USER, writer_page(USER, ids[n : n + 5]), SyncState())


def test_several_writers_at_once_lose_nothing(folder: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), USER, ",".join(map(str, WRITER_IDS[2]))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def run(ids: Sequence[int]) -> None:
            try:
                write_pages(folder, ids, barrier)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=run, args=(ids,)) for ids in WRITER_IDS[:2]]
        for thread in threads:
            thread.start()
        barrier.wait()
        child.stdin.write("go\n")
        child.stdin.flush()
        for thread in threads:
            thread.join()
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert errors == []
    assert child.returncode == 0, err
    assert out.strip() == "done"
    assert "locked" not in err
    union = {j for ids in WRITER_IDS for j in ids}
    with opened(folder) as db:
        assert db.counts(USER) == (len(union), sum(j % 3 == 0 for j in union))
        assert {row.id for row in all_rows(db, USER)} == {f"ibx_{j:06d}" for j in union}
        assert brute_counts(db, USER) == db.counts(USER)


def test_two_objects_on_one_folder_write_from_many_threads(folder: Path) -> None:
    with opened(folder) as first, opened(folder) as second:
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def run(db: InboxDatabase, base: int) -> None:
            try:
                barrier.wait()
                for n in range(15):
                    ids = [base + 5 * n + k for k in range(5)] + [5000 + n]
                    db.store_page(USER, writer_page(USER, ids), SyncState())
                    db.mark_read(USER, f"ibx_{base + 5 * n:06d}")
            except BaseException as error:
                errors.append(error)

        threads = [
            threading.Thread(target=run, args=(db, base))
            for db, base in [(first, 0), (first, 1000), (second, 2000), (second, 3000)]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        held = {c for base in (0, 1000, 2000, 3000) for c in range(base, base + 75)}
        held |= set(range(5000, 5015))
        marked = {base + 5 * n for base in (0, 1000, 2000, 3000) for n in range(15)}
        unread = {j for j in held if j % 3 == 0} - marked
        for db in (first, second):
            assert db.counts(USER) == (len(held), len(unread)) == brute_counts(db, USER)


def test_a_writer_kept_waiting_too_long_gets_a_sentence(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened(folder) as db:
        db.store_page(USER, [conversation(1)], SyncState())
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT", 0.05)
    with (
        opened(folder) as db,
        contextlib.closing(sqlite3.connect(folder / DB_NAME, isolation_level=None)) as other,
    ):
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError) as caught:
            db.store_page(USER, [conversation(2)], SyncState())
        assert one_sentence(caught.value) == (
            "The local inbox could not be written: another lemlist-tui kept it busy too long."
        )
        # Reads go on meanwhile (WAL), and see the last commit.
        assert db.counts(USER) == (1, 0)
        other.execute("ROLLBACK")
        db.store_page(USER, [conversation(2)], SyncState())
        assert db.counts(USER) == (2, 0)


def at_once(n: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run ``work(0)`` … ``work(n - 1)`` on threads released together; what they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait()
            work(k)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_opening_a_fresh_file_from_many_threads_at_once(tmp_path: Path) -> None:
    # SQLite's switch to WAL fails at once (not after the busy timeout) when two
    # connections make the same new file together: opening is serialised.
    for n in range(12):
        folder = tmp_path / f"fresh-{n}"
        dbs: list[InboxDatabase] = []

        def work(k: int, folder: Path = folder, dbs: list[InboxDatabase] = dbs) -> None:
            database = InboxDatabase(folder)
            dbs.append(database)
            database.store_page(USER, writer_page(USER, [k]), SyncState())

        try:
            assert at_once(6, work) == []
            assert all(database.notice is None for database in dbs)
            assert corrupt_files(folder) == []
            assert dbs[0].counts(USER) == (6, 2)
        finally:
            for database in dbs:
                database.close()


def test_a_damaged_file_opened_by_two_at_once_is_moved_aside_once(tmp_path: Path) -> None:
    for n in range(8):
        folder = tmp_path / f"damaged-{n}"
        folder.mkdir(mode=0o700)
        (folder / DB_NAME).write_bytes(b"not a database " * 500)
        dbs: list[InboxDatabase] = []

        def work(k: int, folder: Path = folder, dbs: list[InboxDatabase] = dbs) -> None:
            dbs.append(InboxDatabase(folder))

        try:
            assert at_once(2, work) == []
            assert len(corrupt_files(folder)) == 1
            assert sorted(database.notice is None for database in dbs) == [False, True]
            # Both use the same, new file: what one writes, the other reads.
            dbs[0].store_page(USER, [conversation(1)], SyncState())
            assert dbs[1].counts(USER) == (1, 0)
        finally:
            for database in dbs:
                database.close()


def test_extra_read_connections_keep_the_process_locks(folder: Path) -> None:
    # Closing any descriptor of the database file drops every POSIX lock the process
    # holds on it: another process closing its last connection could then checkpoint and
    # delete the -wal under this one's open connections.
    with opened(folder) as db:
        db.store_page(USER, [conversation(1)], SyncState())
        assert db.seen_count(USER, 0) == 1  # a connection of its own, opened and closed
        db.reader().close()
        assert [c.id for c in db.iter_conversations(USER)] == [conversation(1).id]
        code = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute('SELECT count(*) FROM conversations').fetchone()[0]); c.close()"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(folder / DB_NAME)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert done.stdout.strip() == "1"
        # This process still holds the file: the other one's close left the WAL alone.
        assert (folder / f"{DB_NAME}-wal").exists()
        assert (folder / f"{DB_NAME}-shm").exists()
        db.store_page(USER, [conversation(2)], SyncState())
        assert db.counts(USER) == (2, 0)
    with opened(folder) as again:
        assert again.counts(USER) == (2, 0)


# --- failed writes ----------------------------------------------------------------------


def test_a_write_that_fails_midway_is_rolled_back_whole(
    db: InboxDatabase, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.store_page(USER, [conversation(i) for i in range(3)], SyncState(total_items=3))
    assert db.changed()
    before = all_rows(db, USER)

    def fail(connection: sqlite3.Connection, user_id: str, state: SyncState) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(InboxDatabase, "_put_state", staticmethod(fail))
    page = [conversation(i, unread=True) for i in range(10)]
    with pytest.raises(StorageError) as caught:
        db.store_page(USER, page, SyncState(total_items=10))
    assert one_sentence(caught.value) == "The local inbox could not be written: disk I/O error."
    assert not db.changed()
    assert all_rows(db, USER) == before
    assert db.sync_state(USER) == SyncState(total_items=3)
    monkeypatch.undo()
    with opened(folder) as fresh:
        assert fresh.counts(USER) == (3, 0)
    assert db.store_page(USER, page, SyncState()) == PageWrite(7, 3, 0)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, when this sandbox lets us mount one (root, CAP_SYS_ADMIN)."""
    with small_tmpfs(tmp_path / "small") as mount_point:
        yield mount_point


def fill(path: Path) -> None:
    """Write ``path`` until the disk is full: 4 KB at a time, then byte by byte."""
    with path.open("wb", buffering=0) as out:
        for size in (4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    out.write(b"\0" * size)
    with path.open("ab", buffering=0) as out, pytest.raises(OSError, match="No space left"):
        out.write(b"\0")


def test_a_full_disk_raises_a_sentence_and_keeps_the_last_commit(small_disk: Path) -> None:
    folder = small_disk / FINGERPRINT
    committed = [conversation(i, unread=i < 4) for i in range(20)]
    filler = small_disk / "filler"
    with opened(folder) as db:
        assert db.store_page(USER, committed, SyncState(total_items=20)) == PageWrite(20, 0, 0)
        before = all_rows(db, USER)
        fill(filler)
        big = [
            conversation(i, name="N" * 300, email=f"{'e' * 200}{i}@x") for i in range(1000, 1100)
        ]
        with pytest.raises(StorageError) as caught:
            db.store_page(USER, big, SyncState(total_items=120))
        assert (
            one_sentence(caught.value) == "The local inbox could not be written: the disk is full."
        )
        # Still readable, at the last commit.
        assert db.counts(USER) == (20, 4)
        assert all_rows(db, USER) == before
        assert db.sync_state(USER) == SyncState(total_items=20)
        filler.unlink()
        with opened(folder) as fresh:
            assert fresh.notice is None
            assert fresh.counts(USER) == (20, 4)
            assert all_rows(fresh, USER) == before
        # With room again, the same object writes again.
        assert db.store_page(USER, big, SyncState(total_items=120)) == PageWrite(100, 0, 0)
        assert db.counts(USER) == (120, 4)


# --- changed() --------------------------------------------------------------------------


def test_changed_sees_commits_by_another_database(folder: Path) -> None:
    with opened(folder) as mine, opened(folder) as theirs:
        assert not mine.changed()
        assert not mine.changed()
        theirs.store_page(USER, [conversation(1)], SyncState())
        assert mine.changed()
        assert not mine.changed()
        # Reads by anyone are no change.
        all_rows(theirs, USER)
        theirs.counts(USER)
        mine.counts(USER)
        assert not mine.changed()
        theirs.mark_read(USER, conversation(1).id)
        theirs.save_labels([Label("lbl_1", "x", None)])
        assert mine.changed()
        assert not mine.changed()
        # Its own commits count too.
        mine.store_page(USER, [conversation(2)], SyncState())
        assert mine.changed()
        assert not mine.changed()
        assert theirs.changed()
        assert not theirs.changed()


def test_a_writer_of_some_fields_keeps_what_another_wrote(folder: Path) -> None:
    # A refresh that began before another process's crawl finished writes what it
    # changed (the total, the time of page 1), not its stale copy of the whole state.
    app, sync = InboxDatabase(folder), InboxDatabase(folder)
    started = SyncState(total_items=10, complete=False, next_page=4, crawl=2)
    app.save_sync_state(USER, started)
    crawled = dataclasses.replace(started, complete=True, next_page=None, full_crawl_at=5.0)
    sync.save_sync_state(USER, crawled)
    refreshed = dataclasses.replace(started, total_items=11, refreshed_at=9.0)
    app.store_page(USER, [conversation(1)], refreshed, fields={"total_items", "refreshed_at"})
    assert app.sync_state(USER) == dataclasses.replace(crawled, total_items=11, refreshed_at=9.0)
    app.save_sync_state(USER, dataclasses.replace(started, crawl=3), fields={"crawl"})
    assert app.sync_state(USER) == dataclasses.replace(
        crawled, total_items=11, refreshed_at=9.0, crawl=3
    )
    # Without `fields`, the whole state is the caller's.
    app.save_sync_state(USER, started)
    assert sync.sync_state(USER) == started


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("José Álvarez", "jose", ["José"]),
        ("JOSE MARTIN", "jose tin", ["JOSE", "TIN"]),
        ("Straße Müller", "strasse mull", ["Straße", "Müll"]),
        ("anna@ana.test ana", "ana", ["ana", "ana"]),
        ("aaaa", "aa", ["aaaa"]),
        ("nothing here", "zz", []),
    ],
)
def test_match_spans_point_at_the_original_characters(
    text: str, query: str, marked: list[str]
) -> None:
    from lemlist_tui.db.search import match_spans

    spans = match_spans(text, query_terms(query))
    assert [text[start:end] for start, end in spans] == marked
