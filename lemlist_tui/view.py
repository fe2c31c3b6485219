"""Filter and sort over the held inbox, fast enough to run on every keystroke at 100k.

No ``textual`` import: the benchmarks drive it headless.

Each keystroke touches as little as possible:

* :meth:`InboxView.update` derives, once per conversation *object*, its search string
  and its unread flag. Objects seen before are not looked at again, and the usual
  changes (nothing, a page appended, a mark-read copy) are found without a lookup
  per conversation.
* Everything else is positions into the held list, kept in C arrays: a sort order
  (built once per key per update), the unread rows of it, a query's matches. A
  result is a lazy :class:`Sequence` over the held list, so nothing visits 100k
  conversation objects in shuffled order (a cache miss each) to build a list.
* A query that only narrows a recent one searches inside that one's matches.
"""

from __future__ import annotations

import enum
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import compress, islice, repeat
from operator import attrgetter, ge, is_, is_not
from typing import cast, overload

from lemlist_tui.api.models import Conversation

__all__ = ["Held", "InboxView", "Picked", "SortKey", "query_terms", "search_text"]


class SortKey(enum.Enum):
    """What the inbox is sorted by, newest first."""

    LAST_ACTIVITY = "last activity"
    LAST_REPLY = "last reply"
    CREATED = "created"

    def next(self) -> SortKey:
        """The key after this one, wrapping round (the ``s`` key cycles through them)."""
        members = list(SortKey)
        return members[(members.index(self) + 1) % len(members)]

    @property
    def attribute(self) -> str:
        """The :class:`Conversation` timestamp this key sorts by."""
        return _SORT_ATTRIBUTES[self]


_SORT_ATTRIBUTES = {
    SortKey.LAST_ACTIVITY: "last_activity_at",
    SortKey.LAST_REPLY: "last_replied_at",
    SortKey.CREATED: "created_at",
}

# Within this many seconds of 1970 a float timestamp still tells microseconds apart
# (its spacing stays below 1e-6 s), so sorting floats orders exactly as datetimes do.
_EXACT_SECONDS = 2.0**32

# Recent results kept for narrowing and for backspacing to an earlier query: at most
# 800 KB each at 100k conversations.
_RECENT_RESULTS = 8


def search_text(conversation: Conversation) -> str:
    """What a query is matched against: the contact's name and email, case-folded.

    The two parts are joined by a newline: query terms never hold whitespace, so no
    term can match across the join.
    """
    contact = conversation.contact
    return f"{contact.display_name}\n{contact.email or ''}".casefold()


def query_terms(query: str) -> tuple[str, ...]:
    """The case-folded, whitespace-separated terms of ``query``; each must match."""
    return tuple(query.casefold().split())


def _implies(new_terms: tuple[str, ...], old_terms: tuple[str, ...]) -> bool:
    """Whether every text matching all ``new_terms`` also matches all ``old_terms``.

    True when each old term is a substring of some new term ("acm" → "acme",
    "acme" → "acme bob"): the new matches then lie inside the old ones.
    """
    return all(any(old in new for new in new_terms) for old in old_terms)


def _common_run(new: Iterable[Conversation], old: Iterable[Conversation]) -> int:
    """How many leading items ``new`` and ``old`` share (the very same objects)."""
    same = list(map(is_, new, old))
    try:
        return same.index(False)
    except ValueError:
        return len(same)


def _positions(items: Iterable[int]) -> array[int]:
    return array("q", items)


def _sort_order(values: list[datetime | None]) -> array[int] | None:
    """Positions of ``values`` newest first, None last, ties in their given order.

    None when ``values`` are in that order already: the store holds the inbox newest
    activity first, so the default sort costs one pass and no copy.
    """
    count = len(values)
    missing = list(compress(range(count), map(is_, values, repeat(None))))
    present: list[int] | None = None
    stamps = cast(list[datetime], values)
    if missing:
        present = list(compress(range(count), map(is_not, values, repeat(None))))
        stamps = [stamps[i] for i in present]
    if all(map(ge, stamps, islice(stamps, 1, None))):
        if present is None:
            return None
    else:
        # reverse=True keeps equal keys in their given order (the sort is stable).
        floats = list(map(datetime.timestamp, stamps))
        if min(floats) > -_EXACT_SECONDS and max(floats) < _EXACT_SECONDS:
            # Floats sort about twice as fast as aware datetimes, and order the same.
            ranks = sorted(range(len(floats)), key=floats.__getitem__, reverse=True)
        else:
            ranks = sorted(range(len(stamps)), key=stamps.__getitem__, reverse=True)
        present = ranks if present is None else [present[rank] for rank in ranks]
    return _positions(present + missing)


