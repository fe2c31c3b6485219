"""One small test per fault the reliability suite found, next to the fix it pins down.

The suite's big tests found them; these say each in one place, fast.
"""

from __future__ import annotations

import base64
import json
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from rich.cells import cell_len
from support.apps import settle

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.errors import scrub
from lemlist_tui.api.models import parse_datetime, parse_inbox_page
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.config import ConfigError, load_config
from lemlist_tui.db import DB_NAME, InboxDatabase, SortKey, SyncState
from lemlist_tui.db.store import from_micros, to_micros
from lemlist_tui.inbox import InboxView
from lemlist_tui.text import clean_block, clean_line

KEY = "sk-regression-4c1f"


async def test_a_lone_surrogate_escape_does_not_cost_the_whole_page() -> None:
    """JavaScript's JSON.stringify writes half an emoji as "\\ud83d"; orjson refuses it."""
    page = {
        "data": [{"_id": "ibx_1", "contact": {"fullName": "Ana \ud83d", "email": "a@x.test"}}],
        "pagination": {"totalItems": 1, "currentPage": 1, "nextPage": None, "totalPages": 1},
    }
    body = json.dumps(page).encode()
    assert b"\\ud83d" in body

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async with LemlistClient(
        KEY,
        base_url="http://lemlist.test/api",
        transport=httpx.MockTransport(answer),
        limiter=SlidingWindowLimiter(20, 0.1),
        retry=RetryPolicy(attempts=1),
    ) as client:
        inbox = await client.inbox_page("usr_1")
    assert [c.contact.full_name for c in inbox.conversations] == ["Ana \ufffd"]


def test_an_echoed_authorization_header_is_scrubbed() -> None:
    basic = base64.b64encode(f":{KEY}".encode()).decode()
    text = scrub(f"bad request, you sent Authorization: Basic {basic} and {KEY}", KEY)
    assert KEY not in text and basic not in text and basic.rstrip("=") not in text


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_timestamps_at_the_ends_of_time_are_unknown_not_a_crash(stamp: str) -> None:
    assert parse_datetime(stamp) is None
    page = parse_inbox_page({"data": [{"_id": "ibx_1", "createdAt": stamp}]})
    assert page.conversations[0].created_at is None


@pytest.mark.parametrize(
    "number", ["²", "9" * 5000, "\uff11"], ids=["superscript two", "5000 digits", "fullwidth one"]
)
def test_pagination_numbers_that_int_refuses(number: str) -> None:
    page = parse_inbox_page({"data": [], "pagination": {"totalItems": number, "nextPage": number}})
    assert page.pagination.total_items is None and page.pagination.next_page is None


@pytest.mark.parametrize(
    "value", ["1" + "0" * 400, "nan", "inf", "-5"], ids=["1e400", "nan", "inf", "-5"]
)
def test_fresh_for_out_of_range_is_a_config_error(value: str, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"fresh_for = {value}\n")
    with pytest.raises(ConfigError, match="fresh_for"):
        load_config(path)
    path.write_text("fresh_for = 90\n")
    fresh_for = load_config(path).fresh_for
    assert fresh_for == 90.0 and math.isfinite(fresh_for)


@pytest.mark.parametrize(
    "micros",
    [2**63 - 1, -(2**63), 253_402_300_800_000_000, -62_135_596_800_000_001],
    ids=["int64 max", "int64 min", "year 10000", "before year 1"],
)
def test_a_database_time_no_datetime_holds_is_unknown_not_a_crash(
    micros: int, tmp_path: Path
) -> None:
    """A file written by another version or by hand: a time beyond ``datetime`` (it
    overflowed in the cache reader once) reads as unknown, in the list and the detail."""
    page = parse_inbox_page(
        {
            "data": [
                {
                    "_id": "ibx_1",
                    "createdAt": "2025-01-01T00:00:00Z",
                    "lastActivityAt": "2025-01-02T00:00:00Z",
                    "users": [{"userId": "usr_1", "read": False}],
                }
            ]
        }
    )
    db = InboxDatabase(tmp_path / "account")
    try:
        db.store_page("usr_1", page.conversations, SyncState())
        raw = sqlite3.connect(tmp_path / "account" / DB_NAME)
        with raw:
            raw.execute(
                "UPDATE conversations SET created_at = ?, last_activity_at = ?", (micros,) * 2
            )
            raw.execute("UPDATE inbox SET activity = ?, created = ?", (micros,) * 2)
        raw.close()
        for sort in SortKey:
            (row,) = InboxView(db, "usr_1").apply("", sort=sort)
            assert row.id == "ibx_1" and row.created_at is None and row.last_activity_at is None
        conversation = db.conversation("ibx_1")
        assert conversation is not None and conversation.created_at is None
    finally:
        db.close()
    # As the database writes them: microseconds since 1970, read back to the microsecond.
    assert from_micros(to_micros(datetime(2025, 1, 1, tzinfo=UTC))) == datetime(
        2025, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        ("x\u200d" * 30 + "y", 31),  # Rich counted this as 1 cell; terminals draw 31
        ("\u200d👩", 2),
        ("👩\u200d👩\u200d👧", 2),  # a real sequence stays whole
        ("👩\u200d" * 8 + "👩", 2 + 5 * 2),  # no real sequence joins more than four
    ],
    ids=["ascii joined", "a joiner first", "a family", "a chain of nine"],
)
def test_joiners_only_join_emoji(text: str, cells: int) -> None:
    for cleaned in (clean_line(text), clean_block(text)):
        assert cell_len(cleaned) == cells


async def test_the_start_up_spinner_stops_once_a_screen_covers_it(tmp_path: Path) -> None:
    from textual.widgets import LoadingIndicator

    from lemlist_tui.app import make_app
    from lemlist_tui.config import Settings
    from lemlist_tui.demo import DemoConfig
    from lemlist_tui.session import open_session

    settings = Settings(
        demo=True,
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state.json",
        config_path=tmp_path / "config.toml",
    )
    session = open_session(settings, demo_config=DemoConfig(size=30, users=1))
    app = make_app(settings, session=session)
    try:
        async with app.run_test() as pilot:
            await settle(pilot)
            assert len(app.screen_stack) == 2  # the inbox, over the start-up screen
            # Hidden, it animated at 16 frames a second and redrew the inbox each time.
            assert not list(app.screen_stack[0].query(LoadingIndicator))
    finally:
        await session.aclose()
