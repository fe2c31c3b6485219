"""Probe: key latencies of the real app in a pty, with py-spy attached only while keys go.

    python -m bench.probe_keys --home /tmp/myprof --keys filter,s,j [--spy OUT]

Installs the generated database (``bench.dbgen``) under ``--home``; prints settled /
first-change times for each key and, with ``--spy``, the py-spy summary of the key phase
alone (attached by pid, so start-up and quitting are not in it). ``--queries`` defaults
to this database's own terms (as the benchmark types them).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.prepare import REPO
from bench.profile import _warm, summarise
from bench.report import median, p95
from bench.screen import COLS, LINES, SETTLE, _contains, _filter_queries, _typing
from bench.terminal import KeyResult, TerminalApp


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keys", default="filter,s")
    parser.add_argument("--presses", type=int, default=12)
    parser.add_argument("--spy", type=Path, default=None)
    parser.add_argument("--queries", default="", help="comma-separated (default: the bench's)")
    args = parser.parse_args(argv)
    prepared = _warm(args.home, args.size)
    results: dict[str, list[KeyResult]] = {}
    with TerminalApp(prepared.argv(), cols=COLS, rows=LINES, env=prepared.env, cwd=REPO) as term:
        shown = term.wait_for(_contains(prepared.needle), 60)
        print(f"shown {shown} s", file=sys.stderr)
        term.wait_quiet(1.0, timeout=3.0)
        spy = None
        if args.spy is not None:
            exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            spy = subprocess.Popen(
                [exe, "record", "-o", str(args.spy), "-f", "raw", "-r", "500",
                 "-p", str(term.process.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(1.0)
        for key in args.keys.split(","):
            if key == "filter":
                term.write("/")
                term.wait_quiet(SETTLE, timeout=1.0)
                queries = args.queries.split(",") if args.queries else None
                for typed in _typing(queries or _filter_queries(prepared.meta, quick=False)):
                    term.wait_frame(0.7)
                    results.setdefault(key, []).append(term.press(typed, tail=0.2))
                term.write("\x1b")
                term.wait_quiet(0.5, timeout=2.0)
            else:
                for _ in range(args.presses):
                    results.setdefault(key, []).append(term.press(key, tail=SETTLE))
        if spy is not None:
            spy.send_signal(2)
            spy.wait(30)
        term.write("q")
    for key, presses in results.items():
        settled = [1000 * (r.settled if r.settled is not None else r.window) for r in presses]
        first = [1000 * (r.first_change or r.window) for r in presses]
        print(
            f"{key}: settled p95 {p95(settled):.0f} ms (median {median(settled):.0f}); "
            f"first p95 {p95(first):.0f} (median {median(first):.0f}); "
            f"bytes median {median([r.bytes for r in presses]):.0f}\n"
            f"   settled {[round(v) for v in settled]}\n   first {[round(v) for v in first]}",
            file=sys.stderr,
        )
    if args.spy is not None and args.spy.exists():
        print(summarise(args.spy, 45))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
