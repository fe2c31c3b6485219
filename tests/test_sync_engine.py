"""InboxSync: lemlist → one account's SQLite database, against the demo lemlist API.

Refresh, crawl, load-more, cancellation and resumption, reconciling deletions, lying
pagination, faults, threads, read state, offline, the clock, and two syncs (an app and
a ``sync`` process) writing the same database at once. The client is built as the app
builds it (``httpx.ASGITransport`` on the demo), with its own limiter; unless a test is
about the rate limit, the demo's limit is set far out of the way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from demo_fixtures import FIXED_NOW, ServeDemo
from support.clients import PAGE, PAGES, SIZE, make_client, quick_config

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.errors import (
    LemlistError,
    NetworkError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from lemlist_tui.api.models import Conversation, InboxPage
from lemlist_tui.db import InboxDatabase, StorageError
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist, Fault
from lemlist_tui.sync.engine import CrawlResult, InboxSync, RefreshResult


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config())


@pytest.fixture
def user(demo: DemoLemlist) -> str:
    return demo.team_user_ids[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "account"


@pytest.fixture
def sync(client: LemlistClient, db: InboxDatabase, user: str) -> InboxSync:
    return InboxSync(client, db, user, page_size=PAGE)


def held(db: InboxDatabase, user: str) -> list[str]:
    """The ids held for ``user``, newest activity first."""
    return [c.id for c in db.iter_conversations(user)]


@contextmanager
def reopened(folder: Path) -> Iterator[InboxDatabase]:
    """The same folder as another process (or the next run) opens it."""
    database = InboxDatabase(folder)
    try:
        yield database
    finally:
        database.close()


def list_pages(demo: DemoLemlist, since: int = 0) -> list[int]:
    """The inbox list pages answered since log entry ``since``, in order."""
    return [
        int(r.query.get("page", "1"))
        for r in demo.log[since:]
        if r.path.rstrip("/") == "/api/inbox"
    ]


def stored(db: InboxDatabase, conversation_id: str) -> Conversation:
    conversation = db.conversation(conversation_id)
    assert conversation is not None
    return conversation


def relabel(answer: InboxPage, **pagination: object) -> InboxPage:
    """``answer`` with its pagination changed (a lying server)."""
    return dataclasses.replace(
        answer,
        pagination=dataclasses.replace(answer.pagination, **pagination),  # type: ignore[arg-type]
    )


async def cancelled_crawl(sync: InboxSync, after_pages: int) -> None:
    """Run a crawl and cancel its task once ``after_pages`` pages are committed."""
    task: asyncio.Task[CrawlResult] | None = None

    def progress(done: int, total: int | None) -> None:
        if done >= after_pages and task is not None:
            task.cancel()

    before = asyncio.all_tasks()
    task = asyncio.create_task(sync.crawl(progress))
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):  # requests in flight are cancelled, not waited out
            await task
    assert asyncio.all_tasks() <= before  # ... and awaited: none is left behind


# --- refresh ---------------------------------------------------------------------------------


async def test_refresh_costs_new_pages_plus_one(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await sync.crawl()
    for k in (0, 5, 20, 45):
        made = demo.add_conversations(k)
        since = len(demo.log)
        result = await sync.refresh()
        assert result == RefreshResult(new=k, updated=0, requests=math.ceil(k / PAGE) + 1)
        assert list_pages(demo, since) == list(range(1, result.requests + 1))
        assert held(db, user)[:k] == made
        assert held(db, user) == demo.conversation_ids()


async def test_refresh_counts_updated_conversations(
    sync: InboxSync, client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await sync.crawl()
    ids = demo.conversation_ids()
    other = demo.team_user_ids[1]
    read_elsewhere = next(c for c in ids[:15] if not demo.is_read(c, other))
    await client.mark_read(demo.contact_id_of(read_elsewhere), other)
    demo.touch(ids[150])
    demo.touch(ids[151])
    since = len(demo.log)
    result = await sync.refresh()
    assert (result.new, result.updated) == (0, 3)
    assert list_pages(demo, since) == [1, 2]
    assert held(db, user) == demo.conversation_ids()
    assert stored(db, read_elsewhere).participant(other).read  # type: ignore[union-attr]


async def test_refresh_of_an_empty_local_inbox_is_one_page_and_load_more_goes_on(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    result = await sync.refresh()
    assert result == RefreshResult(new=PAGE, updated=0, requests=1)
    assert held(db, user) == demo.conversation_ids()[:PAGE]
    state = sync.state
    assert (state.complete, state.next_page, state.total_items) == (False, 2, SIZE)
    since = len(demo.log)
    assert await sync.load_more() == PAGE  # page 2, not page 1 again
    assert list_pages(demo, since) == [2]
    await sync.crawl()
    assert held(db, user) == demo.conversation_ids()
    assert sync.state.complete


async def test_refresh_of_an_unfinished_crawl_stops_at_its_frontier(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    await cancelled_crawl(sync, after_pages=4)
    assert sync.state.next_page == 5
    demo.add_conversations(5 * PAGE)  # five pages of news: the first four are the refresh's
    since = len(demo.log)
    result = await sync.refresh()
    assert (result.new, result.requests) == (4 * PAGE, 4)
    assert list_pages(demo, since) == [1, 2, 3, 4]
    assert (sync.state.next_page, sync.state.complete) == (5, False)
    await sync.crawl()
    assert held(db, user) == demo.conversation_ids()


async def test_an_empty_lemlist_inbox(db: InboxDatabase) -> None:
    demo = DemoLemlist(quick_config(size=0))
    user = demo.team_user_ids[0]
    async with make_client(demo) as client:
        sync = InboxSync(client, db, user, page_size=PAGE)
        assert await sync.refresh() == RefreshResult(0, 0, 1)
        assert sync.state.complete
        assert await sync.load_more() == 0
        assert await sync.crawl() == CrawlResult(pages=2, new=0, removed=0, reconciled=True)
    assert held(db, user) == []
    assert db.counts(user) == (0, 0)
    assert not sync.crawl_due()
    assert list_pages(demo) == [1, 1, 1]


async def test_load_more_walks_page_by_page_until_complete(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    for number in range(1, PAGES + 1):
        assert not sync.state.complete
        assert await sync.load_more() == PAGE
        assert held(db, user) == demo.conversation_ids()[: number * PAGE]
    assert sync.state.complete
    since = len(demo.log)
    assert await sync.load_more() == 0
    assert list_pages(demo, since) == []
    assert list_pages(demo) == list(range(1, PAGES + 1))


# --- crawl -----------------------------------------------------------------------------------


async def test_crawl_fetches_every_page_with_requests_in_flight_and_reports_progress(
    sync: InboxSync, client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    real = client.inbox_page
    in_flight = most = 0

    async def counted(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            return await real(user_id, page, limit)
        finally:
            in_flight -= 1

    client.inbox_page = counted  # type: ignore[method-assign]
    seen: list[tuple[int, int | None]] = []
    result = await sync.crawl(lambda done, total: seen.append((done, total)))
    assert result == CrawlResult(pages=PAGES + 1, new=SIZE, removed=0, reconciled=True)
    assert most == sync.concurrency == 4
    assert sorted(list_pages(demo)) == [1, 1, *range(2, PAGES + 1)]
    assert held(db, user) == demo.conversation_ids()
    unread = sum(not demo.is_read(c, user) for c in demo.conversation_ids())
    assert db.counts(user) == (SIZE, unread)
    assert seen[0] == (1, PAGES)
    assert seen[-1] == (PAGES, PAGES)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    state = sync.state
    assert (state.complete, state.next_page, state.total_items) == (True, None, SIZE)
    assert (state.crawl, state.pages_seen, state.crawl_steady) == (1, PAGES, True)
    assert not sync.crawl_due()
    assert (sync.requests, sync.skipped) == (PAGES + 1, 0)


@pytest.mark.parametrize("transport", ["asgi", "loopback"])
async def test_a_crawl_runs_at_the_real_rate_limit_without_a_429(
    transport: str, serve_demo: ServeDemo, folder: Path
) -> None:
    # lemlist's own 20 requests / 2 s, and a crawl of 22 requests: it must cross a window.
    config = DemoConfig(size=21 * PAGE, seed=5, now=FIXED_NOW)
    if transport == "loopback":
        base_url, demo = serve_demo(config)
        made = make_client(None, base_url=base_url, limit=20, window=2.0)
    else:
        demo = DemoLemlist(config)
        made = make_client(demo, limit=20, window=2.0)
    user = demo.team_user_ids[0]
    async with made as client:
        with reopened(folder) as db:
            result = await InboxSync(client, db, user, page_size=PAGE).crawl()
            assert held(db, user) == demo.conversation_ids()
    assert result.pages == len(list_pages(demo)) == 22
    assert demo.count(status=429) == 0
    assert demo.max_in_window() == 20


async def test_conversations_moving_mid_crawl_are_held_once_each(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    original = demo.conversation_ids()
    for after in (2, 4):  # between pages: new ones on top, old ones lifted from far down

        def move(after: int = after) -> None:
            demo.add_conversations(7)
            demo.touch(original[-1 - after])
            demo.touch(original[100 + after])

        demo.on_request(move, after=after, path="/api/inbox", exact=True)
    await sync.crawl()
    assert held(db, user) == demo.conversation_ids()
    assert len(set(held(db, user))) == SIZE + 14


async def test_news_between_two_pages_answered_out_of_order(
    sync: InboxSync, client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    # With pages in flight, lemlist may answer page 6 before page 5. Three conversations
    # arriving in between push the end of page 5 onto page 6, already answered: neither
    # page shows them. The crawl sees totalItems move, removes nothing, and another full
    # crawl is due at once; that one finds them.
    real = client.inbox_page
    page_6_answered = asyncio.Event()

    async def reordered(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        if page == 5:
            await page_6_answered.wait()
        answer = await real(user_id, page, limit)
        if page == 6:
            demo.add_conversations(3)
            page_6_answered.set()
        return answer

    client.inbox_page = reordered  # type: ignore[method-assign]
    first = await sync.crawl()
    assert (first.reconciled, first.removed) == (False, 0)
    missing = set(demo.conversation_ids()) - set(held(db, user))
    assert len(missing) == 3  # the ends of page 5: they slipped between the two pages
    assert sync.crawl_due()
    client.inbox_page = real  # type: ignore[method-assign]
    second = await sync.crawl()
    assert (second.reconciled, second.removed) == (True, 0)
    assert held(db, user) == demo.conversation_ids()
    assert not sync.crawl_due()


@pytest.mark.parametrize("crawled_before", [False, True], ids=["fresh", "crawled-before"])
async def test_a_conversation_touched_mid_crawl_is_held(
    crawled_before: bool,
    sync: InboxSync,
    client: LemlistClient,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    if crawled_before:
        await sync.crawl()
    target = demo.conversation_ids()[-1]  # on the last page, which the crawl reaches late
    hook = demo.on_request(lambda: demo.touch(target), after=3, path="/api/inbox", exact=True)
    result = await sync.crawl()
    assert hook.fired
    assert held(db, user)[0] == target
    assert held(db, user) == demo.conversation_ids()
    on_top = (await client.inbox_page(user, 1, 1)).conversations[0]
    assert stored(db, target).last_activity_at == on_top.last_activity_at
    assert result.removed == 0
    if crawled_before:  # a move shifts no page up: the crawl stays steady
        assert result.reconciled


# --- every page committed on its own: cancel, crash, resume ----------------------------------


@pytest.mark.parametrize("pages", [1, 4, PAGES - 1])
async def test_every_page_is_committed_on_its_own(
    pages: int, client: LemlistClient, folder: Path, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    await cancelled_crawl(sync, after_pages=pages)
    with reopened(folder) as other:  # what another process, or the next run, sees
        assert held(other, user) == demo.conversation_ids()[: pages * PAGE]
        state = other.sync_state(user)
        assert state is not None
        assert (state.next_page, state.complete, state.crawl) == (pages + 1, False, 1)
    assert sync.crawl_due()
    since = len(demo.log)
    result = await sync.crawl()
    # Resumed at the frontier: no committed page again, but page 1 for the last walk.
    assert list_pages(demo, since) == [*range(pages + 1, PAGES + 1), 1]
    assert result.pages == PAGES - pages + 1
    assert result.reconciled
    assert held(db, user) == demo.conversation_ids()
    assert sync.state.complete
    assert not sync.crawl_due()


async def test_cancelling_with_requests_in_flight_then_resuming(
    sync: InboxSync, folder: Path, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    demo.faults.append(Fault(page=4, delay=30.0, times=1))  # page 4 hangs; later ones don't
    await cancelled_crawl(sync, after_pages=6)
    assert 4 not in list_pages(demo)  # the hanging request was cancelled
    with reopened(folder) as other:
        ids = held(other, user)
        assert len(ids) == len(set(ids)) >= 5 * PAGE
        assert set(demo.conversation_ids()[: 3 * PAGE]) <= set(ids)
        assert not set(demo.conversation_ids()[3 * PAGE : 4 * PAGE]) & set(ids)
        state = other.sync_state(user)
        assert state is not None
        assert (state.next_page, state.complete) == (4, False)
    since = len(demo.log)
    await sync.crawl()
    # From the frontier on: pages that overtook page 4 are fetched again, none before it.
    assert sorted(list_pages(demo, since)) == [1, *range(4, PAGES + 1)]
    assert held(db, user) == demo.conversation_ids()
    assert sync.state.complete


async def test_a_crawl_of_another_page_size_starts_over(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await cancelled_crawl(InboxSync(client, db, user, page_size=PAGE, concurrency=1), 3)
    smaller = InboxSync(client, db, user, page_size=PAGE // 2)
    assert (smaller.state.next_page, smaller.state.page_size) == (1, PAGE // 2)
    since = len(demo.log)
    await smaller.crawl()
    assert sorted(list_pages(demo, since)) == [1, 1, *range(2, 2 * PAGES + 1)]
    assert held(db, user) == demo.conversation_ids()


# --- deletions and the reconcile -------------------------------------------------------------


async def test_deleting_mid_crawl_is_reconciled_by_the_next_crawl(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    deleted: list[str] = []
    hook = demo.on_request(
        lambda: deleted.extend(demo.delete_newest(5)), after=3, path="/api/inbox", exact=True
    )
    first = await sync.crawl()
    assert hook.fired and len(deleted) == 5
    # Later pages shifted up under the crawl: it cannot tell deleted from slipped past.
    assert (first.reconciled, first.removed) == (False, 0)
    after_first = set(held(db, user))
    assert set(deleted) <= after_first
    assert set(demo.conversation_ids()) - after_first  # some slipped between two pages
    assert sync.state.complete
    assert sync.crawl_due()  # an unsteady crawl is not the last full crawl
    second = await sync.crawl()
    assert (second.reconciled, second.removed) == (True, 5)
    assert not sync.crawl_due()
    assert held(db, user) == demo.conversation_ids()
    assert db.counts(user)[0] == SIZE - 5


async def test_a_total_that_lags_is_no_licence_to_remove(
    sync: InboxSync, client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    # A server counting lazily: totalItems stays put while a conversation is deleted (later
    # pages shift up and one slips between two pages) and then another arrives. The count
    # matches what the crawl saw, but the walk from the top met a conversation new to the
    # inbox: the crawl is not steady, and nothing alive is removed.
    await sync.crawl()
    real = client.inbox_page

    async def lagging(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        return relabel(await real(user_id, page, limit), total_items=SIZE, total_pages=PAGES)

    client.inbox_page = lagging  # type: ignore[method-assign]
    deleted: list[str] = []
    list_route = {"path": "/api/inbox", "exact": True}
    demo.on_request(lambda: deleted.extend(demo.delete_newest(1)), after=3, **list_route)
    demo.on_request(lambda: demo.add_conversations(1), after=6, **list_route)
    result = await sync.crawl()
    assert len(deleted) == 1
    assert (result.reconciled, result.removed) == (False, 0)
    assert set(demo.conversation_ids()) <= set(held(db, user))
    client.inbox_page = real  # type: ignore[method-assign]
    again = await sync.crawl()
    assert (again.reconciled, again.removed) == (True, 1)
    assert held(db, user) == demo.conversation_ids()


@pytest.mark.parametrize(
    "pick",
    [
        lambda ids: ids[:1],
        lambda ids: ids[3:90:7],
        lambda ids: ids[-PAGE:],
        lambda ids: ids,
    ],
    ids=["newest", "scattered", "last-page", "all"],
)
async def test_conversations_deleted_between_crawls_are_removed(
    pick: Callable[[list[str]], list[str]],
    sync: InboxSync,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    await sync.crawl()
    doomed = pick(demo.conversation_ids())
    demo.delete_conversations(doomed)
    await sync.refresh()
    assert set(doomed) <= set(held(db, user))  # a refresh never removes anything
    result = await sync.crawl()
    assert (result.reconciled, result.removed) == (True, len(doomed))
    assert held(db, user) == demo.conversation_ids()
    assert db.counts(user)[0] == SIZE - len(doomed)
    assert all(db.conversation(c) is None for c in doomed)


# --- lying pagination ------------------------------------------------------------------------

Real = Callable[..., Awaitable[InboxPage]]
Serve = Callable[[Real, str, int, int], Awaitable[InboxPage]]


async def total_too_large(real: Real, u: str, p: int, n: int) -> InboxPage:
    return relabel(await real(u, p, n), total_pages=500, total_items=10_000, next_page=p + 1)


async def total_too_small(real: Real, u: str, p: int, n: int) -> InboxPage:
    return relabel(await real(u, p, n), total_pages=2, total_items=2 * PAGE)


async def next_only(real: Real, u: str, p: int, n: int) -> InboxPage:
    return relabel(await real(u, p, n), total_pages=None, total_items=None)


async def next_repeats(real: Real, u: str, p: int, n: int) -> InboxPage:
    return relabel(await real(u, p, n), next_page=p)


async def next_goes_back(real: Real, u: str, p: int, n: int) -> InboxPage:
    return relabel(await real(u, p, n), next_page=1, total_pages=None)


async def ignores_page(real: Real, u: str, p: int, n: int) -> InboxPage:
    # Page 1's rows whatever is asked, with a pagination that goes on for ever.
    answer = await real(u, 1, n)
    return relabel(answer, current_page=p, next_page=p + 1, total_pages=10**6, total_items=10**7)


async def ignores_page_entirely(real: Real, u: str, p: int, n: int) -> InboxPage:
    return await real(u, 1, n)  # page 1 itself, pagination and all


@pytest.mark.parametrize(
    ("serve", "whole", "most_requests"),
    [
        # Pages past the data are empty: stop at the first (others may be in flight).
        (total_too_large, True, PAGES + 1 + 3 + 1),
        (total_too_small, True, PAGES + 1),
        (next_only, True, PAGES + 1),
        (next_repeats, False, 2),
        (next_goes_back, False, 2),
        (ignores_page, False, 1 + 12 + 3 + 1),
        (ignores_page_entirely, False, 1 + 4 + 1),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
@pytest.mark.parametrize("crawled_before", [False, True], ids=["fresh", "crawled-before"])
async def test_lying_pagination_ends_with_the_right_set(
    serve: Serve,
    whole: bool,
    most_requests: int,
    crawled_before: bool,
    sync: InboxSync,
    client: LemlistClient,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    if crawled_before:
        await sync.crawl()
    real = client.inbox_page

    async def lying(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        return await serve(real, user_id, page, limit)

    client.inbox_page = lying  # type: ignore[method-assign]
    since = len(demo.log)
    result = await asyncio.wait_for(sync.crawl(), timeout=10)
    assert len(list_pages(demo, since)) <= most_requests
    assert sync.state.complete
    ids = held(db, user)
    assert len(ids) == len(set(ids))
    if crawled_before:  # a crawl that saw less than lemlist holds removes nothing
        assert result.removed == 0
        assert ids == demo.conversation_ids()
    else:
        assert ids == (demo.conversation_ids() if whole else demo.conversation_ids()[:PAGE])


async def test_malformed_items_are_skipped_and_counted_and_never_removed(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo), base_url=DEMO_BASE_URL, auth=("", DEMO_API_KEY)
    ) as plain:
        answer = await plain.get("/inbox", params={"userId": user, "page": 2, "limit": PAGE})
    body = answer.json()
    bad = {body["data"][3]["_id"], body["data"][6]["_id"]}
    body["data"][3] = "not a conversation"
    del body["data"][6]["_id"]
    fault = Fault(
        page=2,
        status=200,
        body=orjson.dumps(body),
        content_type="application/json",
        times=None,
    )
    demo.faults.append(fault)
    first = await sync.crawl()
    assert sync.skipped == 2
    assert set(demo.conversation_ids()) - set(held(db, user)) == bad
    assert (first.new, first.removed, first.reconciled) == (SIZE - 2, 0, False)
    demo.faults.remove(fault)
    await sync.crawl()
    assert held(db, user) == demo.conversation_ids()
    # Unreadable again: the held copies stay (the conversations still exist in lemlist).
    demo.faults.append(dataclasses.replace(fault, times=None))
    again = await sync.crawl()
    assert sync.skipped == 4
    assert (again.removed, again.reconciled) == (0, False)
    assert held(db, user) == demo.conversation_ids()


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("times", [1, 2])
async def test_a_page_failing_with_500_is_retried(
    times: int, sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    demo.faults.append(Fault(page=4, status=500, times=times))
    await sync.crawl()
    assert held(db, user) == demo.conversation_ids()
    assert demo.count(status=500) == times
    assert list_pages(demo).count(4) == times + 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault(page=3, cut_at=100, times=1),
        Fault(page=5, drop=True, times=2),
        Fault(status=429, headers={"Retry-After": "0"}, times=2),
    ],
    ids=["cut-body", "dropped-connection", "429-storm"],
)
async def test_transient_faults_are_retried(
    fault: Fault, sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    demo.faults.append(fault)
    result = await sync.crawl()
    assert fault.times == 0  # it did hit
    assert result.reconciled
    assert held(db, user) == demo.conversation_ids()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(page=6, status=503, times=None), ServerError),
        (Fault(page=6, drop=True, times=None), NetworkError),
        (Fault(page=6, cut_at=50, times=None), ProtocolError),
    ],
    ids=["503", "dropped", "cut"],
)
async def test_an_error_mid_crawl_keeps_the_committed_pages(
    fault: Fault,
    error: type[LemlistError],
    sync: InboxSync,
    folder: Path,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    demo.faults.append(fault)
    with pytest.raises(error):
        await sync.crawl()
    with reopened(folder) as other:
        ids = held(other, user)
        assert ids[: 5 * PAGE] == demo.conversation_ids()[: 5 * PAGE]
        assert len(ids) == len(set(ids))
        state = other.sync_state(user)
        assert state is not None
        assert (state.next_page, state.complete) == (6, False)
    demo.faults.clear()
    since = len(demo.log)
    await sync.crawl()
    assert sorted(list_pages(demo, since)) == [1, *range(6, PAGES + 1)]
    assert held(db, user) == demo.conversation_ids()


async def test_an_endless_429_storm_is_a_rate_limited_error(
    sync: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await sync.crawl()
    before = held(db, user)
    state = sync.state
    demo.add_conversations(3)
    demo.faults.append(Fault(status=429, headers={"Retry-After": "0"}, times=None))
    with pytest.raises(RateLimitedError):
        await sync.refresh()
    assert held(db, user) == before
    assert sync.state == state


async def test_a_server_that_stops_answering_mid_crawl(serve_demo: ServeDemo, folder: Path) -> None:
    base_url, demo = serve_demo(quick_config())
    user = demo.team_user_ids[0]
    demo.faults.append(Fault(page=7, delay=1.0, times=None))  # far longer than the client waits
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
    async with make_client(None, base_url=base_url, timeout=0.25, retry=retry) as client:
        with reopened(folder) as db:
            sync = InboxSync(client, db, user, page_size=PAGE, concurrency=2)
            with pytest.raises(RequestTimeoutError):
                await sync.crawl()
    with reopened(folder) as other:
        ids = held(other, user)
        assert ids[: 6 * PAGE] == demo.conversation_ids()[: 6 * PAGE]
        assert len(ids) == len(set(ids))
        state = other.sync_state(user)
        assert state is not None
        assert (state.next_page, state.complete) == (7, False)


async def test_an_unreachable_server_is_a_network_error(db: InboxDatabase) -> None:
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)
    async with make_client(None, base_url="http://127.0.0.1:9/api", retry=retry) as client:
        sync = InboxSync(client, db, "usr_x", page_size=PAGE)
        with pytest.raises(NetworkError):
            await sync.refresh()
        with pytest.raises(NetworkError):
            await sync.crawl()
        assert not sync.busy  # the failed operations let go of the lock
    assert db.sync_state("usr_x") is None
    assert db.counts("usr_x") == (0, 0)


def test_every_failure_of_the_sync_is_a_lemlist_error() -> None:
    # The app handles one family: the sync adds no exception type of its own.
    for error in (
        NetworkError,
        ProtocolError,
        RateLimitedError,
        RequestTimeoutError,
        ServerError,
        StorageError,
    ):
        assert issubclass(error, LemlistError)


# --- threads, read state, offline ------------------------------------------------------------


async def test_a_thread_is_stored_with_texts_and_served_without_a_request(
    sync: InboxSync, folder: Path, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await sync.refresh()
    target = stored(db, next(c for c in held(db, user) if not demo.is_read(c, user)))
    assert sync.cached_thread(target) is None
    page = await sync.thread(target)
    assert page.messages
    assert all(m.text is not None for m in page.messages)
    assert any(m.text for m in page.messages)
    assert not demo.is_read(target.id, user)  # reading the thread is not marking it read
    before = demo.count()
    cached = sync.cached_thread(target)
    assert cached is not None
    assert cached.messages == page.messages
    assert demo.count() == before
    with reopened(folder) as other:
        kept = other.thread(target.contact_id or "", user)
        assert kept is not None
        assert kept.messages == page.messages


async def test_offline_raises_network_error_and_serves_stored_threads(
    sync: InboxSync, folder: Path, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    await sync.crawl()
    ids = held(db, user)
    first, second = stored(db, ids[0]), stored(db, ids[1])
    page = await sync.thread(first)
    before = demo.count()
    with reopened(folder) as other:
        offline = InboxSync(None, other, user, page_size=PAGE)
        assert offline.offline
        assert not offline.crawl_due()
        operations: list[Callable[[], Awaitable[object]]] = [
            offline.refresh,
            offline.crawl,
            offline.load_more,
            offline.labels,
            lambda: offline.thread(second),  # never fetched: nothing to serve
        ]
        for operation in operations:
            with pytest.raises(NetworkError, match="offline"):
                await operation()
        served = await offline.thread(first)
        assert served.messages == page.messages
        assert held(other, user) == ids
        assert other.sync_state(user) == db.sync_state(user)
        assert second.is_unread_for(user) == stored(other, second.id).is_unread_for(user)
    assert demo.count() == before


# --- the clock -------------------------------------------------------------------------------


async def test_stale_and_crawl_due_follow_an_injected_clock(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    now = [1_700_000_000.0]
    sync = InboxSync(
        client,
        db,
        user,
        page_size=PAGE,
        fresh_for=300,
        full_crawl_every=3600,
        clock=lambda: now[0],
    )
    assert sync.stale()
    assert sync.crawl_due()  # never crawled
    await sync.refresh()
    assert sync.state.refreshed_at == now[0]
    assert not sync.stale()
    assert sync.crawl_due()  # only page 1 is held
    now[0] += 300
    assert not sync.stale()
    now[0] += 1
    assert sync.stale()
    await sync.crawl()
    crawled_at = now[0]
    assert (sync.state.full_crawl_at, sync.state.refreshed_at) == (crawled_at, crawled_at)
    assert not sync.stale()
    assert not sync.crawl_due()
    now[0] = crawled_at + 3600
    assert not sync.crawl_due()
    assert sync.stale()
    now[0] += 1
    assert sync.crawl_due()
    # An explicit state is judged, not the stored one.
    fresh = dataclasses.replace(sync.state, full_crawl_at=now[0], refreshed_at=now[0])
    assert not sync.crawl_due(fresh)
    assert not sync.stale(fresh)
    assert sync.crawl_due(dataclasses.replace(fresh, next_page=3))  # left unfinished
    # A crawl cancelled half-way is due however recent the last full one.
    await cancelled_crawl(sync, after_pages=2)
    assert sync.state.full_crawl_at == crawled_at
    assert sync.crawl_due()
    await sync.crawl()
    assert not sync.crawl_due()


# --- two syncs on one database ---------------------------------------------------------------

APP_KEY, SYNC_KEY = "key-of-the-app", "key-of-the-sync"


def rendezvous(client: LemlistClient, mine: threading.Event, theirs: threading.Event) -> None:
    """Neither side asks for page 5 on before the other's first answer is in: they overlap."""
    real = client.inbox_page

    async def inbox_page(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        if page >= 5:
            assert await asyncio.to_thread(theirs.wait, 10)
        answer = await real(user_id, page, limit)
        mine.set()
        return answer

    client.inbox_page = inbox_page  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("mine", "theirs", "staggered"),
    [
        ("crawl", "crawl", False),
        ("crawl", "crawl", True),
        ("crawl", "refresh", True),
        ("refresh", "crawl", True),
    ],
    ids=["crawls-together", "crawl-joins-crawl", "refresh-during-crawl", "crawl-under-refresh"],
)
async def test_two_syncs_on_one_database_at_once(
    mine: str, theirs: str, staggered: bool, serve_demo: ServeDemo, folder: Path
) -> None:
    # An app (this event loop) and a `sync` process (a thread with a loop of its own),
    # each with its own database object, client and API key, on one loopback server.
    # Staggered: the crawl starts first, the other joins after its third page.
    base_url, demo = serve_demo(quick_config(size=2 * SIZE, api_keys=(APP_KEY, SYNC_KEY)))
    user = demo.team_user_ids[0]
    joined, app_began, sync_began = threading.Event(), threading.Event(), threading.Event()
    if not staggered:
        joined.set()
    demo.on_request(joined.set, after=3, path="/api/inbox", exact=True)
    app_waits = staggered and mine != "crawl"

    def other_process() -> object:
        async def run() -> object:
            with reopened(folder) as db:
                async with make_client(None, base_url=base_url, key=SYNC_KEY) as client:
                    rendezvous(client, sync_began, app_began)
                    return await getattr(InboxSync(client, db, user, page_size=PAGE), theirs)()

        if not app_waits:
            assert joined.wait(10)
        return asyncio.run(run())

    async def app() -> object:
        if app_waits:
            assert await asyncio.to_thread(joined.wait, 10)
        return await getattr(sync, mine)()

    with reopened(folder) as db:
        async with make_client(None, base_url=base_url, key=APP_KEY) as client:
            rendezvous(client, app_began, sync_began)
            sync = InboxSync(client, db, user, page_size=PAGE)
            results = await asyncio.gather(app(), asyncio.to_thread(other_process))
        assert all(isinstance(r, CrawlResult | RefreshResult) for r in results)
        ids = held(db, user)
        assert ids == demo.conversation_ids()
        assert len(ids) == len(set(ids)) == 2 * SIZE
        if mine == theirs == "crawl":  # the last commit is one crawl's end: the inbox is whole
            assert sync.state.complete
        # (Not so with a refresh: it writes back the state it read when it began, and may
        # commit after the crawl's end, leaving a stale frontier. Nothing is lost; a later
        # crawl resumes there.)
    order = [r.key for r in demo.log if r.path == "/api/inbox"]
    first_app, first_sync = order.index(APP_KEY), order.index(SYNC_KEY)
    last_app = len(order) - 1 - order[::-1].index(APP_KEY)
    last_sync = len(order) - 1 - order[::-1].index(SYNC_KEY)
    assert first_sync < last_app and first_app < last_sync  # they did overlap


