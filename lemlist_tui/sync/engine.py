"""Keeping one user's inbox in the local database in step with lemlist.

No ``textual`` import: the app, ``sync``, ``export`` and the benchmarks share it.

Every page is committed in its own transaction as it arrives (in a worker thread), so
what was fetched survives a crash, a kill or a cancelled operation, and a reader (the
list) sees it at once. One operation runs at a time per user.

A **full crawl** walks every page and marks each conversation it sees with the crawl's
number; it can be cancelled and resumes where it stopped. It ends with a walk from page 1
(conversations that moved to the top while it ran), then **reconciles**: conversations it
never saw were deleted in lemlist and are removed, but only when the crawl was *steady*:
every page reported the same ``totalItems``, the walk from the top found no conversation
that was new, and the crawl saw exactly ``totalItems`` conversations. Deleting while a
crawl runs shifts later pages up, so a conversation can slip past between two pages
unseen; an unsteady crawl therefore removes nothing, and the next steady one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lemlist_tui.api.errors import NetworkError, NotFoundError
from lemlist_tui.api.models import Conversation, InboxPage, Label, ThreadPage
from lemlist_tui.db import InboxDatabase, PageWrite, SyncState
from lemlist_tui.sync.pages import PagePlan, is_last_page, page_cap

if TYPE_CHECKING:  # the client brings httpx: not on the way to the first frame
    from lemlist_tui.api.client import LemlistClient

__all__ = ["OFFLINE", "CrawlResult", "InboxSync", "Progress", "RefreshResult"]

Progress = Callable[[int, int | None], None]
"""Called with (pages done, total pages or None when not known yet)."""

OFFLINE = "the app runs offline, so only the local inbox is shown"
FULL_CRAWL_EVERY = 86_400.0
"""Seconds after which a complete inbox is crawled again in full (to see deletions)."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    new: int
    """Conversations not held before."""
    updated: int
    """Held conversations that came back changed (new activity, read state)."""
    requests: int
    """Inbox requests this refresh made."""


@dataclass(frozen=True, slots=True)
class CrawlResult:
    pages: int
    """Pages this run of the crawl fetched (a resumed crawl counts its own)."""
    new: int
    """Conversations not held before."""
    removed: int
    """Conversations deleted in lemlist, removed from the local inbox."""
    reconciled: bool
    """The crawl was steady, so what it did not see was removed."""


