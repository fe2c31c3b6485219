"""Time the inbox list at scale: ``python -m bench.list_probe [N]`` (default 1M).

Headless (Textual's test driver, 100x30), on the generated database of N conversations
(:mod:`bench.dbgen`). For each keystroke-sized change it times the synchronous work in
CPU time (``InboxView.apply`` + ``ConversationList.set_rows`` + drawing every visible
line) and, in wall time, that plus one ``pilot.pause()`` refresh cycle (whose own cost,
with nothing changed, is printed last: subtract it).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from textual.app import App, ComposeResult

from bench.prepare import prepare_in
from lemlist_tui.db import InboxDatabase, SortKey
from lemlist_tui.inbox import InboxView
from lemlist_tui.widgets import ConversationList


class ProbeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationList(id="list")


async def run(size: int, rounds: int, home: Path) -> None:
    prepared = prepare_in(home, size)
    db = InboxDatabase(prepared.folder)
    user = prepared.user
    view = InboxView(db, user)
    terms = prepared.meta["queries"]["terms"]
    common, rare = terms["common_pair"], terms["rare_pair"]
    app = ProbeApp()
    results: dict[str, list[float]] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        widget.focus()
        height = widget.scrollable_content_region.height

        async def step(name: str, query: str, unread: bool, sort: SortKey) -> None:
            start, cpu_start = time.perf_counter(), time.process_time()
            rows = view.apply(query, unread_only=unread, sort=sort)
            widget.set_rows(rows, user_id=user)
            for y in range(height):
                widget.render_line(y)
            cpu = time.process_time() - cpu_start
            await pilot.pause()
            wall = time.perf_counter() - start
            results.setdefault(name + " (sync, CPU)", []).append(cpu * 1000)
            results.setdefault(name + " (+refresh cycle, wall)", []).append(wall * 1000)

        for _ in range(rounds):
            await step("show all", "", False, SortKey.LAST_ACTIVITY)
            await step(f"type {common[0]!r}", common[0], False, SortKey.LAST_ACTIVITY)
            await step(f"type {common!r}", common, False, SortKey.LAST_ACTIVITY)
            await step(f"backspace to {common[0]!r}", common[0], False, SortKey.LAST_ACTIVITY)
            await step(f"rare {rare!r}", rare, False, SortKey.LAST_ACTIVITY)
            await step(f"unread only, {common!r}", common, True, SortKey.LAST_ACTIVITY)
            await step(f"sort by created, {common!r}", common, True, SortKey.CREATED)
            await step("clear", "", False, SortKey.LAST_ACTIVITY)
            for name, action in (
                ("j: next row", widget.action_cursor_down),
                ("G: last row", widget.action_last),
                ("g: first", widget.action_first),
            ):
                cpu_start = time.process_time()
                action()
                for y in range(height):
                    widget.render_line(y)
                cpu = time.process_time() - cpu_start
                results.setdefault(name + " (sync, CPU)", []).append(cpu * 1000)
                await pilot.pause()
            start = time.perf_counter()
            await pilot.pause()
            results.setdefault("nothing changed (refresh cycle alone, wall)", []).append(
                (time.perf_counter() - start) * 1000
            )
        nodes = len(list(app.screen.query("*")))
    db.close()

    print(f"ConversationList at {size:,} conversations: {nodes} widget(s) on screen")
    print(f"  {'step':<52} {'median':>8} {'min':>8}  (ms)")
    for name, times in results.items():
        print(f"  {name:<52} {statistics.median(times):8.2f} {min(times):8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.list_probe", description=__doc__)
    parser.add_argument("size", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--home", type=Path, default=None, help="install the database here")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="lemlist-list-probe-"))
    try:
        asyncio.run(run(args.size, args.rounds, home))
    finally:
        if args.home is None:  # a copy of the database: 0.8 GB at 1M
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
