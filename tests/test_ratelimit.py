"""The limiter runs at lemlist's ceiling (20 per sliding 2 s) without ever going over it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemlist_tui.api.ratelimit import (
    RateLimitStatus,
    SlidingWindowLimiter,
    limiter_for,
    parse_reset,
    parse_retry_after,
)

WALL = datetime(2021, 2, 16, 8, 2, 40, tzinfo=UTC)
DOCUMENTED_RESET = "Tue Feb 16 2021 09:02:42 GMT+0100 (Central European Standard Time)"


class FakeTime:
    """A monotonic clock that moves only when every task is blocked, straight to the next wake."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._order), wake))
        await wake

    async def settle(self) -> None:
        """Let every task that can run, run (lock hand-offs take a few loop turns each)."""
        for _ in range(500):
            await asyncio.sleep(0)

    async def run(self, tasks: Sequence[asyncio.Future[Any]]) -> None:
        """Drive `tasks` to completion, advancing the clock whenever they are all asleep."""
        while True:
            await self.settle()
            if all(task.done() for task in tasks):
                return
            self.advance()

    def advance(self, to: float | None = None) -> None:
        """Move to `to`, or to the next wake-up, and wake the sleepers that are due."""
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        if to is None:
            assert self._sleepers, "deadlock: tasks wait but nobody sleeps"
            to = self._sleepers[0][0]
        self.now = max(self.now, to)
        while self._sleepers and self._sleepers[0][0] <= self.now:
            wake = heapq.heappop(self._sleepers)[2]
            if not wake.done():
                wake.set_result(None)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def make(fake: FakeTime, limit: int = 20, window: float = 2.0, **kw: float) -> SlidingWindowLimiter:
    return SlidingWindowLimiter(
        limit, window, clock=fake.clock, sleep=fake.sleep, wall_clock=lambda: WALL, **kw
    )


def most_in_any_window(starts: Sequence[float], window: float) -> int:
    """The largest number of starts in any closed interval [t, t + window]."""
    ordered = sorted(starts)
    return max(
        sum(1 for later in ordered[i:] if later <= first + window)
        for i, first in enumerate(ordered)
    )


async def acquire_all(
    fake: FakeTime, limiter: SlidingWindowLimiter, count: int, arrivals: Sequence[float] = ()
) -> list[float]:
    """Start `count` concurrent acquirers (arriving at fake times); return their start times."""
    starts: list[float] = []

    async def one(arrive: float) -> None:
        if arrive:
            await fake.sleep(arrive)
        await limiter.acquire()
        starts.append(fake.now)

    tasks = [asyncio.ensure_future(one(at)) for at in (list(arrivals) or [0.0] * count)]
    await fake.run(tasks)
    return starts


# --- Staying under the ceiling, close to it ------------------------------------------------


@pytest.mark.parametrize(("limit", "window"), [(20, 2.0), (5, 1.0), (1, 2.0), (3, 10.0)])
async def test_sequential_acquisitions_stay_under_and_near_the_limit(
    fake: FakeTime, limit: int, window: float
) -> None:
    limiter = make(fake, limit, window)
    starts: list[float] = []

    async def crawl() -> None:
        for _ in range(100):
            await limiter.acquire()
            starts.append(fake.now)

    await fake.run([asyncio.ensure_future(crawl())])
    assert len(starts) == 100
    assert most_in_any_window(starts, window) <= limit
    # Past the first burst, the rate is the ceiling less the safety margin.
    rate = (len(starts) - limit) / (starts[-1] - starts[0])
    assert rate >= 0.95 * limit / window


async def test_concurrent_acquisitions_stay_under_the_limit(fake: FakeTime) -> None:
    limiter = make(fake)
    starts = await acquire_all(fake, limiter, 100)
    assert len(starts) == 100
    assert most_in_any_window(starts, 2.0) <= 20
    assert starts[:20] == [0.0] * 20  # the first window's budget is usable at once
    assert (100 - 20) / starts[-1] >= 0.95 * 10


async def test_random_arrivals_stay_under_the_limit(fake: FakeTime) -> None:
    rng = random.Random(7)
    arrivals = sorted(rng.uniform(0, 12) for _ in range(150))
    limiter = make(fake)
    starts = await acquire_all(fake, limiter, len(arrivals), arrivals)
    assert len(starts) == 150
    assert most_in_any_window(starts, 2.0) <= 20
    assert most_in_any_window(starts, 2.05 - 1e-9) <= 20  # the margin is real, too


