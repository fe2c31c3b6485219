"""The demo inbox as it changes: the generated conversations plus small overlays.

Order: conversations lifted by ``touch``/``send``/``add`` (newest first), then the generated
ones by index, skipping the lifted; deleted ones are nowhere. What happened to a conversation (a
new reply, a message sent, read flags, labels, its lead's interest) is its :class:`Overlay`,
replaced on every change and never mutated: a page snapshot (:meth:`InboxState.page`) is a list
of (index, overlay) taken under the lock, and :func:`page_json` / :func:`thread_json` turn one
into JSON anywhere, a worker thread included, while the event loop goes on changing the inbox.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import NamedTuple

from lemlist_tui.demo.data import Conversation, DemoData, JsonObject, SentMessage
from lemlist_tui.demo.draws import Draws
from lemlist_tui.demo.ids import random_id


@dataclass(frozen=True, slots=True)
class Overlay:
    """What happened to one conversation since start-up. Replaced, never changed."""

    anchor: int | None = None
    """Last activity of a conversation added after start-up (None: a generated one)."""
    replies: tuple[int, ...] = ()
    """Times of the inbound messages ``touch`` added, oldest first."""
    sent: tuple[SentMessage, ...] = ()
    """Messages the team sent through the send routes, oldest first."""
    read: tuple[bool | None, ...] = ()
    """Per team member, the read flag set since start-up (None: as generated); () = none."""
    labels: tuple[str, ...] | None = None
    """Labels set since start-up; None: as generated."""
    interest: str | None = None
    """``"interested"`` or ``"notinterested"`` once the lead was marked so; None: never."""

    def read_flags(self, generated: Sequence[bool]) -> Sequence[bool]:
        if not self.read:
            return generated
        return [g if o is None else o for g, o in zip(generated, self.read, strict=True)]


UNCHANGED = Overlay()

_GIL_BREAK_EVERY = 10
"""Conversations (about half a millisecond) a worker thread builds between GIL hand-offs."""

PageEntry = tuple[int, Overlay]


class PageSnapshot(NamedTuple):
    entries: list[PageEntry]
    """The page's conversations, in inbox order, with their overlays as of the snapshot."""
    total: int
    """Conversations in the inbox at the same instant."""


def conversation_at(data: DemoData, index: int, overlay: Overlay) -> Conversation:
    """Conversation ``index`` as ``overlay`` says it is now: the generated steps, then the
    replies ``touch`` added and the messages sent, by time (no two share a time)."""
    conversation = data.conversation(index, overlay.anchor)
    if not overlay.replies and not overlay.sent:
        return conversation
    replies: list[tuple[int, SentMessage | None]] = [(at, None) for at in overlay.replies]
    sent: list[tuple[int, SentMessage | None]] = [(s.at, s) for s in overlay.sent]
    for at, message in heapq.merge(replies, sent, key=itemgetter(0)):
        step = data.extra_reply(conversation, at) if message is None else message.step()
        conversation = replace(conversation, steps=(*conversation.steps, step))
    return replace(conversation, sent=overlay.sent)


def page_json(
    data: DemoData, entries: Sequence[PageEntry], *, in_worker: bool = False
) -> list[JsonObject]:
    """The ``data`` of an inbox page; reads nothing but its arguments (thread-safe).

    ``in_worker``: every few conversations, hand the GIL to a thread waiting for it (the event
    loop, woken by a key press) at once, instead of after the 5 ms switch interval.
    """
    page = []
    for n, (index, overlay) in enumerate(entries, start=1):
        conversation = conversation_at(data, index, overlay)
        read = overlay.read_flags(conversation.read)
        labels = conversation.labels if overlay.labels is None else overlay.labels
        page.append(data.conversation_json(conversation, read, labels))
        if in_worker and n % _GIL_BREAK_EVERY == 0:
            time.sleep(0)
    return page


def thread_json(data: DemoData, index: int, overlay: Overlay) -> list[JsonObject]:
    """Every activity of a conversation, oldest first; thread-safe like :func:`page_json`."""
    return data.thread_json(conversation_at(data, index, overlay))


