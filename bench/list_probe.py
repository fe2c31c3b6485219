"""Time the inbox list at scale: ``python -m bench.list_probe [N]`` (default 100k).

Headless (Textual's test driver, 100x30). For each keystroke-sized change it times
the synchronous work in CPU time (InboxView.apply + ConversationList.set_rows +
drawing every visible line) and, in wall time, that plus one ``pilot.pause()``
refresh cycle (whose own cost, with nothing changed, is printed last: subtract it).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from textual.app import App, ComposeResult

from bench.view_probe import USER, make_conversations
from lemlist_tui.view import InboxView, SortKey
from lemlist_tui.widgets import ConversationList


class ProbeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationList(id="list")


async def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    conversations = make_conversations(count)
    view = InboxView(USER)
    view.update(conversations)
    app = ProbeApp()
    results: dict[str, list[float]] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(ConversationList)
        widget.focus()
        height = widget.scrollable_content_region.height

        async def step(name: str, query: str, unread: bool, sort: SortKey) -> None:
            start, cpu_start = time.perf_counter(), time.process_time()
            rows = view.apply(query, unread_only=unread, sort=sort)
            widget.set_rows(rows, user_id=USER)
            for y in range(height):
                widget.render_line(y)
            cpu = time.process_time() - cpu_start
            await pilot.pause()
            wall = time.perf_counter() - start
            results.setdefault(name + " (sync, CPU)", []).append(cpu * 1000)
            results.setdefault(name + " (+refresh cycle, wall)", []).append(wall * 1000)

        for _ in range(7):
            view.update(list(conversations))  # same objects: caches kept
            view._recent.clear()
            await step("show all", "", False, SortKey.LAST_ACTIVITY)
            await step("type 's'", "s", False, SortKey.LAST_ACTIVITY)
            await step("type 'sm'", "sm", False, SortKey.LAST_ACTIVITY)
            await step("type 'smi'", "smi", False, SortKey.LAST_ACTIVITY)
            await step("backspace to 'sm'", "sm", False, SortKey.LAST_ACTIVITY)
            await step("unread only", "sm", True, SortKey.LAST_ACTIVITY)
            await step("sort by created", "sm", True, SortKey.CREATED)
            await step("clear", "", False, SortKey.LAST_ACTIVITY)
            for name, action in (
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

    print(f"ConversationList at {count:,} conversations: {nodes} widget(s) on screen")
    print(f"  {'step':<48} {'median':>8} {'min':>8}  (ms)")
    for name, times in results.items():
        print(f"  {name:<48} {statistics.median(times):8.2f} {min(times):8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
