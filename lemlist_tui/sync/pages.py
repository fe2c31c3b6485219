"""The page-walk policy: which page to ask for next, and when an inbox has no more.

No ``textual`` import, no IO. :func:`is_last_page` is the one rule for "this was the
last page"; the crawl, the refresh and load-more all use it.
"""

from __future__ import annotations

import math

from lemlist_tui.api.models import InboxPage, Pagination

__all__ = ["PagePlan", "is_last_page", "page_cap"]


def is_last_page(number: int, page: InboxPage) -> bool:
    """Whether page ``number`` ends the inbox.

    Pagination is trusted over ``limit``, but never blindly: an empty page ends the inbox
    (``totalPages`` too large), and so does a ``nextPage`` that is missing, goes back, or
    repeats the page just read.
    """
    next_page = page.pagination.next_page
    return not page.conversations or next_page is None or next_page <= number


def page_cap(pagination: Pagination, rows_on_page: int, page_size: int) -> int:
    """The most pages any walk may ask for: twice what the server announced, and then some."""
    per_page = rows_on_page or pagination.per_page or page_size
    if pagination.total_items is not None and pagination.total_items >= 0:
        return 2 * math.ceil(pagination.total_items / max(per_page, 1)) + 10
    if pagination.total_pages is not None and pagination.total_pages >= 0:
        return 2 * pagination.total_pages + 10
    return 10_000


class PagePlan:
    """Which page a crawl asks for next, and when it stops.

    A ``nextPage`` beyond ``totalPages`` is followed only while pages bring ids not seen
    before (``totalPages`` too small); no page beyond ``cap`` is ever asked for; and a
    server that ignores ``page`` (page 1 forever: nothing new, ever again) is left after
    ``stale_limit`` pages in a row brought nothing new.
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
        """The next page to ask for, or None when the walk is over."""
        page = self.next
        if page > min(self.allowed, self.cap) or (self.stop is not None and page >= self.stop):
            return None
        self.next += 1
        return page

    def record(self, number: int, page: InboxPage, new_ids: int) -> None:
        """Page ``number`` arrived and brought ``new_ids`` conversations not seen before."""
        self.done.add(number)
        pagination = page.pagination
        next_page = pagination.next_page
        if is_last_page(number, page):
            self._stop_at(number + (1 if page.conversations else 0))
        elif next_page is not None and next_page > max(self.allowed, pagination.total_pages or 0):
            if new_ids:
                self.allowed = next_page
            else:
                self._stop_at(number + 1)
        else:
            self.allowed = max(self.allowed, pagination.total_pages or 0)
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
