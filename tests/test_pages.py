"""The page-walk policy: when a page is the last, how far any walk may go, which page next.

No IO: pages are made here, honest or lying, and the plan is driven by hand, with several
pages in flight and answers arriving in any order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemlist_tui.api.models import Contact, Conversation, InboxPage, Pagination
from lemlist_tui.sync.pages import PagePlan, is_last_page, page_cap


def rows(page: int, count: int) -> tuple[Conversation, ...]:
    return tuple(
        Conversation(id=f"ibx_{page}_{n}", contact=Contact(f"ctc_{page}_{n}", None))
        for n in range(count)
    )


def honest(total_items: int, page: int, per_page: int = 10) -> InboxPage:
    """Page ``page`` of an inbox of ``total_items``, as lemlist paginates it."""
    pages = math.ceil(total_items / per_page)
    count = max(0, min(per_page, total_items - (page - 1) * per_page))
    pagination = Pagination(
        total_items,
        page,
        page + 1 if page < pages else None,
        page - 1 if page > 1 else None,
        per_page,
        pages,
    )
    return InboxPage(rows(page, count), pagination)


def page_with(number: int, count: int, **pagination: int | None) -> InboxPage:
    fields: dict[str, int | None] = {
        "total_items": 100,
        "current_page": number,
        "next_page": number + 1,
        "previous_page": None,
        "per_page": 10,
        "total_pages": 10,
        **pagination,
    }
    return InboxPage(rows(number, count), Pagination(**fields))  # type: ignore[arg-type]


# --- is_last_page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "last"),
    [
        (page_with(3, 10), False),
        (page_with(3, 10, next_page=9), False),  # skips ahead: not the end
        (page_with(3, 0), True),  # totalPages too large: the data ended
        (page_with(3, 10, next_page=None), True),
        (page_with(3, 10, next_page=3), True),  # repeats the page just read
        (page_with(3, 10, next_page=1), True),  # goes back
        (page_with(3, 10, total_pages=2), False),  # totalPages too small: nextPage wins
    ],
    ids=["next", "skip-ahead", "empty", "no-next", "repeat", "back", "total-too-small"],
)
def test_is_last_page(page: InboxPage, last: bool) -> None:
    assert is_last_page(3, page) is last


def test_is_last_page_judges_the_page_asked_for_not_the_one_claimed() -> None:
    # A server that ignores ``page`` claims page 1 and nextPage 2 for page 5: that is a
    # nextPage going back from the page read.
    claimed_first = page_with(5, 10, current_page=1, next_page=2)
    assert is_last_page(5, claimed_first)
    assert not is_last_page(1, claimed_first)


# --- page_cap -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pagination", "rows_on_page", "page_size", "cap"),
    [
        (Pagination(1000, 1, 2, None, 100, 10), 100, 100, 2 * 10 + 10),
        # The rows actually served count over what was asked (the server serves fewer).
        (Pagination(1000, 1, 2, None, 100, 10), 40, 100, 2 * 25 + 10),
        (Pagination(1000, 1, 2, None, 50, 10), 0, 100, 2 * 20 + 10),
        (Pagination(1000, 1, 2, None, None, 10), 0, 25, 2 * 40 + 10),
        (Pagination(0, 1, None, None, 100, 0), 0, 100, 10),
        # No totalItems (or a negative one): totalPages; neither: a fixed bound.
        (Pagination(None, 1, 2, None, 100, 7), 100, 100, 2 * 7 + 10),
        (Pagination(-5, 1, 2, None, 100, 7), 100, 100, 2 * 7 + 10),
        (Pagination(None, 1, 2, None, 100, None), 100, 100, 10_000),
        (Pagination(None, 1, 2, None, 100, -1), 100, 100, 10_000),
    ],
)
def test_page_cap(pagination: Pagination, rows_on_page: int, page_size: int, cap: int) -> None:
    assert page_cap(pagination, rows_on_page, page_size) == cap


def test_page_cap_is_never_below_what_was_announced() -> None:
    for total in (0, 1, 99, 100, 101, 12_345):
        pages = math.ceil(total / 100)
        assert page_cap(Pagination(total, 1, None, None, 100, pages), 100, 100) >= pages + 10


# --- PagePlan -----------------------------------------------------------------------------


def drain(plan: PagePlan) -> list[int]:
    taken: list[int] = []
    while (number := plan.take()) is not None:
        taken.append(number)
    return taken


def test_an_honest_walk_takes_every_page_once_then_stops() -> None:
    plan = PagePlan(2, honest(95, 1).pagination, cap=100, stale_limit=12)
    taken = drain(plan)
    assert taken == list(range(2, 11))
    for number in taken:
        plan.record(number, honest(95, number), new_ids=10)
    assert plan.take() is None
    assert plan.frontier() == 11


def test_a_first_page_that_ends_the_inbox_leaves_nothing_to_take() -> None:
    assert PagePlan(2, honest(7, 1).pagination, cap=100, stale_limit=12).take() is None
    repeats = page_with(1, 10, next_page=1).pagination
    assert PagePlan(2, repeats, cap=100, stale_limit=12).take() is None


def test_an_empty_page_stops_the_walk_there() -> None:
    # totalPages far too large: the data ends at page 5.
    first = page_with(1, 10, total_pages=500, total_items=5000).pagination
    plan = PagePlan(2, first, cap=1010, stale_limit=12)
    in_flight = [plan.take() for _ in range(4)]
    assert in_flight == [2, 3, 4, 5]
    plan.record(5, page_with(5, 0, total_pages=500), new_ids=0)
    plan.record(2, page_with(2, 10, total_pages=500), new_ids=10)
    assert plan.take() is None  # nothing at or after the empty page 5 is asked for
    assert plan.frontier() == 3  # pages 3 and 4 are still owed


def test_next_page_beyond_total_pages_is_followed_while_it_brings_new_ids() -> None:
    first = page_with(1, 10, total_pages=2, total_items=20).pagination
    plan = PagePlan(2, first, cap=10_000, stale_limit=12)
    assert drain(plan) == [2]
    plan.record(2, page_with(2, 10, total_pages=2), new_ids=10)
    assert drain(plan) == [3]
    plan.record(3, page_with(3, 10, total_pages=2), new_ids=4)
    assert drain(plan) == [4]
    plan.record(4, page_with(4, 10, total_pages=2), new_ids=0)  # nothing new: believe it
    assert plan.take() is None


def test_a_next_page_that_goes_back_or_repeats_ends_the_walk() -> None:
    for next_page in (1, 3):
        plan = PagePlan(2, honest(100, 1).pagination, cap=100, stale_limit=12)
        assert [plan.take(), plan.take()] == [2, 3]
        plan.record(3, page_with(3, 10, next_page=next_page), new_ids=10)
        plan.record(2, page_with(2, 10), new_ids=10)
        assert plan.take() is None  # page 4 of 10 would come next
        assert plan.frontier() == 4


def test_no_page_beyond_the_cap_is_ever_taken() -> None:
    first = page_with(1, 10, total_pages=10**6, total_items=10**7).pagination
    plan = PagePlan(2, first, cap=7, stale_limit=10**6)
    assert drain(plan) == list(range(2, 8))


def test_a_server_that_ignores_page_is_left_after_stale_limit_pages() -> None:
    # Every page answers page 1's rows: nothing new, ever again.
    first = page_with(1, 10, total_pages=10**6, total_items=10**7).pagination
    plan = PagePlan(2, first, cap=10**6, stale_limit=5)
    asked: list[int] = []
    while (number := plan.take()) is not None:
        asked.append(number)
        plan.record(number, page_with(number, 10, total_pages=10**6), new_ids=0)
    assert asked == [2, 3, 4, 5, 6]


def test_a_page_bringing_something_new_resets_the_stale_count() -> None:
    first = page_with(1, 10, total_pages=10**6, total_items=10**7).pagination
    plan = PagePlan(2, first, cap=10**6, stale_limit=3)
    asked: list[int] = []
    while (number := plan.take()) is not None:
        asked.append(number)
        plan.record(number, page_with(number, 10, total_pages=10**6), new_ids=number == 4)
    assert asked == [2, 3, 4, 5, 6, 7]


def test_frontier_is_the_first_page_not_walked() -> None:
    plan = PagePlan(4, honest(200, 3).pagination, cap=100, stale_limit=12)
    assert plan.frontier() == 4
    for number in (4, 5, 7, 8):
        plan.record(number, honest(200, number), new_ids=10)
    assert plan.frontier() == 6
    plan.record(6, honest(200, 6), new_ids=10)
    assert plan.frontier() == 9


# --- any server, any order of answers ----------------------------------------------------


@dataclass
class Walk:
    """A crawl's use of a plan: ``concurrency`` pages in flight, answered in any order."""

    plan: PagePlan
    concurrency: int
    taken: list[int] = field(default_factory=list)
    recorded: list[int] = field(default_factory=list)

    def run(self, answer: object, order: st.DataObject) -> None:
        in_flight: list[int] = []
        while True:
            while len(in_flight) < self.concurrency and (number := self.plan.take()) is not None:
                in_flight.append(number)
                self.taken.append(number)
            if not in_flight:
                return
            number = in_flight.pop(order.draw(st.integers(0, len(in_flight) - 1)))
            self.recorded.append(number)
            page, new_ids = answer(number)  # type: ignore[operator]
            self.plan.record(number, page, new_ids)


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 400),
    per_page=st.integers(1, 50),
    start=st.integers(2, 5),
    concurrency=st.integers(1, 6),
    order=st.data(),
)
def test_honest_pagination_is_walked_exactly(
    total: int, per_page: int, start: int, concurrency: int, order: st.DataObject
) -> None:
    pages = math.ceil(total / per_page)
    first = honest(total, start - 1, per_page)
    if is_last_page(start - 1, first):
        return  # the engine never makes a plan then
    cap = page_cap(first.pagination, per_page, per_page)
    walk = Walk(PagePlan(start, first.pagination, cap, stale_limit=12), concurrency)
    walk.run(lambda n: (honest(total, n, per_page), per_page), order)
    assert walk.taken == list(range(start, pages + 1))
    assert walk.plan.frontier() == pages + 1


