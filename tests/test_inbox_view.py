"""InboxView and InboxRows over a real database: every way of reading a view gives the
same rows as one plain query, and the search index finds what the database finds."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lemlist_tui.api.models import Contact, Conversation, Participant
from lemlist_tui.db import DB_NAME, InboxDatabase, SortKey, SyncState, query_terms
from lemlist_tui.inbox import InboxRows, InboxView, search_index
from lemlist_tui.inbox import view as view_module
from lemlist_tui.inbox.search_index import SearchIndex

ME = "usr_me"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
NAMES = ["Ana Smith", "José Núñez", "Zoë Quinn", "王伟", "Olof Palme", None, "Anna Kowalska"]
DOMAINS = ["acme.com", "globex.example", "z7q.io", "wonka.test"]


def made(count: int, seed: int = 7) -> list[Conversation]:
    rng = random.Random(seed)
    conversations = []
    for i in range(count):
        name = rng.choice(NAMES)
        email = None if rng.random() < 0.1 else f"p{rng.randrange(10_000)}@{rng.choice(DOMAINS)}"

        def when() -> datetime | None:
            return None if rng.random() < 0.1 else NOW - timedelta(minutes=rng.randrange(5000))

        conversations.append(
            Conversation(
                id=f"ibx_{i}",
                contact=Contact(f"ctc_{i}", name, email),
                last_activity_at=when(),
                last_replied_at=when(),
                created_at=when(),
                participants=(Participant(ME, read=rng.random() < 0.6),),
            )
        )
    return conversations


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> InboxDatabase:
    db = InboxDatabase(tmp_path_factory.mktemp("view") / "account")
    db.store_page(ME, made(700), SyncState())
    return db


def reference(
    db: InboxDatabase, sort: SortKey, unread_only: bool = False, query: str = ""
) -> list[str]:
    rows = db.rows(ME, sort=sort, unread_only=unread_only, terms=query_terms(query), limit=10_000)
    return [row.id for row in rows]


@pytest.mark.parametrize("sort", list(SortKey), ids=lambda s: s.name)
@pytest.mark.parametrize("unread_only", [False, True])
def test_windows_read_in_any_order_give_the_rows_of_one_query(
    db: InboxDatabase, sort: SortKey, unread_only: bool
) -> None:
    want = reference(db, sort, unread_only)
    assert len(want) > 4 * view_module.WINDOW
    rng = random.Random(sort.name)
    orders = [
        list(range(len(want))),  # from the top, each window continuing the previous one
        list(reversed(range(len(want)))),  # from the end, each continuing the next one
        rng.sample(range(len(want)), len(want)),  # jumps
    ]
    for order in orders:
        rows = InboxView(db, ME).apply(unread_only=unread_only, sort=sort)
        assert rows.exact and len(rows) == len(want)
        got = [""] * len(want)
        for index in order:
            got[index] = rows[index].id
        assert got == want
        assert rows[-1].id == want[-1]
        assert [row.id for row in rows[3:9]] == want[3:9]
    with pytest.raises(IndexError):
        rows[len(want)]


@pytest.mark.parametrize("sort", list(SortKey), ids=lambda s: s.name)
def test_index_of_id_counts_from_either_end(db: InboxDatabase, sort: SortKey) -> None:
    want = reference(db, sort, query="an")
    rows = InboxView(db, ME).apply("an", sort=sort)
    for index in (0, 1, len(want) // 2, len(want) - 2, len(want) - 1):
        fresh = InboxView(db, ME).apply("an", sort=sort)  # no window in hand
        assert fresh.index_of_id(want[index], near=0) == index
        fresh = InboxView(db, ME).apply("an", sort=sort)
        assert fresh.index_of_id(want[index], near=len(want) - 1) == index
    assert rows.index_of_id("ibx_nope") is None
    absent = next(cid for cid in reference(db, sort) if cid not in want)
    assert rows.index_of_id(absent) is None


def brute_matches(db: InboxDatabase, term: str) -> set[int]:
    return {
        local_id
        for local_id, search in db._reader.execute(
            "SELECT conversation, search FROM inbox WHERE user_id = ?", (ME,)
        )
        if term in search
    }


@pytest.mark.parametrize(
    "query", ["a", "an", "ana", "jose", "nunez", "z7q", "7", "1", "12", "王", "zz", "@", "\n"]
)
def test_the_search_index_finds_what_the_database_finds(db: InboxDatabase, query: str) -> None:
    index = SearchIndex.build(db.reader(), ME, db.version)
    assert index.rows == 700
    terms = query_terms(query)
    if not terms:
        return
    want = brute_matches(db, terms[0])
    found = index.matches(terms[0], limit=10_000)
    assert found is not None
    assert sorted(found) == sorted(want)  # each row once, digits of ids never match
    if len(want) > 3:
        assert index.matches(terms[0], limit=3) is None


def test_the_search_index_reads_the_inbox_a_slice_at_a_time_whole(
    db: InboxDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = SearchIndex.build(db.reader(), ME, db.version)
    monkeypatch.setattr(search_index, "_SLICE", 64)  # 700 rows: 11 slices, the last short
    sliced = SearchIndex.build(db.reader(), ME, db.version)
    assert (sliced.rows, sliced.blob) == (700, whole.blob)
    for term in ("an", "王", "z7q"):
        assert sliced.matches(term, limit=10_000) == whole.matches(term, limit=10_000)


@pytest.mark.parametrize(
    "query", ["an", "ana", "jose", "z7q", "12", "王", "zz", "@", "acme", "nunez"]
)
def test_the_c_librarys_search_and_pythons_find_the_same_rows(
    db: InboxDatabase, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terms of two bytes or more go through ``memmem`` where the C library has it; the
    answer is the same as ``bytes.find``'s, term by term."""
    term = query_terms(query)[0]
    with_c = SearchIndex.build(db.reader(), ME, db.version)
    assert search_index._memmem() is not None  # Linux: the C library has memmem
    monkeypatch.setattr(search_index, "_memmem", lambda: None)
    without = SearchIndex.build(db.reader(), ME, db.version)
    found = without.matches(term, limit=10_000)
    monkeypatch.undo()
    assert with_c.matches(term, limit=10_000) == found
    assert found is not None and sorted(found) == sorted(brute_matches(db, term))


