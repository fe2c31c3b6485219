"""The team's inboxes, synced together: every user's pages through the one rate limiter.

No ``textual`` import. Fairness comes from the limiter: it lets requests go in the order
they asked (an ``asyncio.Lock`` queue), and every user's walk asks for its first page
before any walk can ask for a second, so the team view fills from the top for everyone
at once. The database's team rows (``TEAM``) follow each page by triggers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from lemlist_tui.sync.engine import CrawlResult, InboxSync, RefreshResult

__all__ = ["TeamCrawl", "TeamSync"]


@dataclass(frozen=True, slots=True)
class TeamCrawl:
    """What a team crawl did, summed over the users it walked."""

    users: int
    pages: int
    new: int
    removed: int
    reconciled: bool
    """Every walked user's crawl reconciled (was steady)."""


class TeamSync:
    """Several users' :class:`InboxSync` (one per user, shared with the rest of the run)."""

    def __init__(self, syncs: Sequence[InboxSync]) -> None:
        self.syncs = tuple(syncs)

    def whole(self) -> tuple[int, int]:
        """(users whose inbox is held whole, users): "whole or said" for the team view."""
        done = sum(1 for sync in self.syncs if not _partial(sync))
        return done, len(self.syncs)

    def crawl_due(self) -> bool:
        return any(sync.crawl_due() for sync in self.syncs)

    async def refresh(self) -> RefreshResult:
        """Every user's refresh at once (each from page 1), summed; the first failure is
        raised once all are over."""
        outcomes = await asyncio.gather(
            *(sync.refresh() for sync in self.syncs), return_exceptions=True
        )
        results = _results(outcomes)
        return RefreshResult(
            sum(r.new for r in results),
            sum(r.updated for r in results),
            sum(r.requests for r in results),
        )

    async def crawl(self, progress: Callable[[int, int | None], None] | None = None) -> TeamCrawl:
        """Crawl every user whose crawl is due, all at once, fairly (see the module).

        ``progress(pages done, pages in all)`` sums the users' walks; the total is None
        until every walk knows its own. A user's failure does not stop the others' walks;
        the first failure is raised once they are over (every page that came is kept).
        """
        due = [sync for sync in self.syncs if sync.crawl_due()]
        done: dict[str, int] = {}
        totals: dict[str, int | None] = {sync.user_id: None for sync in due}

        def reporter(user_id: str) -> Callable[[int, int | None], None]:
            def report(pages_done: int, total_pages: int | None) -> None:
                done[user_id] = pages_done
                totals[user_id] = total_pages
                if progress is not None:
                    known = [t for t in totals.values() if t is not None]
                    whole = sum(known) if len(known) == len(totals) else None
                    progress(sum(done.values()), whole)

            return report

        # The starting line: no walk asks for its second page before every walk has its
        # first (or has ended: a one-page inbox, a failure).
        started = 0
        everyone = asyncio.Event()

        def arrive() -> None:
            nonlocal started
            started += 1
            if started >= len(due):
                everyone.set()

        async def gate() -> None:
            arrive()
            await everyone.wait()

        async def walk(sync: InboxSync) -> CrawlResult:
            passed = False

            async def passing() -> None:
                nonlocal passed
                passed = True
                await gate()

            try:
                return await sync.crawl(reporter(sync.user_id), gate=passing)
            finally:
                if not passed:
                    arrive()

        outcomes = await asyncio.gather(*(walk(sync) for sync in due), return_exceptions=True)
        results = _results(outcomes)
        return TeamCrawl(
            users=len(results),
            pages=sum(r.pages for r in results),
            new=sum(r.new for r in results),
            removed=sum(r.removed for r in results),
            reconciled=all(r.reconciled for r in results),
        )


_T = TypeVar("_T")


def _results(outcomes: Sequence[_T | BaseException]) -> list[_T]:
    """``outcomes`` of a gather, or its first failure raised."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]


def _partial(sync: InboxSync) -> bool:
    state = sync.state
    return not state.complete or state.next_page is not None