lies = st.fixed_dictionaries(
    {
        "total_items": st.none() | st.integers(-5, 600),
        "next_page": st.none() | st.integers(-3, 70),
        "total_pages": st.none() | st.integers(-3, 60),
        "count": st.integers(0, 10),
        "new_ids": st.integers(0, 10),
    }
)


@settings(max_examples=300, deadline=None)
@given(
    first=lies,
    answers=st.lists(lies, min_size=1, max_size=40),
    concurrency=st.integers(1, 6),
    stale_limit=st.integers(1, 16),
    order=st.data(),
)
def test_any_pagination_ends_within_the_cap_asking_each_page_once(
    first: dict[str, int | None],
    answers: list[dict[str, int | None]],
    concurrency: int,
    stale_limit: int,
    order: st.DataObject,
) -> None:
    def page(number: int, lie: dict[str, int | None]) -> InboxPage:
        next_page = lie["next_page"]
        pagination = Pagination(
            lie["total_items"],
            number,
            next_page if next_page is not None and next_page > 0 else None,
            None,
            10,
            lie["total_pages"],
        )
        return InboxPage(rows(number, lie["count"] or 0), pagination)

    head = page(1, first)
    cap = page_cap(head.pagination, len(head.conversations), 10)
    walk = Walk(PagePlan(2, head.pagination, cap, stale_limit), concurrency)

    def answer(number: int) -> tuple[InboxPage, int]:
        lie = answers[(number - 2) % len(answers)]
        made = page(number, lie)
        return made, min(lie["new_ids"] or 0, len(made.conversations))

    walk.run(answer, order)
    assert walk.taken == list(range(2, 2 + len(walk.taken)))  # in order, each once
    assert all(number <= cap for number in walk.taken)
    assert len(walk.taken) <= cap
    assert sorted(walk.recorded) == walk.taken
    assert walk.plan.take() is None  # over, and stays over


