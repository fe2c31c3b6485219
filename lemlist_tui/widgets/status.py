"""The inbox's one-line status: whose inbox, how much is loaded, how fresh, what budget is left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

__all__ = ["InboxStatus", "StatusLine"]

Connection = Literal["online", "offline", "stale"]

MUST_STAY = 2
"""Parts kept at any width (cut at the line's end rather than dropped)."""


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

    @property
    def filtered(self) -> bool:
        return bool(self.query) or self.unread_only or self.awaiting_only


@dataclass(frozen=True, slots=True)
class _Part:
    text: str
    style: str
    """A component class of the status line (its look lives in styles.tcss)."""
    keep: int
    """Lower is kept longer when the line is too narrow."""


class StatusLine(Widget):
    """One line, most important facts first kept; the rest dropped when narrow."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--user",
        "status--count",
        "status--online",
        "status--offline",
        "status--stale",
        "status--busy",
        "status--error",
        "status--filter",
        "status--quiet",
    }
    DEFAULT_CSS = """
    StatusLine { height: 1; }
    """
    SEPARATOR = " · "

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.status: InboxStatus | None = None

    def show(self, status: InboxStatus) -> None:
        if status != self.status:
            self.status = status
            self.refresh()

    def render(self) -> Text:
        if self.status is None:
            return Text("")
        parts = _parts(self.status)
        width = max(self.size.width, 1)
        # Drop the least important parts until the rest fits on the line; what must stay
        # (counts, the selection, the outbox, an error: ``keep`` ≤ 2) is cut at the end
        # rather than dropped.
        while _width(parts) > width:
            least = max(reversed(parts), key=lambda part: part.keep)
            if least.keep <= MUST_STAY:
                break
            parts.remove(least)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for index, part in enumerate(parts):
            if index:
                line.append(self.SEPARATOR, self.get_component_rich_style("status--quiet"))
            line.append(part.text, self.get_component_rich_style(part.style))
        line.truncate(width, overflow="ellipsis")
        return line


def _width(parts: list[_Part]) -> int:
    return sum(cell_len(part.text) for part in parts) + cell_len(StatusLine.SEPARATOR) * (
        len(parts) - 1
    )


def _parts(status: InboxStatus) -> list[_Part]:
    parts = [_Part(status.user, "status--user", 0)]
    # Whole or said: until every page is held, the counts say they cover part of it.
    count = f"{status.unread:,} unread of {status.loaded:,}"
    if not status.complete and status.pages is None:  # "syncing 3/20" says it while it lasts
        if status.total is not None and status.total > status.loaded:
            count += f" held ({status.total:,} in lemlist)"
        else:
            count += " held so far"
    if status.filtered:
        shown = f"{status.shown:,}" if status.shown_exact else f"≥ {status.shown:,}"
        parts.append(_Part(f"{shown} shown", "status--count", 1))
    parts.append(_Part(count, "status--count", 1))
    if status.selected:
        parts.append(_Part(f"{status.selected:,} selected (esc clears)", "status--filter", 1))
    if status.hint:
        parts.append(_Part(f"⚠ {status.hint}", "status--error", 2))
    if status.outbox:
        style = "status--error" if status.outbox_failed else "status--busy"
        parts.append(_Part(status.outbox, style, 2))
    if status.error:
        parts.append(_Part(f"⚠ {status.error}", "status--error", 2))
    if status.arrived:
        parts.append(_Part(status.arrived, "status--busy", 3))
    if status.pages is not None:
        done, pages = status.pages
        parts.append(
            _Part(f"syncing {done:,}/{pages:,}" if pages else "syncing…", "status--busy", 3)
        )
    elif status.busy:
        parts.append(_Part(status.busy, "status--busy", 4))
    label: str = status.connection
    if status.connection == "offline":
        label = "offline (local inbox only)"
    elif status.updated:
        label = f"{label}, updated {status.updated}"
    parts.append(_Part(label, f"status--{status.connection}", 5))
    filters = []
    if status.unread_only:
        filters.append("unread only")
    if status.awaiting_only:
        filters.append("awaiting an answer")
    if status.query:
        filters.append(f"filter “{status.query}”")
    if filters:
        parts.append(_Part(", ".join(filters), "status--filter", 3))
    parts.append(_Part(f"sort: {status.sort}", "status--quiet", 7))
    if status.rate_hold >= 1:
        # Why nothing moves: said, with how long (a lying reset header is capped).
        parts.append(_Part(f"lemlist asked to wait {status.rate_hold:.0f} s", "status--busy", 2))
    elif status.rate_remaining is not None:
        budget = f"API {status.rate_remaining}"
        if status.rate_limit is not None:
            budget += f"/{status.rate_limit}"
        parts.append(_Part(f"{budget} left", "status--quiet", 6))
    return parts