class Held:
    """One version of the held conversations, with an id → position index built on
    first use (once per update, shared by every result drawn from it)."""

    __slots__ = ("_ids", "conversations")

    def __init__(self, conversations: list[Conversation]) -> None:
        self.conversations = conversations
        self._ids: dict[str, int] | None = None

    def position(self, conversation_id: str) -> int | None:
        if self._ids is None:
            ids = map(attrgetter("id"), self.conversations)
            self._ids = dict(zip(ids, range(len(self.conversations)), strict=True))
        return self._ids.get(conversation_id)


class Picked(Sequence[Conversation]):
    """Some held conversations, in a given order: a lazy, read-only view (no copy)."""

    __slots__ = ("_held", "_positions")

    def __init__(self, held: Held, positions: array[int]) -> None:
        self._held = held
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, index: int) -> Conversation: ...
    @overload
    def __getitem__(self, index: slice) -> Picked: ...
    def __getitem__(self, index: int | slice) -> Conversation | Picked:
        if isinstance(index, slice):
            return Picked(self._held, self._positions[index])
        return self._held.conversations[self._positions[index]]

    def __iter__(self) -> Iterator[Conversation]:
        return map(self._held.conversations.__getitem__, self._positions)

    def index_of_id(self, conversation_id: str) -> int | None:
        """Where ``conversation_id`` is in this view: a dict lookup, then a scan of
        raw integers (no conversation object is visited)."""
        position = self._held.position(conversation_id)
        if position is None:
            return None
        try:
            return self._positions.index(position)
        except ValueError:
            return None

    def __repr__(self) -> str:
        return f"<Picked {len(self)} of {len(self._held.conversations)} conversations>"


_ResultKey = tuple[tuple[str, ...], bool, SortKey]