# --- Edges of the policy (issue 16: mutation survivors) ------------------------------------


@pytest.mark.parametrize(
    ("pagination", "rows_on_page", "cap"),
    [
        (Pagination(0, 1, None, None, 100, 50), 0, 10),  # no items said: ten pages at most
        (Pagination(None, 1, None, None, 100, 0), 0, 10),  # no pages said: the same
        (Pagination(10, 1, 2, None, None, 10), 1, 30),  # one row a page: ten pages, twice
    ],
)
def test_page_cap_edges(pagination: Pagination, rows_on_page: int, cap: int) -> None:
    assert page_cap(pagination, rows_on_page, page_size=100) == cap


def test_an_empty_page_stops_pages_not_yet_asked_for() -> None:
    plan = PagePlan(2, honest(50, 1).pagination, cap=100, stale_limit=12)
    assert plan.take() == 2
    plan.record(2, page_with(2, 0, total_pages=5), new_ids=0)
    assert plan.take() is None  # pages 3 to 5 were announced, but the data ended


def test_a_page_with_nothing_new_does_not_end_an_honest_walk_early() -> None:
    plan = PagePlan(1, honest(50, 1).pagination, cap=100, stale_limit=12)
    asked: list[int] = []
    while (number := plan.take()) is not None:
        asked.append(number)
        plan.record(number, honest(50, number), new_ids=0)  # a refresh: all seen before
    assert asked == [1, 2, 3, 4, 5]


def test_a_next_page_beyond_total_pages_bringing_nothing_new_ends_the_walk_there() -> None:
    plan = PagePlan(1, page_with(1, 10, total_pages=5).pagination, cap=100, stale_limit=12)
    assert plan.take() == 1
    plan.record(1, page_with(1, 10, next_page=9, total_pages=5), new_ids=0)
    assert plan.take() is None


def test_stale_pages_within_total_pages_end_the_walk_after_stale_limit() -> None:
    plan = PagePlan(1, page_with(1, 10, total_pages=20).pagination, cap=100, stale_limit=3)
    asked: list[int] = []
    while (number := plan.take()) is not None:
        asked.append(number)
        plan.record(number, page_with(number, 10, total_pages=20), new_ids=0)
    assert asked == [1, 2, 3]


def test_pages_are_taken_once_each_in_order() -> None:
    plan = PagePlan(3, honest(100, 1).pagination, cap=100, stale_limit=12)
    assert [plan.take() for _ in range(4)] == [3, 4, 5, 6]