class InboxSync:
    """``user_id``'s inbox: lemlist → the local database.

    ``client`` is None offline: every network operation then raises ``NetworkError``.
    Reads go straight to ``db`` (see :class:`lemlist_tui.db.InboxDatabase`).
    """

    def __init__(
        self,
        client: LemlistClient | None,
        db: InboxDatabase,
        user_id: str,
        *,
        page_size: int = 100,
        fresh_for: float = 300.0,
        full_crawl_every: float = FULL_CRAWL_EVERY,
        concurrency: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if page_size < 1 or concurrency < 1:
            raise ValueError("page_size and concurrency must be at least 1")
        self.user_id = user_id
        self.db = db
        self.page_size = page_size
        self.fresh_for = fresh_for
        self.full_crawl_every = full_crawl_every
        self.concurrency = concurrency
        self.requests = 0
        """Inbox pages this object asked for (retries not counted: see the client's)."""
        self.skipped = 0
        """Malformed conversations left out of the pages received."""
        self._client = client
        self._clock = clock
        self._rows_on_page = 0
        self._lock = asyncio.Lock()
        self._base = SyncState(page_size=page_size)
        self._touched: set[str] = set()

    # --- state ---------------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        return self._client is None

    @property
    def state(self) -> SyncState:
        """The sync state as last committed (by this process or another)."""
        state = self.db.sync_state(self.user_id)
        if state is None:
            return SyncState(page_size=self.page_size)
        if state.page_size != self.page_size:
            # A frontier counted in other pages than ours is worthless: restart from 1
            # (merging by id makes the overlap harmless).
            state = dataclasses.replace(
                state, page_size=self.page_size, next_page=None if state.complete else 1
            )
        return state

    @property
    def busy(self) -> bool:
        """An operation is running."""
        return self._lock.locked()

    def stale(self, state: SyncState | None = None) -> bool:
        """Page 1 was fetched longer than ``fresh_for`` ago (or never)."""
        at = (state or self.state).refreshed_at
        return at is None or self._clock() - at > self.fresh_for

    def crawl_due(self, state: SyncState | None = None) -> bool:
        """A full crawl is wanted: the inbox is not whole yet, a crawl was left unfinished,
        or the last full crawl is older than ``full_crawl_every``."""
        state = state or self.state
        if not state.complete or state.next_page is not None:
            return True
        at = state.full_crawl_at
        return at is None or self._clock() - at > self.full_crawl_every

    # --- plumbing ------------------------------------------------------------------------

    def _require_client(self) -> LemlistClient:
        if self._client is None:
            raise NetworkError(OFFLINE)
        return self._client

    @contextlib.asynccontextmanager
    async def _operation(self) -> AsyncIterator[LemlistClient]:
        client = self._require_client()
        async with self._lock:
            # What this operation changes is written over the state as committed at that
            # moment, field by field: another process syncing the same user keeps its own.
            self._base = self.db.sync_state(self.user_id) or SyncState(page_size=0)
            self._touched = set()
            yield client

    def _changes(self, state: SyncState) -> set[str]:
        """The fields of ``state`` this operation changed (at any of its writes so far)."""
        base = self._base
        self._touched |= {
            field.name
            for field in dataclasses.fields(SyncState)
            if getattr(state, field.name) != getattr(base, field.name)
        }
        return self._touched

    async def _save_state(self, state: SyncState) -> None:
        await asyncio.to_thread(
            self.db.save_sync_state, self.user_id, state, fields=self._changes(state)
        )

    async def _fetch(self, client: LemlistClient, number: int) -> InboxPage:
        self.requests += 1
        page = await client.inbox_page(self.user_id, number, self.page_size)
        self.skipped += len(page.skipped)
        self._rows_on_page = max(self._rows_on_page, len(page.conversations))
        return page

    async def _store(self, page: InboxPage, state: SyncState, crawl: int | None) -> PageWrite:
        """Commit ``page`` and ``state`` (what this operation changed of it) together, off
        the event loop."""
        return await asyncio.to_thread(
            self.db.store_page,
            self.user_id,
            page.conversations,
            state,
            crawl=crawl,
            fields=self._changes(state),
        )

    def _cap(self, page: InboxPage) -> int:
        return page_cap(page.pagination, self._rows_on_page, self.page_size)

    # --- operations ----------------------------------------------------------------------

    async def refresh(self) -> RefreshResult:
        """Walk from page 1 until a page brings nothing new or changed.

        A held inbox with k new conversations costs ⌈k / page size⌉ + 1 requests. On an
        inbox whose crawl is unfinished, the walk stops at the crawl's frontier (the pages
        beyond are the crawl's). An empty local inbox gets its first page.
        """
        async with self._operation() as client:
            return await self._walk_from_top(client, self.state, crawl=None)

    async def _walk_from_top(
        self, client: LemlistClient, state: SyncState, crawl: int | None
    ) -> RefreshResult:
        new = updated = requests = 0
        frontier = state.next_page if crawl is None else None
        number = 1
        while True:
            page = await self._fetch(client, number)
            requests += 1
            last = is_last_page(number, page)
            total = page.pagination.total_items
            state = dataclasses.replace(
                state,
                total_items=total if total is not None else state.total_items,
                refreshed_at=self._clock(),
            )
            if crawl is not None:
                state = _steadied(state, total)
            elif last and (frontier is None or number + 1 >= frontier):
                # Walked every page there is: the inbox is whole.
                state = dataclasses.replace(state, complete=True, next_page=None)
            elif frontier == 1 and not last:
                # Nothing walked yet, and page 1 is held now: load_more and the crawl go on
                # from the next page (a crawl's closing walk from the top marks page 1).
                state = dataclasses.replace(state, next_page=page.pagination.next_page)
            written = await self._store(page, state, crawl)
            new, updated = new + written.new, updated + written.updated
            if crawl is not None and written.new:
                state = dataclasses.replace(state, crawl_steady=False)
                await self._save_state(state)
            if last or (not written.new and not written.updated):
                break
            next_page = page.pagination.next_page
            assert next_page is not None  # not the last page
            if frontier is not None and next_page >= frontier:
                break
            if next_page > self._cap(page):
                break
            number = next_page
        return RefreshResult(new, updated, requests)

    async def crawl(
        self,
        progress: Progress | None = None,
        *,
        gate: Callable[[], Awaitable[None]] | None = None,
    ) -> CrawlResult:
        """Every page, several requests in flight, at the rate limit; then reconcile.

        ``gate`` is awaited once the walk's first page is committed, before it asks for
        any other (the team's crawl lines every user's first page up this way).

        Resumes an unfinished crawl at its frontier, the first page not committed yet
        (pages before it are not fetched again; pages that arrived beyond it are).
        Cancel it at any point: requests in flight are cancelled and awaited, and every
        page that arrived before is committed.
        """
        async with self._operation() as client:
            state = self.state
            if state.next_page is None or state.next_page == 1 or state.crawl == 0:
                # A new crawl (number 0 is "none yet": pages a refresh or load-more
                # brought are walked again under a number of their own).
                state = dataclasses.replace(
                    state,
                    crawl=state.crawl + 1,
                    crawl_total=None,
                    crawl_steady=True,
                    pages_seen=0,
                    next_page=1,
                )
            crawl = state.crawl
            pages, new, state = await self._crawl_pages(client, state, progress, gate)
            top = await self._walk_from_top(client, state, crawl=crawl)
            state = self.state
            seen = await asyncio.to_thread(self.db.seen_count, self.user_id, crawl)
            steady = state.crawl_steady and state.crawl_total == state.total_items
            reconciled = steady and state.total_items is not None and seen == state.total_items
            removed = 0
            if reconciled:
                removed = await asyncio.to_thread(self.db.reconcile, self.user_id, crawl)
            now = self._clock()
            # An unsteady crawl may have let a conversation slip between two pages: it
            # does not count as the last full crawl, so another one is due.
            state = dataclasses.replace(
                state,
                complete=True,
                next_page=None,
                full_crawl_at=now if reconciled else state.full_crawl_at,
                refreshed_at=now,
            )
            await self._save_state(state)
            if progress is not None:
                progress(state.pages_seen, state.pages_seen)
            return CrawlResult(pages + top.requests, new + top.new, removed, reconciled)

    async def _crawl_pages(
        self,
        client: LemlistClient,
        state: SyncState,
        progress: Progress | None,
        gate: Callable[[], Awaitable[None]] | None,
    ) -> tuple[int, int, SyncState]:
        crawl = state.crawl
        start = state.next_page or 1
        fetched = new = 0
        first = await self._fetch(client, start)
        fetched += 1
        total_pages = first.pagination.total_pages
        state = _steadied(state, first.pagination.total_items)
        state = dataclasses.replace(
            state,
            total_items=first.pagination.total_items,
            pages_seen=start,
            next_page=start + 1,
            refreshed_at=self._clock() if start == 1 else state.refreshed_at,
        )
        written = await self._store(first, state, crawl)
        new += written.new
        # The plan's "new" is new to this walk, not to the crawl: another process may be
        # walking the same crawl ahead of this one, and its pages are no end of the inbox.
        # A page that repeats one walked already (a server ignoring `page`) brings nothing
        # new; one fingerprint a page keeps this small at a million conversations.
        walked = {_fingerprint(first)}
        if progress is not None:
            progress(state.pages_seen, total_pages)
        if is_last_page(start, first):
            return fetched, new, state
        if gate is not None:
            await gate()
        plan = PagePlan(
            start + 1, first.pagination, self._cap(first), stale_limit=2 * self.concurrency + 4
        )
        pending: dict[asyncio.Future[InboxPage], int] = {}
        try:
            while True:
                while len(pending) < self.concurrency and (number := plan.take()) is not None:
                    pending[asyncio.ensure_future(self._fetch(client, number))] = number
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
                    fetched += 1
                    fingerprint = _fingerprint(page)
                    plan.record(
                        number, page, 0 if fingerprint in walked else len(page.conversations)
                    )
                    walked.add(fingerprint)
                    total = page.pagination.total_items
                    state = _steadied(state, total)
                    state = dataclasses.replace(
                        state,
                        total_items=total if total is not None else state.total_items,
                        pages_seen=state.pages_seen + 1,
                        next_page=plan.frontier(),
                    )
                    written = await self._store(page, state, crawl)
                    new += written.new
                    total_pages = page.pagination.total_pages or total_pages
                if failure is not None:
                    raise failure
                if progress is not None:
                    progress(state.pages_seen, total_pages)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        return fetched, new, state

    async def load_more(self) -> int:
        """The next page beyond what a crawl reached (on-demand paging); returns how many
        conversations it added. Reaching the last page makes the inbox whole."""
        async with self._operation() as client:
            state = self.state
            if state.complete and state.next_page is None:
                return 0
            number = state.next_page or 1
            page = await self._fetch(client, number)
            last = is_last_page(number, page) or number + 1 > self._cap(page)
            state = _steadied(state, page.pagination.total_items)
            state = dataclasses.replace(
                state,
                total_items=page.pagination.total_items or state.total_items,
                pages_seen=max(state.pages_seen, number),
                next_page=None if last else page.pagination.next_page,
                complete=state.complete or last,
            )
            # Reaching the end this way reconciles nothing: a full crawl stays due.
            written = await self._store(page, state, state.crawl)
            return written.new

    # --- threads and read state ----------------------------------------------------------

    @staticmethod
    def _contact_of(conversation: Conversation) -> str:
        contact_id = conversation.contact_id or conversation.lead_id
        if contact_id is None:
            raise NotFoundError("contact for this conversation")
        return contact_id

    def cached_thread(self, conversation: Conversation) -> ThreadPage | None:
        """The thread as last fetched, without any request."""
        contact_id = conversation.contact_id or conversation.lead_id
        if contact_id is None:
            return None
        return self.db.thread(contact_id, self.user_id)

    async def thread(self, conversation: Conversation) -> ThreadPage:
        """The conversation's messages (``/inbox/{contactId}``), each with its text made
        (off the loop), then kept. Never marks read. Offline: the kept one, if any."""
        contact_id = self._contact_of(conversation)
        if self._client is None:
            cached = self.cached_thread(conversation)
            if cached is None:
                raise NetworkError(OFFLINE)
            return cached
        page = await self._client.thread(contact_id, self.user_id, mark_as_read=False)
        return await asyncio.to_thread(
            self.db.save_thread, contact_id, self.user_id, page, self._clock()
        )

    async def labels(self) -> tuple[Label, ...]:
        """The team's labels from lemlist, then kept (the filter's ``label:`` reads them)."""
        labels = await self._require_client().labels()
        await asyncio.to_thread(self.db.save_labels, labels)
        return labels


def _fingerprint(page: InboxPage) -> int:
    """Which conversations a page holds, in one number."""
    return hash(tuple(c.id for c in page.conversations))


def _steadied(state: SyncState, total: int | None) -> SyncState:
    """``state`` after a crawl page reported ``total``: the first total is the crawl's;
    any other one means pages shifted under the crawl."""
    if state.crawl_total is None:
        return dataclasses.replace(state, crawl_total=total)
    if total != state.crawl_total:
        return dataclasses.replace(state, crawl_steady=False)
    return state
