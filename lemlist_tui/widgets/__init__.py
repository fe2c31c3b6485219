"""The inbox's own widgets, one module each."""

from __future__ import annotations

from lemlist_tui.widgets.conversation_list import ConversationList
from lemlist_tui.widgets.detail import DetailPane
from lemlist_tui.widgets.status import InboxStatus, StatusLine

__all__ = ["ConversationList", "DetailPane", "InboxStatus", "StatusLine"]
