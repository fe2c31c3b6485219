"""Figures 3 to 6: the app itself in a real 120x40 pseudo-terminal, read by pyte.

* cold start: process spawn → the first conversation's name on the emulated screen,
  with the app's own cache warm (1k, 10k, 100k), beside a bare one-line Textual app;
* keystroke latency at 100k: key written → end of the frame(s) it caused, for a filter
  keystroke (query growing, then shrinking), ``u``, ``s`` and ``j``, beside the same
  keys in bare Textual widgets (an ``Input`` echo, a ``DataTable`` cursor move);
* peak RSS (``VmHWM``) of the app process with 100k loaded and shown;
* bytes written to the terminal per ``j``, beside ``↓`` in a bare ``DataTable`` of the
  same rows.

The app runs as a user would start it: ``python -m lemlist_tui --demo --demo-size N
--offline --user USR``, its cache filled beforehand by :mod:`bench.warm` through the
app's own code, in a scratch ``XDG_*`` home.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.anchor_apps import LINE_TEXT
from bench.common import Bench, Unavailable
from bench.report import Figure, Row, Target, median, p95
from bench.terminal import KeyResult, TerminalApp

__all__ = ["prewarm", "run_figures"]

REPO = Path(__file__).resolve().parent.parent
COLS, LINES = 120, 40
BLINK = 0.5
"""Textual's cursor blink period: a focused Input redraws this often by itself."""
TOAST = 2.0
"""The ``s`` key's notification lasts this long; its removal is another frame."""
SETTLE = 0.35
"""Quiet that ends a key's effects (the detail pane fetches a thread 0.15 s after a move)."""


@dataclass(slots=True)
class Prepared:
    size: int
    env: dict[str, str]
    user: str
    names: list[str]
    rows_path: Path
    warm_seconds: float

    @property
    def needle(self) -> str:
        """Text of the first conversation that must appear: its name, as the list cuts it."""
        return self.names[0][:12].rstrip()

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "lemlist_tui",
            "--demo",
            "--demo-size",
            str(self.size),
            "--offline",
            "--user",
            self.user,
        ]


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("LEMLIST_API_KEY", "LEMLIST_BASE_URL"):
        env.pop(name, None)
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        path = root / name.split("_")[1].lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return env


def _prepare(bench: Bench, size: int) -> Prepared:
    root = bench.scratch / f"app-{size}"
    env = _env(root)
    rows_path = root / "rows.json"
    bench.log(f"screen: warming the app's cache with {size:,} conversations")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bench.warm", str(size), str(rows_path)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise Unavailable(f"warming a {size:,} cache failed: {lines[-1] if lines else '?'}")
    info = orjson.loads(result.stdout.strip().splitlines()[-1])
    bench.log(f"screen: warm cache of {size:,} in {time.perf_counter() - started:.1f} s")
    return Prepared(size, env, info["user"], info["names"], rows_path, info["seconds"])


def _contains(needle: str) -> Callable[[list[str]], bool]:
    return lambda lines: any(needle in line for line in lines)


@dataclass(slots=True)
class Start:
    seconds: float | None
    peak_rss_mb: float | None
    screen: str = ""


def _start(argv: Sequence[str], env: dict[str, str], needle: str, timeout: float) -> Start:
    with TerminalApp(argv, cols=COLS, rows=LINES, env=env, cwd=REPO) as term:
        seconds = term.wait_for(_contains(needle), timeout)
        rss = term.peak_rss_mb()
        screen = "" if seconds is not None else term.text()
    return Start(seconds, rss, screen)


