"""A heavy thread in the detail pane: ``python -m bench.detail_probe [--runs N]``.

Headless (Textual's test driver, 120x40): the time ``DetailPane.show`` holds the event
loop for a conversation whose thread is 30 messages of 400 KB (issue 13: no frame should
wait more than 50 ms for the detail pane, whatever the thread), coming from a short
thread and from another heavy one. Wall and CPU milliseconds, median, p95 and max.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from bench.report import p95
from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.widgets.detail import DetailPane

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
TEAM = Team("tea_1", "Team", ("usr_a",), (TeamUser("usr_a", "Ann"),))


def _thread(messages: int, chars: int) -> ThreadPage:
    body = ("word " * (chars // 5)).strip()
    return ThreadPage(
        tuple(
            ThreadMessage(
                id=f"act_{k}",
                type="emailsReplied",
                created_at=NOW - timedelta(hours=messages - k),
                subject=f"Message {k}",
                html=None,
                text=f"#{k} {body}",
            )
            for k in range(messages)
        ),
        Pagination(messages, 1, None, None, 100, 1),
    )


def _conversation(k: int) -> Conversation:
    return Conversation(
        id=f"ibx_{k}",
        contact=Contact(f"ctc_{k}", full_name=f"Contact {k}", email=f"c{k}@example.test"),
        last_activity_at=NOW,
        created_at=NOW - timedelta(days=3),
        channels=("email",),
        participants=(Participant("usr_a", sender=True, read=False),),
    )


class ProbeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DetailPane(TEAM, "usr_a", clock=lambda: NOW, id="detail")


async def run(runs: int) -> dict[str, tuple[list[float], list[float]]]:
    heavy, short = _thread(30, 400_000), _thread(1, 200)
    results: dict[str, tuple[list[float], list[float]]] = {}
    app = ProbeApp()
    async with app.run_test(size=(120, 40)) as pilot:
        detail = app.query_one(DetailPane)
        for name, before in (("after a short thread", short), ("after a heavy thread", heavy)):
            walls, cpus = results.setdefault(name, ([], []))
            for k in range(runs):
                detail.show(_conversation(2 * k), before)
                await pilot.pause()
                wall, cpu = time.perf_counter(), time.process_time()
                detail.show(_conversation(2 * k + 1), heavy)
                cpus.append((time.process_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
                await pilot.pause()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detail_probe", description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.runs))
    print("DetailPane.show, a thread of 30 messages of 400 KB, 120x40 (ms)")
    print(f"  {'coming':<24} {'median':>8} {'p95':>8} {'max':>8} {'CPU med':>8}")
    for name, (walls, cpus) in results.items():
        print(
            f"  {name:<24} {statistics.median(walls):8.1f} {p95(walls):8.1f} "
            f"{max(walls):8.1f} {statistics.median(cpus):8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
