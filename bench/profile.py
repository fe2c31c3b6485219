"""Profile the app where a benchmark misses: ``python -m bench.profile WHAT [options]``.

    python -m bench.profile start --size 1000000         cold start → first row, then quit
    python -m bench.profile keys --size 1000000 --keys j the app while keys are pressed
    python -m bench.profile idle --size 1000             the app doing nothing for 3 s
    python -m bench.profile keys --keys s,filter --tool none --prelude "import gc; gc.disable()"
    python -m bench.profile crawl --latency 0.05         the limiter's holds during a crawl

The app runs as in the benchmark (real pty, the generated database of ``--size``
conversations, ``--offline``, see :mod:`bench.dbgen`) under
``py-spy record`` (sampling, native-speed; the default), ``pyinstrument`` or nothing
(``--tool none``: just the key latencies), after an optional ``--prelude`` (a what-if).
py-spy's folded stacks are summarised as the functions with the most samples, inclusive
and self, with the app's own frames marked. ``--home DIR`` keeps the installed copy of the
database between runs (the generated file itself is cached anyway).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.prepare import REPO, Prepared, prepare_in
from bench.report import median, p95
from bench.screen import COLS, LINES, _contains, _filter_queries, _typing
from bench.terminal import KeyResult, TerminalApp

__all__ = ["main", "summarise"]


def summarise(folded: Path, top: int = 25) -> str:
    """The functions with the most samples in py-spy's raw (folded) output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        for frame in set(frames):
            inclusive[frame] += samples
        if frames:
            own[frames[-1]] += samples
    if not total:
        return "no samples"

    def lines(counter: Counter[str]) -> list[str]:
        return [
            f"  {100 * n / total:5.1f}%  {'*' if 'lemlist_tui' in f else ' '} {f[:150]}"
            for f, n in counter.most_common(top)
        ]

    header = f"{total} samples (* = lemlist_tui)"
    return "\n".join([header, "inclusive:", *lines(inclusive), "self:", *lines(own)])


def _warm(home: Path, size: int) -> Prepared:
    """The generated database of ``size`` installed under ``home`` (made once if need be)."""
    return prepare_in(home, size)


def _launcher(home: Path, prelude: str) -> Path:
    """A script that runs ``prelude`` (a what-if, e.g. ``import gc; gc.disable()``), then
    the app's own ``main`` with the command line it is given."""
    script = home / "launch_app.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\n{prelude}\n"
        "from lemlist_tui.__main__ import main\nmain(sys.argv[1:])\n"
    )
    return script


def _profiler(tool: str, out: Path, rate: int) -> list[str]:
    if tool == "none":
        return [sys.executable]
    if tool == "pyinstrument":
        return [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(out)]
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return [spy, "record", "-o", str(out), "-f", "raw", "-r", str(rate), "--", sys.executable]