def row_of_index(text: str, local_id: int) -> bytes:
    """One row of the index: the text, the id in five capitals (base 26), ``\\x01``."""
    letters = ""
    for _ in range(5):
        local_id, digit = divmod(local_id, 26)
        letters = chr(65 + digit) + letters
    return text.encode() + letters.encode() + b"\x01"


def test_the_c_librarys_search_reaches_both_ends_of_the_index() -> None:
    blob = bytearray(row_of_index("ab", 12) + row_of_index("zzab", 34) + row_of_index("xyab", 56))
    index = SearchIndex(ME, blob, 3, 0)
    assert index.matches("ab") == [12, 34, 56]  # the first bytes and the last row
    assert index.matches("xyab") == [56]
    assert index.matches("abx") == []
    assert index.matches("abAAAAM") is None  # capitals: never in a folded term
    assert index.matches("ab\x01zz") is None  # control bytes: the database answers
    assert index.matches("b" * 100) == []  # longer than the index
    assert SearchIndex(ME, bytearray(), 0, 0).matches("ab") == []


def test_the_index_holds_each_row_as_its_text_and_its_id_in_capitals(db: InboxDatabase) -> None:
    index = SearchIndex.build(db.reader(), ME, db.version)
    rows = db._reader.execute(
        "SELECT search, conversation FROM inbox WHERE user_id = ? ORDER BY conversation", (ME,)
    ).fetchall()
    assert bytes(index.blob) == b"".join(row_of_index(text, local) for text, local in rows)
    text, last = rows[-1]
    found = index.matches(text.replace("\n", " ").split()[0], limit=10_000)
    assert found is not None and last in found  # its id read back from the capitals


def test_a_control_character_in_a_name_cannot_end_a_row_of_the_index(tmp_path: Path) -> None:
    """A hostile name holding the index's row end (``\\x01``) still gives its own row's
    id, never one read out of the name's letters."""
    small = InboxDatabase(tmp_path / "account")
    hostile = [
        dataclasses.replace(c, contact=dataclasses.replace(c.contact, full_name=name))
        for c, name in zip(made(3), ["zed\x01qqqqq zed", "plain zed", "zed\x01"], strict=True)
    ]
    small.store_page(ME, hostile, SyncState())
    index = SearchIndex.build(small.reader(), ME, small.version)
    ids = {
        local: conversation_id
        for local, conversation_id in small._reader.execute(
            "SELECT local_id, id FROM conversations"
        )
    }
    found = index.matches("zed", limit=100)
    assert found is not None
    assert sorted(ids[local] for local in found) == sorted(c.id for c in hostile)
    assert index.matches("qqqqq", limit=100) == [
        local for local, cid in ids.items() if cid == hostile[0].id
    ]
    small.close()


def test_ids_too_large_for_five_capitals_leave_every_term_to_the_database(
    tmp_path: Path,
) -> None:
    small = InboxDatabase(tmp_path / "account")
    small.store_page(ME, made(5), SyncState())
    with sqlite3.connect(tmp_path / "account" / DB_NAME) as connection:
        connection.execute(
            "UPDATE inbox SET conversation = conversation + ? WHERE user_id = ?", (26**5, ME)
        )
    index = SearchIndex.build(small.reader(), ME, small.version)
    assert not index.usable and not index.blob
    assert index.matches("an") is None
    small.close()


def test_a_term_with_a_control_character_is_left_to_the_database(db: InboxDatabase) -> None:
    index = SearchIndex.build(db.reader(), ME, db.version)
    assert index.matches("a\x00b") is None
    assert index.matches("a\x01") is None
    assert index.matches("") is None


