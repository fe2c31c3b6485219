"""Fill the app's own cache for a demo inbox: ``python -m bench.warm SIZE ROWS_JSON``.

Run in a subprocess with ``XDG_CACHE_HOME``/``XDG_STATE_HOME``/``XDG_CONFIG_HOME``
pointing at a scratch directory, so that it resolves exactly the paths, the account
fingerprint and the demo anchor (today, 00:00 UTC) that ``lemlist-tui --demo
--demo-size SIZE`` will. The data goes through the app's own code (``open_session``,
``InboxStore.crawl``, the disk cache); only the rate limits are lifted, on the demo
server (a field it reads per request) and on the process's limiter for the demo key
(made here, before the client asks for it), so 100k conversations take seconds, not
the 100 s the ceiling would impose.

Prints one JSON object: the user, the first conversations' names, the timings. Also
writes ``ROWS_JSON``: the first rows as the app's list shows them, for the DataTable anchor.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["warm"]

TABLE_ROWS = 2000
"""Rows given to the DataTable anchor: what a cursor move redraws does not depend on more."""
UNLIMITED = 1_000_000_000


def _table_rows(conversations: list[Any], user_id: str) -> dict[str, Any]:
    """The list's columns, with the same texts the app's list draws."""
    from lemlist_tui.text import clean_line, relative_time
    from lemlist_tui.widgets.conversation_list import REPLIED_GLYPH, UNREAD_GLYPH, channel_tags

    now = datetime.now(UTC)
    rows = []
    for conversation in conversations[:TABLE_ROWS]:
        contact = conversation.contact
        unread = conversation.is_unread_for(user_id)
        replied = conversation.have_replies or conversation.last_replied_at is not None
        count = len(conversation.opportunities)
        rows.append(
            [
                UNREAD_GLYPH if unread else " ",
                clean_line(contact.display_name, 32),
                clean_line((contact.email if contact.full_name else None) or "", 40),
                channel_tags(conversation.channels),
                relative_time(conversation.last_activity_at, now),
                REPLIED_GLYPH if replied else " ",
                f"${count}" if count else "",
            ]
        )
    return {"columns": ["", "name", "email", "channels", "activity", "", "$"], "rows": rows}


async def warm(size: int, rows_path: Path) -> dict[str, Any]:
    from lemlist_tui.api.client import account_fingerprint
    from lemlist_tui.api.ratelimit import limiter_for
    from lemlist_tui.config import Settings
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL
    from lemlist_tui.session import open_session

    started = time.perf_counter()
    limiter_for(account_fingerprint(DEMO_API_KEY, DEMO_BASE_URL), limit=UNLIMITED)
    settings = Settings.resolve(demo=True, demo_size=size)
    session = open_session(settings)
    assert session.demo is not None
    session.demo.config.rate_limit = UNLIMITED
    try:
        await session.load_team()
        user_id = session.demo.team_user_ids[0]
        store = session.inbox(user_id)
        await store.crawl()
        session.remember_user(user_id)
        conversations = list(store.conversations)
    finally:
        await session.aclose()
    crawled = time.perf_counter() - started
    if len(conversations) != size:
        raise SystemExit(f"warm: crawled {len(conversations)} conversations, not {size}")
    table = orjson.dumps(_table_rows(conversations, user_id))
    await asyncio.to_thread(rows_path.write_bytes, table)
    names = [c.contact.display_name for c in conversations[:40]]
    return {
        "user": user_id,
        "names": names,
        "emails": [c.contact.email for c in conversations[:40]],
        "seconds": crawled,
        "cache_dir": str(settings.cache_dir),
    }


def main(argv: list[str]) -> None:
    size, rows_path = int(argv[0]), Path(argv[1])
    result = asyncio.run(warm(size, rows_path))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