class InboxState:
    """The generated inbox plus what happened since: small overlays, never a full copy.

    Thread-safe: the app changes it from the event loop, tests from their own thread.
    """

    def __init__(self, data: DemoData, size: int) -> None:
        self._data = data
        self._size = size
        self._added = 0
        self._top: list[int] = []
        # Sorted generated indices no longer in their generated place: lifted into _top, or
        # deleted. One list, so order() skips both in the same walk.
        self._displaced: list[int] = []
        self._deleted: set[int] = set()
        self._overlays: dict[int, Overlay] = {}
        self._sent = 0
        self._lock = threading.RLock()

    @property
    def total(self) -> int:
        """Conversations in the inbox now (deleted ones excluded)."""
        with self._lock:
            return self._size + self._added - len(self._deleted)

    @property
    def made(self) -> int:
        """Conversations ever made (generated and added, deleted ones included): every index
        is below it."""
        with self._lock:
            return self._size + self._added

    def find_conversation(self, conversation_id: str) -> int | None:
        """The index of a conversation in the inbox; None if unknown or deleted."""
        index = self._data.conversation_ids.decode(conversation_id)
        return index if index is not None and self.exists(index) else None

    def find_contact(self, contact_id: str) -> int | None:
        """The index of a contact's conversation in the inbox; None if unknown or deleted."""
        index = self._data.contact_ids.decode(contact_id)
        return index if index is not None and self.exists(index) else None

    def exists(self, index: int) -> bool:
        with self._lock:
            return 0 <= index < self._size + self._added and index not in self._deleted

    def _require(self, index: int) -> None:
        if not self.exists(index):
            raise KeyError(index)

    # -- reading ------------------------------------------------------------------------------

    def overlay(self, index: int) -> Overlay:
        with self._lock:
            return self._overlays.get(index, UNCHANGED)

    def conversation(self, index: int) -> Conversation:
        return conversation_at(self._data, index, self.overlay(index))

    def is_read(self, index: int, user: int) -> bool:
        overlay = self.overlay(index)
        flag = overlay.read[user] if overlay.read else None
        if flag is None:
            return self._data.conversation(index, overlay.anchor).read[user]
        return flag

    def labels(self, index: int) -> tuple[str, ...]:
        overlay = self.overlay(index)
        if overlay.labels is None:
            return self._data.conversation(index, overlay.anchor).labels
        return overlay.labels

    def interest(self, index: int) -> str | None:
        return self.overlay(index).interest

    def order(self, start: int, count: int) -> list[int]:
        """Indices at positions ``start .. start+count`` of the inbox, newest first."""
        with self._lock:
            end = min(start + count, self.total)
            result: list[int] = []
            position = start
            while position < end and position < len(self._top):
                result.append(self._top[position])
                position += 1
            if position >= end:
                return result
            index = position - len(self._top)
            displaced = self._displaced
            for gone in displaced:  # the n-th generated conversation still in place
                if gone > index:
                    break
                index += 1
            k = bisect.bisect_left(displaced, index)
            while position < end:
                if k < len(displaced) and displaced[k] == index:
                    k += 1
                else:
                    result.append(index)
                    position += 1
                index += 1
            return result

    def page(self, start: int, count: int) -> PageSnapshot:
        """Positions ``start .. start+count`` as of now; cheap (no conversation is built)."""
        with self._lock:
            overlays = self._overlays
            entries = [(i, overlays.get(i, UNCHANGED)) for i in self.order(start, count)]
            return PageSnapshot(entries, self.total)

    # -- changing -----------------------------------------------------------------------------

    def touch(self, index: int, now_ms: int) -> None:
        """A new inbound reply on top; KeyError if ``index`` is not in the inbox."""
        with self._lock:
            self._require(index)
            overlay = self._overlays.get(index, UNCHANGED)
            at = self._next_time(now_ms)
            self._overlays[index] = replace(
                overlay, replies=(*overlay.replies, at), read=self._nobody_read()
            )
            self._lift(index)

    def add(self, count: int, now_ms: int) -> list[int]:
        """``count`` new conversations on top; their indices, newest first."""
        with self._lock:
            made: list[int] = []
            for _ in range(count):
                # Never self.total: after deletions that would reuse an index (and its id).
                index = self._size + self._added
                self._overlays[index] = Overlay(
                    anchor=self._next_time(now_ms), read=self._nobody_read()
                )
                self._added += 1
                self._lift(index)
                made.append(index)
            return made[::-1]

    def send(
        self,
        index: int,
        now_ms: int,
        *,
        channel: str,
        sender: int,
        subject: str,
        message: str,
        cc: Sequence[str] = (),
    ) -> SentMessage:
        """A message ``sender`` sent: the newest activity, read by the sender (the others'
        flags unchanged), moved to the top. KeyError if ``index`` is not in the inbox."""
        with self._lock:
            self._require(index)
            self._sent += 1  # the n-th message sent gets the same id in every run of a seed
            sent = SentMessage(
                random_id("act", Draws(f"{self._data.seed}:sent:{self._sent}")),
                channel,
                self._next_time(now_ms),
                sender,
                subject,
                message,
                tuple(cc),
            )
            overlay = self._overlays.get(index, UNCHANGED)
            self._overlays[index] = replace(
                overlay, sent=(*overlay.sent, sent), read=self._read_by(overlay, sender)
            )
            self._lift(index)
            return sent

    def mark_read(self, index: int, user: int) -> None:
        with self._lock:
            self._require(index)
            overlay = self._overlays.get(index, UNCHANGED)
            self._overlays[index] = replace(overlay, read=self._read_by(overlay, user))

    def attach_labels(self, index: int, label_ids: Sequence[str], *, append: bool) -> None:
        with self._lock:
            self._require(index)
            current = self.labels(index) if append else ()
            self._set_labels(index, [*current, *label_ids])

    def detach_labels(self, index: int, label_ids: Collection[str]) -> None:
        with self._lock:
            self._require(index)
            self._set_labels(index, [x for x in self.labels(index) if x not in label_ids])

    def set_interest(self, indices: Collection[int], interest: str) -> None:
        """Mark the leads of these conversations, all or none (KeyError if one is gone)."""
        with self._lock:
            for index in indices:
                self._require(index)
            for index in indices:
                overlay = self._overlays.get(index, UNCHANGED)
                self._overlays[index] = replace(overlay, interest=interest)

    def delete(self, indices: Iterable[int]) -> None:
        """Take conversations out of the inbox for good: every later page, count and lookup
        skips them, as lemlist does once a conversation is deleted there.

        All or nothing: KeyError (and no change) if one is unknown or already deleted; an
        index repeated within ``indices`` is deleted once. Costs O(displaced + top + k).
        """
        with self._lock:
            doomed = set(indices)
            for index in doomed:
                self._require(index)
            # A generated index already displaced was lifted: order() skips it already.
            newly = sorted(i for i in doomed if i < self._size and not self._is_displaced(i))
            if newly:  # a linear merge, not one insort (an O(n) shift) per index
                self._displaced = list(heapq.merge(self._displaced, newly))
            if not doomed.isdisjoint(self._top):
                self._top = [i for i in self._top if i not in doomed]
            self._deleted |= doomed
            for index in doomed:  # nothing reads a deleted conversation's overlay again
                self._overlays.pop(index, None)

    def delete_newest(self, count: int) -> list[int]:
        """Delete the ``count`` newest conversations (all if fewer); their indices, newest
        first. Atomic: nothing moves between choosing them and deleting them."""
        with self._lock:
            doomed = self.order(0, count)
            self.delete(doomed)
            return doomed

    def _is_displaced(self, index: int) -> bool:
        k = bisect.bisect_left(self._displaced, index)
        return k < len(self._displaced) and self._displaced[k] == index

    def _set_labels(self, index: int, labels: Sequence[str]) -> None:
        overlay = self._overlays.get(index, UNCHANGED)
        self._overlays[index] = replace(overlay, labels=tuple(dict.fromkeys(labels)))

    def _nobody_read(self) -> tuple[bool, ...]:
        return (False,) * len(self._data.members)

    def _read_by(self, overlay: Overlay, user: int) -> tuple[bool | None, ...]:
        """``overlay``'s read flags, with ``user``'s set."""
        flags: list[bool | None] = list(overlay.read or (None,) * len(self._data.members))
        flags[user] = True
        return tuple(flags)

    def _next_time(self, now_ms: int) -> int:
        top = self.order(0, 1)
        newest = self.conversation(top[0]).last_activity if top else None
        return now_ms if newest is None else max(now_ms, newest + 1)

    def _lift(self, index: int) -> None:
        if index in self._top:
            self._top.remove(index)
        elif index < self._size:
            bisect.insort(self._displaced, index)
        self._top.insert(0, index)
