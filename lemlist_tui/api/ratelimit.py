"""Client-side rate limiting for the lemlist API.

lemlist allows 20 requests per 2 seconds per API key, counted in a *sliding* window.  A token
bucket (burst 20, 10/s) can start 40 requests within some 2-second span and trips it; this
limiter instead remembers when each of the last `limit` requests started and lets one more
start only when no window of `window + margin` seconds would hold more than `limit` of them.
It also listens to the server's X-RateLimit-* and Retry-After headers.

The server counts a request when it *arrives*: somewhere between our start and our answer.
With `request()`, a slot stays taken until the answer is in, so however the latency jitters,
request k + limit arrives a full window after request k did. On loopback or a 50 ms link
that costs a few percent of the ceiling; it never costs a 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = [
    "RateLimitStatus",
    "SlidingWindowLimiter",
    "limiter_for",
    "parse_reset",
    "parse_retry_after",
]

# A sleep this short is a float rounding artefact; with a fake clock it would never end.
_EPSILON = 1e-6
_MAX_HEADER = 200  # characters; longer header values are garbage, not dates


@dataclass(frozen=True, slots=True)
class RateLimitStatus:
    """What the server last said about this key's budget, for the status line."""

    limit: int
    """Requests allowed per window (the server's figure when it sent one)."""
    remaining: int | None
    """Requests left in the current window, if the server said."""
    reset_at: datetime | None
    """When the server's window resets (aware, UTC), if it said so in a readable form."""
    observed_at: float
    """The limiter's clock (monotonic) when the answer arrived."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Slot:
    """One request's place in the window: taken at its start, open until its answer."""

    __slots__ = ("at", "open")

    def __init__(self, at: float, open: bool) -> None:
        self.at = at
        self.open = open


class SlidingWindowLimiter:
    """Lets at most `limit` requests start in any `window + margin` seconds, in arrival order."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 2.0,
        *,
        margin: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], datetime] = _utc_now,
        max_hold: float | None = None,
        max_retry_after: float = 120.0,
    ) -> None:
        if limit < 1 or not window > 0 or not margin >= 0:
            raise ValueError(f"bad rate limit: {limit} per {window} s (margin {margin} s)")
        self.limit = limit
        self.window = window
        self.margin = margin
        self.max_hold = max_hold if max_hold is not None else 3 * window
        """Longest hold that X-RateLimit-Remaining: 0 can cause, whatever the reset says:
        three windows by default. A header is believed within reason; only a 429 (its
        Retry-After, up to ``max_retry_after``) proves a longer wait is asked for. A server
        saying "0 left, reset in an hour" on every answer stalled every request for a
        minute (issue 13)."""
        self.max_retry_after = max_retry_after
        """Longest Retry-After (or pause_for) honoured."""
        self._span = window + margin  # the margin absorbs latency between our clock and theirs
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._slots: list[_Slot] = []  # open ones, and closed ones within the last span
        self._hold_until = -math.inf
        self._status: RateLimitStatus | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self) -> None:
        """Wait for a slot and record the start of one request."""
        await self._take(open=False)

    @contextlib.asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Wait for a slot and hold it for the request made inside, until its answer is in."""
        slot = await self._take(open=True)
        try:
            yield
        finally:
            slot.at, slot.open = self._clock(), False

    async def _take(self, *, open: bool) -> _Slot:
        # One waiter at a time checks the clock and sleeps; the rest queue on the lock, which
        # wakes them in arrival order.  A cancelled waiter leaves the lock (and records nothing).
        async with self._queue():
            while True:
                now = self._clock()
                delay = self._delay(now)
                if delay <= _EPSILON:
                    slot = _Slot(now, open)
                    self._slots.append(slot)
                    return slot
                await self._sleep(delay)

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """Take in what an answer's headers say about the budget."""
        fields = {name.lower(): value for name, value in headers.items()}
        limit = _parse_count(fields.get("x-ratelimit-limit"))
        remaining = _parse_count(fields.get("x-ratelimit-remaining"))
        reset_at = parse_reset(fields.get("x-ratelimit-reset"))
        if limit is not None or remaining is not None or reset_at is not None:
            self._status = RateLimitStatus(
                limit=limit or self.limit,
                remaining=remaining,
                reset_at=reset_at,
                observed_at=self._clock(),
            )
        # The server's Date header is its own clock: measuring the reset against it, rather
        # than against ours, keeps a skewed local clock from turning into a long hold.
        server_now = _parse_http_date(fields.get("date")) or self._wall_clock()
        hold = 0.0
        # Remaining 0 after our own `limit` starts says nothing the sliding window does not
        # already know, and more precisely: the reset is rounded to the second, so holding
        # for it would idle up to a second of every window. It matters when someone else
        # spends this key's budget, and then our own count is below the limit.
        if remaining == 0 and self.in_window < self.limit:
            until_reset = (reset_at - server_now).total_seconds() if reset_at else 0.0
            hold = min(until_reset, self.max_hold) if until_reset > 0 else self.window
        if status == 429:
            retry_after = parse_retry_after(fields.get("retry-after"), now=server_now)
            if retry_after is None:
                retry_after = self.window
            hold = max(hold, min(retry_after, self.max_retry_after))
        self._hold(hold)

    def pause_for(self, seconds: float) -> None:
        """Hold every new start for `seconds` (at most `max_retry_after`)."""
        if math.isfinite(seconds):
            self._hold(min(seconds, self.max_retry_after))

    @property
    def status(self) -> RateLimitStatus | None:
        """The server's last word on the budget, or None before any answer carried one."""
        return self._status

    def budget(self) -> tuple[int, float]:
        """(starts left in the window now, seconds of a server-asked hold still to run).

        As it is now, not as the last answer left it: starts leave the window as it
        slides. The server's last ``Remaining`` counts while it is fresher than a window
        (someone else may spend this key too).
        """
        left = self.limit - self.in_window
        status = self._status
        fresh = status is not None and self._clock() - status.observed_at < self._span
        if status is not None and status.remaining is not None and fresh:
            left = min(left, status.remaining)
        return max(0, left), self.hold_remaining

    @property
    def in_window(self) -> int:
        """Slots taken within the current window, requests still in flight included."""
        since = self._clock() - self._span
        return sum(1 for slot in self._slots if slot.open or slot.at > since)

    @property
    def hold_remaining(self) -> float:
        """Seconds until a hold asked for by the server (or pause_for) ends; 0 when none."""
        return max(self._hold_until - self._clock(), 0.0)

    def _delay(self, now: float) -> float:
        """Seconds to wait before one more start at `now` would be within the limit."""
        horizon = now - self._span
        self._slots = [slot for slot in self._slots if slot.open or slot.at > horizon]
        delay = self._hold_until - now
        if len(self._slots) >= self.limit:
            # Enough slots must leave the span for one more to fit. One still in flight
            # leaves a span after its answer at the earliest: count it as ending now, and
            # look again then.
            ends = sorted(now if slot.open else slot.at for slot in self._slots)
            delay = max(delay, ends[len(ends) - self.limit] + self._span - now)
        return delay

    def _hold(self, seconds: float) -> None:
        if seconds > 0:
            self._hold_until = max(self._hold_until, self._clock() + seconds)

    def _queue(self) -> asyncio.Lock:
        # A limiter outlives event loops (one per key per process; tests run a loop each),
        # and an asyncio.Lock belongs to the loop it first waited in.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock


