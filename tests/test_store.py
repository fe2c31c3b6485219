"""The inbox store: merge and order, paging, crawl, refresh, cancellation, cache, offline.

Most tests drive the store with a scripted fake client (exact control over pagination
and over what moves when); the last ones run it against the demo API, in-process and
over a real loopback socket, under lemlist's strict 20 requests / 2 s.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.errors import NetworkError
from lemlist_tui.api.models import (
    Contact,
    Conversation,
    InboxPage,
    Pagination,
    Participant,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
from lemlist_tui.sync import cache as cache_module
from lemlist_tui.sync import store as store_module
from lemlist_tui.sync.cache import AccountCache, DiskCache, InboxState
from lemlist_tui.sync.store import InboxStore

USER = "usr_me"
FINGERPRINT = "ef" * 32
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def conversation(n: int, *, read: bool = True) -> Conversation:
    """Conversation number ``n``: higher numbers are newer."""
    return Conversation(
        id=f"ibx_{n:06d}",
        contact=Contact(f"ctc_{n:06d}", f"Person {n}"),
        last_activity_at=T0 + timedelta(minutes=n),
        participants=(Participant(USER, False, read),),
    )


class FakeLemlist:
    """A scripted lemlist: an ordered inbox, honest pagination unless told otherwise."""

    def __init__(self, size: int, *, per_page: int | None = None) -> None:
        self.inbox = [conversation(n) for n in range(size, 0, -1)]
        self.newest = size
        self.per_page = per_page
        self.pages: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lie: Callable[[int, Pagination], Pagination] | None = None
        self.before_answer: Callable[[int], None] | None = None
        self.gate: asyncio.Event | None = None
        self.all_busy = asyncio.Event()
        """Set when ``busy_at`` requests are in flight at once."""
        self.busy_at = 0
        self.fail_pages: dict[int, BaseException] = {}
        self.threads_asked: list[tuple[str, bool]] = []
        self.marked: list[str] = []

    # -- what the tests do to the server --
    def add(self, k: int) -> list[Conversation]:
        made = [conversation(self.newest + i) for i in range(k, 0, -1)]
        self.newest += k
        self.inbox[:0] = made
        return made

    def touch(self, index: int) -> Conversation:
        """New activity on the conversation at ``index``: it moves to the top."""
        self.newest += 1
        moved = replace(self.inbox.pop(index), last_activity_at=T0 + timedelta(minutes=self.newest))
        self.inbox.insert(0, moved)
        return moved

    def ids(self) -> list[str]:
        return [c.id for c in self.inbox]

    # -- the client's interface, as the store uses it --
    async def inbox_page(self, user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        assert user_id == USER
        self.pages.append(page)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.busy_at and self.in_flight >= self.busy_at:
            self.all_busy.set()
        try:
            await asyncio.sleep(0)  # let the other requests in flight start
            if self.gate is not None:
                await self.gate.wait()
            if page in self.fail_pages:
                raise self.fail_pages[page]
            if self.before_answer is not None:
                self.before_answer(page)
            per_page = self.per_page or limit
            rows = self.inbox[(page - 1) * per_page : page * per_page]
            pages = math.ceil(len(self.inbox) / per_page)
            pagination = Pagination(
                len(self.inbox),
                page,
                page + 1 if page < pages else None,
                page - 1 if page > 1 else None,
                per_page,
                pages,
            )
            if self.lie is not None:
                pagination = self.lie(page, pagination)
            return InboxPage(tuple(rows), pagination)
        finally:
            self.in_flight -= 1

    async def thread(
        self, contact_id: str, user_id: str, *, limit: int = 100, mark_as_read: bool = False
    ) -> ThreadPage:
        self.threads_asked.append((contact_id, mark_as_read))
        message = ThreadMessage(f"act_{contact_id}", "emailsReplied", T0, "Re", "<p>hi</p>")
        return ThreadPage((message,), Pagination(1, 1, None, None, limit, 1))

    async def mark_read(self, contact_id: str, user_id: str) -> None:
        self.marked.append(contact_id)
        for index, c in enumerate(self.inbox):
            if c.contact_id == contact_id:
                self.inbox[index] = c.marked_read_for(user_id)


def store_for(
    server: FakeLemlist | None, cache: AccountCache | None = None, **options: Any
) -> InboxStore:
    options.setdefault("page_size", 10)
    return InboxStore(cast(LemlistClient, server), cache, USER, **options)


@pytest.fixture
def disk(tmp_path: Path) -> AccountCache:
    return DiskCache(tmp_path / "cache").account(FINGERPRINT)


def ids(store: InboxStore) -> list[str]:
    return [c.id for c in store.conversations]


# --- merge and order ---------------------------------------------------------------------


def test_order_is_newest_first_with_undated_last_and_ties_stable() -> None:
    store = store_for(None)
    undated = [replace(conversation(n), last_activity_at=None) for n in (90, 91)]
    tie_a = replace(conversation(50), id="ibx_tie_a")
    tie_b = replace(conversation(50), id="ibx_tie_b")
    store._merge([undated[0], conversation(3), tie_a])
    store._merge([conversation(70), undated[1], tie_b, conversation(1)])
    assert ids(store) == [
        "ibx_000070",
        "ibx_tie_a",
        "ibx_tie_b",
        "ibx_000003",
        "ibx_000001",
        "ibx_000090",
        "ibx_000091",
    ]


def test_merge_keeps_each_id_once_and_version_moves_only_on_change() -> None:
    store = store_for(None)
    assert store._merge([conversation(n) for n in range(1, 6)]) == (5, 0)
    version = store.version
    assert store._merge([conversation(n) for n in range(1, 6)]) == (0, 0)
    assert store.version == version
    newer = replace(conversation(2), last_activity_at=T0 + timedelta(days=1))
    unread = conversation(4, read=False)
    before = store.conversations
    assert store._merge([newer, unread, conversation(9)]) == (1, 2)
    assert store.version > version
    assert ids(store) == ["ibx_000002", "ibx_000009", "ibx_000005", "ibx_000004", "ibx_000003",
                          "ibx_000001"]  # fmt: skip
    assert store.get("ibx_000004") == unread
    assert [c.id for c in before] == [f"ibx_{n:06d}" for n in (5, 4, 3, 2, 1)]  # copy-on-write


def test_the_rest_of_a_snapshot_merges_under_what_is_held() -> None:
    store = store_for(None)
    store._merge([conversation(100), conversation(5)])  # page 1 and something older
    rest = [conversation(50), conversation(40), conversation(5)]
    store._absorb_rest(rest, {c.id: c for c in rest})
    assert ids(store) == ["ibx_000100", "ibx_000050", "ibx_000040", "ibx_000005"]
    assert all(store.get(cid) is not None for cid in ids(store))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 40), st.none() | st.integers(0, 30)), max_size=80),
        max_size=6,
    )
)
def test_merge_matches_a_plain_sort_whatever_the_batches(
    batches: list[list[tuple[int, int | None]]],
) -> None:
    # Small batches take the insort path, big ones the re-sort path: both must agree
    # with "last copy of each id wins, sorted newest first, undated last, stable".
    store = store_for(None)
    latest: dict[str, Conversation] = {}
    for batch in batches:
        made = [
            replace(
                conversation(n),
                last_activity_at=None if minute is None else T0 + timedelta(minutes=minute),
            )
            for n, minute in batch
        ]
        store._merge(made)
        for c in made:
            latest[c.id] = c
    assert sorted(ids(store)) == sorted(latest)
    assert len(set(ids(store))) == len(latest)
    stamps = [c.last_activity_at for c in store.conversations]
    dated = [s for s in stamps if s is not None]
    assert dated == sorted(dated, reverse=True)
    assert stamps[len(dated) :] == [None] * (len(stamps) - len(dated))
    assert all(store.get(c.id) == c for c in latest.values())


# --- paging -----------------------------------------------------------------------------------


async def test_first_page_then_more_until_complete() -> None:
    server = FakeLemlist(25)
    store = store_for(server)
    await store.load_first_page()
    assert ids(store) == server.ids()[:10]
    assert store.total == 25
    assert not store.complete
    assert store.fetched_at is not None
    assert await store.load_more() == 10
    assert await store.load_more() == 5
    assert store.complete
    assert ids(store) == server.ids()
    assert await store.load_more() == 0
    # The last page finished as a crawl does: one pass from page 1 (nothing new here).
    assert server.pages == [1, 2, 3, 1]


async def test_crawl_keeps_several_requests_in_flight_and_reports_progress() -> None:
    server = FakeLemlist(95)
    store = store_for(server, concurrency=4)
    seen: list[tuple[int, int | None]] = []
    await store.crawl(lambda done, total: seen.append((done, total)))
    assert ids(store) == server.ids()
    assert store.complete
    assert store.total == 95
    assert server.max_in_flight == 4
    assert sorted(server.pages) == [1, 1, *range(2, 11)]
    assert seen[0] == (1, 10)
    assert seen[-1] == (10, 10)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_conversations_moving_during_a_crawl_are_held_once_each() -> None:
    server = FakeLemlist(200)
    moves = iter(range(12))

    def shuffle(page: int) -> None:
        # The first twelve answers after page 1: two brand-new conversations and an old
        # one (from far down, often from a page not walked yet) jump to the top.
        if page > 1 and next(moves, None) is not None:
            server.add(2)
            server.touch(len(server.inbox) - 5 * page)

    server.before_answer = shuffle
    store = store_for(server)
    await store.crawl()
    server.before_answer = None
    assert ids(store) == server.ids()
    assert len(set(ids(store))) == len(server.inbox)


async def test_refresh_costs_new_pages_plus_one() -> None:
    server = FakeLemlist(100)
    store = store_for(server)
    await store.crawl()
    for k in (0, 5, 10, 25):
        server.pages.clear()
        server.add(k)
        result = await store.refresh()
        assert result.new == k
        assert result.requests == math.ceil(k / 10) + 1
        assert server.pages == list(range(1, result.requests + 1))
        assert ids(store) == server.ids()


async def test_refresh_counts_updated_conversations() -> None:
    server = FakeLemlist(40)
    store = store_for(server)
    await store.crawl()
    server.touch(30)
    server.touch(31)
    server.inbox[5] = server.inbox[5].marked_read_for("usr_other")
    result = await store.refresh()
    assert (result.new, result.updated) == (0, 3)
    assert ids(store) == server.ids()


async def test_refresh_of_an_empty_store_is_one_page() -> None:
    server = FakeLemlist(50)
    store = store_for(server)
    result = await store.refresh()
    assert (result.new, result.requests) == (10, 1)
    assert store.next_page == 2
    assert not store.complete


# --- lying pagination -----------------------------------------------------------------------


def _with(**changes: Any) -> Callable[[int, Pagination], Pagination]:
    return lambda page, p: replace(p, **changes)


@pytest.mark.parametrize(
    ("lie", "most_requests"),
    [
        # totalPages far too large: pages past the data are empty → stop at the first.
        (_with(total_pages=500, total_items=5000), 5 + 1 + 4 + 1),
        # totalPages too small, nextPage honest: keep following it.
        (lambda page, p: replace(p, total_pages=2, total_items=20), 5 + 1 + 1),
        # nextPage repeats forever.
        (lambda page, p: replace(p, next_page=page), 2),
        # nextPage goes back.
        (lambda page, p: replace(p, next_page=1, total_pages=None), 2),
        # No totalPages, no totalItems, only an honest nextPage.
        (_with(total_pages=None, total_items=None), 5 + 1),
    ],
    ids=["total-too-large", "total-too-small", "next-repeats", "next-goes-back", "next-only"],
)
async def test_lying_pagination_never_loops(
    lie: Callable[[int, Pagination], Pagination], most_requests: int
) -> None:
    server = FakeLemlist(50)
    server.lie = lie
    store = store_for(server)
    await asyncio.wait_for(store.crawl(), timeout=10)
    assert store.complete
    assert len(server.pages) <= most_requests
    assert set(ids(store)) <= set(server.ids())
    assert len(set(ids(store))) == len(ids(store))


@pytest.mark.parametrize("limit_ignored", [True, False])
async def test_a_server_that_ignores_page_stops_at_a_bound(limit_ignored: bool) -> None:
    # Always page 1's rows, with a nextPage and totalPages that go on forever.
    server = FakeLemlist(30, per_page=10 if limit_ignored else None)
    real = server.inbox_page

    async def always_first(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        answer = await real(user_id, 1, limit)
        return InboxPage(answer.conversations, replace(answer.pagination, current_page=page,
                         next_page=page + 1, total_pages=10**6, total_items=10**7))  # fmt: skip

    server.inbox_page = always_first  # type: ignore[method-assign]
    store = store_for(server, page_size=10)
    await asyncio.wait_for(store.crawl(), timeout=10)
    assert ids(store) == server.ids()[:10]
    assert len(server.pages) <= 2 * 4 + 4 + 4 + 2


async def test_the_server_serving_fewer_rows_than_asked_is_followed() -> None:
    server = FakeLemlist(57, per_page=4)  # limit=10 asked, 4 served: trust pagination
    store = store_for(server)
    await store.crawl()
    assert ids(store) == server.ids()


# --- cancellation ----------------------------------------------------------------------------


async def test_cancelling_a_crawl_leaves_a_consistent_store_and_no_task() -> None:
    server = FakeLemlist(120)
    store = store_for(server)
    await store.load_first_page()
    await store.load_more()
    server.gate = asyncio.Event()
    server.busy_at = 4
    crawl = asyncio.create_task(store.crawl())
    await server.all_busy.wait()
    crawl.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crawl
    assert server.in_flight == 0  # every request was cancelled and awaited
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert ids(store) == server.ids()[:20]
    assert store.next_page == 3
    assert not store.complete
    server.gate = None
    await store.crawl()
    assert ids(store) == server.ids()


async def test_an_error_mid_crawl_keeps_what_was_merged(disk: AccountCache) -> None:
    server = FakeLemlist(100)
    server.fail_pages[6] = NetworkError("the connection dropped")
    store = store_for(server, disk)
    with pytest.raises(NetworkError):
        await store.crawl()
    assert not store.complete
    assert store.next_page == 6
    assert ids(store)[:50] == server.ids()[:50]
    assert server.in_flight == 0
    # What was merged is on disk: a new run resumes at page 6.
    resumed = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT))
    assert resumed.load_cached()
    assert resumed.next_page == 6
    del server.fail_pages[6]
    server.pages.clear()
    await resumed.crawl()
    assert ids(resumed) == server.ids()
    assert sorted(server.pages) == [1, 1, *range(6, 11)]


# --- the cache -------------------------------------------------------------------------------


async def test_a_warm_start_shows_the_cache_then_refreshes_cheaply(disk: AccountCache) -> None:
    server = FakeLemlist(80)
    await store_for(server, disk).crawl()
    server.add(5)
    server.pages.clear()
    warm = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT))
    assert warm.load_cached()
    assert warm.from_cache
    assert warm.complete
    assert len(warm.conversations) == 80
    result = await warm.refresh()
    assert (result.new, result.requests) == (5, 2)
    assert not warm.from_cache
    assert ids(warm) == server.ids()


async def test_head_first_then_the_rest_off_the_loop(
    disk: AccountCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "HEAD_ROWS", 25)
    monkeypatch.setattr(cache_module, "CHUNK_MIN", 4)
    monkeypatch.setattr(cache_module, "CHUNK_AVERAGE", 8)
    monkeypatch.setattr(cache_module, "CHUNK_MAX", 16)
    server = FakeLemlist(200)
    await store_for(server, disk).crawl()
    store = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT))
    assert store.load_cached(head_only=True)
    assert ids(store) == server.ids()[:25]
    assert store.rest_pending
    version = store.version
    await store.load_cached_rest()
    assert not store.rest_pending
    assert store.version > version
    assert ids(store) == server.ids()
    await store.load_cached_rest()  # nothing left: a no-op


async def test_a_refresh_before_the_rest_waits_for_it_and_loses_nothing(
    disk: AccountCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "HEAD_ROWS", 15)
    server = FakeLemlist(60)
    await store_for(server, disk).crawl()
    server.add(3)
    store = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT))
    store.load_cached(head_only=True)
    await store.load_first_page()  # brings the 3 new; no save while the rest is pending
    on_disk = DiskCache(disk.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert on_disk is not None
    assert len(on_disk[1]) == 60
    result = await store.refresh()  # loads the rest first, or page 1 would look all new
    assert (result.new, result.requests) == (0, 1)
    assert ids(store) == server.ids()
    on_disk = DiskCache(disk.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert on_disk is not None
    assert [c.id for c in on_disk[1]] == server.ids()


async def test_network_first_never_replaces_an_unread_cache(disk: AccountCache) -> None:
    server = FakeLemlist(60)
    await store_for(server, disk).crawl()
    store = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT))
    await store.load_first_page()  # the app forgot load_cached: the cache is read anyway
    assert len(store.conversations) == 60
    await store.refresh()
    on_disk = DiskCache(disk.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert on_disk is not None
    assert len(on_disk[1]) == 60


async def test_freshness(disk: AccountCache, monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeLemlist(10)
    store = store_for(server, disk, fresh_for=300)
    assert store.stale
    assert store.fetched_at is None
    await store.refresh()
    assert not store.stale
    now = store.fetched_at
    assert now is not None
    later = store_for(server, DiskCache(disk.path.parent).account(FINGERPRINT), fresh_for=300)
    later.load_cached()
    assert later.fetched_at == now
    assert later.from_cache
    assert not later.stale  # a cache saved moments ago is fresh
    monkeypatch.setattr("time.time", lambda: now + 301)
    assert later.stale


async def test_periodic_saves_during_a_long_crawl(
    disk: AccountCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "SAVE_COST_FACTOR", 0)
    server = FakeLemlist(300)
    saves: list[int] = []
    real = disk.save_inbox

    def counting(user_id: str, conversations: Any, state: InboxState, **kw: Any) -> None:
        saves.append(len(conversations))
        real(user_id, conversations, state, **kw)

    disk.save_inbox = counting  # type: ignore[method-assign]
    await store_for(server, disk, save_every=0).crawl()
    assert len(saves) > 3
    assert saves[-1] == 300
    assert saves == sorted(saves)


async def test_a_failing_cache_is_reported_not_raised(
    disk: AccountCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeLemlist(30)
    store = store_for(server, disk)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(disk, "save_inbox", full)
    await store.crawl()
    assert store.complete
    assert store.cache_error is not None
    assert "No space left on device" in store.cache_error


# --- threads, read state, offline ------------------------------------------------------------


async def test_threads_are_fetched_without_marking_read_and_kept(disk: AccountCache) -> None:
    server = FakeLemlist(10)
    store = store_for(server, disk)
    await store.load_first_page()
    target = store.conversations[3]
    assert store.cached_thread(target) is None
    page = await store.thread(target)
    assert server.threads_asked == [(target.contact_id, False)]
    assert store.cached_thread(target) == page
    again = store_for(None, DiskCache(disk.path.parent).account(FINGERPRINT))
    assert again.cached_thread(target) == page
    assert await again.thread(target) == page  # offline: the cached one


async def test_mark_read_updates_server_held_copy_and_cache(disk: AccountCache) -> None:
    server = FakeLemlist(30)
    server.inbox[4] = conversation(26, read=False)
    store = store_for(server, disk)
    await store.crawl()
    target = store.conversations[4]
    assert target.is_unread_for(USER)
    version = store.version
    updated = await store.mark_read(target)
    assert not updated.is_unread_for(USER)
    assert server.marked == [target.contact_id]
    assert store.conversations[4] == updated
    assert store.version > version
    on_disk = DiskCache(disk.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert on_disk is not None
    assert not on_disk[1][4].is_unread_for(USER)


async def test_offline_serves_the_cache_and_refuses_the_network(disk: AccountCache) -> None:
    await store_for(FakeLemlist(30), disk).crawl()
    offline = store_for(None, DiskCache(disk.path.parent).account(FINGERPRINT))
    assert offline.offline
    assert offline.load_cached()
    assert len(offline.conversations) == 30
    for operation in (
        offline.load_first_page(),
        offline.load_more(),
        offline.crawl(),
        offline.refresh(),
        offline.mark_read(offline.conversations[0]),
        offline.thread(offline.conversations[0]),
    ):
        with pytest.raises(NetworkError, match="offline"):
            await operation
    assert len(offline.conversations) == 30


def test_no_cache_at_all_is_fine() -> None:
    store = store_for(None)
    assert not store.load_cached()
    assert store.cached_thread(conversation(1)) is None


# --- against the demo API ----------------------------------------------------------------------

FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def strict_demo() -> DemoLemlist:
    return DemoLemlist(DemoConfig(size=3000, seed=5))


@pytest.fixture(params=["asgi", "loopback"])
async def demo_store(
    request: pytest.FixtureRequest,
    serve_demo: Callable[[DemoConfig], tuple[str, DemoLemlist]],
    tmp_path: Path,
) -> AsyncIterator[tuple[InboxStore, DemoLemlist]]:
    """A store on a 3,000-conversation demo with lemlist's strict 20 requests / 2 s."""
    config = DemoConfig(size=3000, seed=5)
    if request.param == "loopback":
        base_url, demo = serve_demo(config)
        transport = None
    else:
        demo, base_url = DemoLemlist(config), DEMO_BASE_URL
        transport = httpx.ASGITransport(app=demo)
    # Our own limiter: the process-wide one may hold starts from an earlier test.
    async with LemlistClient(
        DEMO_API_KEY,
        base_url=base_url,
        transport=transport,
        limiter=SlidingWindowLimiter(20, 2.0),
        retry=FAST_RETRY,
    ) as client:
        cache = DiskCache(tmp_path / "cache").account(FINGERPRINT)
        yield InboxStore(client, cache, demo.team_user_ids[0], page_size=100), demo