def _bare_argv(kind: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench.anchor_apps", kind, *args]


# --- keystrokes --------------------------------------------------------------------------


@dataclass(slots=True)
class Presses:
    """The answers to several presses of one kind of key."""

    results: list[KeyResult] = field(default_factory=list)

    # A press the screen never answered counts as the whole time it was watched (a lower
    # bound), so the worst cases stay in the p95 instead of dropping out of it.
    def settled_ms(self) -> list[float]:
        return [1000 * (r.window if r.settled is None else r.settled) for r in self.results]

    def first_ms(self) -> list[float]:
        return [
            1000 * (r.window if r.first_change is None else r.first_change) for r in self.results
        ]

    def bytes(self, *, changed_only: bool) -> list[int]:
        return [r.changed_bytes if changed_only else r.bytes for r in self.results]

    def summary(self) -> dict[str, Any]:
        settled, first = self.settled_ms(), self.first_ms()
        return {
            "presses": len(self.results),
            "unanswered": sum(1 for r in self.results if not r.changed),
            "settled_ms": [round(v, 2) for v in settled],
            "first_change_ms": [round(v, 2) for v in first],
            "settled_p95_ms": p95(settled) if settled else None,
            "settled_median_ms": median(settled) if settled else None,
            "first_change_p95_ms": p95(first) if first else None,
            "first_change_median_ms": median(first) if first else None,
            "bytes": self.bytes(changed_only=False),
            "changed_bytes": self.bytes(changed_only=True),
            "first_change_bytes": [r.first_change_bytes for r in self.results],
            "frames": [r.frames for r in self.results],
            "changed_frames": [r.changed_frames for r in self.results],
        }


def _press_list(term: TerminalApp, keys: Sequence[str], *, linger: float = 0.0) -> Presses:
    """Keys to a list (no blinking cursor). Each answer is watched until 0.35 s of quiet,
    which takes in the detail pane's debounced update; ``linger`` is how long what the
    key showed stays (a toast), waited out so that its removal lands in no measurement."""
    presses = Presses()
    for key in keys:
        sent = time.perf_counter()
        result = term.press(key, tail=SETTLE)
        presses.results.append(result)
        if linger:
            shown = sent + (result.first_change or 0.0)
            time.sleep(max(0.0, shown + linger + 0.6 - time.perf_counter()))
    return presses


def _press_typing(term: TerminalApp, keys: Sequence[str]) -> Presses:
    """Keys into a focused Input, each right after a frame: a key restarts the cursor's
    blink timer, so no blink lands in the burst measured."""
    presses = Presses()
    for key in keys:
        term.wait_frame(BLINK + 0.2)
        presses.results.append(term.press(key, tail=0.2))
    return presses


def _typing(queries: Sequence[str]) -> list[str]:
    """Each query typed a character at a time, then erased a character at a time."""
    keys: list[str] = []
    for query in queries:
        keys += list(query)
        keys += ["backspace"] * len(query)
    return keys


def _queries(names: Sequence[str], quick: bool) -> list[str]:
    """Real name fragments of this inbox: first names, then a surname."""
    words: list[str] = []
    for name in names:
        for word in name.lower().split():
            if word.isascii() and word.isalpha() and len(word) >= 4 and word not in words:
                words.append(word)
    if quick:
        return [words[0][:2] if words else "an"]
    return (words[:3] if len(words) >= 3 else [*words, "smith", "mar"][:3]) or ["smith"]


@dataclass(slots=True)
class Idle:
    bytes_per_s: float
    frames_per_s: float


def _idle(term: TerminalApp, seconds: float = 2.0) -> Idle:
    written, frames = term.idle(seconds)
    return Idle(written / seconds, frames / seconds)


@dataclass(slots=True)
class Session:
    shown_s: float | None = None
    loaded_s: float | None = None
    rss_shown_mb: float | None = None
    rss_after_mb: float | None = None
    idle: Idle | None = None
    keys: dict[str, Presses] = field(default_factory=dict)
    problem: str | None = None


def _app_session(bench: Bench, prepared: Prepared) -> Session:
    session = Session()
    size = prepared.size
    moves = 5 if bench.quick else 40
    toggles = 2 if bench.quick else 20
    sorts = 1 if bench.quick else 12
    with TerminalApp(prepared.argv(), cols=COLS, rows=LINES, env=prepared.env, cwd=REPO) as term:
        session.shown_s = term.wait_for(_contains(prepared.needle), 60)
        if session.shown_s is None:
            session.problem = "the first conversation never appeared:\n" + term.text()
            return session
        everything = (f"{size:,} conversations", f"{size:,} loaded")
        session.loaded_s = term.wait_for(
            lambda lines: any(t in line for line in lines for t in everything), 120
        )
        term.wait_quiet(1.0, timeout=3.0)
        session.idle = _idle(term)
        session.rss_shown_mb = term.peak_rss_mb()
        bench.log(
            f"screen: app at {size:,} (idle: {session.idle.frames_per_s:.0f} frames/s): "
            f"{moves} x j, {toggles} x u, {sorts} x s, filter"
        )
        session.keys["j"] = _press_list(term, ["j"] * moves)
        session.keys["u"] = _press_list(term, ["u"] * toggles)
        session.keys["s"] = _press_list(term, ["s"] * sorts, linger=TOAST)
        term.write("/")
        term.wait_quiet(SETTLE, timeout=1.0)
        session.keys["filter"] = _press_typing(term, _typing(_queries(prepared.names, bench.quick)))
        session.rss_after_mb = term.peak_rss_mb()
    return session


@dataclass(slots=True)
class Anchors:
    line_starts: list[float] = field(default_factory=list)
    line_rss_mb: list[float] = field(default_factory=list)
    typing: Presses | None = None
    table_moves: Presses | None = None
    table_idle: Idle | None = None
    table_shown_s: float | None = None
    table_rows: int = 0


def _input_anchor(keys: Sequence[str]) -> Presses:
    with TerminalApp(_bare_argv("input"), cols=COLS, rows=LINES, cwd=REPO) as term:
        if term.wait_for(_contains("filter"), 30) is None:
            raise RuntimeError("the bare Input app did not start:\n" + term.text())
        term.wait_quiet(0.2, timeout=1.0)  # it blinks: never quiet for long
        return _press_typing(term, keys)


def _table_anchor(rows_path: Path, moves: int, anchors: Anchors) -> None:
    data = orjson.loads(rows_path.read_bytes())
    anchors.table_rows = len(data["rows"])
    needle = data["rows"][0][1][:12].rstrip()
    with TerminalApp(_bare_argv("table", str(rows_path)), cols=COLS, rows=LINES, cwd=REPO) as term:
        anchors.table_shown_s = term.wait_for(_contains(needle), 60)
        if anchors.table_shown_s is None:
            raise RuntimeError("the DataTable anchor did not show its rows:\n" + term.text())
        term.wait_quiet(1.0, timeout=3.0)
        anchors.table_idle = _idle(term)
        anchors.table_moves = _press_list(term, ["down"] * moves)


# --- the figures -------------------------------------------------------------------------


def _sizes(bench: Bench) -> tuple[int, ...]:
    return (300,) if bench.quick else (1_000, 10_000, 100_000)


_warming: Future[dict[int, Prepared]] | None = None


def prewarm(bench: Bench) -> None:
    """Start building the app's caches in the background (the crawl mostly sleeps)."""
    global _warming
    if _warming is None:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-warm")
        _warming = pool.submit(lambda: {size: _prepare(bench, size) for size in _sizes(bench)})
        pool.shutdown(wait=False)


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    sizes = _sizes(bench)
    big = sizes[-1]
    prewarm(bench)
    assert _warming is not None
    prepared: dict[int, Prepared] = {}
    missing: str | None = None
    try:
        prepared = _warming.result()
    except Unavailable as why:
        missing = str(why)
    except subprocess.TimeoutExpired:
        missing = "warming the cache took too long"

    anchors = Anchors()
    figures: list[Figure] = []
    if "cold_start" in names or "peak_rss" in names:
        figures += _cold_start(bench, sizes, prepared, anchors, missing, names)
    session: Session | None = None
    wants_session = {"keystroke_latency", "peak_rss", "bytes_per_move"} & set(names)
    if wants_session and big in prepared:
        session = _app_session(bench, prepared[big])
        if session.problem:
            missing = f"the app at {big:,}: {session.problem}"
    if wants_session:
        moves = 5 if bench.quick else 40
        keys = _typing(_queries(prepared[big].names if big in prepared else [], bench.quick))
        bench.log("screen: anchors: bare Input typing, DataTable cursor moves")
        anchors.typing = _input_anchor(keys)
        rows_path = prepared[big].rows_path if big in prepared else _fallback_rows(bench)
        _table_anchor(rows_path, moves, anchors)
    if "keystroke_latency" in names:
        figures.append(_keystroke_figure(big, session, anchors, missing))
    if "peak_rss" in names:
        figures.append(_rss_figure(big, session, anchors, missing))
    if "bytes_per_move" in names:
        figures.append(_bytes_figure(session, anchors, missing))
    return [f for f in figures if f.key in names]


def _fallback_rows(bench: Bench) -> Path:
    """DataTable rows when the app's cache cannot be built: same shape, synthetic text."""
    path = bench.scratch / "fallback-rows.json"
    rows = [
        ["●" if i % 5 == 0 else " ", f"Contact {i:05d}", f"contact{i}@example.com", "mail",
         f"{i % 59 + 1}m", "↩", ""]
        for i in range(2000)
    ]  # fmt: skip
    columns = ["", "name", "email", "channels", "activity", "", "$"]
    path.write_bytes(orjson.dumps({"columns": columns, "rows": rows}))
    return path


def _cold_start(
    bench: Bench,
    sizes: Sequence[int],
    prepared: dict[int, Prepared],
    anchors: Anchors,
    missing: str | None,
    names: list[str],
) -> list[Figure]:
    figure = Figure("cold_start", "Cold start to rows on screen (pty + pyte)")
    runs = 1 if bench.quick else max(bench.repeat, 5)
    starts: dict[int, list[Start]] = {size: [] for size in prepared}
    env = next(iter(prepared.values())).env if prepared else None
    for run in range(runs):
        bench.log(f"screen: cold starts, round {run + 1}/{runs}")
        bare = _start(_bare_argv("line"), env or dict(os.environ), LINE_TEXT, 30)
        if bare.seconds is not None:
            anchors.line_starts.append(bare.seconds)
        if bare.peak_rss_mb is not None:
            anchors.line_rss_mb.append(bare.peak_rss_mb)
        for size, prep in prepared.items():
            starts[size].append(_start(prep.argv(), prep.env, prep.needle, 60))
    bare_s = median(anchors.line_starts) if anchors.line_starts else None
    for size in sizes:
        seconds = [s.seconds for s in starts.get(size, []) if s.seconds is not None]
        ours = median(seconds) if seconds else None
        target: Target | None = None
        if size == sizes[-1] and not bench.quick:
            target = Target("<=", 0.5, "ours", "≤ 0.5 s")
        elif size == 10_000:
            target = Target("<=", 1.25, "ratio", "≤ 1.25x bare")
        figure.rows.append(
            Row(
                label=f"cold start → first row, {size:,} cached",
                ours=ours,
                unit="s",
                anchors={"bare 1-line app": bare_s},
                ratio=None if ours is None or not bare_s else ours / bare_s,
                target=target,
                detail={
                    "runs_s": seconds,
                    "p95_s": p95(seconds) if seconds else None,
                    "bare_runs_s": anchors.line_starts,
                    "failed": [s.screen for s in starts.get(size, []) if s.seconds is None][:1],
                },
            )
        )
    figure.details = {
        "terminal": f"{COLS}x{LINES}",
        "runs": runs,
        "warm_cache_s": {size: p.warm_seconds for size, p in prepared.items()},
    }
    if missing:
        figure.note = f"ours not available: {missing}"
    return [figure] if "cold_start" in names else []


def _key_row(
    label: str,
    ours: Presses | None,
    anchor_name: str,
    anchor: Presses | None,
    target: Target,
    *,
    first_change: bool = False,
) -> Row:
    def value(presses: Presses | None) -> float | None:
        if presses is None:
            return None
        samples = presses.first_ms() if first_change else presses.settled_ms()
        return p95(samples) if samples else None

    mine, theirs = value(ours), value(anchor)
    return Row(
        label=label,
        ours=mine,
        unit="ms",
        anchors={anchor_name: theirs},
        ratio=None if mine is None or not theirs else mine / theirs,
        target=target,
        detail={
            "ours": ours.summary() if ours else None,
            "anchor": anchor.summary() if anchor else None,
        },
    )


def _keystroke_figure(
    big: int, session: Session | None, anchors: Anchors, missing: str | None
) -> Figure:
    figure = Figure("keystroke_latency", f"Keystroke latency at {big:,} (pty + pyte)")
    keys = session.keys if session else {}
    typing = anchors.typing
    figure.rows += [
        _key_row(
            f"filter keystroke, grow + shrink, p95 @{big:,}",
            keys.get("filter"),
            "bare Input echo p95",
            typing,
            Target("<=", 50, "ours", "p95 ≤ 50 ms"),
        ),
        _key_row(
            f"unread toggle u, p95 @{big:,}",
            keys.get("u"),
            "bare Input echo p95",
            typing,
            Target("<=", 50, "ours", "p95 ≤ 50 ms"),
        ),
        _key_row(
            f"re-sort s, p95 @{big:,}",
            keys.get("s"),
            "bare Input echo p95",
            typing,
            Target("<=", 50, "ours", "p95 ≤ 50 ms"),
        ),
        _key_row(
            f"cursor move j, p95 @{big:,}",
            keys.get("j"),
            "DataTable ↓ p95",
            anchors.table_moves,
            Target("<=", 16, "ours", "p95 ≤ 16 ms"),
            first_change=True,
        ),
    ]
    figure.details = {
        "measure": (
            "key written to the pty → end of the last frame before 0.1 s of quiet "
            "(synchronized-output frame ends); cursor moves: → end of the first frame"
        ),
        "datatable_rows": anchors.table_rows,
    }
    if missing:
        figure.note = f"ours not available: {missing}"
    return figure


def _rss_figure(big: int, session: Session | None, anchors: Anchors, missing: str | None) -> Figure:
    figure = Figure("peak_rss", f"Peak RSS with {big:,} loaded and shown")
    bare = median(anchors.line_rss_mb) if anchors.line_rss_mb else None
    target = Target("<=", 150, "ours", "≤ 150 MB")
    shown = session.rss_shown_mb if session else None
    after = session.rss_after_mb if session else None
    for label, value in (
        (f"peak RSS (VmHWM), {big:,} loaded and shown", shown),
        (f"peak RSS after the keystroke session @{big:,}", after),
    ):
        figure.rows.append(
            Row(
                label=label,
                ours=value,
                unit="MB",
                anchors={"bare 1-line app": bare},
                ratio=None if value is None or not bare else value / bare,
                target=target,
            )
        )
    if session is not None:
        figure.details = {"shown_s": session.shown_s, "all_loaded_s": session.loaded_s}
    if missing:
        figure.note = f"ours not available: {missing}"
    return figure


def _bytes_figure(session: Session | None, anchors: Anchors, missing: str | None) -> Figure:
    figure = Figure("bytes_per_move", f"Bytes to the terminal per cursor move at {COLS}x{LINES}")
    ours = session.keys.get("j") if session else None
    table = anchors.table_moves
    # An app that repaints by itself while idle: count only the frames the key changed.
    noisy = session is not None and session.idle is not None and session.idle.frames_per_s > 0
    mine_all = ours.bytes(changed_only=noisy) if ours else []
    theirs_all = table.bytes(changed_only=False) if table else []
    mine = median(mine_all) if mine_all else None
    theirs = median(theirs_all) if theirs_all else None
    datatable = f"DataTable ({anchors.table_rows:,} same rows)"
    figure.rows.append(
        Row(
            label="bytes per cursor move j (median, every frame it causes"
            + (", changing frames only: the app repaints while idle)" if noisy else ")"),
            ours=mine,
            unit="B",
            anchors={datatable: theirs},
            ratio=None if mine is None or not theirs else mine / theirs,
            target=Target("<=", 1.0, "ratio", "<= DataTable"),
            detail={"ours": mine_all, "datatable": theirs_all, "ours_idle_repaints": noisy},
        )
    )
    first = [r.first_change_bytes for r in ours.results] if ours else []
    table_first = [r.first_change_bytes for r in table.results] if table else []
    figure.rows.append(
        Row(
            label="(extra) bytes of the move's first frame: the list's own redraw",
            ours=median(first) if first else None,
            unit="B",
            anchors={datatable: median(table_first) if table_first else None},
            ratio=median(first) / median(table_first) if first and table_first else None,
            target=None,
            detail={"ours": first, "datatable": table_first},
        )
    )
    idle = session.idle if session else None
    table_idle = anchors.table_idle
    figure.rows.append(
        Row(
            label="(extra) bytes per second while idle, nothing pressed",
            ours=idle.bytes_per_s if idle else None,
            unit="B/s",
            anchors={datatable: table_idle.bytes_per_s if table_idle else None},
            ratio=None,
            target=Target(
                "<=", table_idle.bytes_per_s if table_idle else 0.0, "ours", "<= DataTable"
            ),
            detail={
                "ours_frames_per_s": idle.frames_per_s if idle else None,
                "datatable_frames_per_s": table_idle.frames_per_s if table_idle else None,
            },
        )
    )
    if missing:
        figure.note = f"ours not available: {missing}"
    return figure
