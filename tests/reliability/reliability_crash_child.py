"""A process the kill test SIGKILLs: it syncs one inbox into a disk cache, saving often.

    python reliability_crash_child.py BASE_URL USER CACHE_ROOT MODE

The API key comes from LEMLIST_API_KEY. Prints ``ready`` once it has read the cache,
``saving`` as a save starts, and ``committed N`` each time a snapshot of N conversations
is on disk (after the save returned). Modes: ``crawl`` (resume the crawl, then refresh,
over and over) and ``write`` (mark conversations read one after another: a save each time).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from lemlist_tui.api.client import LemlistClient, RetryPolicy, account_fingerprint
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.sync.cache import DiskCache
from lemlist_tui.sync.store import InboxStore


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(base_url: str, user: str, root: str, mode: str) -> None:
    key = os.environ["LEMLIST_API_KEY"]
    cache = DiskCache(root).account(account_fingerprint(key, base_url))
    real_save = cache.save_inbox

    def save_and_tell(user_id: str, conversations: Any, state: Any, **kwargs: Any) -> None:
        say("saving")
        real_save(user_id, conversations, state, **kwargs)
        say(f"committed {len(conversations)}")

    cache.save_inbox = save_and_tell  # type: ignore[method-assign]
    client = LemlistClient(
        key,
        base_url=base_url,
        limiter=SlidingWindowLimiter(20, 0.1),
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02),
    )
    store = InboxStore(client, cache, user, save_every=0.0)
    store.load_cached()
    await store.load_cached_rest()
    say(f"ready {len(store.conversations)}")
    while True:
        if mode == "crawl":
            await store.crawl()
            await store.refresh()
        else:
            for conversation in list(store.conversations):
                if conversation.is_unread_for(user):
                    await store.mark_read(conversation)
            await store.refresh()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
