"""Figure 1: crawl throughput against lemlist's ceiling (20 requests per 2 s = 10/s).

The demo API is served by uvicorn on 127.0.0.1 with its strict sliding window, a fresh
server (fresh window, empty log) for every run. Three clients walk the same inbox:

* ours: ``InboxSync.crawl`` (the app's own code: client, shared limiter, each page
  committed to a fresh local database, the walk from the top and the reconciliation
  that end a full crawl, so a few requests more than the pages);
* a plain sequential ``httpx.Client`` loop that honours ``Retry-After`` on a 429
  (the usual way);
* the same loop with ``time.sleep(0.1)`` between requests (the usual "stay under 10/s").

Throughput is pages fetched (answers 200) per second of wall time, ÷ 10. The inbox has
``20·k + 1`` pages so that a perfect client's burst allowance (20 at once) does not
flatter it: the last page cannot start before ``2·k`` s, i.e. exactly the ceiling.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.common import ANCHOR_TIME, Bench, Unavailable
from bench.report import Figure, Row, Target, median
from bench.serve import Served, serve_demo
from lemlist_tui.demo import DEMO_API_KEY, DemoConfig

__all__ = ["run", "run_figures"]

CEILING = 10.0
"""Requests per second lemlist allows: 20 per 2 s."""
PAGE = 10
"""Conversations per page: small pages make a 200-request crawl out of a 2k inbox."""
OURS = "InboxSync.crawl"


@dataclass(frozen=True, slots=True)
class CrawlRun:
    method: str
    latency_ms: int
    seconds: float
    pages: int
    """Answers 200 to /inbox."""
    refused: int
    """Answers 429 (server log)."""
    max_in_window: int
    """Most accepted requests the server saw in any 2 s."""
    conversations: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def _inbox_answers(served: Served, status: int) -> int:
    return sum(
        1
        for r in list(served.demo.log)
        if r.path.rstrip("/") == "/api/inbox" and r.status == status
    )


def _finish(served: Served, method: str, latency: float, seconds: float, held: int) -> CrawlRun:
    return CrawlRun(
        method=method,
        latency_ms=round(latency * 1000),
        seconds=seconds,
        pages=_inbox_answers(served, 200),
        refused=_inbox_answers(served, 429),
        max_in_window=served.demo.max_in_window(),
        conversations=held,
    )


def _loop(size: int, latency: float, pause: float) -> CrawlRun:
    """The usual way: one request after another, waiting ``Retry-After`` when refused."""
    config = DemoConfig(size=size, now=ANCHOR_TIME, latency=latency)
    with serve_demo(config) as served:
        user = served.demo.team_user_ids[0]
        held = 0
        with httpx.Client(base_url=served.base_url, auth=("", DEMO_API_KEY), timeout=30.0) as http:
            start = time.perf_counter()
            page = 1
            while True:
                answer = http.get("/inbox", params={"userId": user, "page": page, "limit": PAGE})
                if answer.status_code == 429:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))
                    continue
                answer.raise_for_status()
                body = answer.json()
                held += len(body["data"])
                if body["pagination"]["nextPage"] is None:
                    break
                page += 1
                if pause:
                    time.sleep(pause)
            seconds = time.perf_counter() - start
        method = "sleep-0.1 loop" if pause else "httpx loop"
        return _finish(served, method, latency, seconds, held)


def _ours(size: int, latency: float, folder: Path) -> CrawlRun:
    try:
        from lemlist_tui.api.client import LemlistClient
        from lemlist_tui.api.ratelimit import SlidingWindowLimiter
        from lemlist_tui.db import InboxDatabase
        from lemlist_tui.sync import InboxSync
    except ImportError as error:
        raise Unavailable(f"the sync cannot be imported ({error})") from None

    config = DemoConfig(size=size, now=ANCHOR_TIME, latency=latency)
    with serve_demo(config) as served:
        user = served.demo.team_user_ids[0]

        async def crawl() -> tuple[float, int]:
            client = LemlistClient(
                DEMO_API_KEY, base_url=served.base_url, limiter=SlidingWindowLimiter()
            )
            db = InboxDatabase(folder)
            try:
                sync = InboxSync(client, db, user, page_size=PAGE)
                start = time.perf_counter()
                await sync.crawl()
                seconds = time.perf_counter() - start
                return seconds, db.counts(user)[0]
            finally:
                await client.aclose()
                db.close()

        seconds, held = asyncio.run(crawl())
        return _finish(served, OURS, latency, seconds, held)


def run(bench: Bench) -> Figure:
    figure = Figure("crawl", "Crawl throughput vs the 10 req/s ceiling")
    # 20·k + 1 pages: 201 in full mode (≥ 200 requests), 5 in quick mode.
    size = (2 * PAGE if bench.quick else 200 * PAGE) + PAGE // 2
    pages = math.ceil(size / PAGE)
    ideal = pages / (2.0 * ((pages - 1) // 20)) if pages > 20 else math.inf
    figure.details = {"conversations": size, "page_size": PAGE, "pages": pages}
    if pages > 20:
        figure.details["perfect_client_ratio"] = ideal / CEILING
    runs: list[CrawlRun] = []
    ours_missing: str | None = None
    for latency in (0.0, 0.05):
        for method in ("httpx loop", "sleep-0.1 loop"):
            bench.log(f"crawl: {method}, +{latency * 1000:.0f} ms, {pages} pages")
            runs.append(_loop(size, latency, 0.1 if method.startswith("sleep") else 0.0))
        for i in range(bench.repeat):
            if ours_missing:
                break
            bench.log(f"crawl: ours, +{latency * 1000:.0f} ms, run {i + 1}/{bench.repeat}")
            try:
                runs.append(_ours(size, latency, bench.scratch / f"crawl-db-{latency}-{i}"))
            except Unavailable as why:
                ours_missing = str(why)

    for latency_ms in (0, 50):
        mine = [r for r in runs if r.latency_ms == latency_ms]
        ours = [r for r in mine if r.method == OURS]
        anchors = {r.method: r for r in mine if r.method != OURS}
        ours_rate = median([r.rate for r in ours]) if ours else None
        refused = {name: r.refused for name, r in anchors.items()}
        refused_text = ", ".join(f"{name} {n}" for name, n in refused.items())
        ours_refused = max((r.refused for r in ours), default=None)
        figure.rows.append(
            Row(
                label=(
                    f"crawl {pages} pages, +{latency_ms} ms/request "
                    f"(429s: ours {'—' if ours_refused is None else ours_refused}, "
                    f"{refused_text})"
                ),
                ours=ours_rate,
                unit="req/s",
                anchors={"ceiling": CEILING, **{n: r.rate for n, r in anchors.items()}},
                ratio=None if ours_rate is None else ours_rate / CEILING,
                target=Target(">=", 0.95, "ratio", "≥ 0.95 of ceiling, 0 429s", "429s"),
                detail={
                    "429s": ours_refused,
                    "anchor_ratios": {n: r.rate / CEILING for n, r in anchors.items()},
                    "ours_ratios": [r.rate / CEILING for r in ours],
                    "ours_held": [r.conversations for r in ours],
                },
            )
        )
    figure.details["runs"] = [asdict(r) | {"rate": r.rate} for r in runs]
    short = [r for r in runs if r.method == OURS and r.conversations != size]
    if short:
        figure.note = f"a crawl held {short[0].conversations:,} conversations, not {size:,}"
    if ours_missing:
        figure.note = f"ours not available: {ours_missing}"
    return figure


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    return [run(bench)] if "crawl" in names else []
