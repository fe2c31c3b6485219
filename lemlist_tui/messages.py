"""App-wide messages. A widget's own messages are nested in its class instead.

The ones that can flood (a crawl's progress, a page arriving) say so in ``can_replace``,
so Textual's queue keeps only the newest of a run instead of handling each in turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

__all__ = ["CrawlProgress", "InboxChanged", "UserChosen"]


@dataclass
class UserChosen(Message):
    """Someone chose whose inbox to open (the picker → the app)."""

    user_id: str


@dataclass
class InboxChanged(Message):
    """A store operation finished a step: the inbox may hold new conversations."""

    user_id: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, InboxChanged) and message.user_id == self.user_id


@dataclass
class CrawlProgress(Message):
    """A page of a full crawl (``a``) arrived; ``total_pages`` is None until known."""

    user_id: str
    pages_done: int
    total_pages: int | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CrawlProgress) and message.user_id == self.user_id
