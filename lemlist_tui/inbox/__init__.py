"""What the inbox screen shows, decided without Textual: views over the local database."""

from __future__ import annotations

from lemlist_tui.inbox.view import InboxRows, InboxView

__all__ = ["InboxRows", "InboxView"]
