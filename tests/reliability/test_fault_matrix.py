"""Every fault x every sync operation, against the demo lemlist API over loopback.

Each case builds a fresh demo inbox and a database in tmp_path, brings the sync to the
state the operation starts from (without faults), installs the fault, runs the operation
once, then checks:

- the outcome: success, or the expected typed error with one readable line;
- bounded retries: the requests the client sent;
- a fresh ``InboxDatabase`` on the same folder (the next start) opens as it is and is
  whole (``read_database``): it holds every page committed before the fault (the screen
  keeps its rows), every id once, nothing invented, and what the sync's own connection
  sees; each conversation it holds is the server's copy of it, field for field (the
  server's pages are read again once the fault is gone), except that a conversation
  lemlist did not confirm read stays unread here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from demo_fixtures import running_demo
from reliability_support import (
    ATTEMPTS,
    FIGURES,
    Rewrite,
    Switchboard,
    SwitchTransport,
    closed_port,
    fast_client,
    one_line,
    read_database,
    server_inbox,
    shape,
)

from lemlist_tui.api.client import LemlistClient
from lemlist_tui.api.errors import (
    AuthError,
    BadRequestError,
    LemlistError,
    NetworkError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from lemlist_tui.api.models import Conversation
from lemlist_tui.db import InboxDatabase
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.demo import DemoConfig, DemoLemlist, Fault
from lemlist_tui.sync import InboxSync
from lemlist_tui.sync.sender import OutboxSender

KEY = "sk-reliability-3f9a1c77e05b4d2a"
FIXED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
SIZE, PAGE = 250, 50  # five pages
PAGES = SIZE // PAGE
CONCURRENCY = 4
LIST_OPS = ("first_load", "page_on_demand", "crawl", "refresh")
THREAD_OPS = ("thread", "mark_read")
ALL_OPS = LIST_OPS + THREAD_OPS
INBOX = r"/api/inbox"
THREAD = r"/api/inbox/(ctc_[^/]+)"
OP_TIMEOUT = 20.0


# --- the environment of one case -----------------------------------------------------------


@dataclass
class Env:
    demo: DemoLemlist
    rewrite: Rewrite
    transport: SwitchTransport
    client: LemlistClient
    sync: InboxSync
    folder: Path
    op: str
    log_from: int = 0
    """Where the demo's request log stood when the fault was installed."""

    @property
    def prefix(self) -> str:
        """Where a fault must hit for this operation: the list, or one thread."""
        return "/api/inbox/ctc_" if self.op in THREAD_OPS else "/api/inbox"

    def fault(self, **kwargs: Any) -> None:
        self.demo.faults.append(Fault(path_prefix=self.prefix, **kwargs))

    def rule(self, rule: Callable[[dict[str, str], Any, Any], Any], *, both: bool = False) -> None:
        pattern = THREAD if self.op in THREAD_OPS else INBOX
        self.rewrite.rules.append((_compile(pattern), rule))
        if both:
            self.rewrite.rules.append((_compile(THREAD), rule))

    def held(self) -> list[str]:
        """The ids the sync's own database shows (what the screen lists)."""
        return [c.id for c in self.sync.db.iter_conversations(self.sync.user_id)]


def _compile(pattern: str) -> Any:
    import re

    return re.compile(pattern)


# --- faults ----------------------------------------------------------------------------------

Install = Callable[[Env], None]


@dataclass(frozen=True)
class Case:
    name: str
    install: Install
    expect: type[LemlistError] | str | None
    """None: must succeed; an error class: must end with it; "either": success or typed."""
    ops: tuple[str, ...] = ALL_OPS
    retried: bool = True
    """An always-failing fault of this kind is retried up to the policy's attempts."""
    before_setup: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    user: int = 0
    check: Callable[[Env, str, BaseException | None, int], None] | None = None


HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


def _pagination(page: int, *, total_items: int, total_pages: int, next_page: int | None) -> Any:
    return {
        "totalItems": total_items,
        "currentPage": page,
        "nextPage": next_page,
        "previousPage": page - 1 if page > 1 else None,
        "perPage": PAGE,
        "totalPages": total_pages,
    }


def _page(query: dict[str, str]) -> int:
    return int(query.get("page", "1"))


def lie_total_pages_small(env: Env) -> None:
    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        payload["pagination"]["totalPages"] = 1
        payload["pagination"]["totalItems"] = PAGE
        return payload

    env.rule(rule)


def lie_total_pages_large(env: Env) -> None:
    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        page = _page(query)
        payload["pagination"] = _pagination(
            page, total_items=50_000, total_pages=1_000, next_page=page + 1
        )
        return payload

    env.rule(rule)


