"""Fuzzing the readers of untrusted bytes: never a crash, only the documented errors.

- the local database file (arbitrary bytes, cut short, a byte flipped, timestamps at the
  ends of time), opened and read as the next start does: it opens as it is and reads
  whole, or it is moved aside (with a one-line notice, its bytes kept) and a new one
  starts; never a traceback;
- the config file (arbitrary bytes, arbitrary TOML): a ConfigFile or a ConfigError;
- the API's JSON (any shape): a page, or a ProtocolError;
- the HTML-to-text step: readable, bounded, safe text;
- the rate-limit headers: a datetime or None, seconds or None.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_support import FIGURES, one_line

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.errors import ProtocolError
from lemlist_tui.api.models import parse_inbox_page, parse_thread_page
from lemlist_tui.api.ratelimit import SlidingWindowLimiter, parse_reset, parse_retry_after
from lemlist_tui.config import ConfigError, ConfigFile, load_config
from lemlist_tui.db import DB_NAME, InboxDatabase, SortKey, StorageError, SyncState
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
from lemlist_tui.inbox import InboxView
from lemlist_tui.sync import InboxSync
from lemlist_tui.sync.export import export_inbox
from lemlist_tui.text import html_to_text

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_DB = settings(FUZZ, max_examples=50)  # each example copies and reads a whole database
FIXED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SQLITE_HEADER = b"SQLite format 3\x00"


def counted(name: str) -> None:
    FIGURES.fuzz_examples += 1
    FIGURES.count(f"fuzz: {name}")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# --- the local database ------------------------------------------------------------------


USER = DemoLemlist(DemoConfig(size=0, seed=4, users=1)).team_user_ids[0]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A good database, closed (its WAL checkpointed into the one file): 300 conversations
    (three pages), a thread with its texts, the team and the labels."""
    folder = tmp_path_factory.mktemp("database") / "account"

    async def fill() -> None:
        demo = DemoLemlist(DemoConfig(size=300, seed=4, users=1, rate_window=0.01, now=FIXED))
        async with LemlistClient(
            DEMO_API_KEY,
            base_url=DEMO_BASE_URL,
            transport=httpx.ASGITransport(app=demo),
            limiter=SlidingWindowLimiter(1000, 0.01),
            retry=RetryPolicy(attempts=1),
        ) as client:
            db = InboxDatabase(folder)
            try:
                db.save_team(await client.team())
                db.save_labels(await client.labels())
                sync = InboxSync(client, db, USER, page_size=100)
                await sync.crawl()
                await sync.thread(next(db.iter_conversations(USER)))
            finally:
                db.close()

    asyncio.run(fill())
    assert not (folder / f"{DB_NAME}-wal").exists()
    return (folder / DB_NAME).read_bytes()


@contextlib.contextmanager
def account(content: bytes) -> Iterator[Path]:
    """A private account folder whose database file holds ``content``."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "account"
        folder.mkdir(mode=0o700)
        (folder / DB_NAME).write_bytes(content)
        yield folder


def _read_like_the_next_start(folder: Path, *, consistent: bool = True) -> str | None:
    """Open the database and read it as the app's first frame, a thread, ``export`` and
    the next sync do; returns the notice. Nothing may raise but a StorageError sentence.

    ``consistent``: the reads also agree with each other. Not so after bit rot: a flipped
    byte inside an index can make SQLite return other rows without an error (only a full
    ``PRAGMA integrity_check`` would see it), and the promise there is no crash."""
    db = InboxDatabase(folder)
    try:
        if db.notice is not None:
            assert one_line(db.notice) and "moved it to" in db.notice
        db.team()
        db.labels()
        state = db.sync_state(USER)
        view = InboxView(db, USER)
        held, unread = view.counts()
        assert 0 <= unread <= held or not consistent
        for sort in SortKey:
            rows = view.apply("", sort=sort)
            ids = {row.id for row in rows}
            assert len(ids) == len(rows) == held or not consistent
        list(view.apply("a", unread_only=True, sort=SortKey.LAST_ACTIVITY))
        for row in list(rows)[:3]:
            conversation = db.conversation(row.id)
            assert (conversation is not None and conversation.id == row.id) or not consistent
            if conversation is not None and conversation.contact_id is not None:
                db.thread(conversation.contact_id, USER)
        streamed = len(list(db.iter_conversations(USER)))
        assert streamed == held or not consistent
        assert _export(db, "jsonl").count("\n") == held or not consistent
        assert _export(db, "csv").count("\n") >= held + 1 or not consistent
        # And it takes the next page: the file is usable, not merely readable.
        db.store_page(USER, [], state or SyncState())
        return db.notice
    finally:
        db.close()


def _export(db: InboxDatabase, fmt: Literal["jsonl", "csv"]) -> str:
    """``lemlist-tui export --offline``'s output for the database as it is."""
    out = io.StringIO()
    sync = InboxSync(None, db, USER)
    asyncio.run(export_inbox(sync, unread_only=False, fmt=fmt, out=out, progress=None))
    return out.getvalue()