@pytest.mark.parametrize("sort", list(SortKey), ids=lambda s: s.name)
@pytest.mark.parametrize("unread_only", [False, True])
@pytest.mark.parametrize("query", ["an", "z7q", "olof", "zzzz", "ana smith", "p1 acme"])
def test_a_large_inbox_answers_as_a_small_one(
    db: InboxDatabase,
    sort: SortKey,
    unread_only: bool,
    query: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = reference(db, sort, unread_only, query)
    small = InboxView(db, ME).apply(query, unread_only=unread_only, sort=sort)
    assert small.exact and [row.id for row in small] == want

    # As if the inbox were large: the first screen first, with or without the index,
    # within the walk's budget or past it (a rare term).
    monkeypatch.setattr(view_module, "EXACT_COUNT_BELOW", 10)
    for budget in (10.0, 0.0):
        monkeypatch.setattr(view_module, "WALK_BUDGET", budget)
        for indexed in (False, True):
            view = InboxView(db, ME)
            assert view.wants_search_index()
            if indexed:
                view.search_index = view.build_search_index(db.reader(), db.version)
                assert not view.wants_search_index()
            rows = view.apply(query, unread_only=unread_only, sort=sort)
            first = [row.id for row in rows]
            if rows.exact:
                assert first == want
            else:
                assert len(rows) == view_module.WINDOW < len(want)
                assert first == want[: view_module.WINDOW]
                counted = view.count(rows, db.reader())
                assert counted == len(want)
                whole = rows.with_count(counted)
                assert [row.id for row in whole] == want


def test_an_index_older_than_the_database_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = InboxDatabase(tmp_path / "account")
    conversations = made(100, seed=3)
    db.store_page(ME, conversations[:50], SyncState())
    monkeypatch.setattr(view_module, "EXACT_COUNT_BELOW", 10)
    monkeypatch.setattr(view_module, "WALK_BUDGET", 0.0)
    view = InboxView(db, ME)
    view.search_index = view.build_search_index(db.reader(), db.version)
    assert view.fresh_index() is not None
    db.store_page(ME, conversations[50:], SyncState())  # rows the index does not hold
    assert view.fresh_index() is None and view.wants_search_index()
    rows = view.apply("z7q")
    assert {row.id for row in rows} <= {c.id for c in conversations}
    want = reference(db, SortKey.LAST_ACTIVITY, query="z7q")
    if not rows.exact:
        rows = rows.with_count(view.count(rows, db.reader()))
    assert [row.id for row in rows] == want


def test_rows_that_vanished_under_a_view_read_as_missing(tmp_path: Path) -> None:
    db = InboxDatabase(tmp_path / "account")
    db.store_page(ME, made(200, seed=5), SyncState(), crawl=1)
    rows: InboxRows = InboxView(db, ME).apply()
    assert len(rows) == 200
    db.store_page(ME, made(200, seed=5)[:10], SyncState(), crawl=2)
    assert db.reconcile(ME, 2) == 190
    assert rows.get(150) is None  # not an exception: the list draws a blank line
    assert len(list(rows)) < 200


def test_a_large_inbox_is_shown_and_filtered_without_an_object_per_conversation(
    tmp_path: Path,
) -> None:
    import tracemalloc

    from bench.dbgen import build

    size = 60_000
    meta = build(tmp_path / "large", size)
    db = InboxDatabase(tmp_path / "large")
    user = meta["user"]
    view = InboxView(db, user)
    tracemalloc.start()
    try:
        rows = view.apply()
        assert len(rows) == size
        seen = [rows[i].id for i in (0, 1, size // 2, size - 2, size - 1)]
        for query in ("a", "an", "ann", "zq", "@"):
            filtered = view.apply(query)
            assert len(filtered) > 0 or query == "zq"
        unread = view.apply(unread_only=True, sort=SortKey.CREATED)
        assert unread[-1].unread
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(set(seen)) == 5
    # A few windows of 64 rows and their SQL: far below one object per conversation
    # (a conversation object alone is some 400 bytes: 60k of them would be 24 MB).
    assert peak < 2_000_000


@pytest.mark.parametrize("sort", list(SortKey), ids=lambda s: s.name)
@pytest.mark.parametrize("query", ["", "an", "acme"])
def test_next_and_previous_unread_match_a_scan_of_the_view(
    db: InboxDatabase, sort: SortKey, query: str
) -> None:
    ids = reference(db, sort, query=query)
    unread = set(reference(db, sort, unread_only=True, query=query))
    assert 0 < len(unread) < len(ids)
    rows = InboxView(db, ME).apply(query, sort=sort)
    for index in random.Random(query + sort.name).sample(range(len(ids)), 60):
        after = next((i for i in range(index + 1, len(ids)) if ids[i] in unread), None)
        before = next((i for i in range(index - 1, -1, -1) if ids[i] in unread), None)
        assert rows.next_unread(index) == after
        assert rows.next_unread(index, backwards=True) == before
    first = min(i for i, c in enumerate(ids) if c in unread)
    last = max(i for i, c in enumerate(ids) if c in unread)
    assert (rows.first_unread(), rows.first_unread(last=True)) == (first, last)
