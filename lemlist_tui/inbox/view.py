"""Filter and sort over the whole local inbox, reading only the rows on screen.

No ``textual`` import: tests and benchmarks drive it headless. A view's result is an
:class:`InboxRows`, a lazy sequence that reads the database a window of rows at a time
and keeps a few windows. A window next to one in hand continues from it in the sort index
(a keyset: no rows skipped over), and one in the second half of the list is read from the
end, so the first screen, the last screen and scrolling cost the same at any size.
Nothing holds a Python object per conversation.

A filter's first screen comes from the sort index, walked until the screen is full: at
once for a common term. A rare term would walk the whole index, so the walk has a budget;
past it, the :class:`~lemlist_tui.inbox.search_index.SearchIndex` lists the term's rows
and the database sorts just those.
"""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import overload

from lemlist_tui.db import InboxDatabase, ListRow, SortKey, fold
from lemlist_tui.db.query import Facets, Query, parse_query, user_names
from lemlist_tui.inbox.search_index import RARE, SearchIndex

__all__ = ["EXACT_COUNT_BELOW", "WINDOW", "InboxRows", "InboxView"]

WINDOW = 64
"""Rows read at once: a screen or two."""
_WINDOWS_KEPT = 16
EXACT_COUNT_BELOW = 20_000
"""Held conversations under which a filter's match count is taken at once (a few ms);
above, the first screen comes first and the count follows from a worker."""
WALK_BUDGET = 0.004
"""Seconds a filter's index walk may take for its first screen before the search index
is asked instead (a rare term)."""


class _OverBudget(Exception):
    pass