def _moved_aside(folder: Path, content: bytes) -> None:
    """The damaged file is kept beside the new one, byte for byte; the new one is empty."""
    aside = list(folder.glob(f"{DB_NAME}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    db = InboxDatabase(folder)
    try:
        assert db.notice is None and db.counts(USER) == (0, 0)
    finally:
        db.close()


@FUZZ_DB
@example(b"")
@example(SQLITE_HEADER)
@example(SQLITE_HEADER + bytes(84))
@given(st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(SQLITE_HEADER.__add__)))
def test_a_database_file_of_arbitrary_bytes(junk: bytes) -> None:
    counted("database, arbitrary bytes")
    with account(junk) as folder:
        notice = _read_like_the_next_start(folder)
        if junk == b"":
            assert notice is None  # an empty file is a database without tables yet
        elif notice is not None:
            _moved_aside(folder, junk)


@FUZZ_DB
@example(0)
@example(100)
@example(4096)
@given(st.integers(0, 10**7))
def test_a_database_file_cut_short(snapshot: bytes, at: int) -> None:
    """As a full disk or a copy cut short leaves it: opened whole, or moved aside."""
    counted("database, cut short")
    content = snapshot[: at % len(snapshot)]
    with account(content) as folder:
        if _read_like_the_next_start(folder) is not None:
            _moved_aside(folder, content)


SCHEMA_TEXT = -1
"""An offset meaning: a keyword of an index's SQL, as sqlite_schema keeps it."""
ROW_TEXT = -2
"""An offset meaning: a conversation's name, no longer UTF-8 (as a flipped bit leaves it)."""


def _flip(snapshot: bytes, at: int, byte: int) -> bytes:
    if at == ROW_TEXT:
        return _name_not_utf8(snapshot, byte)
    if at == SCHEMA_TEXT:
        at = snapshot.index(b"CREATE INDEX inbox_by_conversation ON inbox") + 35  # "ON"
    at %= len(snapshot)
    return snapshot[:at] + bytes([byte]) + snapshot[at + 1 :]


def _name_not_utf8(snapshot: bytes, byte: int) -> bytes:
    """The snapshot with the newest conversation's name starting with ``byte`` (0x80 or
    more: no longer UTF-8), written through SQLite so that the file is otherwise sound."""
    with account(snapshot) as folder:
        raw = sqlite3.connect(folder / DB_NAME)
        try:
            with raw:
                raw.execute(
                    "UPDATE conversations SET name = CAST(? || substr(CAST(name AS BLOB), 2) "
                    "AS TEXT) WHERE local_id = (SELECT conversation FROM inbox "
                    "ORDER BY activity DESC LIMIT 1)",
                    (bytes([byte]),),
                )
        finally:
            raw.close()
        return (folder / DB_NAME).read_bytes()


def test_a_flipped_byte_in_the_schema_is_moved_aside(snapshot: bytes) -> None:
    content = _flip(snapshot, SCHEMA_TEXT, 0xFF)
    with account(content) as folder:
        assert _read_like_the_next_start(folder) is not None
        _moved_aside(folder, content)


def test_damage_met_after_opening_is_a_sentence(snapshot: bytes) -> None:
    content = _flip(snapshot, ROW_TEXT, 0xFF)
    with account(content) as folder:
        db = InboxDatabase(folder)  # the open looks at sqlite_schema only: it opens
        try:
            assert db.notice is None
            list(InboxView(db, USER).apply("")[:20])  # the first screen of the list
        except StorageError as error:  # a sentence for the status line would do
            message = str(error)
        else:
            return
        finally:
            db.close()
    assert one_line(message)


@FUZZ_DB
@example(SCHEMA_TEXT, 0xFF)
@example(ROW_TEXT, 0xFF)
@given(st.integers(0, 10**7), st.integers(0, 255))
def test_a_database_file_with_a_byte_flipped(snapshot: bytes, at: int, byte: int) -> None:
    """Bit rot: the file opens whole, or is moved aside; damage met later while reading
    is a StorageError sentence, never a traceback."""
    content = _flip(snapshot, at, byte)
    with account(content) as folder:
        try:
            if _read_like_the_next_start(folder, consistent=False) is not None:
                _moved_aside(folder, content)
        except StorageError as error:  # a sentence for the status line would do
            message = str(error)
        else:
            return
    assert one_line(message)


TIME_COLUMNS = {
    "created_at": "created",
    "last_activity_at": "activity",
    "last_replied_at": "replied",
}


@FUZZ_DB
@example("last_activity_at", -(2**63))
@example("created_at", 2**63 - 1)
@example("last_replied_at", -(2**62))  # the "missing" sort key itself
@example("message", 253_402_300_800_000_000)  # 10000-01-01: one microsecond too far
@example("thread", -62_135_596_800_000_001)  # just before 0001-01-01
@given(
    st.sampled_from([*TIME_COLUMNS, "message", "thread"]),
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
            lambda d: round(
                (d.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1e6
            )
        ),
    ),
)
def test_database_timestamps_at_the_ends_of_time(snapshot: bytes, column: str, value: int) -> None:
    """A file written by another version, or by hand: any 64-bit time in any time column
    reads as a time or as unknown, sorts, and exports."""
    counted("database, timestamps")
    with account(snapshot) as folder:
        raw = sqlite3.connect(folder / DB_NAME)
        try:
            with raw:
                middle = raw.execute(
                    "SELECT local_id FROM conversations ORDER BY local_id LIMIT 1 OFFSET 150"
                ).fetchone()[0]
                if column in TIME_COLUMNS:
                    raw.execute(
                        f"UPDATE conversations SET {column} = ? WHERE local_id = ?",
                        (value, middle),
                    )
                    raw.execute(
                        f"UPDATE inbox SET {TIME_COLUMNS[column]} = ? WHERE conversation = ?",
                        (value, middle),
                    )
                elif column == "message":
                    raw.execute(
                        "UPDATE conversations SET messages = json_set(messages, '$[0][4]', ?) "
                        "WHERE json_array_length(messages) > 0",
                        (value,),
                    )
                else:
                    raw.execute("UPDATE messages SET created_at = ?", (value,))
        finally:
            raw.close()
        assert _read_like_the_next_start(folder) is None


