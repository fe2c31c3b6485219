"""Fuzzing the readers of untrusted bytes: never a crash, only the documented errors.

- the disk cache (arbitrary bytes, cut or flipped files, valid JSON with wrong fields),
  read as the next start reads it: the store loads whatever is usable, or nothing;
- the config file (arbitrary bytes, arbitrary TOML): a ConfigFile or a ConfigError;
- the API's JSON (any shape): a page, or a ProtocolError;
- the HTML-to-text step: readable, bounded, safe text;
- the rate-limit headers: a datetime or None, seconds or None.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_support import FIGURES

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.errors import ProtocolError
from lemlist_tui.api.models import parse_inbox_page, parse_thread_page
from lemlist_tui.api.ratelimit import SlidingWindowLimiter, parse_reset, parse_retry_after
from lemlist_tui.config import ConfigError, ConfigFile, load_config
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
from lemlist_tui.sync.cache import DiskCache
from lemlist_tui.sync.store import InboxStore
from lemlist_tui.text import html_to_text
from lemlist_tui.view import InboxView, SortKey

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_CACHE = settings(FUZZ, max_examples=50)  # each example copies and reads a whole cache
FINGERPRINT = "ab" * 32
USER = "usr_fuzz"


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


# --- the disk cache ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot() -> Path:
    """A good cache: 700 conversations (the manifest's 500, a chunk file), a thread, a team."""
    root = Path(tempfile.mkdtemp(prefix="reliability-cache-"))

    async def fill() -> None:
        demo = DemoLemlist(DemoConfig(size=700, seed=4, users=1, rate_window=0.01))
        transport = httpx.ASGITransport(app=demo)
        async with LemlistClient(
            DEMO_API_KEY,
            base_url=DEMO_BASE_URL,
            transport=transport,
            limiter=SlidingWindowLimiter(1000, 0.01),
            retry=RetryPolicy(attempts=1),
        ) as client:
            account = DiskCache(root).account(FINGERPRINT)
            account.save_team(await client.team())
            store = InboxStore(client, account, USER_OF[0], page_size=100)
            await store.crawl()
            await store.thread(store.conversations[0])

    USER_OF[:] = [DemoLemlist(DemoConfig(size=0, seed=4, users=1)).team_user_ids[0]]
    asyncio.run(fill())
    return root


USER_OF: list[str] = []


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if p.is_file())


def _read_like_the_next_start(root: Path) -> None:
    """Every reader of the cache; none may raise, and what loads must be whole."""
    account = DiskCache(root).account(FINGERPRINT)
    account.load_team()
    user = USER_OF[0]
    loaded = account.load_inbox(user)
    store = InboxStore(None, account, user)
    held = store.load_cached(head_only=True)
    asyncio.run(store.load_cached_rest())
    ids = [c.id for c in store.conversations]
    assert len(ids) == len(set(ids))
    assert held == (loaded is not None)
    if loaded is not None:
        assert set(ids) == {c.id for c in loaded[1]}
    for conversation in store.conversations[:3]:
        store.cached_thread(conversation)
    # What the inbox screen does first with it: every sort, a filter, unread only.
    view = InboxView(user)
    view.update(store.conversations)
    for key in SortKey:
        view.apply("", unread_only=False, sort=key)
    view.apply("a", unread_only=True, sort=SortKey.LAST_ACTIVITY)


def _mutate(
    snapshot: Path, change: Callable[[Path, bytes], bytes], pick: int, kind: str = ""
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cache"
        shutil.copytree(snapshot, root)
        files = [path for path in _files(root) if path.name.startswith(kind)]
        target = files[pick % len(files)]
        target.write_bytes(change(target, target.read_bytes()))
        _read_like_the_next_start(root)


@FUZZ_CACHE
@given(st.binary(max_size=2000), st.integers(0, 100))
def test_cache_files_of_arbitrary_bytes(snapshot: Path, junk: bytes, pick: int) -> None:
    counted("cache, arbitrary bytes")
    _mutate(snapshot, lambda _, __: junk, pick)


@FUZZ_CACHE
@given(st.integers(0, 10**7), st.integers(0, 255), st.booleans(), st.integers(0, 100))
def test_cache_files_cut_or_flipped(
    snapshot: Path, at: int, byte: int, cut: bool, pick: int
) -> None:
    counted("cache, cut or flipped")

    def change(_: Path, data: bytes) -> bytes:
        where = at % max(len(data), 1)
        return data[:where] if cut else data[:where] + bytes([byte]) + data[where + 1 :]

    _mutate(snapshot, change, pick)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


@FUZZ_CACHE
@given(st.integers(0, 100), st.integers(0, 10**6), json_values)
def test_cache_files_with_a_field_of_the_wrong_shape(
    snapshot: Path, pick: int, where: int, value: Any
) -> None:
    counted("cache, a field replaced")

    def change(_: Path, data: bytes) -> bytes:
        document = orjson.loads(data)
        paths = _paths(document)
        path = paths[where % len(paths)]
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = value
        return orjson.dumps(document)

    _mutate(snapshot, change, pick)


@FUZZ_CACHE
@example("inbox", "last", datetime(1, 1, 1), None)
@example("chunk", "created", datetime(9999, 12, 31, 23, 59), -5)
@given(
    st.sampled_from(["inbox", "chunk"]),
    st.sampled_from(["last", "created", "replied"]),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.one_of(st.none(), st.integers(-23, 23)),
)
def test_cache_timestamps_at_the_ends_of_time(
    snapshot: Path, kind: str, column: str, when: datetime, hours: int | None
) -> None:
    """A cache written by another version, or by hand: any ISO timestamp in any column."""
    counted("cache, timestamps")
    stamp = when.replace(tzinfo=timezone(timedelta(hours=hours)) if hours is not None else None)

    def change(path: Path, data: bytes) -> bytes:
        document = orjson.loads(data)
        block = document.get("head") or document.get("block")
        assert isinstance(block, dict)
        block[column][len(block[column]) // 2] = stamp.isoformat()
        return orjson.dumps(document)

    _mutate(snapshot, change, 0, kind)


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
