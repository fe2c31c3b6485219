"""Figure 2: incremental refresh — requests to /inbox for k new conversations.

A warm cache of 10k conversations is built once through the store's own crawl (the
demo's and the limiter's rate limits lifted for the setup only), then copied for each
k: the demo server, rebuilt from the same seed and anchor, gains k new conversations,
a fresh store loads the copy and runs ``refresh()``. Requests are counted in the
server's own log. The anchor is what a client without incremental refresh does:
re-crawl every page. The target is ⌈k / page size⌉ + 1.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ANCHOR_TIME, Bench, Unavailable
from bench.report import Figure, Row, Target

__all__ = ["run_figures"]

PAGE = 100
"""The app's page size (Settings.page_size)."""
UNLIMITED = 1_000_000_000


def _inbox_requests(demo: Any) -> int:
    return sum(1 for r in list(demo.log) if r.path.rstrip("/") == "/api/inbox")


async def _warm(size: int, root: Path, fingerprint: str) -> tuple[str, float]:
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.api.ratelimit import SlidingWindowLimiter
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
    from lemlist_tui.sync.cache import DiskCache
    from lemlist_tui.sync.store import InboxStore

    demo = DemoLemlist(DemoConfig(size=size, now=ANCHOR_TIME, rate_limit=UNLIMITED))
    user = demo.team_user_ids[0]
    client = LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(UNLIMITED, 2.0),
    )
    started = time.perf_counter()
    try:
        store = InboxStore(client, DiskCache(root).account(fingerprint), user, page_size=PAGE)
        await store.crawl()
        if len(store.conversations) != size:
            raise Unavailable(f"the warm-up crawl held {len(store.conversations)} of {size}")
    finally:
        await client.aclose()
    return user, time.perf_counter() - started


async def _refresh(size: int, k: int, root: Path, fingerprint: str, user: str) -> dict[str, Any]:
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.api.ratelimit import SlidingWindowLimiter
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
    from lemlist_tui.sync.cache import DiskCache
    from lemlist_tui.sync.store import InboxStore

    demo = DemoLemlist(DemoConfig(size=size, now=ANCHOR_TIME))  # the strict 20 per 2 s
    demo.add_conversations(k)
    client = LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(),
    )
    try:
        store = InboxStore(client, DiskCache(root).account(fingerprint), user, page_size=PAGE)
        if not store.load_cached():
            raise Unavailable("the store did not load the warm cache it wrote")
        load_cached_rest = getattr(store, "load_cached_rest", None)
        if load_cached_rest is not None:  # a head-only load must not count as a cold store
            await load_cached_rest()
        held = len(store.conversations)
        before = _inbox_requests(demo)
        started = time.perf_counter()
        result = await store.refresh()
        seconds = time.perf_counter() - started
        return {
            "requests": _inbox_requests(demo) - before,
            "reported_requests": result.requests,
            "new": result.new,
            "updated": result.updated,
            "held_before": held,
            "held_after": len(store.conversations),
            "seconds": seconds,
        }
    finally:
        await client.aclose()


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    if "refresh" not in names:
        return []
    figure = Figure("refresh", "Incremental refresh: requests for k new conversations")
    size = 500 if bench.quick else 10_000
    from lemlist_tui.api.client import account_fingerprint
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL

    fingerprint = account_fingerprint(DEMO_API_KEY, f"{DEMO_BASE_URL}#bench-refresh")
    warm_root = bench.scratch / "refresh-warm"
    try:
        bench.log(f"refresh: warming a cache of {size:,} conversations")
        user, warm_seconds = asyncio.run(_warm(size, warm_root, fingerprint))
    except (ImportError, NotImplementedError) as error:
        why = f"the sync store is not there yet ({type(error).__name__}: {error})"
        raise Unavailable(why) from None
    figure.details = {"conversations": size, "page_size": PAGE, "warm_seconds": warm_seconds}
    for k in (0, 5, 250):
        root = bench.scratch / f"refresh-{k}"
        shutil.copytree(warm_root, root)
        bench.log(f"refresh: k = {k}")
        outcome = asyncio.run(_refresh(size, k, root, fingerprint, user))
        target = math.ceil(k / PAGE) + 1
        full = math.ceil((size + k) / PAGE)
        complete = outcome["held_after"] == size + k and outcome["new"] == k
        figure.rows.append(
            Row(
                label=f"refresh, {size:,} cached, k = {k} new"
                + ("" if complete else f" (held {outcome['held_after']:,}, new {outcome['new']})"),
                ours=outcome["requests"],
                unit="requests",
                anchors={"full re-crawl": full},
                ratio=outcome["requests"] / full,
                target=Target("<=", target, "ours", f"≤ ⌈k/{PAGE}⌉ + 1 = {target}"),
                detail=outcome | {"complete": complete},
            )
        )
        if not complete:
            figure.note = "a refresh did not end with every conversation held exactly once"
    return [figure]