def _trace_crawl(size: int, latency: float) -> None:
    """Every hold the limiter takes during ``InboxSync.crawl``, and when requests arrived."""
    import asyncio

    from bench.common import ANCHOR_TIME
    from bench.serve import serve_demo
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.api.ratelimit import SlidingWindowLimiter
    from lemlist_tui.db import InboxDatabase
    from lemlist_tui.demo import DEMO_API_KEY, DemoConfig
    from lemlist_tui.sync import InboxSync

    holds: list[tuple[float, float]] = []
    limiter = SlidingWindowLimiter()
    take_hold = limiter._hold

    def traced_hold(seconds: float) -> None:
        if seconds > 0:
            holds.append((time.monotonic(), seconds))
        take_hold(seconds)

    limiter._hold = traced_hold  # type: ignore[method-assign]
    with serve_demo(DemoConfig(size=size, now=ANCHOR_TIME, latency=latency)) as served:

        async def crawl() -> float:
            client = LemlistClient(DEMO_API_KEY, base_url=served.base_url, limiter=limiter)
            folder = Path(tempfile.mkdtemp(prefix="lemlist-crawl-"))
            db = InboxDatabase(folder / "account")
            sync = InboxSync(client, db, served.demo.team_user_ids[0], page_size=10)
            started = time.perf_counter()
            try:
                await sync.crawl()
            finally:
                await client.aclose()
                db.close()
                shutil.rmtree(folder, ignore_errors=True)
            return time.perf_counter() - started

        seconds = asyncio.run(crawl())
        log = list(served.demo.log)
    first = log[0].at if log else 0.0
    ok = sum(1 for r in log if r.status == 200)
    print(f"{ok} pages in {seconds:.2f} s = {ok / seconds / 10:.3f} of the ceiling")
    print("limiter holds (s after the first request: seconds held):")
    print("  " + ", ".join(f"{at - first:.2f}: {held:.2f}" for at, held in holds))
    print("server arrivals (s after the first) and status:")
    print(
        "  "
        + ", ".join(
            f"{r.at - first:.2f}" + ("" if r.status == 200 else f"[{r.status}]") for r in log
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("what", choices=("start", "keys", "idle", "crawl"))
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--keys", default="j", help="comma-separated: j, u, s, filter")
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--tool", choices=("py-spy", "pyinstrument", "none"), default="py-spy")
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--prelude", default="", help="Python run before the app (a what-if)")
    parser.add_argument("--latency", type=float, default=0.0, help="crawl: added per request")
    parser.add_argument("--home", type=Path, default=None, help="install the database here")
    parser.add_argument("--out", type=Path, default=Path("bench/results/profile.txt"))
    args = parser.parse_args(argv)
    if args.what == "crawl":
        _trace_crawl(args.size if args.size < 100_000 else 605, args.latency)
        return 0

    home = args.home or Path(tempfile.mkdtemp(prefix="lemlist-profile-"))
    home.mkdir(parents=True, exist_ok=True)
    prepared = _warm(home, args.size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    launcher = _launcher(home, args.prelude)
    argv_app = [*_profiler(args.tool, args.out, args.rate), str(launcher), *prepared.argv()[3:]]
    latencies: dict[str, list[KeyResult]] = {}
    with TerminalApp(argv_app, cols=COLS, rows=LINES, env=prepared.env, cwd=REPO) as term:
        shown = term.wait_for(_contains(prepared.needle), 120)
        print(f"first row after {shown} s ({args.tool})", file=sys.stderr)
        if args.what != "start":
            term.wait_quiet(1.0, timeout=3.0)
        if args.what == "idle":
            written, frames = term.idle(3.0)
            print(f"idle 3 s: {written:,} bytes, {frames} frames", file=sys.stderr)
        elif args.what == "keys":
            for key in args.keys.split(","):
                if key == "filter":
                    term.write("/")
                    term.wait_quiet(0.3, timeout=1.0)
                    for typed in _typing(_filter_queries(prepared.meta, quick=False)):
                        latencies.setdefault(key, []).append(term.press(typed, tail=0.2))
                    term.write("\x1b")
                    term.wait_quiet(0.3, timeout=1.5)
                else:
                    for _ in range(args.presses):
                        latencies.setdefault(key, []).append(term.press(key, tail=0.35))
        term.write("q")
        deadline = time.perf_counter() + 60
        while term.process.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.1)
    for key, results in latencies.items():
        settled = [1000 * (r.settled if r.settled is not None else r.window) for r in results]
        first = [1000 * (r.first_change or r.window) for r in results]
        print(
            f"{key}: settled p95 {p95(settled):.0f} ms (median {median(settled):.0f}, "
            f"max {max(settled):.0f}); first change p95 {p95(first):.0f} ms",
            file=sys.stderr,
        )
    if args.tool == "py-spy" and args.out.exists():
        print(summarise(args.out))
    elif args.tool == "pyinstrument" and args.out.exists():
        print(args.out.read_text()[:20000])
    if args.tool != "none":
        print(f"profile written to {args.out}", file=sys.stderr)
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
