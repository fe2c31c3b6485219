"""InboxSync's rules, one at a time: which pages a crawl, a refresh and load-more ask for,
what the database and the saved sync state hold after each, and when a crawl reconciles.

Against the demo lemlist API in-process (``httpx.ASGITransport``); a database on a real
file; a fake clock where time matters. A lying server is the real demo's answer with its
pagination rewritten on the way in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from support.clients import PAGE, PAGES, SIZE, make_client, quick_config

from lemlist_tui.api.client import LemlistClient
from lemlist_tui.api.errors import NotFoundError
from lemlist_tui.api.models import Conversation, InboxPage
from lemlist_tui.db import InboxDatabase
from lemlist_tui.demo import DemoLemlist, Fault
from lemlist_tui.sync.engine import InboxSync

Real = Callable[..., Awaitable[InboxPage]]


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config())


@pytest.fixture
def user(demo: DemoLemlist) -> str:
    return demo.team_user_ids[0]


class Clock:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def held(db: InboxDatabase, user: str) -> list[str]:
    return [c.id for c in db.iter_conversations(user)]


def list_pages(demo: DemoLemlist, since: int = 0) -> list[int]:
    return [
        int(r.query.get("page", "1"))
        for r in demo.log[since:]
        if r.path.rstrip("/") == "/api/inbox"
    ]


def relabel(answer: InboxPage, **pagination: object) -> InboxPage:
    return dataclasses.replace(
        answer,
        pagination=dataclasses.replace(answer.pagination, **pagination),  # type: ignore[arg-type]
    )


def lie(client: LemlistClient, rewrite: Callable[[InboxPage, int], InboxPage]) -> None:
    """Every inbox page the client receives, rewritten by ``rewrite(page, number)``."""
    real: Real = client.inbox_page

    async def lying(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        return rewrite(await real(user_id, page, limit), page)

    client.inbox_page = lying  # type: ignore[method-assign]


async def crawl_failing_at_page_4(sync: InboxSync, demo: DemoLemlist) -> None:
    """A crawl that stops at page 4: lemlist answers it 404, once."""
    demo.faults.append(Fault(page=4, status=404, times=1))
    with pytest.raises(NotFoundError):
        await sync.crawl()


# --- construction ----------------------------------------------------------------------------


async def test_defaults_ask_for_pages_of_100_and_go_stale_after_five_minutes(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    clock = Clock()
    sync = InboxSync(client, db, user, clock=clock)
    await sync.refresh()
    assert {r.query.get("limit") for r in demo.log} == {"100"}
    assert db.counts(user)[0] == 100
    refreshed = sync.state.refreshed_at
    assert refreshed is not None
    clock.now = refreshed + 299.5  # read as 300.5
    assert sync.stale()
    clock.now = refreshed + 298.5  # read as 299.5
    assert not sync.stale()


def test_page_size_and_concurrency_must_be_at_least_one(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    InboxSync(client, db, user, page_size=1, concurrency=1)  # the least allowed
    for options in ({"page_size": 0}, {"concurrency": 0}):
        with pytest.raises(ValueError, match=r"^page_size and concurrency must be at least 1$"):
            InboxSync(client, db, user, **options)  # type: ignore[arg-type]


# --- the crawl -------------------------------------------------------------------------------


async def test_a_steady_crawl_reconciles_and_its_end_is_the_last_refresh(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    clock = Clock()
    sync = InboxSync(client, db, user, page_size=PAGE, clock=clock)
    await sync.crawl()
    demo.delete_conversations(demo.conversation_ids()[5:7])
    result = await sync.crawl()
    assert (result.reconciled, result.removed) == (True, 2)
    state = sync.state
    assert state.complete and state.next_page is None
    assert state.total_items == SIZE - 2
    assert state.full_crawl_at is not None
    assert state.refreshed_at == state.full_crawl_at  # stamped once, at the end
    assert held(db, user) == demo.conversation_ids()


async def test_conversations_arriving_mid_crawl_count_as_new(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    hook = demo.on_request(
        lambda: demo.add_conversations(3), after=4, path="/api/inbox", exact=True
    )
    result = await sync.crawl()
    assert hook.fired
    assert result.new == SIZE + 3 == db.counts(user)[0]
    assert not result.reconciled  # the walk from the top met them: not steady


async def test_one_page_reporting_another_total_makes_the_crawl_unsteady(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.crawl()
    doomed = demo.conversation_ids()[-1]
    demo.delete_conversations([doomed])
    lie(client, lambda page, n: relabel(page, total_items=SIZE + 7) if n == 3 else page)
    result = await sync.crawl()
    assert (result.reconciled, result.removed) == (False, 0)
    assert doomed in held(db, user)


async def test_a_new_crawl_after_load_more_starts_at_page_one(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.load_more()
    await sync.load_more()
    assert sync.state.next_page == 3
    since = len(demo.log)
    result = await sync.crawl()
    assert sorted(set(list_pages(demo, since))) == list(range(1, PAGES + 1))
    assert result.reconciled
    assert sync.state.crawl == 1


async def test_a_crawl_under_another_page_size_is_a_new_crawl(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    await crawl_failing_at_page_4(sync, demo)
    assert sync.state.next_page == 4
    doomed = demo.conversation_ids()[:2]  # held, and seen by the unfinished crawl
    demo.delete_conversations(doomed)
    other = InboxSync(client, db, user, page_size=PAGE + 5)
    result = await other.crawl()
    assert (result.reconciled, result.removed) == (True, 2)
    assert other.state.crawl == 2
    assert held(db, user) == demo.conversation_ids()


async def test_a_failed_crawl_keeps_the_total_and_the_time_of_page_one(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    clock = Clock()
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1, clock=clock)
    demo.faults.append(Fault(page=3, status=404, times=1))
    with pytest.raises(NotFoundError):
        await sync.crawl()
    state = sync.state
    assert state.total_items == SIZE
    first = state.refreshed_at
    assert first is not None  # page 1 is fresh
    assert (state.next_page, state.pages_seen) == (3, 2)
    # Resumed at page 3, then failing again: page 1 was not fetched again, nor is it fresher.
    await crawl_failing_at_page_4(sync, demo)
    assert sync.state.refreshed_at == first
    assert sync.state.next_page == 4


@pytest.mark.parametrize(
    ("second", "expected"),
    [(None, SIZE), (SIZE + 3, SIZE + 3)],
    ids=["page-2-without-total", "page-2-with-another-total"],
)
async def test_the_total_saved_mid_crawl_is_the_last_one_reported(
    second: int | None,
    expected: int,
    client: LemlistClient,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    lie(client, lambda page, n: relabel(page, total_items=second) if n == 2 else page)
    demo.faults.append(Fault(page=3, status=404, times=1))
    with pytest.raises(NotFoundError):
        await sync.crawl()
    assert sync.state.total_items == expected


async def test_progress_keeps_the_page_count_when_later_pages_omit_it(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    lie(client, lambda page, n: relabel(page, total_pages=None) if n > 1 else page)
    reports: list[tuple[int, int | None]] = []
    await sync.crawl(lambda done, total: reports.append((done, total)))
    assert len(reports) > 2
    assert all(total == PAGES for _, total in reports[:-1])
    assert reports[-1] == (PAGES, PAGES)


async def test_a_server_ignoring_page_is_left_after_twelve_stale_pages(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    real: Real = client.inbox_page

    async def page_one_forever(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        answer = await real(user_id, 1, limit)
        return relabel(answer, current_page=page, next_page=page + 1, total_pages=10**6)

    client.inbox_page = page_one_forever  # type: ignore[method-assign]
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=4)
    await sync.crawl()
    # 2 x concurrency + 4 = 12 pages in a row that brought nothing new, then it stops
    # (the page and the walk from the top aside, at most the 3 others in flight).
    assert 1 + 12 + 1 <= sync.requests <= 1 + 12 + 3 + 1
    assert db.counts(user)[0] == PAGE


async def test_a_page_repeating_an_earlier_one_past_page_one_brings_nothing_new(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    real: Real = client.inbox_page

    async def page_two_forever(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        answer = await real(user_id, min(page, 2), limit)
        return relabel(answer, current_page=page, next_page=page + 1)

    client.inbox_page = page_two_forever  # type: ignore[method-assign]
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.crawl()
    # Past totalPages a page is followed only while it brings something not walked yet:
    # pages 1 to 10, then the walk from the top.
    assert sync.requests == PAGES + 1
    assert db.counts(user)[0] == 2 * PAGE


async def test_a_failed_page_still_lets_the_pages_answered_with_it_be_committed(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    real: Real = client.inbox_page
    arrived: list[int] = []
    together = asyncio.Event()

    async def in_step(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        if page == 1:
            return await real(user_id, page, limit)
        try:
            return await real(user_id, page, limit)
        finally:
            arrived.append(page)
            if len(arrived) == 4:
                together.set()
            await together.wait()  # pages 2 to 5 end in the same turn of the loop

    client.inbox_page = in_step  # type: ignore[method-assign]
    demo.faults.append(Fault(page=2, status=404, times=1))
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=4)
    with pytest.raises(NotFoundError):
        await sync.crawl()
    assert len(held(db, user)) == 4 * PAGE  # pages 1, 3, 4 and 5
    assert sync.state.next_page == 2
    resumed = await sync.crawl()
    assert resumed.reconciled
    assert held(db, user) == demo.conversation_ids()


async def test_a_failed_page_cancels_and_awaits_those_in_flight_and_is_what_is_raised(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    demo.faults.append(Fault(page=2, status=404, times=1))
    for number in (3, 4, 5):
        demo.faults.append(Fault(page=number, delay=30.0, times=1))
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=4)
    before = asyncio.all_tasks()
    async with asyncio.timeout(5):
        with pytest.raises(NotFoundError):
            await sync.crawl()
    assert asyncio.all_tasks() <= before
    assert len(held(db, user)) == PAGE


# --- load-more -------------------------------------------------------------------------------


async def test_load_more_from_nothing_saves_what_the_page_said(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    assert await sync.load_more() == PAGE
    state = sync.state
    assert (state.total_items, state.pages_seen, state.next_page) == (SIZE, 1, 2)
    assert not state.complete
    assert list_pages(demo) == [1]


async def test_load_more_goes_on_with_a_crawl_left_unfinished_on_a_whole_inbox(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    await sync.crawl()
    await crawl_failing_at_page_4(sync, demo)
    assert sync.state.complete and sync.state.next_page == 4
    since = len(demo.log)
    assert await sync.load_more() == 0
    assert list_pages(demo, since) == [4]
    assert (sync.state.next_page, sync.state.pages_seen) == (5, 4)


async def test_a_page_load_more_brings_mid_crawl_counts_for_the_crawl(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE, concurrency=1)
    await crawl_failing_at_page_4(sync, demo)
    assert await sync.load_more() == PAGE  # page 4
    since = len(demo.log)
    result = await sync.crawl()
    assert 4 not in list_pages(demo, since)[1:]  # resumed at 5 (page 1 is the walk's)
    assert list_pages(demo, since)[0] == 5
    assert (result.reconciled, result.removed) == (True, 0)
    assert held(db, user) == demo.conversation_ids()


# --- the page cap ----------------------------------------------------------------------------


@pytest.fixture
def big_demo() -> DemoLemlist:
    return DemoLemlist(quick_config(size=25 * PAGE))


@pytest.fixture
async def big_client(big_demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with make_client(big_demo) as client:
        yield client


def too_few(page: InboxPage, _: int) -> InboxPage:
    return relabel(page, total_items=5 * PAGE, per_page=5)


CAP = 2 * 5 + 10
"""totalItems 100 in the pages of 20 the server really sends (not the perPage it claims)."""


async def test_a_refresh_stops_at_the_page_cap(
    big_client: LemlistClient, big_demo: DemoLemlist, db: InboxDatabase
) -> None:
    user = big_demo.team_user_ids[0]
    sync = InboxSync(big_client, db, user, page_size=PAGE)
    await sync.crawl()
    big_demo.add_conversations(25 * PAGE)
    lie(big_client, too_few)
    since = len(big_demo.log)
    result = await sync.refresh()  # every page brings something new, up to the cap
    assert list_pages(big_demo, since) == list(range(1, CAP + 1))
    assert (result.requests, result.new) == (CAP, CAP * PAGE)


async def test_load_more_ends_at_the_page_cap(
    big_client: LemlistClient, big_demo: DemoLemlist, db: InboxDatabase
) -> None:
    user = big_demo.team_user_ids[0]
    lie(big_client, too_few)
    sync = InboxSync(big_client, db, user, page_size=PAGE)
    calls = 0
    while not sync.state.complete and calls < 40:
        await sync.load_more()
        calls += 1
    assert calls == CAP
    assert sync.state.next_page is None
    assert await sync.load_more() == 0  # whole: nothing more is asked for
    assert list_pages(big_demo) == list(range(1, CAP + 1))


# --- refresh ---------------------------------------------------------------------------------


async def test_a_refresh_keeps_the_total_when_the_server_stops_giving_one(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.crawl()
    demo.add_conversations(1)
    lie(client, lambda page, n: relabel(page, total_items=None))
    result = await sync.refresh()
    assert result.new == 1
    assert sync.state.total_items == SIZE


@pytest.mark.parametrize(("held_pages", "whole"), [(1, True), (2, False)])
async def test_a_refresh_reaching_the_end_just_before_the_frontier_makes_the_inbox_whole(
    held_pages: int,
    whole: bool,
    client: LemlistClient,
    db: InboxDatabase,
    demo: DemoLemlist,
    user: str,
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    for _ in range(held_pages):
        await sync.load_more()
    frontier = held_pages + 1
    assert sync.state.next_page == frontier
    ids = demo.conversation_ids()
    demo.delete_conversations(ids[PAGE // 2 :])  # one page left, half of it
    demo.touch(ids[0])
    await sync.refresh()
    # Page 1 is now the last: the inbox is whole only if page 1 was the frontier's previous.
    assert sync.state.complete is whole
    assert sync.state.next_page == (None if whole else frontier)


# --- threads and labels ----------------------------------------------------------------------


async def test_labels_are_fetched_and_kept(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    labels = await sync.labels()
    assert labels
    assert set(db.labels()) == set(labels)


async def test_a_conversation_without_a_contact_has_no_thread(
    client: LemlistClient, db: InboxDatabase, user: str
) -> None:
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.refresh()
    conversation = next(iter(db.iter_conversations(user)))
    contact = dataclasses.replace(conversation.contact, id=None)
    orphan: Conversation = dataclasses.replace(conversation, contact=contact, lead_id=None)
    with pytest.raises(NotFoundError, match=r"^lemlist has no contact for this conversation\.$"):
        await sync.thread(orphan)


async def test_a_crawl_keeps_what_another_process_wrote_to_the_fields_it_left_alone(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    # Two apps on one account: while this crawl walks back from the top (conversations
    # arrived meanwhile: it turns unsteady), the other one completes a full crawl. Its
    # time, a field this crawl never changes, must survive this crawl's saves.
    other = InboxDatabase(db.folder)
    firsts = 0

    def meanwhile(answer: InboxPage, number: int) -> InboxPage:
        nonlocal firsts
        if number == PAGES:
            demo.add_conversations(3)  # page 1 brings them on the walk back
        if number == 1:
            firsts += 1
            if firsts == 2:
                state = other.sync_state(user)
                assert state is not None
                other.save_sync_state(user, dataclasses.replace(state, full_crawl_at=4242.0))
        return answer

    lie(client, meanwhile)
    try:
        result = await InboxSync(client, db, user, page_size=PAGE, concurrency=1).crawl()
        assert firsts == 2 and not result.reconciled
        state = db.sync_state(user)
        assert state is not None and state.complete
        assert state.full_crawl_at == 4242.0
    finally:
        other.close()