_LIMITERS: dict[str, SlidingWindowLimiter] = {}


def limiter_for(key_fingerprint: str, limit: int = 20, window: float = 2.0) -> SlidingWindowLimiter:
    """Return the process's one limiter for an API key, made on first use.

    `key_fingerprint` identifies the key without being it (a hash the caller computes); the
    limit and window only apply when the limiter is made.
    """
    limiter = _LIMITERS.get(key_fingerprint)
    if limiter is None:
        limiter = _LIMITERS[key_fingerprint] = SlidingWindowLimiter(limit, window)
    return limiter


# --- Header parsing -------------------------------------------------------------------------

_COUNT = re.compile(r"\d{1,9}")
_NUMBER = re.compile(r"[+-]?(?:\d{1,20}(?:\.\d{0,20})?|\.\d{1,20})")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
# JavaScript's Date.prototype.toString(): "Tue Feb 16 2021 09:02:42 GMT+0100 (Central
# European Standard Time)".  The weekday, offset and zone name are optional here.
_JS_DATE = re.compile(
    r"""
    (?:[A-Za-z]{3},?\s+)?
    (?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\s+
    (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?
    (?:\s*(?:GMT|UTC|Z))?
    (?:\s*(?P<sign>[+-])(?P<off_h>\d{2}):?(?P<off_m>\d{2}))?
    (?:\s*\([^()]*\))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_EPOCH_MS = 1e11  # bigger epoch numbers are milliseconds (1e11 s is the year 5138)


def _parse_count(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if _COUNT.fullmatch(value) else None


def _as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _parse_http_date(value: str | None) -> datetime | None:
    """RFC 1123 (and the older HTTP date forms) as an aware UTC datetime, or None."""
    if not value or len(value) > _MAX_HEADER:
        return None
    try:
        return _as_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _parse_js_date(match: re.Match[str]) -> datetime | None:
    month = _MONTHS.get(match["month"].lower())
    if month is None:
        return None
    offset = timedelta(0)
    if match["sign"]:
        offset = timedelta(hours=int(match["off_h"]), minutes=int(match["off_m"]))
        offset = -offset if match["sign"] == "-" else offset
    try:
        local = datetime(
            int(match["year"]),
            month,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            tzinfo=timezone(offset),
        )
        return local.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_reset(value: str | None) -> datetime | None:
    """Read X-RateLimit-Reset as an aware UTC datetime; None when it is not a date.

    Accepts JavaScript's Date.toString() (the documented form), RFC 1123 HTTP dates, ISO 8601
    and epoch seconds or milliseconds.  Never raises.
    """
    if not value or len(value) > _MAX_HEADER:
        return None
    value = value.strip()
    if _NUMBER.fullmatch(value):
        seconds = float(value)
        if seconds > _EPOCH_MS:
            seconds /= 1000
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError):
            return None
    if match := _JS_DATE.fullmatch(value):
        return _parse_js_date(match)  # in the documented form but impossible: no second guess
    try:
        return _as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        pass
    return _parse_http_date(value)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read Retry-After as seconds from `now` (delta seconds or an HTTP date); None if garbage."""
    if not value or len(value) > _MAX_HEADER:
        return None
    value = value.strip()
    if _NUMBER.fullmatch(value):
        return max(float(value), 0.0)
    when = _parse_http_date(value)
    if when is None:
        return None
    try:
        now = _as_utc(now) if now is not None else _utc_now()
    except OverflowError:
        return None
    return max((when - now).total_seconds(), 0.0)