def lie_next_page_loops_back(env: Env) -> None:
    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        page = _page(query)
        payload["pagination"]["nextPage"] = 1 if page >= 2 else 2
        return payload

    env.rule(rule)


def lie_next_page_repeats(env: Env) -> None:
    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        payload["pagination"]["nextPage"] = max(_page(query), 2)
        return payload

    env.rule(rule)


def duplicate_ids(env: Env) -> None:
    first_rows: list[Any] = []

    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        if _page(query) == 1:
            first_rows[:] = payload["data"][:10]
        else:  # every later page repeats ten of page 1 (a moving inbox does this)
            payload["data"] = first_rows + payload["data"]
        return payload

    env.rule(rule)


def padded_10mb(env: Env) -> None:
    padding = "x" * (10 * 2**20)

    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        payload["_padding"] = padding  # a field nobody documented: ignored, not choked on
        return orjson.dumps(payload)

    env.rule(rule)


def no_conversations_for_this_user(env: Env) -> None:
    user = env.sync.user_id

    def rule(query: dict[str, str], _: Any, payload: Any) -> Any:
        if query.get("userId") != user:
            return payload
        page = _page(query)
        return {
            "data": [],
            "pagination": _pagination(page, total_items=0, total_pages=0, next_page=None),
        }

    env.rule(rule)


def fail_after_the_first_page(env: Env) -> None:
    """The first inbox page comes back; from the next request on, 500 for good."""
    env.log_from = len(env.demo.log)

    def start() -> None:
        env.demo.faults.append(Fault(path_prefix="/api/inbox", status=500, times=None))

    env.demo.on_request(start, after=1, path="/api/inbox", exact=True)


def refuse(env: Env) -> None:
    env.transport.refuse_port = closed_port()


def _all_real(env: Env, op: str, error: BaseException | None, sent: int) -> None:
    """After a crawl, a lie that still leaves a way through gets every conversation."""
    if op == "crawl":
        assert sorted(env.held()) == sorted(env.demo.conversation_ids())


def _kept_the_page_before(env: Env, op: str, error: BaseException | None, sent: int) -> None:
    """A walk that fails after a page arrived keeps that page: it was committed."""
    if op in ("crawl", "refresh"):  # both go on past the first page, into the fault
        assert isinstance(error, ServerError), error
    else:
        assert error is None
    answered = [
        record
        for record in env.demo.log[env.log_from :]
        if record.path.rstrip("/") == "/api/inbox" and record.status == 200
    ]
    assert len(answered) == 1
    page = int(answered[0].query.get("page", "1"))
    brought = env.demo.conversation_ids()[(page - 1) * PAGE : page * PAGE]
    assert len(brought) == PAGE and set(brought) <= set(env.held())


def _no_html(env: Env, op: str, error: BaseException | None, sent: int) -> None:
    assert error is not None and "<" not in str(error) and "nginx" not in str(error)


def _no_wait_for_600(env: Env, op: str, error: BaseException | None, sent: int) -> None:
    assert error is not None and "600" in str(error)
    # Not retried: far beyond what the policy waits (a crawl has several in flight).
    assert sent <= (CONCURRENCY if op == "crawl" else 1)


def _empty(env: Env, op: str, error: BaseException | None, sent: int) -> None:
    assert env.held() == []
    assert env.sync.db.counts(env.sync.user_id) == (0, 0)
    if op in ("first_load", "crawl", "refresh"):
        assert env.sync.state.complete


