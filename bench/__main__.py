"""``python -m bench``: run the figures, print the table, write the JSON.

python -m bench                      full mode (the README's table; ~15 min, plus ~2 min
                                     the first time to generate the 1M database)
python -m bench --quick              CI: small sizes, one repetition, no targets judged
python -m bench --only crawl,peak_rss --repeat 5 --out bench/results/x.json
python -m bench --only triage --out /tmp/triage.json     the triage figure alone
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import FIGURES
from bench.common import Bench, Unavailable
from bench.report import Figure, format_table, machine, write_json

DEFAULT_OUT = Path(__file__).parent / "results" / "latest.json"

TITLES = {
    "crawl": "Crawl throughput vs the 10 req/s ceiling",
    "refresh": "Incremental refresh: requests for k new conversations",
    "cold_start": "Cold start to the first row (pty + pyte)",
    "keystroke_latency": "Keystroke latency at 1M (pty + pyte)",
    "peak_rss": "Peak RSS with the inbox shown",
    "bytes_per_move": "Bytes to the terminal per cursor move at 120x40",
    "export": "Export of 1M conversations from the database",
    "triage": "Triage: read and mark 100 unread conversations at 1M (pty + pyte)",
    "ssh_bytes": "Bytes per cursor move over ssh -tt (loopback sshd) at 120x40",
}
# Which module measures each figure; the screen figures share one app session.
MODULES = {
    "crawl": "bench.crawl",
    "refresh": "bench.refresh",
    "cold_start": "bench.screen",
    "keystroke_latency": "bench.screen",
    "peak_rss": "bench.screen",
    "bytes_per_move": "bench.screen",
    "export": "bench.export",
    "triage": "bench.triage",
    "ssh_bytes": "bench.ssh",
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 run, no targets")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file to write")
    parser.add_argument(
        "--only", default="", help=f"comma-separated figures (of {', '.join(FIGURES)})"
    )
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name] or list(FIGURES)
    unknown = sorted(set(chosen) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure(s): {', '.join(unknown)}")
    args.only = [name for name in FIGURES if name in chosen]
    return args


def _run_module(module_name: str, names: list[str], bench: Bench) -> dict[str, Figure]:
    """Run one module's figures; a missing piece or a crash becomes "not available"."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
        run: Callable[[Bench, list[str]], list[Figure]] = module.run_figures
        figures = {figure.key: figure for figure in run(bench, names)}
    except Unavailable as missing:
        figures = {name: Figure.unavailable(name, TITLES[name], str(missing)) for name in names}
    except Exception as error:  # a benchmark that crashes must still leave a table
        traceback.print_exc()
        crash = f"{type(error).__name__}: {error}"
        figures = {name: Figure.unavailable(name, TITLES[name], crash) for name in names}
    seconds = time.perf_counter() - started
    for figure in figures.values():
        figure.seconds = seconds
    return figures


def _prewarm(bench: Bench, by_module: dict[str, list[str]]) -> None:
    """Generate the databases the figures need in the background (a subprocess), while
    the crawl waits on the network; generated once, they are cached between runs."""
    sizes: set[int] = set()
    for module_name, names in by_module.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # the module's own run reports it
        databases = getattr(module, "databases", None)
        if databases is not None:
            sizes.update(databases(bench, names))
    if sizes:
        from bench.prepare import prewarm

        prewarm(bench, sizes)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    repeat = 1 if args.quick else (args.repeat or 3)
    scratch = Path(tempfile.mkdtemp(prefix="lemlist-bench-"))
    bench = Bench(quick=args.quick, repeat=repeat, scratch=scratch, verbose=not args.quiet)
    started = time.perf_counter()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    host = machine()  # before the run: its load average is the one at start
    figures: dict[str, Figure] = {}
    try:
        by_module: dict[str, list[str]] = {}
        for name in args.only:
            by_module.setdefault(MODULES[name], []).append(name)
        _prewarm(bench, by_module)
        for module_name, names in by_module.items():
            figures.update(_run_module(module_name, names, bench))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ordered = [figures[name] for name in args.only]
    for figure in ordered:
        for row in figure.rows:
            row.judge(args.quick)
    host["load_average_end"] = os.getloadavg()
    mode = "quick" if args.quick else "full"
    seconds = round(time.perf_counter() - started, 1)
    payload: dict[str, Any] = {
        "mode": mode,
        "repeat": repeat,
        "started": stamp,
        "seconds": seconds,
        "machine": host,
        "figures": {figure.key: figure.to_json() for figure in ordered},
    }
    table = format_table(ordered, args.quick)
    about = (
        f"Machine: {host['cpu']}, {host['cores']} cores, {host['ram_gb']} GB RAM, "
        f"{host['os']}; Python {host['python']}, textual {host['textual']}. {mode} mode, "
        f"{repeat} run(s) per figure, {seconds} s, {stamp}; load average "
        f"{host['load_average'][0]:.1f} at start, {host['load_average_end'][0]:.1f} at end."
    )
    print(table)
    print(about)
    write_json(args.out, payload)
    markdown = args.out.with_suffix(".md")
    markdown.write_text(f"{table}\n\n{about}\n", encoding="utf-8")
    print(f"wrote {args.out} and {markdown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