async def test_in_window_counts_recent_starts(fake: FakeTime) -> None:
    limiter = make(fake, 5, 1.0)
    assert limiter.in_window == 0
    await acquire_all(fake, limiter, 3)
    assert limiter.in_window == 3
    fake.advance(1.06)
    assert limiter.in_window == 0


# --- Fairness and cancellation ---------------------------------------------------------------


async def test_waiters_start_in_arrival_order(fake: FakeTime) -> None:
    limiter = make(fake, 2, 1.0)
    order: list[str] = []

    async def one(name: str, arrive: float = 0.0) -> None:
        if arrive:
            await fake.sleep(arrive)
        await limiter.acquire()
        order.append(name)

    tasks = [asyncio.ensure_future(one(str(i))) for i in range(8)]
    # A latecomer arrives while a slot is about to free up: it still queues behind the rest.
    tasks.append(asyncio.ensure_future(one("late", arrive=1.0)))
    await fake.run(tasks)
    assert order == [*map(str, range(8)), "late"]


async def test_cancelled_waiters_record_nothing_and_block_nobody(fake: FakeTime) -> None:
    limiter = make(fake, 1, 1.0)
    starts: dict[str, float] = {}

    async def one(name: str) -> None:
        await limiter.acquire()
        starts[name] = fake.now

    first = asyncio.ensure_future(one("first"))
    sleeping = asyncio.ensure_future(one("sleeping"))  # at the head of the queue, asleep
    queued = asyncio.ensure_future(one("queued"))  # behind it, waiting for its turn
    last = asyncio.ensure_future(one("last"))
    await fake.settle()
    assert starts == {"first": 0.0}
    sleeping.cancel()
    queued.cancel()
    await fake.run([first, sleeping, queued, last])
    assert sleeping.cancelled()
    assert queued.cancelled()
    # "last" takes the very next slot: the cancelled ones neither used nor held one.
    assert starts == {"first": 0.0, "last": pytest.approx(1.05)}
    assert limiter.in_window == 1


async def test_cancelling_everyone_leaves_the_limiter_usable(fake: FakeTime) -> None:
    limiter = make(fake, 1, 1.0)
    await acquire_all(fake, limiter, 1)
    waiters = [asyncio.ensure_future(limiter.acquire()) for _ in range(5)]
    await fake.settle()
    for waiter in waiters:
        waiter.cancel()
    await fake.settle()
    assert limiter.in_window == 1
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(1.05)]


def test_a_limiter_survives_its_event_loop() -> None:
    # limiter_for keeps one limiter per key for the whole process; each asyncio.run is a new loop.
    limiter = SlidingWindowLimiter(1, 0.01, margin=0.0)

    async def contend() -> None:
        await asyncio.gather(*(limiter.acquire() for _ in range(3)))

    asyncio.run(contend())
    asyncio.run(contend())


# --- Listening to the server -------------------------------------------------------------------


def spent(reset: str | None = None, **extra: str) -> dict[str, str]:
    """Headers of an answer that used the last request of the window."""
    headers = {"X-RateLimit-Remaining": "0", **extra}
    return headers if reset is None else {**headers, "X-RateLimit-Reset": reset}


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        # Reset 2 s after our wall clock (08:02:40Z).
        (spent(DOCUMENTED_RESET), 2.0),
        # The server's own Date wins over our clock: 5 s by its reckoning.
        (spent(DOCUMENTED_RESET, Date="Tue, 16 Feb 2021 08:02:37 GMT"), 5.0),
        # Header names in any case.
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": DOCUMENTED_RESET}, 2.0),
        # A reset an hour away (a skewed clock, a bug, a lie): held no more than three
        # windows; only a 429 proves more.
        (spent("Tue Feb 16 2021 10:02:42 GMT+0100"), 6.0),
        # Reset already past, or unreadable: wait out one window.
        (spent("Tue Feb 16 2021 09:00:00 GMT+0100"), 2.0),
        (spent("soon"), 2.0),
        (spent(), 2.0),
        # Budget left: no hold.
        ({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": DOCUMENTED_RESET}, 0.0),
    ],
)
async def test_remaining_zero_holds_until_reset(
    fake: FakeTime, headers: dict[str, str], held: float
) -> None:
    limiter = make(fake)
    limiter.observe(headers, 200)
    assert limiter.hold_remaining == pytest.approx(held)
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(held)]


async def test_remaining_zero_after_our_own_budget_adds_no_hold(fake: FakeTime) -> None:
    """The server's reset is rounded to the second; our window already knows better."""
    limiter = make(fake)
    starts = await acquire_all(fake, limiter, limiter.limit)
    limiter.observe(spent(DOCUMENTED_RESET), 200)
    assert limiter.hold_remaining == 0
    (next_start,) = await acquire_all(fake, limiter, 1)
    assert next_start == pytest.approx(starts[0] + limiter.window + limiter.margin)


