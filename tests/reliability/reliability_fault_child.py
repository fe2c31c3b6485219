"""The app (or a subcommand) with one layer made to fail unexpectedly, for the pty test.

    python reliability_fault_child.py LAYER ARG…

LAYER's function raises a ``RuntimeError`` whose message quotes the API key, with the key
in a local variable too (what Textual's crash screen and Python's traceback would print);
then ``lemlist_tui.__main__.main(ARG…)`` runs as the command line would.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn


def _fail(*_args: Any, **_kwargs: Any) -> NoReturn:
    api_key = os.environ["LEMLIST_API_KEY"]
    raise RuntimeError(f"unexpected, holding the key {api_key}")


async def _fail_async(*_args: Any, **_kwargs: Any) -> NoReturn:
    _fail()


def patch(layer: str) -> None:
    from lemlist_tui import app as app_module
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.db.store import InboxDatabase
    from lemlist_tui.screens.inbox import InboxScreen
    from lemlist_tui.sync import export
    from lemlist_tui.sync.engine import InboxSync
    from lemlist_tui.widgets.conversation_list import ConversationList

    targets: dict[str, tuple[Any, str, Any]] = {
        "client": (LemlistClient, "inbox_page", _fail_async),
        "database": (InboxDatabase, "store_page", _fail),
        "sync": (InboxSync, "crawl", _fail_async),
        "session": (app_module, "open_session", _fail),
        "screen": (InboxScreen, "action_toggle_unread", _fail),
        "widget": (ConversationList, "render_line", _fail),
        "export": (export, "export_inbox", _fail_async),
    }
    owner, name, replacement = targets[layer]
    setattr(owner, name, replacement)


if __name__ == "__main__":
    patch(sys.argv[1])
    from lemlist_tui.__main__ import main

    main(sys.argv[2:])