# --- the config file ----------------------------------------------------------------------

toml_keys = st.sampled_from(["api_key", "base_url", "fresh_for", "theme", "other", "a b", "ключ"])
toml_scalars = st.one_of(
    st.text(max_size=30).map(lambda s: orjson.dumps(s).decode()),
    st.integers().map(str),
    st.integers(10**18, 10**400).map(str),
    st.floats().map(
        lambda x: (
            "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else repr(x)
        )
    ),
    st.sampled_from(
        [
            "true",
            "false",
            "1979-05-27T07:32:00Z",
            "[1, 2]",
            "{ x = 1 }",
            "'lit'",
            '"""multi\nline"""',
            "0x1F",
            "1e400",
            "-0.0",
            "+inf",
        ]
    ),
)
toml_documents = st.lists(
    st.tuples(toml_keys, toml_scalars).map(lambda kv: f"{orjson.dumps(kv[0]).decode()} = {kv[1]}"),
    max_size=6,
).map("\n".join)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        toml_documents.map(str.encode),
        st.text(max_size=200).map(str.encode),
    )
)
def test_the_config_reader(content: bytes) -> None:
    counted("config")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_bytes(content)
        path.chmod(0o644)
        try:
            config = load_config(path)
        except ConfigError:
            return  # the documented failure; its sentence is the CLI's one line
    assert isinstance(config, ConfigFile)
    if config.fresh_for is not None:
        assert math.isfinite(config.fresh_for) and config.fresh_for >= 0
    if config.api_key is not None:
        assert config.api_key == config.api_key.strip() and config.warnings