@pytest.mark.parametrize(
    ("retry_after", "held"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("1000", 120.0),  # honoured up to max_retry_after
        ("-3", 0.0),
        ("Tue, 16 Feb 2021 08:02:50 GMT", 10.0),  # an HTTP date, against our wall clock
        ("in a bit", 2.0),  # garbage: one window
        (None, 2.0),  # absent: one window
    ],
)
async def test_429_holds_for_retry_after(
    fake: FakeTime, retry_after: str | None, held: float
) -> None:
    limiter = make(fake)
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    limiter.observe(headers, 429)
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(held)]


async def test_retry_after_cap_is_configurable(fake: FakeTime) -> None:
    limiter = make(fake, max_retry_after=300.0)
    limiter.observe({"Retry-After": "1000"}, 429)
    assert limiter.hold_remaining == 300.0


async def test_hold_applies_to_waiters_already_queued(fake: FakeTime) -> None:
    limiter = make(fake, 1, 1.0)
    await acquire_all(fake, limiter, 1)
    waiter = asyncio.ensure_future(limiter.acquire())
    await fake.settle()
    fake.advance(0.5)
    limiter.observe({"Retry-After": "4"}, 429)  # while the waiter sleeps toward 1.05
    await fake.run([waiter])
    assert fake.now == pytest.approx(4.5)


async def test_garbage_headers_are_ignored(fake: FakeTime) -> None:
    limiter = make(fake)
    limiter.observe(
        {
            "X-RateLimit-Limit": "-5",
            "X-RateLimit-Remaining": "lots",
            "X-RateLimit-Reset": "\x1b[31mtomorrow",
            "Retry-After": "now",
            "Date": "yesterday",
        },
        200,
    )
    assert limiter.status is None
    assert limiter.hold_remaining == 0
    assert await acquire_all(fake, limiter, 1) == [0.0]


async def test_status_reports_what_the_server_said(fake: FakeTime) -> None:
    limiter = make(fake)
    assert limiter.status is None
    fake.advance(3.0)
    headers = {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "12"}
    limiter.observe({**headers, "X-RateLimit-Reset": DOCUMENTED_RESET}, 200)
    assert limiter.status == RateLimitStatus(
        limit=20,
        remaining=12,
        reset_at=datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC),
        observed_at=3.0,
    )
    limiter.observe({"X-RateLimit-Remaining": "11"}, 200)
    assert limiter.status is not None
    assert (limiter.status.limit, limiter.status.remaining) == (20, 11)


@pytest.mark.parametrize(
    ("seconds", "held"), [(3.0, 3.0), (-1.0, 0.0), (math.nan, 0.0), (math.inf, 0.0), (1e9, 120.0)]
)
async def test_pause_for(fake: FakeTime, seconds: float, held: float) -> None:
    limiter = make(fake)
    limiter.pause_for(seconds)
    assert limiter.hold_remaining == held


def test_holds_only_grow() -> None:
    fake = FakeTime()
    limiter = make(fake)
    limiter.pause_for(10)
    limiter.pause_for(1)
    limiter.observe({"Retry-After": "2"}, 429)
    assert limiter.hold_remaining == 10


@pytest.mark.parametrize(
    ("limit", "window", "margin"),
    [(0, 2.0, 0.0), (20, 0.0, 0.0), (20, 2.0, -1.0), (20, math.nan, 0)],
)
def test_rejects_nonsense_limits(limit: int, window: float, margin: float) -> None:
    with pytest.raises(ValueError, match="bad rate limit"):
        SlidingWindowLimiter(limit, window, margin=margin)


def test_one_limiter_per_key() -> None:
    first = limiter_for("fp-test-a")
    assert limiter_for("fp-test-a") is first
    assert limiter_for("fp-test-b") is not first
    assert (first.limit, first.window) == (20, 2.0)


# --- Header parsing --------------------------------------------------------------------------