class InboxView:
    """Filter/sort over a held inbox, instant at 100k conversations.

    Results are read-only snapshots: a lazy :class:`Picked` view or the held list
    itself, which :meth:`update` replaces rather than changes. Do not mutate them.
    """

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self._held: list[Conversation] = []
        self._held_index = Held(self._held)
        self._searches: list[str] = []
        self._unread: list[bool] = []
        # Derived data per conversation object, keyed by id(). ``_alive`` keeps each
        # object referenced, so no other object can take its id while it is cached.
        self._alive: dict[int, Conversation] = {}
        self._search_by_key: dict[int, str] = {}
        self._unread_keys: set[int] = set()
        # Per sort key: held positions in that order (None: the held order itself).
        self._orders: dict[SortKey, array[int] | None] = {}
        self._unread_orders: dict[SortKey, array[int]] = {}
        self._recent: OrderedDict[_ResultKey, array[int]] = OrderedDict()
        self._unread_count: int | None = None

    # --- state -----------------------------------------------------------------------

    @property
    def total(self) -> int:
        """How many conversations are held."""
        return len(self._held)

    @property
    def unread_count(self) -> int:
        """How many held conversations are unread for the view's user."""
        if self._unread_count is None:
            self._unread_count = sum(self._unread)
        return self._unread_count

    # --- feeding ---------------------------------------------------------------------

    def _derive(self, key: int, conversation: Conversation) -> str:
        """Cache ``conversation``'s search string and unread flag; return the former."""
        self._alive[key] = conversation
        text = self._search_by_key[key] = search_text(conversation)
        if conversation.is_unread_for(self.user_id):
            self._unread_keys.add(key)
        return text

    def update(self, conversations: Sequence[Conversation]) -> None:
        """Hold ``conversations`` (in the store's order).

        Only the stretch between the unchanged head and the unchanged tail is looked
        at (a page appended, new conversations at the front, a mark-read copy), and
        only objects not seen before are derived. Orders and results are dropped
        unless nothing changed.
        """
        new = list(conversations)
        held = self._held
        # Identity, not equality: results must hand back the store's current objects.
        head = _common_run(new, held)
        if head == len(new) == len(held):
            return
        room = min(len(new), len(held)) - head
        tail = _common_run(islice(reversed(new), room), reversed(held))
        middle = new[head : len(new) - tail]
        keys = list(map(id, middle))
        found: list[str | None] = list(map(self._search_by_key.get, keys))
        for index in compress(range(len(keys)), map(is_, found, repeat(None))):
            found[index] = self._derive(keys[index], middle[index])
        stale = slice(head, len(held) - tail)
        self._searches[stale] = cast(list[str], found)
        self._unread[stale] = map(self._unread_keys.__contains__, keys)
        self._held = new
        self._held_index = Held(new)
        if len(self._alive) > 2 * len(new) + 1024:
            # Objects that left the inbox: drop them so the caches do not grow forever.
            keys = list(map(id, new))
            self._alive = dict(zip(keys, new, strict=True))
            self._search_by_key = dict(zip(keys, self._searches, strict=True))
            self._unread_keys &= self._alive.keys()
        self._orders.clear()
        self._unread_orders.clear()
        self._recent.clear()
        self._unread_count = None

    # --- reading ---------------------------------------------------------------------

    def has_order(self, sort: SortKey) -> bool:
        """Whether the held conversations' order by ``sort`` is built already."""
        return sort in self._orders

    def prepare(self, sort: SortKey) -> None:
        """Build the order by ``sort`` now (a full sort, ~70 ms at 100k), not on a key;
        and the id index the list uses to keep its cursor on a re-sorted row (~12 ms)."""
        self._order(sort)
        self._held_index.position("")

    def _order(self, sort: SortKey) -> array[int] | None:
        if sort not in self._orders:
            values = list(map(attrgetter(sort.attribute), self._held))
            self._orders[sort] = _sort_order(values)
        return self._orders[sort]

    def _base(self, sort: SortKey, unread_only: bool) -> array[int] | None:
        """Held positions of the rows a query filters (None: all, in held order)."""
        order = self._order(sort)
        if not unread_only:
            return order
        base = self._unread_orders.get(sort)
        if base is None:
            unread = self._unread
            if order is None:
                base = _positions(compress(range(len(unread)), unread))
            else:
                base = _positions(compress(order, map(unread.__getitem__, order)))
            self._unread_orders[sort] = base
        return base

    def _first_term(self, base: array[int] | None, term: str) -> array[int]:
        """Held positions in ``base`` whose search string holds ``term``."""
        searches = self._searches
        if base is None:
            return _positions(compress(range(len(searches)), [term in t for t in searches]))
        if 2 * len(base) < len(searches):
            return _positions([i for i in base if term in searches[i]])
        # Scanning the strings in memory order and permuting the answer beats visiting
        # them in sorted order (a cache miss each at 100k).
        mask = [term in text for text in searches]
        return _positions(compress(base, map(mask.__getitem__, base)))

    def _view(self, positions: array[int] | None) -> Sequence[Conversation]:
        return self._held if positions is None else Picked(self._held_index, positions)

    def apply(
        self,
        query: str = "",
        *,
        unread_only: bool = False,
        sort: SortKey = SortKey.LAST_ACTIVITY,
    ) -> Sequence[Conversation]:
        """The held conversations matching ``query``, newest first by ``sort``.

        ``query`` is split on whitespace; every term must be a case-insensitive
        substring of the contact's name or email. ``unread_only`` keeps those unread
        for the view's user. Conversations without the sort's timestamp come last;
        ties keep the held order.
        """
        terms = query_terms(query)
        base = self._base(sort, unread_only)
        if not terms:
            return self._view(base)
        key: _ResultKey = (terms, unread_only, sort)
        recent = self._recent
        matches = recent.get(key)
        if matches is not None:
            recent.move_to_end(key)
            return self._view(matches)
        # Start from the smallest recent result this query can only narrow.
        pending = terms
        for (old_terms, old_unread, old_sort), old in recent.items():
            if (
                old_unread is unread_only
                and old_sort is sort
                and (matches is None or len(old) < len(matches))
                and _implies(terms, old_terms)
            ):
                matches = old
                pending = tuple(term for term in terms if term not in old_terms)
        # Longest first: usually the most selective, so later terms scan less.
        searches = self._searches
        for term in sorted(pending, key=len, reverse=True):
            if matches is None:
                matches = self._first_term(base, term)
            else:
                matches = _positions([i for i in matches if term in searches[i]])
        assert matches is not None
        recent[key] = matches
        if len(recent) > _RECENT_RESULTS:
            recent.popitem(last=False)
        return self._view(matches)