async def test_full_crawl_of_3000_within_the_rate_limit(
    demo_store: tuple[InboxStore, DemoLemlist],
) -> None:
    store, demo = demo_store
    await store.crawl()
    assert ids(store) == demo.conversation_ids()
    assert len(set(ids(store))) == 3000
    assert store.total == 3000
    assert store.complete
    assert demo.count(status=429) == 0
    assert demo.max_in_window() <= 20
    assert demo.count(path_prefix="/api/inbox") == 31  # 30 pages + the final pass from page 1


@pytest.fixture
def quick_demo() -> DemoLemlist:
    # The rate limit is not the subject here: a short window keeps these tests quick.
    return DemoLemlist(DemoConfig(size=600, seed=9, rate_window=0.1))


@pytest.fixture
async def quick_client(quick_demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=quick_demo),
        limiter=SlidingWindowLimiter(20, 0.1),
        retry=FAST_RETRY,
    ) as client:
        yield client


async def test_demo_conversations_moving_between_pages_mid_crawl(
    quick_demo: DemoLemlist, quick_client: LemlistClient, tmp_path: Path
) -> None:
    user = quick_demo.team_user_ids[0]
    original = quick_demo.conversation_ids()
    real = quick_client.inbox_page
    answered = 0

    async def moving(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        nonlocal answered
        answer = await real(user_id, page, limit)
        answered += 1
        if answered in (2, 4):  # between pages: new ones on top, old ones lifted
            quick_demo.add_conversations(7)
            quick_demo.touch(original[-1 - answered])
            quick_demo.touch(original[250 + answered])
        return answer

    quick_client.inbox_page = moving  # type: ignore[method-assign]
    store = InboxStore(quick_client, None, user, page_size=50)
    await store.crawl()
    assert ids(store) == quick_demo.conversation_ids()
    assert len(set(ids(store))) == 614


async def test_demo_warm_cache_and_five_new_cost_two_requests(
    quick_demo: DemoLemlist, quick_client: LemlistClient, tmp_path: Path
) -> None:
    user = quick_demo.team_user_ids[0]
    root = tmp_path / "cache"
    await InboxStore(quick_client, DiskCache(root).account(FINGERPRINT), user).crawl()
    made = quick_demo.add_conversations(5)
    before = quick_demo.count(path_prefix="/api/inbox")
    warm = InboxStore(quick_client, DiskCache(root).account(FINGERPRINT), user)
    assert warm.load_cached(head_only=True)
    await warm.load_cached_rest()
    await warm.refresh()
    assert quick_demo.count(path_prefix="/api/inbox") - before <= 2
    assert ids(warm)[:5] == made
    assert ids(warm) == quick_demo.conversation_ids()


async def test_demo_mark_read_reaches_server_store_and_cache(
    quick_demo: DemoLemlist, quick_client: LemlistClient, tmp_path: Path
) -> None:
    user = quick_demo.team_user_ids[0]
    root = tmp_path / "cache"
    store = InboxStore(quick_client, DiskCache(root).account(FINGERPRINT), user)
    await store.load_first_page()
    target = next(c for c in store.conversations if c.is_unread_for(user))
    assert not quick_demo.is_read(target.id, user)
    page = await store.thread(target)
    assert page.messages
    assert not quick_demo.is_read(target.id, user)  # reading the thread is not marking it
    await store.mark_read(target)
    assert quick_demo.is_read(target.id, user)
    held = store.get(target.id)
    assert held is not None
    assert not held.is_unread_for(user)
    loaded = DiskCache(root).account(FINGERPRINT).load_inbox(user)
    assert loaded is not None
    assert not next(c for c in loaded[1] if c.id == target.id).is_unread_for(user)
    # And lemlist agrees on the next refresh: nothing changed.
    assert (await store.refresh()).updated == 0
