"""One user's inbox, held in memory and on disk, kept in step with lemlist.

No ``textual`` import here: the app, ``export`` and the benchmarks share it.

The held list is replaced, never mutated in place (copy-on-write): a view that read
``conversations`` keeps a list that does not change under it, and a snapshot handed to
a saving thread stays consistent while the loop merges further pages. Every change
happens on the event loop in one synchronous step (a page merged whole, or not at all),
so cancelling any operation at any await leaves a consistent store.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lemlist_tui.api.errors import LemlistError, NetworkError, NotFoundError
from lemlist_tui.api.models import Conversation, InboxPage, Pagination, ThreadPage
from lemlist_tui.sync.cache import AccountCache, CachedInbox, CachedInboxRest, InboxState

if TYPE_CHECKING:  # the client brings httpx: not on the way to the first frame
    from lemlist_tui.api.client import LemlistClient

__all__ = ["InboxStore", "Progress", "RefreshResult"]

Progress = Callable[[int, int | None], None]
"""Called with (pages done, total pages or None when not known yet)."""

OFFLINE = "the app runs offline, so only the cached inbox is shown"
SAVE_EVERY = 30.0
"""Seconds between saves during a long crawl; stretched when a save is slow (see _save_due)."""
SAVE_COST_FACTOR = 20
"""A crawl spends at most about 1/SAVE_COST_FACTOR of its time saving."""
THREADS_IN_MEMORY = 256
_NO_TIME = math.inf


def _rank(conversation: Conversation) -> float:
    """Sort key: newest ``lastActivityAt`` first, conversations without one last."""
    when = conversation.last_activity_at
    return -when.timestamp() if when is not None else _NO_TIME


@dataclass(frozen=True, slots=True)
class RefreshResult:
    new: int
    """Conversations not held before."""
    updated: int
    """Held conversations that came back changed (new activity, read state)."""
    requests: int
    """Inbox requests this refresh made."""


class _PagePlan:
    """Which page a crawl asks for next, and when it stops.

    Pagination is trusted over ``limit`` but never blindly: an empty page ends the
    inbox (``totalPages`` too large); a ``nextPage`` beyond ``totalPages`` is followed
    only while pages bring ids not seen before (``totalPages`` too small); a
    ``nextPage`` that goes back or repeats ends it; and no page beyond ``cap`` (a
    generous bound from ``totalItems``) is ever asked for.
    """

    def __init__(self, start: int, last: Pagination, cap: int, stale_limit: int) -> None:
        self.start = start
        self.next = start
        self.allowed = max(last.total_pages or 0, last.next_page or 0)
        ended = last.next_page is None or last.next_page <= last.current_page
        self.stop: int | None = start if ended else None
        self.cap = cap
        self.stale_limit = stale_limit
        self.stale = 0
        self.done: set[int] = set()

    def take(self) -> int | None:
        page = self.next
        if page > min(self.allowed, self.cap) or (self.stop is not None and page >= self.stop):
            return None
        self.next += 1
        return page

    def record(self, page: int, result: InboxPage, new_ids: int) -> None:
        self.done.add(page)
        pagination = result.pagination
        next_page = pagination.next_page
        if not result.conversations:
            self._stop_at(page)
        elif next_page is None or next_page <= page:
            self._stop_at(page + 1)
        elif next_page > max(self.allowed, pagination.total_pages or 0):
            if new_ids:
                self.allowed = next_page
            else:
                self._stop_at(page + 1)
        else:
            self.allowed = max(self.allowed, pagination.total_pages or 0)
        # A server that ignores `page` answers page 1 forever: nothing new, ever again.
        self.stale = 0 if new_ids else self.stale + 1
        if self.stale >= self.stale_limit:
            self._stop_at(self.next)

    def _stop_at(self, page: int) -> None:
        self.stop = page if self.stop is None else min(self.stop, page)

    def frontier(self) -> int:
        """The first page from ``start`` not walked yet (where a resumed crawl begins)."""
        page = self.start
        while page in self.done:
            page += 1
        return page


def _page_cap(pagination: Pagination, rows_on_page: int, page_size: int) -> int:
    """The most pages any walk may ask for: twice what the server announced, and then some."""
    per_page = rows_on_page or pagination.per_page or page_size
    if pagination.total_items is not None and pagination.total_items >= 0:
        return 2 * math.ceil(pagination.total_items / max(per_page, 1)) + 10
    if pagination.total_pages is not None and pagination.total_pages >= 0:
        return 2 * pagination.total_pages + 10
    return 10_000


class InboxStore:
    """The conversations of ``user_id``'s inbox, newest ``lastActivityAt`` first.

    ``client`` is None when offline: every network operation then raises
    ``NetworkError`` and the store serves what the cache holds.
    """

    def __init__(
        self,
        client: LemlistClient | None,
        cache: AccountCache | None,
        user_id: str,
        *,
        page_size: int = 100,
        fresh_for: float = 300.0,
        concurrency: int = 4,
        save_every: float = SAVE_EVERY,
    ) -> None:
        if page_size < 1 or concurrency < 1:
            raise ValueError("page_size and concurrency must be at least 1")
        self.user_id = user_id
        self.version = 0
        self.page_size = page_size
        self.fresh_for = fresh_for
        self.concurrency = concurrency
        self.save_every = save_every
        self.requests = 0
        """Inbox pages this store asked for (retries not counted: see the client's)."""
        self.skipped = 0
        """Malformed conversations left out of the pages received."""
        self.cache_error: str | None = None
        """Why the last save to the disk cache failed (one sentence), None when it worked."""
        self._client = client
        self._cache = cache
        self._ordered: list[Conversation] = []
        self._by_id: dict[str, Conversation] = {}
        self._total: int | None = None
        self._complete = False
        self._fetched_at: float | None = None
        self._next_page: int | None = 1
        self._pagination: Pagination | None = None
        self._rows_on_page = 0
        self._synced = False
        self._cache_tried = False
        self._pending_rest: CachedInbox | None = None
        self._save_wanted = False
        self._save_seq = 0
        self._last_save_at = -math.inf
        self._last_save_cost = 0.0
        self._threads: OrderedDict[str, ThreadPage] = OrderedDict()
        self._sync_lock = asyncio.Lock()
        self._rest_lock = asyncio.Lock()

    # --- state read by the UI (cheap properties) -------------------------------------

    user_id: str
    version: int
    """Bumped on every change to ``conversations``: views re-derive when it moves."""

    @property
    def conversations(self) -> Sequence[Conversation]:
        """Held conversations, newest ``lastActivityAt`` first, each ``_id`` once.

        A snapshot: the store replaces the list on change and never mutates it.
        """
        return self._ordered

    def get(self, conversation_id: str) -> Conversation | None:
        """The held copy of a conversation (it may be newer than one a view kept)."""
        return self._by_id.get(conversation_id)

    @property
    def total(self) -> int | None:
        """The server's ``totalItems`` as last seen (None before any page)."""
        return self._total

    @property
    def complete(self) -> bool:
        """Every page has been walked (or the cache holds a complete inbox)."""
        return self._complete

    @property
    def fetched_at(self) -> float | None:
        """Wall-clock time (``time.time()``) of the last successful sync, None if never.

        A sync is an operation that walked page 1 (first page, refresh, crawl); the
        cache remembers it, so it may predate this run.
        """
        return self._fetched_at

    @property
    def stale(self) -> bool:
        """Held data is older than ``fresh_for`` (or was never synced).

        Measured from ``fetched_at``, which the cache keeps: a cache saved a minute ago
        is fresh, one from yesterday is stale. See ``from_cache`` for the other question.
        """
        return self._fetched_at is None or time.time() - self._fetched_at > self.fresh_for

    @property
    def from_cache(self) -> bool:
        """What is held came from the disk cache only: nothing synced in this run yet."""
        return not self._synced and bool(self._ordered)

    @property
    def rest_pending(self) -> bool:
        """``load_cached(head_only=True)`` left the older conversations to load."""
        return self._pending_rest is not None

    @property
    def offline(self) -> bool:
        return self._client is None

    @property
    def next_page(self) -> int | None:
        """The page ``load_more`` or a resumed crawl asks for next (None when complete)."""
        return None if self._complete else self._next_page

    # --- the disk cache -----------------------------------------------------------------

    def load_cached(self, head_only: bool = False) -> bool:
        """Fill from the disk cache at once; True when it held this inbox.

        ``head_only`` reads the manifest alone (the newest ``HEAD_ROWS``, a few ms at any
        size) and leaves the rest to :meth:`load_cached_rest`. Conversations already
        held (fetched in this run) win over cached copies of the same id.
        """
        self._cache_tried = True
        if self._cache is None:
            return False
        head = self._cache.load_inbox_head(self.user_id)
        if head is None:
            return False
        self._adopt_state(head.state)
        self._absorb(head.head)
        if head.has_rest and head_only:
            self._pending_rest = head
        elif head.has_rest:
            self._pending_rest = None
            rest, by_id = _read_rest(self._cache, self.user_id, head)
            self._absorb_rest(rest.conversations, by_id)
            if not rest.intact:
                self._note_gap(rest.rows_before_gap)
        self.version += 1
        return True

    async def load_cached_rest(self) -> None:
        """The conversations ``load_cached(head_only=True)`` left, read off the loop.

        Parsing 100k conversations takes a few hundred ms: it runs in a thread, and only
        the merge (about a millisecond) runs on the loop. A no-op when nothing is left.
        """
        if self._pending_rest is None or self._cache is None:
            return
        async with self._rest_lock:
            head = self._pending_rest
            if head is None:
                return
            rest, by_id = await asyncio.to_thread(_read_rest, self._cache, self.user_id, head)
            self._pending_rest = None
            self._absorb_rest(rest.conversations, by_id)
            if not rest.intact:
                self._note_gap(rest.rows_before_gap)
            self.version += 1
        if self._save_wanted:
            await self._save()

    async def save(self) -> None:
        """Write the held inbox to the disk cache now (in a thread); failures → ``cache_error``."""
        await self._save()

    def _adopt_state(self, state: InboxState) -> None:
        if self._synced:
            return  # this run's own knowledge is newer than the cache's
        self._total = state.total
        self._complete = state.complete
        self._fetched_at = state.fetched_at
        # A frontier counted in other pages than ours is worthless: restart from 1
        # (merging by id makes the overlap harmless).
        self._next_page = state.next_page if state.page_size == self.page_size else 1

    def _note_gap(self, rows_before_gap: int) -> None:
        """A chunk of the snapshot was unreadable: the crawl must walk from before it."""
        self._complete = False
        page = rows_before_gap // self.page_size + 1
        self._next_page = min(self._next_page or page, page)

    def _ensure_cache_tried(self) -> None:
        """Before the first network result: never let a save replace an unread cache."""
        if not self._cache_tried:
            self.load_cached(head_only=True)

    async def _save(self) -> None:
        if self._cache is None:
            return
        self._ensure_cache_tried()
        if self._pending_rest is not None:
            # Writing now would drop the conversations not loaded yet from the disk.
            self._save_wanted = True
            return
        self._save_wanted = False
        self._save_seq += 1
        state = InboxState(
            total=self._total,
            complete=self._complete,
            fetched_at=self._fetched_at,
            next_page=None if self._complete else self._next_page,
            page_size=self.page_size,
        )
        started = time.monotonic()
        try:
            await asyncio.to_thread(
                self._cache.save_inbox, self.user_id, self._ordered, state, seq=self._save_seq
            )
        except OSError as error:
            self.cache_error = f"The cache could not be written: {error.strerror or error}."
        else:
            self.cache_error = None
        finally:
            self._last_save_at = time.monotonic()
            self._last_save_cost = self._last_save_at - started

    def _save_due(self) -> bool:
        """Bounded write cost: at most every ``save_every`` s, and 20x the last save's time."""
        interval = max(self.save_every, SAVE_COST_FACTOR * self._last_save_cost)
        return time.monotonic() - self._last_save_at >= interval

    # --- merging ------------------------------------------------------------------------

    def _absorb(self, cached: Iterable[Conversation]) -> None:
        """Cached conversations, except those already held (held copies are newer)."""
        fresh = [c for c in cached if c.id not in self._by_id]
        if fresh:
            self._merge(fresh)

    def _absorb_rest(self, rest: list[Conversation], by_id: dict[str, Conversation]) -> None:
        """The bulk of a snapshot (``by_id`` indexes it), on the loop in about a millisecond.

        The cost is in the held conversations (the head and what the network brought),
        never in the 100k of the rest.
        """
        if not rest:
            return
        held = self._ordered
        overlap = {cid for cid in self._by_id if cid in by_id}
        if overlap:
            rest = [c for c in rest if c.id not in overlap]
        by_id.update(self._by_id)
        ordered = held + rest
        if held and rest and _rank(held[-1]) > _rank(rest[0]):
            # Pages fetched before the rest arrived reach into it: a real merge. Usually
            # the head sits wholly above the rest and the concatenation is the answer.
            ordered.sort(key=_rank)
        self._by_id = by_id
        self._ordered = ordered

    def _merge(self, conversations: Iterable[Conversation]) -> tuple[int, int]:
        """Merge by id; returns (new, updated). Bumps ``version`` when anything changed."""
        incoming = {c.id: c for c in conversations}  # a page repeating an id: the last wins
        by_id = self._by_id
        added: list[Conversation] = []
        replaced: list[tuple[Conversation, Conversation]] = []
        for cid, conversation in incoming.items():
            old = by_id.get(cid)
            if old is None:
                added.append(conversation)
            elif old != conversation:
                replaced.append((old, conversation))
        if not added and not replaced:
            return 0, 0
        ordered = self._ordered
        if len(added) + len(replaced) > max(64, len(ordered) // 8):
            gone = {id(old) for old, _ in replaced}
            ordered = [c for c in ordered if id(c) not in gone] if gone else ordered.copy()
            ordered.extend(added)
            ordered.extend(new for _, new in replaced)
            ordered.sort(key=_rank)  # stable: ties keep their order, newcomers after
        else:
            ordered = ordered.copy()
            moved: list[Conversation] = []
            for old, new in replaced:
                index = _index_of(ordered, old)
                if _rank(old) == _rank(new):
                    ordered[index] = new  # same place (read state, labels)
                else:
                    del ordered[index]
                    moved.append(new)
            for conversation in sorted((*added, *moved), key=_rank):
                bisect.insort_right(ordered, conversation, key=_rank)
        for conversation in added:
            by_id[conversation.id] = conversation
        for _, new in replaced:
            by_id[new.id] = new
        self._ordered = ordered
        self.version += 1
        return len(added), len(replaced)

    def _take_page(self, page: InboxPage) -> tuple[int, int]:
        self._pagination = page.pagination
        self._rows_on_page = max(self._rows_on_page, len(page.conversations))
        if page.pagination.total_items is not None:
            self._total = page.pagination.total_items
        self.skipped += len(page.skipped)
        return self._merge(page.conversations)

    def _cap(self) -> int:
        if self._pagination is None:
            return 10_000
        return _page_cap(self._pagination, self._rows_on_page, self.page_size)

    def _synced_now(self) -> None:
        self._synced = True
        self._fetched_at = time.time()

    # --- operations -------------------------------------------------------------------

    def _require_client(self) -> LemlistClient:
        if self._client is None:
            raise NetworkError(OFFLINE)
        return self._client

    async def _fetch(self, page: int) -> InboxPage:
        client = self._require_client()
        self.requests += 1
        return await client.inbox_page(self.user_id, page, self.page_size)

    @contextlib.asynccontextmanager
    async def _syncing(self) -> AsyncIterator[None]:
        """One sync operation at a time; on a typed error, what was merged is saved.

        Every merge leaves the store consistent, so after a failure it is a good
        snapshot to resume from (a cancelled operation saves nothing: it cannot await).
        """
        self._require_client()
        async with self._sync_lock:
            self._ensure_cache_tried()
            try:
                yield
            except LemlistError:
                await self._save()
                raise

    async def load_first_page(self) -> None:
        """Page 1 (fast first paint). With a cache held, prefer ``refresh``."""
        async with self._syncing():
            page = await self._fetch(1)
            self._take_page(page)
            if page.pagination.next_page is None:
                self._complete, self._next_page = True, None
            elif self._next_page in (None, 1) and not self._complete:
                self._next_page = page.pagination.next_page
            self._synced_now()
            await self._save()

    async def load_more(self) -> int:
        """The next page not yet held; returns how many conversations it added.

        Reaching the last page finishes as a crawl does: a pass from page 1 picks up
        conversations that moved to the top meanwhile, and the inbox is complete.
        """
        async with self._syncing():
            await self.load_cached_rest()
            if self._complete:
                return 0
            number = self._next_page or 1
            page = await self._fetch(number)
            added, _ = self._take_page(page)
            next_page = page.pagination.next_page
            at_end = (
                not page.conversations
                or next_page is None
                or next_page <= number
                or next_page > self._cap()
                or (number > (page.pagination.total_pages or 0) and not added)
            )
            if at_end:
                self._complete, self._next_page = True, None
                added += (await self._walk_from_top()).new
                self._synced_now()
                await self._save()
            else:
                self._next_page = next_page
                if self._save_due():
                    await self._save()
            return added

    async def crawl(self, progress: Progress | None = None) -> None:
        """Every remaining page, several requests in flight, at the rate limit.

        Ends with a pass from page 1 (as ``refresh``), so that conversations that moved
        to the top while it ran are held too. Cancel it at any point: requests in flight
        are cancelled and awaited, what was merged stays, and the next crawl resumes
        from the first page not walked.
        """
        async with self._syncing():
            await self.load_cached_rest()
            if not self._complete:
                await self._crawl_pages(progress)
            await self._walk_from_top()
            self._complete, self._next_page = True, None
            self._synced_now()
            await self._save()
            if progress is not None:
                pages = self._pagination.total_pages if self._pagination else None
                pages = pages or math.ceil(len(self._ordered) / max(self._rows_on_page, 1))
                progress(pages, pages)

    async def _crawl_pages(self, progress: Progress | None) -> None:
        start = self._next_page or 1
        if self._pagination is None or start == 1:
            first = await self._fetch(1)
            self._take_page(first)
            start = max(start, 2)
            self._next_page = start
        last = self._pagination
        assert last is not None  # set by _take_page
        plan = _PagePlan(start, last, self._cap(), stale_limit=2 * self.concurrency + 4)
        if progress is not None:
            progress(start - 1, last.total_pages)
        pending: dict[asyncio.Future[InboxPage], int] = {}
        try:
            while True:
                while len(pending) < self.concurrency and (number := plan.take()) is not None:
                    pending[asyncio.ensure_future(self._fetch(number))] = number
                if not pending:
                    break
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                failure: BaseException | None = None
                for task in sorted(done, key=pending.__getitem__):
                    number = pending.pop(task)
                    if task.cancelled() or task.exception() is not None:
                        failure = failure or (
                            asyncio.CancelledError() if task.cancelled() else task.exception()
                        )
                        continue
                    page = task.result()
                    added, _ = self._take_page(page)
                    plan.record(number, page, added)
                self._next_page = plan.frontier()
                if failure is not None:
                    raise failure
                if progress is not None:
                    pages = self._pagination.total_pages if self._pagination else None
                    progress(len(plan.done) + start - 1, pages)
                if self._save_due():
                    await self._save()
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def refresh(self) -> RefreshResult:
        """Walk from page 1 until a page brings nothing newer than what is held.

        A cached inbox with k new conversations costs ⌈k / page size⌉ + 1 requests. On an
        incomplete inbox the walk stops where the crawl's frontier is (further pages are
        ``load_more``'s and ``crawl``'s); on an empty one, that is after page 1.
        """
        async with self._syncing():
            await self.load_cached_rest()
            result = await self._walk_from_top()
            self._synced_now()
            await self._save()
            return result

    async def _walk_from_top(self) -> RefreshResult:
        new = updated = requests = 0
        frontier = None if self._complete else (self._next_page or 1)
        number = 1
        while True:
            page = await self._fetch(number)
            requests += 1
            added, changed = self._take_page(page)
            new, updated = new + added, updated + changed
            next_page = page.pagination.next_page
            if not page.conversations or next_page is None or next_page <= number:
                if frontier is not None:  # walked every page there is
                    self._complete, self._next_page = True, None
                break
            if not added and not changed:
                break
            if frontier is not None and next_page >= frontier:
                self._next_page = max(frontier, next_page)
                break
            if next_page > self._cap():
                break
            number = next_page
        return RefreshResult(new, updated, requests)

    # --- threads and read state ---------------------------------------------------------

    @staticmethod
    def _contact_of(conversation: Conversation) -> str:
        contact_id = conversation.contact_id or conversation.lead_id
        if contact_id is None:
            raise NotFoundError("contact for this conversation")
        return contact_id

    def cached_thread(self, conversation: Conversation) -> ThreadPage | None:
        """The thread as last fetched (memory, then disk), without any request."""
        contact_id = conversation.contact_id or conversation.lead_id
        if contact_id is None:
            return None
        page = self._threads.get(contact_id)
        if page is None and self._cache is not None:
            page = self._cache.load_thread(self.user_id, contact_id)
            if page is not None:
                self._remember_thread(contact_id, page)
        elif page is not None:
            self._threads.move_to_end(contact_id)
        return page

    def _remember_thread(self, contact_id: str, page: ThreadPage) -> None:
        self._threads[contact_id] = page
        self._threads.move_to_end(contact_id)
        while len(self._threads) > THREADS_IN_MEMORY:
            self._threads.popitem(last=False)

    async def thread(self, conversation: Conversation) -> ThreadPage:
        """The conversation's messages (``/inbox/{contactId}``); cached. Never marks read.

        Offline, the cached thread is served; without one, ``NetworkError``.
        """
        contact_id = self._contact_of(conversation)
        if self._client is None:
            cached = self.cached_thread(conversation)
            if cached is None:
                raise NetworkError(OFFLINE)
            return cached
        page = await self._client.thread(contact_id, self.user_id, mark_as_read=False)
        self._remember_thread(contact_id, page)
        if self._cache is not None:
            try:
                await asyncio.to_thread(self._cache.save_thread, self.user_id, contact_id, page)
            except OSError as error:
                self.cache_error = f"The cache could not be written: {error.strerror or error}."
        return page

    async def mark_read(self, conversation: Conversation) -> Conversation:
        """``markAsRead`` on the server, then the held copy and the cache; returns the new copy."""
        client = self._require_client()
        await client.mark_read(self._contact_of(conversation), self.user_id)
        held = self._by_id.get(conversation.id)
        read = (held or conversation).marked_read_for(self.user_id)
        if held is not None and held != read:
            ordered = self._ordered.copy()
            ordered[_index_of(ordered, held)] = read  # same lastActivityAt: same place
            self._by_id[read.id] = read
            self._ordered = ordered
            self.version += 1
            await self._save()
        return read


def _read_rest(
    cache: AccountCache, user_id: str, head: CachedInbox
) -> tuple[CachedInboxRest, dict[str, Conversation]]:
    """The rest of a snapshot and its index by id: the slow part, fit for a thread."""
    rest = cache.load_inbox_rest(user_id, head)
    return rest, {c.id: c for c in rest.conversations}


def _index_of(ordered: Sequence[Conversation], conversation: Conversation) -> int:
    """Where ``conversation`` (this very object) sits in the sorted list."""
    rank = _rank(conversation)
    index = bisect.bisect_left(ordered, rank, key=_rank)
    while index < len(ordered) and _rank(ordered[index]) == rank:
        if ordered[index] is conversation:
            return index
        index += 1
    return list(ordered).index(conversation)  # not where its rank says: a bug, but not fatal
