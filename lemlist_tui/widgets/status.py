"""The inbox's one-line status (its sentence is :mod:`lemlist_tui.inbox.status`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from lemlist_tui.inbox.status import SEPARATOR, Connection, InboxStatus, fitted, status_parts

__all__ = ["Connection", "InboxStatus", "StatusLine"]


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
    SEPARATOR = SEPARATOR

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
        width = max(self.size.width, 1)
        parts = fitted(status_parts(self.status), width)
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for index, part in enumerate(parts):
            if index:
                line.append(self.SEPARATOR, self.get_component_rich_style("status--quiet"))
            line.append(part.text, self.get_component_rich_style(part.style))
        line.truncate(width, overflow="ellipsis")
        return line
