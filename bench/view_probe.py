"""Time InboxView and InboxRows alone, headless: ``python -m bench.view_probe [N]``.

On the generated database of N conversations (default 1M; :mod:`bench.dbgen`, installed
in a temporary home): for each thing the inbox does on a keystroke, the wall and CPU time
of the database work alone (no Textual): a view's first screen of rows (40 rows read
through :class:`InboxRows`), a filter's exact count, a cursor step, a jump to the last
row, finding a row by id, the detail pane's read, and the export's stream.

``--team``: the same on the team view (``t``: every teammate's inbox merged, its rows kept
by the database's triggers), with its own terms ``user:NAME`` and ``unread-by:NAME``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.prepare import prepare_in
from bench.report import p95

SCREEN = 40
"""Rows a 120x40 terminal shows of the list."""


def timed(run: Callable[[], object], n: int) -> tuple[float, float, float]:
    """(median wall, p95 wall, median CPU) milliseconds of ``n`` runs."""
    walls, cpus = [], []
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return statistics.median(walls), p95(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.view_probe", description=__doc__)
    parser.add_argument("size", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="install the database here")
    parser.add_argument("--team", action="store_true", help="the team view's rows instead")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="lemlist-view-probe-"))
    try:
        _probe(home, args.size, args.runs, team=args.team)
    finally:
        if args.home is None:  # a copy of the database: 0.8 GB at 1M
            shutil.rmtree(home, ignore_errors=True)
    return 0


def _probe(home: Path, size: int, n: int, *, team: bool = False) -> None:
    from lemlist_tui.db import TEAM, InboxDatabase, SortKey
    from lemlist_tui.inbox import InboxRows, InboxView

    prepared = prepare_in(home, size)
    db = InboxDatabase(prepared.folder)
    view = InboxView(db, TEAM if team else prepared.user)
    results: dict[str, tuple[float, float, float]] = {}

    def screen(
        query: str = "", unread: bool = False, sort: SortKey = SortKey.LAST_ACTIVITY
    ) -> Callable[[], None]:
        def run() -> None:
            rows = view.apply(query, unread_only=unread, sort=sort)
            rows[: min(SCREEN, len(rows))]

        return run

    results["counts()"] = timed(view.counts, n)
    results["first screen, no filter"] = timed(screen(), n)
    results["first screen, unread only"] = timed(screen(unread=True), n)
    for key in (SortKey.LAST_REPLY, SortKey.CREATED):
        results[f"first screen, sorted by {key.value}"] = timed(screen(sort=key), n)
    queries = prepared.meta["queries"]
    counts: dict[str, int] = dict(queries["counts"])
    reader = db.reader()
    held = db.team()
    if team and held is not None:
        # A teammate who is not the inbox's user: whose conversations, unread by whom.
        other = held.users[-1]
        first = (other.name or other.id).split(" ")[0].lower()
        for query in (f"user:{first}", f"unread-by:{first}", f"unread-by:{first} ma"):
            counts[query] = view.count(view.apply(query), reader)
    for query in sorted(counts, key=lambda q: (len(q), q)):
        label = f"{query!r} ({counts[query]:,} match)"
        results[f"first screen, filter {label}"] = timed(screen(query), n)
        rows = view.apply(query)
        if not rows.exact:

            def exact(rows: InboxRows = rows) -> int:
                return view.count(rows, reader)

            results[f"exact count, filter {label}"] = timed(exact, 3)

    rows = view.apply()
    depth = min(2000, len(rows))
    started = time.perf_counter()
    for index in range(depth):
        rows[index]
    per_step = (time.perf_counter() - started) * 1000 / max(depth, 1)
    results[f"cursor step (rows[i], i < {depth:,}; mean)"] = (per_step, per_step, per_step)

    def last() -> None:
        fresh = view.apply()
        fresh[len(fresh) - 1]

    results["jump to the last row (G)"] = timed(last, 3)
    deep = view.apply()[len(rows) // 2]
    results["index_of_id, a row half-way down"] = timed(
        lambda: view.apply().index_of_id(deep.id), 3
    )
    first = view.apply()[0]
    results["conversation(id), the detail pane"] = timed(lambda: db.conversation(first.id), n)

    stream = db.iter_conversations(TEAM if team else prepared.user)
    count = min(100_000, size)
    started = time.perf_counter()
    for _ in zip(range(count), stream, strict=False):
        pass
    seconds = time.perf_counter() - started
    close = getattr(stream, "close", None)
    if close is not None:
        close()  # the generator's own connection
    reader.close()
    db.close()

    whose = "the team view" if team else "one user's inbox"
    print(f"InboxView, {whose}, on {size:,} conversations ({prepared.database})")
    print(f"  {'operation':<58} {'median':>8} {'p95':>8} {'CPU':>8}  (ms)")
    for name, (wall, worst, cpu) in results.items():
        print(f"  {name:<58} {wall:8.2f} {worst:8.2f} {cpu:8.2f}")
    print(f"  iter_conversations (export's stream): {count / seconds:,.0f} rows/s")


if __name__ == "__main__":
    raise SystemExit(main())
