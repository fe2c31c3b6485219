"""Probe: the app headless (Pilot, 120x40) on a generated database, keys timed with cProfile.

    python -m bench.probe_pilot --home /tmp/myprof [--size 1000000] [--keys filter,s] [--profile]

Installs the generated database (``bench.dbgen``) under ``--home`` and runs the app on it
offline, in this process. Each key is pressed, then the app is left to settle
(``pilot.pause``); the wall time of press + settle is printed per key, and with
``--profile`` the cumulative cProfile of the whole key phase.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

from bench.prepare import prepare_in
from bench.screen import _filter_queries


async def run(args: argparse.Namespace) -> None:
    prepared = prepare_in(args.home, args.size)
    for name, value in prepared.env.items():
        if name.startswith(("XDG_", "LEMLIST_")):
            os.environ[name] = value
    from lemlist_tui.app import make_app
    from lemlist_tui.config import Settings

    settings = Settings.resolve(offline=True, user_id=prepared.user)
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        from lemlist_tui.screens.inbox import InboxScreen

        for _ in range(200):
            await pilot.pause(0.05)
            screen = app.screen
            if isinstance(screen, InboxScreen) and screen.rows is not None:
                break
        await pilot.pause(0.5)
        keys: list[str] = []
        for key in args.keys.split(","):
            if key == "filter":
                keys.append("slash")
                queries = args.queries.split(",") if args.queries else None
                for query in queries or _filter_queries(prepared.meta, quick=False):
                    keys += list(query) + ["backspace"] * len(query)
                keys.append("escape")
            else:
                keys += [key] * args.presses
        profiler = cProfile.Profile() if args.profile else None
        times: dict[str, list[float]] = {}
        for key in keys:
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            times.setdefault(key if len(key) > 1 else "char", []).append(
                1000 * (time.perf_counter() - started)
            )
            if profiler:
                profiler.disable()
            await pilot.pause(0.05)
        for key, values in times.items():
            values.sort()
            print(f"{key}: median {values[len(values) // 2]:.1f} ms max {values[-1]:.1f}")
        if profiler:
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keys", default="filter,s")
    parser.add_argument("--presses", type=int, default=9)
    parser.add_argument("--queries", default="", help="comma-separated (default: the bench's)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=60)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