CASES: tuple[Case, ...] = (
    Case("500 once", lambda e: e.fault(status=500, times=1), None),
    Case("500 always", lambda e: e.fault(status=500, times=None), ServerError),
    Case(
        "502 from a proxy, HTML body",
        lambda e: e.fault(status=502, body=HTML_502, content_type="text/html", times=None),
        ServerError,
        check=_no_html,
    ),
    Case(
        "429 twice, Retry-After 0",
        lambda e: e.fault(status=429, headers={"Retry-After": "0"}, times=2),
        None,
    ),
    Case(
        "429 storm, Retry-After 0",
        lambda e: e.fault(status=429, headers={"Retry-After": "0"}, times=None),
        RateLimitedError,
    ),
    Case("429 twice, no Retry-After", lambda e: e.fault(status=429, times=2), None),
    Case("429 storm, no Retry-After", lambda e: e.fault(status=429, times=None), RateLimitedError),
    Case(
        "429, Retry-After 600",
        lambda e: e.fault(status=429, headers={"Retry-After": "600"}, times=None),
        RateLimitedError,
        check=_no_wait_for_600,
    ),
    Case(
        "429 twice, Retry-After garbage",
        lambda e: e.fault(status=429, headers={"Retry-After": "soon-ish"}, times=2),
        None,
    ),
    Case("timeout once", lambda e: e.fault(delay=0.5, times=1), None),
    Case("timeout always", lambda e: e.fault(delay=0.5, times=None), RequestTimeoutError),
    Case("connection refused", refuse, NetworkError),
    Case("reset mid-body once", lambda e: e.fault(drop=True, cut_at=40, times=1), None),
    Case(
        "reset mid-body always", lambda e: e.fault(drop=True, cut_at=40, times=None), NetworkError
    ),
    Case("cut JSON once", lambda e: e.fault(cut_at=60, times=1), None),
    Case("cut JSON always", lambda e: e.fault(cut_at=60, times=None), ProtocolError),
    Case(
        "JSON of the wrong shape",
        lambda e: e.fault(
            status=200,
            body=b'{"data": {"conversations": "elsewhere"}, "ok": true}',
            content_type="application/json",
            times=None,
        ),
        ProtocolError,
        retried=False,
    ),
    Case(
        "JSON items of the wrong shape",
        lambda e: e.fault(
            status=200,
            body=b'{"data": [1, "x", null, {"no": "id"}, [], {"_id": 7}], "pagination": 3}',
            content_type="application/json",
            times=None,
        ),
        None,
    ),
    Case(
        "200 with text/plain",
        lambda e: e.fault(status=200, body=b"OK", content_type="text/plain", times=None),
        ProtocolError,
    ),
    Case("a 10 MB body", padded_10mb, None),
    Case(
        "401 key refused",
        lambda e: e.fault(
            status=401, body=b"The authentication you supplied is incorrect", times=None
        ),
        AuthError,
        retried=False,
    ),
    Case(
        "400 User not in team",
        lambda e: e.fault(status=400, body=b"User not in team", times=None),
        BadRequestError,
        retried=False,
    ),
    Case("totalPages too small", lie_total_pages_small, None, LIST_OPS, check=_all_real),
    Case("totalPages too large", lie_total_pages_large, None, LIST_OPS, check=_all_real),
    Case("nextPage loops back", lie_next_page_loops_back, None, LIST_OPS),
    Case("nextPage repeats itself", lie_next_page_repeats, None, LIST_OPS),
    Case("duplicate _ids across pages", duplicate_ids, None, LIST_OPS, check=_all_real),
    Case(
        "500 after the first page",
        fail_after_the_first_page,
        "either",
        LIST_OPS,
        check=_kept_the_page_before,
    ),
    Case("an empty inbox", lambda e: None, None, LIST_OPS, config={"size": 0}, check=_empty),
    Case(
        "a user with no conversations",
        no_conversations_for_this_user,
        None,
        LIST_OPS,
        before_setup=True,
        user=1,
        check=_empty,
    ),
)


def _matrix() -> Iterator[Any]:
    for case in CASES:
        for op in case.ops:
            yield pytest.param(case, op, id=f"{case.name} · {op}")


# --- running a case --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def switchboard() -> Iterator[tuple[str, Switchboard]]:
    board = Switchboard()
    with running_demo(board) as base_url:  # type: ignore[arg-type]
        yield base_url, board


def _ids_on_disk(folder: Path, user: str) -> set[str]:
    """What a fresh ``InboxDatabase`` on the folder holds for ``user`` (ids only)."""
    db = InboxDatabase(folder)
    try:
        return {c.id for c in db.iter_conversations(user)}
    finally:
        db.close()


def _unread(sync: InboxSync) -> Conversation:
    return next(sync.db.iter_conversations(sync.user_id, unread_only=True))


async def _setup(env: Env) -> Conversation | None:
    """The state the operation starts from; returns the conversation it acts on."""
    sync = env.sync
    if env.op == "first_load":
        return None
    if env.op == "refresh":
        await sync.crawl()
        if env.demo.config.size:
            env.demo.add_conversations(3)
        return None
    await sync.load_more()  # the first page, as the on-demand mode opens an inbox
    if env.op in THREAD_OPS:
        return _unread(sync)
    return None


async def _run(env: Env, target: Conversation | None) -> None:
    sync = env.sync
    if env.op in ("first_load", "page_on_demand"):
        await sync.load_more()
    elif env.op == "crawl":
        await sync.crawl()
    elif env.op == "refresh":
        await sync.refresh()
    elif env.op == "thread":
        assert target is not None
        page = await sync.thread(target)
        kept = sync.cached_thread(target)  # kept, each message's text made once
        assert kept is not None and kept.messages == page.messages
        assert all(m.text is not None for m in kept.messages)
    elif env.op == "mark_read":
        # Through the outbox, as the app does: read here at once, then sent.
        assert target is not None and target.contact_id is not None
        outbox = Outbox(sync.db)
        outbox.add([Action(Kind.READ, target.contact_id, target.id, user_id=sync.user_id)])
        held = sync.db.conversation(target.id)
        assert held is not None and not held.is_unread_for(sync.user_id)
        sender = OutboxSender(outbox, env.client)
        await sender.drain()
        if not outbox.summary().empty:  # kept, with lemlist's answer as its reason
            assert sender.last_failure is not None
            assert outbox.summary().error == str(sender.last_failure)
            raise sender.last_failure