RESET = datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        DOCUMENTED_RESET,
        "Tue Feb 16 2021 09:02:42 GMT+0100",
        "Tue Feb 16 2021 03:02:42 GMT-0500 (Eastern Standard Time)",
        "Tue Feb 16 2021 08:02:42 GMT+0000 (Coordinated Universal Time)",
        "Tue Feb 16 2021 09:02:42 GMT+01:00",
        "Feb 16 2021 09:02:42 GMT+0100",
        "  Tue Feb 16 2021 09:02:42 GMT+0100 (Mitteleuropäische Normalzeit)  ",
        "Tue, 16 Feb 2021 08:02:42 GMT",
        "Tuesday, 16-Feb-21 08:02:42 GMT",
        "2021-02-16T08:02:42Z",
        "2021-02-16T08:02:42.000Z",
        "2021-02-16T09:02:42+01:00",
        "2021-02-16 08:02:42",
        "1613462562",
        "1613462562000",
        "1613462562.0",
    ],
)
def test_parse_reset_forms(value: str) -> None:
    assert parse_reset(value) == RESET
    assert parse_reset(value).tzinfo is UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "soon",
        "Tue Feb 30 2021 09:02:42 GMT+0100",  # no 30 February
        "Tue Feb 16 2021 25:02:42 GMT+0100",
        "Tue Feb 16 2021 09:02:42 GMT+9900",  # offset out of range
        "Xyz Foo 16 2021 09:02:42 GMT+0100",
        "1e400",
        "99999999999999999999",
        "nan",
        "-inf",
        "\x00\ud800",
        "Tue Feb 16 2021 09:02:42 GMT+0100 (" + "x" * 10_000 + ")",
    ],
)
def test_parse_reset_garbage(value: str | None) -> None:
    assert parse_reset(value) is None


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.from_regex(
            r"[A-Za-z]{3} [A-Za-z]{3} \d{1,2} \d{4} \d{1,2}:\d\d:\d\d GMT[+-]\d{4}( \(.*\))?",
            fullmatch=True,
        ),
        st.from_regex(r"-?\d{1,25}(\.\d*)?", fullmatch=True),
    )
)
def test_parsers_never_raise(value: str) -> None:
    reset = parse_reset(value)
    assert reset is None or reset.utcoffset() == timedelta(0)
    after = parse_retry_after(value, WALL)
    assert after is None or (after >= 0 and not math.isnan(after))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-4", 0.0),
        ("Tue, 16 Feb 2021 08:02:45 GMT", 5.0),
        ("Tue, 16 Feb 2021 08:02:00 GMT", 0.0),  # already past
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, WALL) == expected


def test_parse_retry_after_defaults_to_now() -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= (parse_retry_after(soon) or 0) <= 31


# --- Real time ------------------------------------------------------------------------------------


async def test_real_clock_spreads_a_burst() -> None:
    limit, window = 5, 0.2
    limiter = SlidingWindowLimiter(limit, window, margin=0.02)
    starts: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        # acquire() returns without yielding after it records the start, so this is (to the
        # microsecond) the start the limiter recorded.
        starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(15)))
    starts.sort()
    assert most_in_any_window(starts, window) <= limit
    # Three waves of five: each wave starts a full window after the one before.
    for wave in (1, 2):
        assert starts[wave * limit] - starts[(wave - 1) * limit] >= window


# --- Slots held until the answer ---------------------------------------------------------------


async def test_a_slot_is_held_until_the_answer_then_a_window(fake: FakeTime) -> None:
    """The server counts a request on arrival, anywhere up to our answer: a slow answer
    keeps its slot, so request k + limit never arrives within a window of request k."""
    limiter = make(fake, 2, 1.0, margin=0.0)
    starts: list[float] = []

    async def request(answer_after: float) -> None:
        async with limiter.request():
            starts.append(fake.now)
            await fake.sleep(answer_after)

    slow = asyncio.ensure_future(request(3.0))  # answered at t=3
    quick = asyncio.ensure_future(request(0.1))  # answered at t=0.1
    await fake.run([quick])
    third = asyncio.ensure_future(request(0.0))
    await fake.run([third])
    # The quick slot frees at 0.1 + 1.0, while the slow one is still out.
    assert starts == [0.0, 0.0, pytest.approx(1.1)]
    fourth = asyncio.ensure_future(request(0.0))
    await fake.run([fourth, slow])
    assert starts[3] == pytest.approx(2.1)  # the third's slot (answered at 1.1) + 1.0
    fifth = asyncio.ensure_future(request(0.0))
    await fake.run([fifth])
    assert starts[4] == pytest.approx(3.1)  # the fourth answered at 2.1, + 1.0


async def test_a_cancelled_request_frees_its_slot_after_a_window(fake: FakeTime) -> None:
    limiter = make(fake, 1, 1.0, margin=0.0)

    async def hang() -> None:
        async with limiter.request():
            await fake.sleep(100.0)

    hung = asyncio.ensure_future(hang())
    await fake.settle()
    fake.advance(0.5)
    hung.cancel()
    await fake.settle()
    assert limiter.in_window == 1
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(1.5)]


