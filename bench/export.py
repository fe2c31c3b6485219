"""Figure 7: ``lemlist-tui export`` of the whole local inbox (1M conversations).

``python -m lemlist_tui export --user USR --offline`` (JSON lines) as a user runs it, on
the generated database (:mod:`bench.dbgen`) installed in a scratch home; stdout is read
through a pipe (every line counted). Peak RSS is the process's own ``VmHWM``, read by an
``atexit`` hook of a two-line launcher that then runs the module as ``-m`` would
(``ru_maxrss`` will not do: Linux carries the spawning process's high-water mark across
``exec``). Rows per second count the whole process, start-up included. The anchor is
the floor: the same rows and columns straight from ``sqlite3`` to JSON lines
(:mod:`bench.export_anchor`), run the same way, interleaved.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import Bench, Unavailable
from bench.prepare import REPO, Prepared, prepared, prewarm
from bench.report import Figure, Row, Target, median

__all__ = ["databases", "run_figures"]

RATE_TARGET = 100_000
"""Rows per second."""
RSS_TARGET_MB = 80.0


def _size(bench: Bench) -> int:
    return 10_000 if bench.quick else 1_000_000


def databases(bench: Bench, names: list[str]) -> tuple[int, ...]:
    return (_size(bench),) if "export" in names else ()


@dataclass(frozen=True, slots=True)
class ExportRun:
    method: str
    seconds: float
    rows: int
    bytes: int
    peak_rss_mb: float
    status: int
    stderr: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


_LAUNCHER = """\
import atexit, runpy, sys
def _peak(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(kb)
atexit.register(_peak)
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def _run(method: str, module: Sequence[str], env: dict[str, str], scratch: Path) -> ExportRun:
    """``python -m MODULE ARGS`` with stdout counted and its peak RSS recorded."""
    err_path, peak_path = scratch / "export-stderr.txt", scratch / "export-peak.txt"
    peak_path.unlink(missing_ok=True)
    argv = [sys.executable, "-c", _LAUNCHER, str(peak_path), *module]
    with open(err_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, env=env,
            cwd=REPO,
        )  # fmt: skip
        assert process.stdout is not None
        pipe = process.stdout.fileno()
        lines = written = 0
        while chunk := os.read(pipe, 1 << 20):
            lines += chunk.count(b"\n")
            written += len(chunk)
        status = process.wait()
        seconds = time.perf_counter() - started
        process.stdout.close()
    stderr = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
    try:
        peak = int(peak_path.read_text()) / 1024
    except (OSError, ValueError):
        peak = float("nan")
    return ExportRun(method, seconds, lines, written, peak, status, stderr)


def _ours(prep: Prepared, scratch: Path) -> ExportRun:
    module = ["lemlist_tui", "export", "--user", prep.user, "--offline"]
    return _run("lemlist-tui export", module, prep.env, scratch)


def _floor(prep: Prepared, scratch: Path) -> ExportRun:
    module = ["bench.export_anchor", str(prep.database), prep.user]
    return _run("plain sqlite3 loop", module, prep.env, scratch)


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    if "export" not in names:
        return []
    size = _size(bench)
    figure = Figure("export", f"Export of {size:,} conversations from the database")
    prewarm(bench, [size])
    try:
        prep = prepared(bench, size)
    except Unavailable as why:
        figure.note = f"ours not available: {why}"
        prep = None
    runs: list[ExportRun] = []
    if prep is not None:
        for run in range(bench.repeat):
            bench.log(f"export: {size:,} rows, run {run + 1}/{bench.repeat}")
            runs.append(_floor(prep, bench.scratch))
            runs.append(_ours(prep, bench.scratch))
    ours = [r for r in runs if r.method == "lemlist-tui export" and r.status == 0]
    floor = [r for r in runs if r.method == "plain sqlite3 loop" and r.status == 0]
    failed = [r for r in runs if r.status != 0]
    short = [r for r in ours + floor if r.rows != size]
    rate = median([r.rate for r in ours]) if ours else None
    floor_rate = median([r.rate for r in floor]) if floor else None
    rss = median([r.peak_rss_mb for r in ours]) if ours else None
    floor_rss = median([r.peak_rss_mb for r in floor]) if floor else None
    figure.rows += [
        Row(
            label=f"export {size:,} (JSON lines): rows per second, start-up included",
            ours=rate,
            unit="rows/s",
            anchors={"plain sqlite3 loop": floor_rate},
            ratio=None if rate is None or not floor_rate else rate / floor_rate,
            target=Target(">=", RATE_TARGET, "ours", f"≥ {RATE_TARGET:,} rows/s"),
            detail={
                "seconds": [r.seconds for r in ours],
                "floor_seconds": [r.seconds for r in floor],
            },
        ),
        Row(
            label=f"export {size:,}: peak RSS (VmHWM)",
            ours=rss,
            unit="MB",
            anchors={"plain sqlite3 loop": floor_rss},
            ratio=None if rss is None or not floor_rss else rss / floor_rss,
            target=Target("<=", RSS_TARGET_MB, "ours", f"≤ {RSS_TARGET_MB:.0f} MB"),
        ),
    ]
    figure.details = {"runs": [asdict(r) | {"rate": r.rate} for r in runs]}
    if failed:
        figure.note = f"a run failed (exit {failed[0].status}): {failed[0].stderr.strip()[-300:]}"
    elif short:
        figure.note = f"a run wrote {short[0].rows:,} rows, not {size:,}"
    return [figure]
