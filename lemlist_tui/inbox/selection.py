"""The bulk selection: conversations picked one by one (``v``) or a whole view (``V``).

No ``textual`` import. A whole view is kept as the view (its rows are read from the
database when an action needs them), not as a million ids. What an action on the
selection will cost is said before it runs: :func:`preview`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from lemlist_tui.db import ListRow
from lemlist_tui.inbox.view import InboxRows

__all__ = ["RATE_PER_SECOND", "Selection", "preview"]

RATE_PER_SECOND = 10.0
"""lemlist's limit: 20 requests per 2 seconds."""


@dataclass
class Selection:
    picked: dict[str, None] = field(default_factory=dict)
    """Conversation ids picked one by one, in the order picked."""
    view: InboxRows | None = None
    """Every row of this view (``V``)."""

    def __len__(self) -> int:
        return len(self.view) if self.view is not None else len(self.picked)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, conversation_id: object) -> bool:
        if self.view is not None:
            return True  # the whole view is selected: every row shown is in it
        return conversation_id in self.picked

    def toggle(self, conversation_id: str) -> bool:
        """Pick or unpick one; True when it is picked now. A whole view becomes its
        rows picked one by one first (only for a small view: see the screen)."""
        if self.view is not None:
            self.picked = {row.id: None for row in self.view}
            self.view = None
        if conversation_id in self.picked:
            del self.picked[conversation_id]
            return False
        self.picked[conversation_id] = None
        return True

    def select_view(self, rows: InboxRows) -> None:
        self.picked = {}
        self.view = rows

    def clear(self) -> None:
        self.picked = {}
        self.view = None

    def ids(self) -> Iterator[str]:
        if self.view is not None:
            for row in self.view:
                yield row.id
        else:
            yield from self.picked

    def rows(self) -> Iterator[ListRow]:
        """The selected rows of a whole view (picked ids have no row at hand)."""
        if self.view is not None:
            yield from self.view


def preview(what: str, conversations: int, requests: int) -> str:
    """``37 conversations: mark read, 37 requests, about 4 s at lemlist's rate limit.``"""
    noun = "conversation" if conversations == 1 else "conversations"
    if not requests:
        return f"{conversations:,} {noun}: {what}, nothing to send (already so)."
    seconds = math.ceil(requests / RATE_PER_SECOND)
    duration = f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} min"
    plural = "request" if requests == 1 else "requests"
    return (
        f"{conversations:,} {noun}: {what}, {requests:,} {plural}, "
        f"about {duration} at lemlist's rate limit."
    )
