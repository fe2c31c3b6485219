"""A process the kill test SIGKILLs: it syncs one inbox into the local database.

    python reliability_crash_child.py BASE_URL USER FOLDER MODE [SPLIT]

The API key comes from LEMLIST_API_KEY; the database is ``InboxDatabase(FOLDER)``, as the
app opens it. Each line it prints is written before the next step starts:

- ``ready N`` once the database is open (N conversations held);
- ``saving ID ID …`` as a page's transaction is about to run, ``committed`` once
  ``store_page`` returned (the page and its sync state are on disk);
- ``marking ID`` before a conversation is marked read, ``marked ID`` once ``mark_read``
  returned (lemlist said yes, and the database too);
- with SPLIT (a number in [0, 1)): ``stalled K FRAMES`` once the first page that brings
  at least two conversations not held yet has its first K conversations written inside
  its transaction (SPLIT picks K: at least one new conversation in, one out), FRAMES of
  them already spilled into the WAL, uncommitted; the child then waits for its SIGKILL.

Modes: ``crawl`` (resume the crawl, then refresh, over and over) and ``write`` (mark
every unread conversation read, one after another, then refresh; over and over).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.models import Conversation
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.db import DB_NAME, InboxDatabase
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.sync import InboxSync
from lemlist_tui.sync.sender import OutboxSender


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def instrument(db: InboxDatabase, user: str, stall: float | None) -> None:
    """Wrap the database's writes so that each says when it starts and when it is done."""
    real_store = db.store_page
    held = {c.id for c in db.iter_conversations(user)}

    def store_page(user_id: str, conversations: Sequence[Conversation], *a: Any, **k: Any) -> Any:
        say("saving " + " ".join(c.id for c in conversations))
        written = real_store(user_id, conversations, *a, **k)
        held.update(c.id for c in conversations)
        say("committed")
        return written

    db.store_page = store_page  # type: ignore[method-assign]
    if stall is None:
        return
    # The merge runs inside store_page's transaction (BEGIN IMMEDIATE … COMMIT). The first
    # page that brings two conversations or more not held yet stops in it, part written:
    # at least one of them in, one not. A tiny page cache first, so that SQLite spills the
    # uncommitted pages into the WAL, as a large transaction would: the kill then leaves
    # frames of a transaction that never committed, which recovery must ignore.
    real_merge = db._merge
    wal = Path(f"{db.folder / DB_NAME}-wal")

    def merge(connection: Any, user_id: str, conversations: Sequence[Any], crawl: Any) -> Any:
        new = [n for n, c in enumerate(conversations) if c.id not in held]
        if len(new) >= 2:
            split = new[0] + 1 + int(stall * (new[-1] - new[0]))
            before = wal.read_bytes() if wal.exists() else b""
            connection.execute("PRAGMA cache_size = 2")
            real_merge(connection, user_id, conversations[:split], crawl)
            after = wal.read_bytes() if wal.exists() else b""
            page = connection.execute("PRAGMA page_size").fetchone()[0]
            say(f"stalled {split} {_frames_written(before, after, page)}")
            threading.Event().wait()  # until SIGKILL
        return real_merge(connection, user_id, conversations, crawl)

    db._merge = merge  # type: ignore[method-assign]


def _frames_written(before: bytes, after: bytes, page: int) -> int:
    """WAL frames (a 24-byte header and a page each, after the WAL's own 32-byte header)
    that differ between two reads of the file: a checkpoint may have reset the WAL, so
    frames can be written over old ones without the file growing."""
    frame = 24 + page
    count = max(0, (len(after) - 32) // frame)
    return sum(
        after[32 + n * frame : 32 + (n + 1) * frame]
        != before[32 + n * frame : 32 + (n + 1) * frame]
        for n in range(count)
    )


async def main(base_url: str, user: str, folder: str, mode: str, stall: float | None) -> None:
    key = os.environ["LEMLIST_API_KEY"]
    db = InboxDatabase(Path(folder))
    instrument(db, user, stall)
    client = LemlistClient(
        key,
        base_url=base_url,
        limiter=SlidingWindowLimiter(20, 0.1),
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02),
    )
    sync = InboxSync(client, db, user)
    say(f"ready {db.counts(user)[0]}")
    while True:
        if mode == "crawl":
            await sync.crawl()
            await sync.refresh()
        else:
            # As the app marks read: through the outbox (read here at once), then sent.
            outbox = Outbox(db)
            sender = OutboxSender(outbox, client)
            for conversation in list(db.iter_conversations(user, unread_only=True)):
                assert conversation.contact_id is not None
                say(f"marking {conversation.id}")
                outbox.add([Action(Kind.READ, conversation.contact_id, conversation.id, user)])
                say(f"marked {conversation.id}")
                await sender.drain()
            await sync.refresh()


if __name__ == "__main__":
    stall = float(sys.argv[5]) if len(sys.argv) > 5 else None
    asyncio.run(main(*sys.argv[1:5], stall))