@pytest.mark.parametrize(("case", "op"), list(_matrix()))
async def test_fault(
    case: Case, op: str, switchboard: tuple[str, Switchboard], tmp_path: Path
) -> None:
    FIGURES.faults_tried += 1
    FIGURES.count("faults: sync operations")
    base_url, board = switchboard
    settings: dict[str, Any] = {
        "size": SIZE,
        "seed": 11,
        "users": 2,
        "rate_window": 0.1,
        "now": FIXED,
        "api_keys": (KEY,),
        **case.config,
    }
    demo = DemoLemlist(DemoConfig(**settings))
    rewrite = Rewrite(demo, [])
    board.target = rewrite
    transport = SwitchTransport()
    # A timeout case needs a client that gives up well before the server's delay.
    timeout = 0.15 if "timeout" in case.name else 5.0
    folder = tmp_path / "account"
    db = InboxDatabase(folder)
    try:
        async with fast_client(KEY, base_url, timeout=timeout, transport=transport) as client:
            user = demo.team_user_ids[case.user]
            sync = InboxSync(client, db, user, page_size=PAGE, concurrency=CONCURRENCY)
            env = Env(demo, rewrite, transport, client, sync, folder, op)
            await _exercise(case, env, base_url)
    finally:
        db.close()
    FIGURES.faults_survived += 1


async def _exercise(case: Case, env: Env, base_url: str) -> None:
    demo, rewrite, transport, client, sync, folder, op = (
        env.demo, env.rewrite, env.transport, env.client, env.sync, env.folder, env.op
    )  # fmt: skip
    user = sync.user_id
    if case.before_setup:
        case.install(env)
    target = await asyncio.wait_for(_setup(env), OP_TIMEOUT)
    before = _ids_on_disk(folder, user)
    if not case.before_setup:
        case.install(env)
    sent_before = client.requests_sent
    started = time.monotonic()
    error: BaseException | None = None
    try:
        await asyncio.wait_for(_run(env, target), OP_TIMEOUT)
    except LemlistError as caught:
        error = caught
    elapsed = time.monotonic() - started
    sent = client.requests_sent - sent_before

    # The outcome: success, or the typed error the fault calls for, in one line.
    if case.expect is None:
        assert error is None, f"expected success, got {error!r}"
    elif isinstance(case.expect, type):
        assert isinstance(error, case.expect), f"expected {case.expect.__name__}, got {error!r}"
    if error is not None:
        assert one_line(str(error)), repr(str(error))
        assert KEY not in str(error) and KEY not in repr(error)

    # Bounded retries, in requests and in time.
    width = CONCURRENCY if op == "crawl" else 1
    if isinstance(case.expect, type):
        most = (ATTEMPTS if case.retried else 1) * width
        if op in ("page_on_demand", "refresh") and case.expect is not None:
            most += 1  # a walk may reach its last page first, then fail from the top
        assert 1 <= sent <= most
    else:
        assert sent <= ATTEMPTS * (2 * PAGES + 4) + CONCURRENCY
    assert elapsed < 8.0

    # The next start: the database opens as it is and is whole; it kept every page
    # committed before the fault (the screen keeps its rows), and what the sync's own
    # connection shows is what is on disk.
    after = read_database(folder, user)
    assert not after.problems, after.problems
    held = set(after.conversations)
    assert sorted(env.held()) == sorted(held)
    assert held >= before
    if op == "thread" and error is not None:
        assert target is not None
        assert sync.cached_thread(target) is None  # a thread that failed is not half kept

    if case.check is not None:
        case.check(env, op, error, sent)

    # Each conversation whole, as lemlist's pages give it (read once the fault is gone).
    demo.faults.clear()
    rewrite.rules.clear()
    transport.refuse_port = None
    server = await server_inbox(base_url, KEY, user, app=demo)
    assert held <= set(server)  # nothing invented
    for conversation_id, conversation in after.conversations.items():
        there = server[conversation_id]
        if op == "mark_read" and target is not None and conversation_id == target.id:
            # Read here at once (the outbox); lemlist may have it either way when the
            # fault still reached the route (a timeout, a reset).
            assert not conversation.is_unread_for(user)
            assert shape(conversation, read_flags=False) == shape(there, read_flags=False)
        else:
            assert shape(conversation) == shape(there), conversation_id