# --- the API's JSON ---------------------------------------------------------------------

timestamps = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).flatmap(
        lambda d: st.sampled_from(
            [
                d.isoformat(),
                d.replace(tzinfo=timezone(timedelta(hours=5))).isoformat(),
                d.replace(tzinfo=timezone(timedelta(hours=-5))).isoformat(),
            ]
        )
    ),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    json_values,
)
numbers = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=8),
    st.sampled_from(["²", "\uff11\uff12", "9" * 5000, "-0", " 7 "]),
    json_values,
)
conversations = st.fixed_dictionaries(
    {},
    optional={
        "_id": st.one_of(st.text(max_size=12), json_values),
        "contactId": st.one_of(st.text(max_size=12), json_values),
        "createdAt": timestamps,
        "lastActivityAt": timestamps,
        "lastRepliedAt": timestamps,
        "channels": json_values,
        "users": st.lists(
            st.fixed_dictionaries(
                {}, optional={"userId": json_values, "read": json_values, "sender": json_values}
            ),
            max_size=3,
        ),
        "contact": json_values,
        "messages": st.lists(
            st.fixed_dictionaries({}, optional={"sentAt": timestamps, "body": json_values}),
            max_size=2,
        ),
        "opportunities": json_values,
    },
)
pages = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"data": st.lists(st.one_of(conversations, json_values), max_size=5)},
        optional={
            "pagination": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        k: numbers
                        for k in ("totalItems", "currentPage", "nextPage", "totalPages", "perPage")
                    },
                ),
            )
        },
    ),
)


@FUZZ
@given(pages)
def test_any_json_is_a_page_or_a_protocol_error(payload: Any) -> None:
    counted("API JSON")
    for parse in (parse_inbox_page, parse_thread_page):
        with contextlib.suppress(ProtocolError):
            parse(payload)


# --- HTML and headers -------------------------------------------------------------------

html_pieces = st.sampled_from(
    [
        "<",
        ">",
        "</",
        "<p>",
        "</p>",
        "<br>",
        "<a href='",
        "'>",
        "</a>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "&",
        "&#",
        "&#x",
        ";",
        '"',
        "'",
        "=",
        "<blockquote>",
        "<li>",
        "<pre>",
        "</pre>",
        "<title>",
        "<body>",
        "data:image/png;base64,",
        "\x1b]0;t\x07",
        "\x9b",
        "\u202e",
        "\n",
        " ",
        "x",
        "é",
        "\ud800",
    ]
)
html_documents = st.one_of(st.text(max_size=400), st.lists(html_pieces, max_size=120).map("".join))


@FUZZ
@given(html_documents, st.integers(1, 3000))
def test_html_to_text(html: str, limit: int) -> None:
    counted("html_to_text")
    text = html_to_text(html, limit)
    assert isinstance(text, str)
    assert len(text) <= limit + 1
    assert not re.search(
        "[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", text
    )


js_dates = st.builds(
    lambda day, month, year, h, m, s, sign, oh, om, name: (
        f"{day} {month} {year} {h:02d}:{m:02d}:{s:02d} GMT{sign}{oh:02d}{om:02d} ({name})"
    ),
    st.sampled_from(["Tue", "Wed", "Xyz", ""])
    .map(lambda d: f"{d} " if d else "")
    .flatmap(
        lambda prefix: st.sampled_from(["Feb 16", "Jan 0", "Dec 99", "Foo 1"]).map(
            lambda md: prefix + md
        )
    ),
    st.just(""),
    st.integers(0, 99999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.sampled_from(["+", "-"]),
    st.integers(0, 99),
    st.integers(0, 99),
    st.text(max_size=10).filter(lambda s: "(" not in s and ")" not in s),
)


@FUZZ
@given(st.one_of(st.text(max_size=80), js_dates, st.floats().map(repr), st.integers().map(str)))
def test_rate_limit_headers(value: str) -> None:
    counted("parse_reset / parse_retry_after")
    reset = parse_reset(value)
    assert reset is None or reset.tzinfo is not None
    after = parse_retry_after(value, now=datetime(2025, 3, 14, tzinfo=UTC))
    assert after is None or (after >= 0 and not math.isnan(after))
