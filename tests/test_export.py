"""``export``: every conversation once, newest first, as JSON lines or CSV, safe to open."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx
import orjson
import pytest

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.models import Contact, Conversation, InboxPage, Pagination, Participant
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.db import InboxDatabase
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
from lemlist_tui.sync.engine import InboxSync
from lemlist_tui.sync.export import COLUMNS, export_inbox, incomplete_note

SIZE = 420


@pytest.fixture
def db(tmp_path: Path) -> InboxDatabase:
    return InboxDatabase(tmp_path / "account")


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(DemoConfig(size=SIZE, seed=4, rate_window=0.1))


@pytest.fixture
async def client(demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(20, 0.1),
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02),
    ) as client:
        yield client


def lines(text: str) -> list[dict[str, object]]:
    rows = [orjson.loads(line) for line in text.splitlines()]
    assert all(isinstance(row, dict) for row in rows)
    return rows


async def test_jsonl_is_every_conversation_newest_first(
    demo: DemoLemlist, client: LemlistClient, db: InboxDatabase
) -> None:
    user = demo.team_user_ids[1]
    store = InboxSync(client, db, user)
    out = io.StringIO()
    written = await export_inbox(store, unread_only=False, fmt="jsonl", out=out, progress=None)
    rows = lines(out.getvalue())
    assert written == len(rows) == SIZE
    assert [row["id"] for row in rows] == demo.conversation_ids()
    assert all(list(row) == list(COLUMNS) for row in rows)
    for row in rows:
        assert row["unread"] is (not demo.is_read(str(row["id"]), user))
        assert isinstance(row["channels"], list)
        assert isinstance(row["opportunities"], int)
        stamp = row["lastActivityAt"]
        assert isinstance(stamp, str)
        assert stamp.endswith("Z")
        assert len(stamp) == len("2024-12-03T10:12:20.620Z")
    stamps = [str(row["lastActivityAt"]) for row in rows]
    assert stamps == sorted(stamps, reverse=True)


async def test_unread_means_unread_for_that_user(
    demo: DemoLemlist, client: LemlistClient, db: InboxDatabase
) -> None:
    user = demo.team_user_ids[0]
    store = InboxSync(client, db, user)
    out = io.StringIO()
    written = await export_inbox(store, unread_only=True, fmt="jsonl", out=out, progress=None)
    exported = [row["id"] for row in lines(out.getvalue())]
    expected = [cid for cid in demo.conversation_ids() if not demo.is_read(cid, user)]
    assert 0 < written == len(exported) < SIZE
    assert exported == expected


async def test_csv_has_a_header_and_the_same_rows(
    demo: DemoLemlist, client: LemlistClient, db: InboxDatabase
) -> None:
    user = demo.team_user_ids[0]
    store = InboxSync(client, db, user)
    out = io.StringIO()
    written = await export_inbox(store, unread_only=False, fmt="csv", out=out, progress=None)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == list(COLUMNS)
    assert written == len(table) - 1 == SIZE
    held = list(db.iter_conversations(user))
    assert [c.id for c in held] == demo.conversation_ids()
    for cells, conversation in zip(table[1:], held, strict=True):
        row = dict(zip(COLUMNS, cells, strict=True))
        assert row["id"] == conversation.id
        assert row["channels"] == ";".join(conversation.channels)
        assert row["unread"] == ("true" if conversation.is_unread_for(user) else "false")
        assert row["opportunities"] == str(len(conversation.opportunities))
        assert row["name"] == (conversation.contact.full_name or "")


async def test_progress_goes_to_the_stream_given_and_nowhere_else(
    demo: DemoLemlist, client: LemlistClient, db: InboxDatabase
) -> None:
    store = InboxSync(client, db, demo.team_user_ids[0])
    progress = io.StringIO()
    out = io.StringIO()
    await export_inbox(store, unread_only=False, fmt="jsonl", out=out, progress=progress)
    shown = progress.getvalue()
    assert "Fetching inbox [" in shown
    assert f"{SIZE // 100 + 1}/{SIZE // 100 + 1} pages" in shown
    assert shown.endswith("\n")
    assert "ibx_" not in shown  # the data goes to `out` only
    # A second export of the now complete inbox only refreshes: one request.
    before = demo.count(path_prefix="/api/inbox")
    again = io.StringIO()
    await export_inbox(store, unread_only=False, fmt="jsonl", out=again, progress=None)
    assert demo.count(path_prefix="/api/inbox") - before == 1
    assert again.getvalue() == out.getvalue()


async def test_offline_exports_the_database_and_says_when_it_is_partial(
    demo: DemoLemlist, client: LemlistClient, tmp_path: Path
) -> None:
    user = demo.team_user_ids[0]
    await InboxSync(client, InboxDatabase(tmp_path / "whole"), user).crawl()
    offline = InboxSync(None, InboxDatabase(tmp_path / "whole"), user)
    out = io.StringIO()
    written = await export_inbox(offline, unread_only=False, fmt="csv", out=out, progress=None)
    assert written == SIZE
    assert incomplete_note(offline) is None
    # One page only: the export says how much of the inbox it holds.
    await InboxSync(client, InboxDatabase(tmp_path / "part"), user).refresh()
    partial = InboxSync(None, InboxDatabase(tmp_path / "part"), user)
    written = await export_inbox(partial, unread_only=False, fmt="csv", out=out, progress=None)
    assert written == 100
    assert incomplete_note(partial) == (
        f"the local inbox holds 100 of {SIZE} conversations "
        "(run lemlist-tui sync to fetch the rest)"
    )


# --- hostile text -----------------------------------------------------------------------------

HOSTILE = [
    ('=HYPERLINK("http://evil.test","click")', "=1+1@evil.test"),
    ("+33 6 12 34 56 78", "-2@evil.test"),
    ("@SUM(A1:A9)", "ok@example.test"),
    ("\x1b]52;c;ZXZpbA==\x07Eve\x1b[2J Mallory\u202e", "eve\x1b[31m@evil.test"),
    ("-cmd|' /C calc'!A0", None),
]


class _OnePage:
    def __init__(self, conversations: list[Conversation]) -> None:
        self.conversations = conversations

    async def inbox_page(self, user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        rows = tuple(self.conversations) if page == 1 else ()
        return InboxPage(rows, Pagination(len(rows), page, None, None, limit, 1))


def hostile_store(tmp_path: Path) -> InboxSync:
    made = [
        Conversation(
            id=f"ibx_{n}",
            contact=Contact(f"ctc_{n}", name, email),
            last_activity_at=datetime(2025, 1, 1, n, tzinfo=UTC),
            participants=(Participant("usr_me", False, False),),
        )
        for n, (name, email) in enumerate(HOSTILE)
    ]
    db = InboxDatabase(tmp_path / "hostile")
    return InboxSync(cast(LemlistClient, _OnePage(made)), db, "usr_me")


async def test_jsonl_carries_no_terminal_escapes(tmp_path: Path) -> None:
    out = io.StringIO()
    await export_inbox(
        hostile_store(tmp_path), unread_only=True, fmt="jsonl", out=out, progress=None
    )
    text = out.getvalue()
    assert "\x1b" not in text
    assert "\\u001b" not in text
    assert "\u202e" not in text
    names = [row["name"] for row in lines(text)]
    assert "Eve Mallory" in names
    assert "eve@evil.test" in [row["email"] for row in lines(text)]


async def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    out = io.StringIO()
    written = await export_inbox(
        hostile_store(tmp_path), unread_only=False, fmt="csv", out=out, progress=None
    )
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert written == len(HOSTILE)
    cells = [cell for row in table[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert '\'=HYPERLINK("http://evil.test","click")' in cells
    assert "'+33 6 12 34 56 78" in cells
    assert "'-2@evil.test" in cells
    assert "'@SUM(A1:A9)" in cells
    assert "\x1b" not in out.getvalue()


def test_row_of_a_conversation_with_nothing_but_an_id(db: InboxDatabase) -> None:
    from lemlist_tui.db import SyncState
    from lemlist_tui.sync.export import record_row

    db.store_page("usr_me", [Conversation("ibx_1", Contact(None))], SyncState())
    (record,) = db.export_records("usr_me")
    row = record_row(record)
    assert row == {
        "id": "ibx_1",
        "contactId": None,
        "name": None,
        "email": None,
        "channels": [],
        "lastActivityAt": None,
        "createdAt": None,
        "lastRepliedAt": None,
        "unread": False,
        "replied": False,
        "opportunities": 0,
        "labels": [],
    }


async def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        await export_inbox(
            hostile_store(tmp_path),
            unread_only=False,
            fmt="xml",  # type: ignore[arg-type]
            out=io.StringIO(),
            progress=None,
        )


def test_lists_passed_on_as_stored_json_are_what_parsing_them_would_write(
    tmp_path: Path,
) -> None:
    from lemlist_tui.sync.export import record_row

    lists = [(), ("email",), ("email", "linkedin"), ("mail\x1b[31m",), ("a\x7fb",), ('q"uote',)]
    made = [
        Conversation(
            id=f"ibx_{n}",
            contact=Contact(f"ctc_{n}", "Zoë", "z@example.test"),
            last_activity_at=datetime(2025, 1, 1, n % 24, tzinfo=UTC),
            channels=channels,
            labels=tuple(reversed(channels)),
        )
        for n, channels in enumerate(lists)
    ]
    db = InboxDatabase(tmp_path / "lists")
    from lemlist_tui.db import SyncState

    db.store_page("usr_me", made, SyncState())
    records = list(db.export_records("usr_me"))
    assert len(records) == len(lists)
    for record in records:
        fast = orjson.dumps(record_row(record, json_lists=True))
        assert fast == orjson.dumps(record_row(record))
        assert b"\\u001b" not in fast and b"\x7f" not in fast
