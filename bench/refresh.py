"""Figure 2: incremental refresh — requests to /inbox for k new conversations.

A local database of 10k conversations is built once through the sync's own full crawl
(the demo's and the limiter's rate limits lifted for the setup only), then copied for
each k: the demo server, rebuilt from the same seed and anchor, gains k new
conversations, a fresh :class:`InboxDatabase` opens the copy and a fresh
:class:`InboxSync` runs ``refresh()``. Requests are counted in the server's own log.
The anchor is what a client without incremental refresh does: re-crawl every page. The
target is ⌈k / page size⌉ + 1.
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


async def _warm(size: int, folder: Path) -> tuple[str, float]:
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.api.ratelimit import SlidingWindowLimiter
    from lemlist_tui.db import InboxDatabase
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
    from lemlist_tui.sync import InboxSync

    demo = DemoLemlist(DemoConfig(size=size, now=ANCHOR_TIME, rate_limit=UNLIMITED))
    user = demo.team_user_ids[0]
    client = LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(UNLIMITED, 2.0),
    )
    db = InboxDatabase(folder)
    started = time.perf_counter()
    try:
        await InboxSync(client, db, user, page_size=PAGE).crawl()
        held, _ = db.counts(user)
        if held != size:
            raise Unavailable(f"the warm-up crawl held {held} of {size}")
    finally:
        await client.aclose()
        db.close()
    return user, time.perf_counter() - started


async def _refresh(size: int, k: int, folder: Path, user: str) -> dict[str, Any]:
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.api.ratelimit import SlidingWindowLimiter
    from lemlist_tui.db import InboxDatabase
    from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist
    from lemlist_tui.sync import InboxSync

    demo = DemoLemlist(DemoConfig(size=size, now=ANCHOR_TIME))  # the strict 20 per 2 s
    demo.add_conversations(k)
    client = LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(),
    )
    db = InboxDatabase(folder)
    try:
        held, _ = db.counts(user)
        if held != size:
            raise Unavailable(f"the copied database holds {held} of {size}")
        sync = InboxSync(client, db, user, page_size=PAGE)
        before = _inbox_requests(demo)
        started = time.perf_counter()
        result = await sync.refresh()
        seconds = time.perf_counter() - started
        return {
            "requests": _inbox_requests(demo) - before,
            "reported_requests": result.requests,
            "new": result.new,
            "updated": result.updated,
            "held_before": held,
            "held_after": db.counts(user)[0],
            "seconds": seconds,
        }
    finally:
        await client.aclose()
        db.close()


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    if "refresh" not in names:
        return []
    figure = Figure("refresh", "Incremental refresh: requests for k new conversations")
    size = 500 if bench.quick else 10_000
    warm = bench.scratch / "refresh-warm"
    try:
        bench.log(f"refresh: a database of {size:,} conversations, by a full crawl")
        user, warm_seconds = asyncio.run(_warm(size, warm))
    except (ImportError, NotImplementedError) as error:
        raise Unavailable(f"the sync is not there ({type(error).__name__}: {error})") from None
    figure.details = {"conversations": size, "page_size": PAGE, "warm_seconds": warm_seconds}
    for k in (0, 5, 250):
        folder = bench.scratch / f"refresh-{k}"
        shutil.copytree(warm, folder)
        bench.log(f"refresh: k = {k}")
        outcome = asyncio.run(_refresh(size, k, folder, user))
        target = math.ceil(k / PAGE) + 1
        full = math.ceil((size + k) / PAGE)
        complete = outcome["held_after"] == size + k and outcome["new"] == k
        figure.rows.append(
            Row(
                label=f"refresh, {size:,} held, k = {k} new"
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