def test_the_budget_shown_refills_as_the_window_slides() -> None:
    now = [100.0]
    limiter = SlidingWindowLimiter(20, 2.0, clock=lambda: now[0])

    async def take(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(take(5))
    assert limiter.budget() == (15, 0.0)
    limiter.observe({"X-RateLimit-Remaining": "3"}, 200)  # someone else spends this key
    assert limiter.budget()[0] == 3
    now[0] += 2.1  # a window later: our starts and the server's word are both old
    assert limiter.budget() == (20, 0.0)
    limiter.pause_for(30)
    left, hold = limiter.budget()
    assert left == 20 and hold == pytest.approx(30)


# --- The wait before a request, at the edges (issue 16: mutation survivors) ---------------


async def test_the_defaults_are_lemlists_20_per_2_seconds(fake: FakeTime) -> None:
    limiter = SlidingWindowLimiter(clock=fake.clock, sleep=fake.sleep, wall_clock=lambda: WALL)
    starts = await acquire_all(fake, limiter, 21)
    assert starts[:20] == [0.0] * 20
    assert starts[20] == pytest.approx(2.05)  # a window and its margin after the first


def test_a_new_keys_limiter_is_lemlists_20_per_2_seconds() -> None:
    limiter = limiter_for(f"fp-{uuid.uuid4()}")  # a key this process has not seen
    assert limiter.budget() == (20, 0.0)
    assert (limiter.limit, limiter.window) == (20, 2.0)


async def test_a_hold_counts_from_when_it_was_asked(fake: FakeTime) -> None:
    limiter = make(fake)
    fake.advance(10.0)
    limiter.observe({"Retry-After": "3"}, 429)
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(13.0)]


async def test_max_hold_given_caps_a_remaining_zero_hold(fake: FakeTime) -> None:
    limiter = make(fake, max_hold=1.0)
    limiter.observe(spent("Tue Feb 16 2021 09:02:42 GMT+0100"), 200)  # reset in 2 s
    assert limiter.hold_remaining == pytest.approx(1.0)


async def test_a_reset_less_than_a_second_away_holds_only_until_then(fake: FakeTime) -> None:
    limiter = make(fake)
    reset = str(WALL.timestamp() + 0.5)  # epoch seconds, with a fraction
    limiter.observe(spent(reset), 200)
    assert await acquire_all(fake, limiter, 1) == [pytest.approx(0.5)]


async def test_the_servers_date_header_of_the_longest_accepted_length_is_read(
    fake: FakeTime,
) -> None:
    limiter = make(fake)
    date = "Tue, 16 Feb 2021 08:02:30 GMT".ljust(200)  # ten seconds before our wall clock
    limiter.observe(spent("Tue Feb 16 2021 09:02:42 GMT+0100", Date=date), 200)
    assert limiter.hold_remaining == pytest.approx(6.0)  # 12 s to the reset, capped at 3 windows


def test_status_keeps_the_servers_limit() -> None:
    limiter = SlidingWindowLimiter(20, 2.0)
    limiter.observe({"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "3"}, 200)
    assert limiter.status is not None and limiter.status.limit == 50


def test_the_budget_shown_is_never_below_zero_and_forgets_an_old_remaining() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(3, 2.0, clock=lambda: now[0])

    async def take(n: int) -> None:
        for _ in range(n):
            await limiter.acquire()

    asyncio.run(take(3))
    assert limiter.budget() == (0, 0.0)
    limiter.observe({"X-RateLimit-Remaining": "1"}, 200)
    now[0] = 2.05  # exactly a window and its margin later: the server's word is old
    assert limiter.budget() == (3, 0.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue Feb 16 2021 08:02:42", datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC)),  # no offset
        ("Tue Feb 16 2021 08:02", datetime(2021, 2, 16, 8, 2, 0, tzinfo=UTC)),  # no seconds
        ("Tue Feb 16 2021 09:32:42 GMT+0130", datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC)),
        ("1613462562".ljust(200), datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC)),  # 200 chars
        ("100000000000", datetime(5138, 11, 16, 9, 46, 40, tzinfo=UTC)),  # 1e11: seconds still
    ],
)
def test_parse_reset_edges(value: str, expected: datetime) -> None:
    assert parse_reset(value) == expected


def test_a_reset_without_a_zone_is_utc_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_reset("2021-02-16T08:02:42") == datetime(2021, 2, 16, 8, 2, 42, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_parse_retry_after_reads_the_longest_accepted_value() -> None:
    assert parse_retry_after("5".ljust(200)) == 5.0
    assert parse_retry_after("5".ljust(201)) is None