async def test_a_crawl_behind_another_one_of_the_same_number_does_not_stop_early(
    folder: Path,
) -> None:
    # A `sync` process starts crawl 1 and stalls after page 1; the app resumes the same
    # crawl, walks pages 2-9 and is closed. The stalled crawl then meets only pages the
    # other one already saw: that is no server ignoring `page`, and no end of the inbox.
    size = 30 * PAGE
    demo = DemoLemlist(quick_config(size=size))
    user = demo.team_user_ids[0]
    stalled_at_2, gate = asyncio.Event(), asyncio.Event()
    async with make_client(demo) as theirs, make_client(demo) as mine:
        real = theirs.inbox_page

        async def stalled(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
            if page > 1:  # page 1 and the state are committed by now
                stalled_at_2.set()
                await gate.wait()
            return await real(user_id, page, limit)

        theirs.inbox_page = stalled  # type: ignore[method-assign]
        with reopened(folder) as their_db, reopened(folder) as my_db:
            behind = InboxSync(theirs, their_db, user, page_size=PAGE, concurrency=1)
            crawl = asyncio.create_task(behind.crawl())
            await stalled_at_2.wait()
            ahead = InboxSync(mine, my_db, user, page_size=PAGE)
            assert ahead.state.next_page == 2
            await cancelled_crawl(ahead, after_pages=9)
            assert len(held(my_db, user)) >= 9 * PAGE
            gate.set()
            await crawl
            assert held(my_db, user) == demo.conversation_ids()
            state = behind.state
            assert (state.complete, state.next_page) == (True, None)
