"""The status line's sentence: what it says, part by part, and what stays when narrow.

No ``textual`` import: the inbox screen builds an :class:`InboxStatus` after every
change, :func:`status_parts` turns it into parts, and :func:`fitted` keeps what fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

__all__ = ["MUST_STAY", "SEPARATOR", "Connection", "InboxStatus", "Part", "fitted", "status_parts"]

Connection = Literal["online", "offline", "stale"]

MUST_STAY = 2
"""Parts kept at any width (cut at the line's end rather than dropped)."""
SEPARATOR = " · "


@dataclass(frozen=True, slots=True)
class InboxStatus:
    """What the status line shows; the inbox screen builds one after every change."""

    user: str
    loaded: int
    """Conversations held in the local database."""
    total: int | None
    """lemlist's count of the inbox, as last seen."""
    unread: int
    """Unread for the user among the held conversations."""
    shown: int
    """Rows the current filter leaves in the list."""
    shown_exact: bool = True
    """False while ``shown`` is only the first screen of matches (the count follows)."""
    complete: bool = True
    """Every page has been walked: ``loaded`` is the whole inbox."""
    pages: tuple[int, int | None] | None = None
    """(pages done, pages in all) while a sync walks the inbox."""
    connection: Connection = "online"
    updated: str | None = None
    """When the inbox last synced, e.g. ``2m ago``."""
    rate_remaining: int | None = None
    rate_limit: int | None = None
    rate_hold: float = 0.0
    """Seconds lemlist asked every request to wait (a 429, a spent budget)."""
    query: str = ""
    unread_only: bool = False
    awaiting_only: bool = False
    hint: str | None = None
    """What the filter could not use (an unknown term), in a sentence."""
    sort: str = "last activity"
    busy: str | None = None
    """What is loading right now, e.g. ``loading page 3``."""
    error: str | None = None
    """The last network failure, until a sync succeeds again."""
    arrived: str | None = None
    """New conversations the last refreshes brought, e.g. ``3 new 2m ago``."""
    selected: int = 0
    """Conversations in the bulk selection."""
    outbox: str | None = None
    """What the outbox holds, e.g. ``3 to send`` or ``1 refused: Label not found``."""
    outbox_failed: bool = False
    read_only: bool = False
    """Nothing is changed in lemlist (``--read-only``): said next to the user."""
    profile: str | None = None
    """The config file's profile in use (``--profile``): said before the user."""
    team: tuple[int, int] | None = None
    """The team view: (teammates whose inbox is held whole, teammates). Its unread
    count is of conversations no teammate has read."""

    @property
    def filtered(self) -> bool:
        return bool(self.query) or self.unread_only or self.awaiting_only


@dataclass(frozen=True, slots=True)
class Part:
    text: str
    style: str
    """A component class of the status line (its look lives in styles.tcss)."""
    keep: int
    """Lower is kept longer when the line is too narrow."""


def fitted(parts: list[Part], width: int) -> list[Part]:
    """Drop the least important parts until the rest fits ``width``; what must stay
    (counts, the selection, the outbox, an error: ``keep`` ≤ :data:`MUST_STAY`) is cut
    at the line's end rather than dropped."""
    parts = list(parts)
    while _width(parts) > width:
        least = max(reversed(parts), key=lambda part: part.keep)
        if least.keep <= MUST_STAY:
            break
        parts.remove(least)
    return parts


def _width(parts: list[Part]) -> int:
    return sum(cell_len(part.text) for part in parts) + cell_len(SEPARATOR) * (len(parts) - 1)


def status_parts(status: InboxStatus) -> list[Part]:
    parts = [Part(status.user, "status--user", 0)]
    if status.profile:  # whose account this is, when there are several
        parts.insert(0, Part(f"[{status.profile}]", "status--filter", 1))
    if status.read_only:
        parts.append(Part("read-only", "status--filter", 1))
    # Whole or said: until every page is held, the counts say they cover part of it.
    count = f"{status.unread:,} unread of {status.loaded:,}"
    if status.team is not None:
        whole, users = status.team
        count = f"{status.unread:,} read by nobody of {status.loaded:,}"
        if whole < users and status.pages is None:
            count += f" held ({whole}/{users} inboxes whole)"
    elif not status.complete and status.pages is None:  # "syncing 3/20" says it while it lasts
        if status.total is not None and status.total > status.loaded:
            count += f" held ({status.total:,} in lemlist)"
        else:
            count += " held so far"
    if status.filtered:
        shown = f"{status.shown:,}" if status.shown_exact else f"≥ {status.shown:,}"
        parts.append(Part(f"{shown} shown", "status--count", 1))
    parts.append(Part(count, "status--count", 1))
    if status.selected:
        parts.append(Part(f"{status.selected:,} selected (esc clears)", "status--filter", 1))
    if status.hint:
        parts.append(Part(f"⚠ {status.hint}", "status--error", 2))
    if status.outbox:
        style = "status--error" if status.outbox_failed else "status--busy"
        parts.append(Part(status.outbox, style, 2))
    if status.error:
        parts.append(Part(f"⚠ {status.error}", "status--error", 2))
    if status.arrived:
        parts.append(Part(status.arrived, "status--busy", 3))
    if status.pages is not None:
        done, pages = status.pages
        parts.append(
            Part(f"syncing {done:,}/{pages:,}" if pages else "syncing…", "status--busy", 3)
        )
    elif status.busy:
        parts.append(Part(status.busy, "status--busy", 4))
    label: str = status.connection
    if status.connection == "offline":
        label = "offline (local inbox only)"
    elif status.updated:
        label = f"{label}, updated {status.updated}"
    parts.append(Part(label, f"status--{status.connection}", 5))
    filters = []
    if status.unread_only:
        filters.append("unread only")
    if status.awaiting_only:
        filters.append("awaiting an answer")
    if status.query:
        filters.append(f"filter “{status.query}”")
    if filters:
        parts.append(Part(", ".join(filters), "status--filter", 3))
    parts.append(Part(f"sort: {status.sort}", "status--quiet", 7))
    if status.rate_hold >= 1:
        # Why nothing moves: said, with how long (a lying reset header is capped).
        parts.append(Part(f"lemlist asked to wait {status.rate_hold:.0f} s", "status--busy", 2))
    elif status.rate_remaining is not None:
        budget = f"API {status.rate_remaining}"
        if status.rate_limit is not None:
            budget += f"/{status.rate_limit}"
        parts.append(Part(f"{budget} left", "status--quiet", 6))
    return parts
