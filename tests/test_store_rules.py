"""The store's rules as a caller meets them: what a full crawl's reconcile removes and
keeps, the labels a row shows, the views kept to a few rows (``within``), the sort key's
cycle, the sentence a failed write or read gives, and text a damaged file still shows.

A real SQLite file in every test (the suite's ``db`` fixture, or one opened here after
shortening the busy timeout).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Label,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.db import (
    DB_NAME,
    TEAM,
    InboxDatabase,
    SortKey,
    StorageError,
    SyncState,
    query_terms,
)
from lemlist_tui.db import connection as connection_module
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.db.query import Facets
from lemlist_tui.db.store import json_strings, read_error

ME = "usr_me"
MATE = "usr_mate"
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
DAMAGED = (
    "The local inbox is damaged and cannot be read: run lemlist-tui --clear-cache, "
    "then let it sync again."
)


def talk(
    n: int,
    *,
    unread: bool = False,
    minutes: int | None = None,
    channels: tuple[str, ...] = ("email",),
    labels: tuple[str, ...] = (),
    mate: Participant | None = None,
) -> Conversation:
    """Conversation ``n`` of ``ME`` (newer for a smaller ``n``, unless ``minutes`` says)."""
    when = T0 - timedelta(minutes=n if minutes is None else minutes)
    return Conversation(
        id=f"ibx_{n:03d}",
        contact=Contact(f"ctc_{n:03d}", f"Person {n}", f"p{n}@example.test"),
        last_activity_at=when,
        created_at=when - timedelta(days=1),
        last_replied_at=when - timedelta(hours=1),
        channels=channels,
        participants=(Participant(ME, False, not unread), *([mate] if mate else [])),
        have_replies=True,
        labels=labels,
    )


def ids(db: InboxDatabase, user: str, **view: object) -> list[str]:
    return [row.id for row in db.rows(user, limit=1000, **view)]  # type: ignore[arg-type]


def thread_of(text: str) -> ThreadPage:
    return ThreadPage(
        (ThreadMessage("act_1", "emailsReplied", T0, "Re", f"<p>{text}</p>"),),
        Pagination(1, 1, None, None, 100, 1),
    )


@contextlib.contextmanager
def raw(folder: Path) -> Iterator[sqlite3.Connection]:
    """The file as another program sees it (autocommit)."""
    with contextlib.closing(sqlite3.connect(folder / DB_NAME, isolation_level=None)) as c:
        yield c


# --- reconcile --------------------------------------------------------------------------


def test_a_crawl_removes_what_only_refreshes_brought_even_when_they_updated_it(
    db: InboxDatabase,
) -> None:
    # A refresh (no crawl) brings x, then brings it again changed: still seen by no crawl.
    x = talk(9, unread=True)
    db.store_page(ME, [x], SyncState())
    assert db.store_page(ME, [talk(9, unread=True, minutes=1)], SyncState()).updated == 1
    crawled = [talk(1, unread=True), talk(2), talk(3, unread=True)]
    assert db.store_page(ME, crawled, SyncState(), crawl=1).new_to_crawl == 3
    assert db.counts(ME) == (4, 3)
    assert db.seen_count(ME, 1) == 3
    assert db.reconcile(ME, 1) == 1
    assert ids(db, ME) == [c.id for c in crawled]
    assert db.counts(ME) == (3, 2)
    assert db.counts(TEAM) == (3, 2)
    assert db.conversation(x.id) is None
    assert db.local_id(x.id) is None


def test_reconcile_keeps_what_the_crawl_saw_and_what_a_teammate_holds(db: InboxDatabase) -> None:
    shared = talk(2, mate=Participant(MATE, False, False))
    a, c = talk(1, unread=True), talk(3, unread=True)
    db.store_page(ME, [a, shared, c], SyncState(), crawl=1)
    db.store_page(MATE, [shared], SyncState())
    for conversation in (a, shared, c):
        db.save_thread(conversation.contact.id or "", ME, thread_of(conversation.id), now=1.0)
    # Crawl 2 sees only a; a refresh then brings a changed: it stays seen by crawl 2.
    db.store_page(ME, [a], SyncState(), crawl=2)
    db.store_page(ME, [talk(1, unread=False)], SyncState())
    assert db.seen_count(ME, 2) == 1
    assert db.reconcile(ME, 2) == 2
    assert ids(db, ME) == [a.id]
    assert db.counts(ME) == (1, 0)
    # The shared one leaves my inbox only: the teammate's row, the conversation and
    # its thread stay.
    assert ids(db, MATE) == [shared.id]
    assert db.counts(MATE) == (1, 1)
    held = db.conversation(shared.id)
    assert held is not None and set(held.participants) == set(shared.participants)
    assert db.thread("ctc_002", ME) is not None
    # The one in nobody's inbox goes, with its thread; the kept one keeps its thread.
    assert db.conversation(c.id) is None
    assert db.thread("ctc_003", ME) is None
    assert db.thread("ctc_001", ME) is not None
    assert sorted(ids(db, TEAM)) == sorted([a.id, shared.id])
    assert db.counts(TEAM) == (2, 0)
    # Nothing more to remove.
    assert db.reconcile(ME, 2) == 0
    assert db.counts(ME) == (1, 0)


# --- store_page ---------------------------------------------------------------------------


def test_the_first_state_written_by_fields_keeps_the_callers_page_size(db: InboxDatabase) -> None:
    state = SyncState(total_items=7, page_size=50, refreshed_at=3.0)
    db.store_page(ME, [talk(1)], state, fields={"total_items", "refreshed_at"})
    assert db.sync_state(ME) == SyncState(total_items=7, page_size=50, refreshed_at=3.0)


# --- labels on a row ----------------------------------------------------------------------


def test_a_row_shows_lemlists_labels_then_those_the_app_applied_once_each(
    db: InboxDatabase,
) -> None:
    listed = talk(1, labels=("lbl_b", "lbl_a"))
    bare = talk(2)
    untouched = talk(3, labels=())
    db.store_page(ME, [listed, bare, untouched], SyncState())
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_002", target="lbl_hot")])
    outbox.add([Action(Kind.LABEL, "ctc_001", target="lbl_z")])
    outbox.add([Action(Kind.LABEL, "ctc_001", target="lbl_c")])
    rows = {row.id: row for row in db.rows(ME)}
    assert rows[listed.id].labels == ("lbl_b", "lbl_a", "lbl_c", "lbl_z")
    assert rows[bare.id].labels == ("lbl_hot",)
    assert rows[untouched.id].labels == ()


def test_json_strings_keeps_only_the_strings_of_a_list() -> None:
    assert json_strings('["email", 3, null, "linkedin"]') == ("email", "linkedin")
    assert json_strings('{"email": 1}') == ()
    assert json_strings('"email"') == ()
    assert json_strings("7") == ()
    assert json_strings("not json") == ()


# --- views kept to a few rows -----------------------------------------------------------


@pytest.fixture
def five(db: InboxDatabase) -> list[int]:
    """Five conversations of ME (1 newest), odd ones unread, 2 and 4 on LinkedIn too;
    their local ids, newest first."""
    page = [
        talk(n, unread=n % 2 == 1, channels=("email", "linkedin") if n % 2 == 0 else ("email",))
        for n in range(1, 6)
    ]
    db.store_page(ME, page, SyncState())
    return [row.local_id for row in db.rows(ME)]


def test_within_keeps_only_those_rows_and_the_other_conditions_still_hold(
    db: InboxDatabase, five: list[int]
) -> None:
    first, second, third, fourth, fifth = five
    some = [fifth, second, third]
    assert ids(db, ME, within=some) == ["ibx_002", "ibx_003", "ibx_005"]
    assert ids(db, ME, within=some, reverse=True) == ["ibx_005", "ibx_003", "ibx_002"]
    assert ids(db, ME, within=some, unread_only=True) == ["ibx_003", "ibx_005"]
    assert ids(db, ME, within=some, terms=query_terms("p3@")) == ["ibx_003"]
    assert ids(db, ME, within=[]) == []
    assert db.count(ME, within=some) == 3
    assert db.count(ME, within=some, unread_only=True) == 2
    assert db.count(ME, within=[first, fourth], unread_only=True) == 1
    assert db.position(ME, fifth, within=some) == 2
    assert db.position(ME, fifth, within=some, unread_only=True) == 1
    assert db.position(ME, first, within=some) is None
    second_key = db.rows(ME, within=[second])[0]
    fifth_key = db.rows(ME, within=[fifth])[0]
    above = (second_key.sort_value, second)
    below = (fifth_key.sort_value, fifth)
    assert db.between(ME, above, below) == 2
    assert db.between(ME, above, below, within=some) == 1
    assert db.between(ME, above, below, within=[first, fourth]) == 1


def test_facets_and_free_text_hold_together(db: InboxDatabase, five: list[int]) -> None:
    linkedin = Facets(channels=("linkedin",))
    assert db.count(ME, facets=linkedin) == 2
    assert db.count(ME, facets=linkedin, terms=query_terms("p4@")) == 1
    assert db.count(ME, facets=linkedin, terms=query_terms("p3@")) == 0
    assert ids(db, ME, facets=linkedin, terms=query_terms("person")) == ["ibx_002", "ibx_004"]
    assert ids(db, ME, facets=linkedin, within=five[:2]) == ["ibx_002"]
    assert db.count(ME, facets=linkedin, within=five[:3], unread_only=True) == 0


# --- the sort key -------------------------------------------------------------------------


def test_the_sort_key_cycles_through_every_key_and_wraps() -> None:
    assert SortKey.LAST_ACTIVITY.next() is SortKey.LAST_REPLY
    assert SortKey.LAST_REPLY.next() is SortKey.CREATED
    assert SortKey.CREATED.next() is SortKey.LAST_ACTIVITY


# --- a write that fails -------------------------------------------------------------------


BUSY = "another lemlist-tui kept it busy too long."
ACME = Team("tea_1", "Acme", (ME,), (TeamUser(ME),))
WRITES: dict[str, tuple[str, Callable[[InboxDatabase], object]]] = {
    "reconcile": ("written", lambda db: db.reconcile(ME, 2)),
    "mark_read": ("written", lambda db: db.mark_read(ME, "ibx_001")),
    "save_thread": ("written", lambda db: db.save_thread("ctc_001", ME, thread_of("hi"), 1.0)),
    "save_team": ("written", lambda db: db.save_team(ACME)),
    "save_labels": ("written", lambda db: db.save_labels([Label("lbl_1", "Hot", None)])),
    "save_sync_state": ("saved", lambda db: db.save_sync_state(ME, SyncState(total_items=9))),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_kept_waiting_says_what_was_not_done_and_keeps_the_last_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    doing, write = WRITES[name]
    monkeypatch.setattr(connection_module, "BUSY_TIMEOUT", 0.02)
    folder = tmp_path / "account"
    db = InboxDatabase(folder)
    try:
        db.store_page(ME, [talk(1, unread=True), talk(2)], SyncState(total_items=2), crawl=1)
        with raw(folder) as other:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(StorageError) as caught:
                write(db)
            other.execute("ROLLBACK")
        assert str(caught.value) == f"The local inbox could not be {doing}: {BUSY}"
        assert db.counts(ME) == (2, 1)
        assert db.sync_state(ME) == SyncState(total_items=2)
        assert (db.thread("ctc_001", ME), db.team(), db.labels()) == (None, None, ())
        write(db)  # the lock gone, the same object writes
    finally:
        db.close()


# --- a read that fails --------------------------------------------------------------------


def damage(folder: Path, table: str) -> None:
    """Overwrite every page of ``table`` in the closed file with garbage."""
    path = folder / DB_NAME
    with contextlib.closing(sqlite3.connect(path)) as c:
        size = c.execute("PRAGMA page_size").fetchone()[0]
        pages = [p for (p,) in c.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,))]
    data = bytearray(path.read_bytes())
    for page in pages:
        data[(page - 1) * size : page * size] = b"\xa5" * size
    path.write_bytes(bytes(data))


def test_a_damaged_table_is_said_damaged_where_it_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "account"
    db = InboxDatabase(folder)
    db.store_page(ME, [talk(n, unread=n < 4) for n in range(120)], SyncState(total_items=120))
    db.close()
    damage(folder, "conversations")
    db = InboxDatabase(folder)
    try:
        assert db.notice is None  # the file opens: the damage is further in
        assert db.counts(ME) == (120, 4)  # what does not touch the damage still reads
        for read in (
            lambda: db.rows(ME),
            lambda: db.conversation("ibx_001"),
            lambda: list(db.export_records(ME)),
        ):
            with pytest.raises(StorageError) as caught:
                read()
            assert str(caught.value) == DAMAGED
    finally:
        db.close()


def test_damaged_json_in_a_row_is_said_damaged(db: InboxDatabase) -> None:
    db.store_page(ME, [talk(1), talk(2)], SyncState())
    with raw(db.folder) as other:
        other.execute("UPDATE conversations SET opportunities = '{[' WHERE id = 'ibx_002'")
    with pytest.raises(StorageError) as caught:
        db.rows(ME)
    assert str(caught.value) == DAMAGED


def test_a_table_gone_from_the_file_is_a_read_that_failed_not_damage(db: InboxDatabase) -> None:
    db.store_page(ME, [talk(1)], SyncState())
    assert db.counts(ME) == (1, 0)
    with raw(db.folder) as other:
        other.execute("DROP TABLE inbox_counts")
    with pytest.raises(StorageError) as caught:
        db.counts(ME)
    assert str(caught.value) == "The local inbox could not be read: no such table: inbox_counts."


def test_a_byte_that_is_not_utf8_shows_as_a_replacement_where_the_list_reads_it(
    db: InboxDatabase,
) -> None:
    db.store_page(ME, [talk(1), talk(2)], SyncState())
    with raw(db.folder) as other:
        other.execute(
            "UPDATE conversations SET name = CAST(X'4a6fff73e9' AS TEXT) WHERE id = 'ibx_001'"
        )
    first, second = db.rows(ME)
    assert first.display_name == "Jo\ufffds\ufffd"
    assert second.name == "Person 2"
    held = db.conversation("ibx_001")
    assert held is not None and held.contact.full_name == "Jo\ufffds\ufffd"
    # The export reads the file on a connection of its own, strictly: damage.
    with pytest.raises(StorageError) as caught:
        list(db.export_records(ME))
    assert str(caught.value) == DAMAGED


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (
            sqlite3.OperationalError("database is locked"),
            "The local inbox could not be read: another lemlist-tui kept it busy too long.",
        ),
        (
            sqlite3.OperationalError("unable to open database file"),
            "The local inbox could not be read: unable to open database file.",
        ),
        (sqlite3.OperationalError("database disk image is malformed"), DAMAGED),
        (sqlite3.OperationalError("file is not a database"), DAMAGED),
        (sqlite3.OperationalError("Corrupt index on page 7"), DAMAGED),
        (sqlite3.OperationalError("Could not decode to UTF-8 column 'name'"), DAMAGED),
        (sqlite3.DatabaseError("database disk image is malformed"), DAMAGED),
        # Not an operational error (busy, unreadable): damage, whatever its words.
        (sqlite3.DataError("string or blob too big"), DAMAGED),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), DAMAGED),
    ],
    ids=lambda value: str(value)[:24] if isinstance(value, Exception) else "",
)
def test_read_error_says_damaged_only_for_damage(error: Exception, sentence: str) -> None:
    got = read_error(error)  # type: ignore[arg-type]
    assert isinstance(got, StorageError)
    assert str(got) == sentence