class InboxRows(Sequence[ListRow]):
    """The rows of one view of the inbox, in order, read on demand.

    ``len()`` is exact when :attr:`exact`; otherwise it is how many matches are known so
    far (the first screen), and :meth:`with_count` gives the rows again with the count.
    ``within`` (local ids) narrows the view to a rare term's rows.
    """

    def __init__(
        self,
        db: InboxDatabase,
        user_id: str,
        *,
        sort: SortKey,
        unread_only: bool,
        terms: tuple[str, ...],
        count: int | None,
        within: tuple[int, ...] | None = None,
        first: list[ListRow] | None = None,
        facets: Facets | None = None,
    ) -> None:
        self.db = db
        self.facets = facets
        self.user_id = user_id
        self.sort = sort
        self.unread_only = unread_only
        self.terms = terms
        self.within = within
        self._windows: OrderedDict[int, list[ListRow]] = OrderedDict()
        if count is None:
            if first is None:
                first = self._read(0, None, limit=WINDOW + 1)
            self._windows[0] = first[:WINDOW]
            self.exact = len(first) <= WINDOW
            self._length = len(first) if self.exact else WINDOW
        else:
            self.exact = True
            self._length = count
            if first is not None:
                self._windows[0] = first[:WINDOW]

    def with_count(self, count: int) -> InboxRows:
        """The same view, now that its exact length is known (the windows read are kept)."""
        rows = InboxRows(
            self.db,
            self.user_id,
            sort=self.sort,
            unread_only=self.unread_only,
            terms=self.terms,
            count=count,
            within=self.within,
            facets=self.facets,
        )
        rows._windows = self._windows.copy()
        return rows

    def __len__(self) -> int:
        return self._length

    def _read(
        self,
        offset: int,
        after: tuple[int, int] | None,
        *,
        limit: int = WINDOW,
        reverse: bool = False,
        unread: bool = False,
    ) -> list[ListRow]:
        return self.db.rows(
            self.user_id,
            sort=self.sort,
            unread_only=self.unread_only or unread,
            terms=self.terms,
            within=self.within,
            offset=offset,
            limit=limit,
            after=after,
            reverse=reverse,
            facets=self.facets,
        )

    def _window(self, number: int) -> list[ListRow]:
        window = self._windows.get(number)
        if window is not None:
            self._windows.move_to_end(number)
            return window
        start = number * WINDOW
        size = min(WINDOW, self._length - start)
        before = self._windows.get(number - 1)
        following = self._windows.get(number + 1)
        if before is not None and len(before) == WINDOW:
            # Continue in the index right after the previous window: no offset to walk.
            last = before[-1]
            window = self._read(0, (last.sort_value, last.local_id), limit=size)
        elif following is not None and following and self.exact:
            first = following[0]
            window = self._read(0, (first.sort_value, first.local_id), limit=size, reverse=True)
            window.reverse()
        elif self.exact and start > self._length // 2:
            # The end of the list is read from its end: G costs what g costs.
            from_end = self._length - start - size
            window = self._read(from_end, None, limit=size, reverse=True)
            window.reverse()
        else:
            window = self._read(start, None, limit=size)
        self._windows[number] = window
        if len(self._windows) > _WINDOWS_KEPT:
            self._windows.popitem(last=False)
        return window

    @overload
    def __getitem__(self, index: int) -> ListRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[ListRow]: ...
    def __getitem__(self, index: int | slice) -> ListRow | list[ListRow]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        window = self._window(index // WINDOW)
        offset = index % WINDOW
        if offset >= len(window):
            # The database changed under this view (rows removed since it was made).
            raise IndexError(index)
        return window[offset]

    def get(self, index: int) -> ListRow | None:
        """Row ``index``, or None when it is out of range or gone from the database."""
        try:
            return self[index]
        except IndexError:
            return None

    def __iter__(self) -> Iterator[ListRow]:
        for index in range(len(self)):
            row = self.get(index)
            if row is None:
                return
            yield row

    def index_of_id(self, conversation_id: str, near: int = 0, *, far: bool = True) -> int | None:
        """Where ``conversation_id`` is in this view: the windows in hand, else (``far``)
        one counting walk of the sort index, from the end nearer to ``near`` (an index)."""
        for number, window in self._windows.items():
            for offset, row in enumerate(window):
                if row.id == conversation_id:
                    return number * WINDOW + offset
        if not far:
            return None
        local_id = self.db.local_id(conversation_id)
        if local_id is None:
            return None
        from_end = self.exact and near > self._length // 2
        counted = self.db.position(
            self.user_id,
            local_id,
            sort=self.sort,
            unread_only=self.unread_only,
            terms=self.terms,
            within=self.within,
            from_end=from_end,
            facets=self.facets,
        )
        if counted is None:
            return None
        position = self._length - 1 - counted if from_end else counted
        return position if 0 <= position < len(self) else None

    def next_unread(self, index: int, *, backwards: bool = False) -> int | None:
        """The index of the nearest unread row after ``index`` (before it, ``backwards``);
        None when there is none. Two index walks, over the stretch between the two rows:
        what lies beyond is never read."""
        row = self.get(index)
        if row is None:
            return None
        here = (row.sort_value, row.local_id)
        found = self._read(0, here, limit=1, reverse=backwards, unread=True)
        if not found:
            return None
        there = (found[0].sort_value, found[0].local_id)
        above, below = (there, here) if backwards else (here, there)
        gap = self.db.between(
            self.user_id,
            above,
            below,
            sort=self.sort,
            unread_only=self.unread_only,
            terms=self.terms,
            within=self.within,
            facets=self.facets,
        )
        position = index - 1 - gap if backwards else index + 1 + gap
        return position if 0 <= position < len(self) else None

    def first_unread(self, *, last: bool = False) -> int | None:
        """The index of the first (``last``: the last) unread row of this view."""
        found = self._read(0, None, limit=1, reverse=last, unread=True)
        if not found:
            return None
        return self.index_of_id(found[0].id, near=len(self) - 1 if last else 0)

    def __repr__(self) -> str:
        exact = "" if self.exact else "≥ "
        return f"<InboxRows {exact}{len(self)} of {self.user_id}'s inbox>"


class InboxView:
    """The current view's rows of ``user_id``'s inbox, and its counts."""

    def __init__(
        self,
        db: InboxDatabase,
        user_id: str,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.problems: tuple[str, ...] = ()
        """What the last query could not use, in sentences (see :meth:`apply`)."""
        self.search_index: SearchIndex | None = None
        """Set by the owner once built (see :meth:`wants_search_index`)."""
        self._clock = clock

    def counts(self) -> tuple[int, int]:
        """(conversations held, unread among them): every one in the database."""
        return self.db.counts(self.user_id)

    def wants_search_index(self) -> bool:
        """A large inbox whose search index is missing or older than the database."""
        held, _ = self.counts()
        index = self.search_index
        return held >= EXACT_COUNT_BELOW and (index is None or index.version != self.db.version)

    def build_search_index(self, connection: sqlite3.Connection, version: int) -> SearchIndex:
        """A search index (a table scan: run it in a worker thread, with a ``connection``
        of its own). ``version`` is the database's, read on the reads' thread before: the
        index then holds at least that version, so it never passes for fresher than it is.
        """
        return SearchIndex.build(connection, self.user_id, version)

    def parse(self, query: str) -> Query:
        """``query`` in the filter's language, its ``label:`` names looked up."""
        labels: dict[str, list[str]] = {}
        for label in self.db.labels():
            if label.name:
                labels.setdefault(fold(label.name), []).append(label.id)
        lowered = query.lower()
        team = self.db.team() if "user:" in lowered or "unread-by:" in lowered else None
        people = None
        if team is not None:
            ids = dict.fromkeys([*team.user_ids, *(u.id for u in team.users)])
            people = user_names(
                (uid, u.name if u else None, u.email if u else None)
                for uid in ids
                for u in [team.user(uid)]
            )
        return parse_query(query, labels, people)

    def apply(
        self,
        query: str = "",
        *,
        unread_only: bool = False,
        awaiting_only: bool = False,
        sort: SortKey = SortKey.LAST_ACTIVITY,
    ) -> InboxRows:
        """The conversations matching ``query``, newest first by ``sort``.

        ``query`` is free text and the terms of :mod:`lemlist_tui.db.query`: every free
        term must be a substring of the contact's name or email, ignoring case and
        accents. ``unread_only`` / ``awaiting_only`` add ``is:unread`` / ``is:awaiting``.
        Without a query the length is exact at once; with one it is exact on a small
        inbox or for a rare term, else the first screen's (see :meth:`count`). What the
        query could not use is in :attr:`problems`.
        """
        parsed = self.parse(query)
        self.problems = parsed.problems
        terms = parsed.terms
        unread_only = unread_only or parsed.unread
        facets = parsed.facets
        if awaiting_only and not facets.awaiting:
            facets = dataclasses.replace(facets, awaiting=True)
        held, _ = self.counts()
        view = functools.partial(
            InboxRows,
            self.db,
            self.user_id,
            sort=sort,
            unread_only=unread_only,
            terms=terms,
            facets=None if facets.empty else facets,
        )
        if (not terms and facets.empty) or held < EXACT_COUNT_BELOW:
            count = self.db.count(self.user_id, unread_only=unread_only, terms=terms, facets=facets)
            return view(count=count)
        index = self.fresh_index()
        first: list[ListRow] | None = None
        if index is not None and terms:
            try:
                first = self._walk(terms, sort, unread_only, facets)
            except _OverBudget:
                within = index.matches(max(terms, key=len), RARE)
                if within is not None:
                    rare = tuple(within)
                    count = self.db.count(
                        self.user_id,
                        unread_only=unread_only,
                        terms=terms,
                        within=rare,
                        facets=facets,
                    )
                    return view(count=count, within=rare)
        return view(count=None, first=first)

    def _walk(
        self, terms: tuple[str, ...], sort: SortKey, unread_only: bool, facets: Facets
    ) -> list[ListRow]:
        """The first screen (and one row more) of a filter, within :data:`WALK_BUDGET`."""
        deadline = self._clock() + WALK_BUDGET

        def over() -> bool:
            return self._clock() > deadline

        with self.db.budget(over):
            try:
                return self.db.rows(
                    self.user_id,
                    sort=sort,
                    unread_only=unread_only,
                    terms=terms,
                    limit=WINDOW + 1,
                    facets=facets,
                )
            except sqlite3.OperationalError as error:
                if "interrupt" in str(error):
                    raise _OverBudget from None
                raise

    def fresh_index(self) -> SearchIndex | None:
        """The search index, when it is as new as the database (ask on the reads' thread)."""
        index = self.search_index
        return index if index is not None and index.version == self.db.version else None

    def count(self, rows: InboxRows, connection: sqlite3.Connection | None = None) -> int:
        """The exact length of ``rows``: an index scan, run by SQLite without the GIL (a
        worker's job, with a ``connection`` of its own; the event loop keeps running)."""
        return self.db.count(
            self.user_id,
            unread_only=rows.unread_only,
            terms=rows.terms,
            within=rows.within,
            connection=connection,
            facets=rows.facets,
        )
