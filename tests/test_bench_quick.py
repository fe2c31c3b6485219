"""The benchmark harness still works (``.ci/run`` runs ``python -m bench --quick`` in full).

Light on purpose: the pty driver against a bare Textual app, one tiny crawl anchor over
a real loopback socket, and the table/JSON writer. A few seconds in all; no thresholds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

try:
    import bench  # noqa: F401  (``python -m pytest`` from the repository puts it on the path)
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import FIGURES
from bench.anchor_apps import LINE_TEXT
from bench.crawl import _loop
from bench.report import Figure, Row, Target, format_table, p95, write_json
from bench.terminal import TerminalApp, python_argv

REPO = Path(__file__).resolve().parents[1]


def test_pty_driver_sees_a_bare_app_and_times_a_key() -> None:
    with TerminalApp(python_argv("-m", "bench.anchor_apps", "input"), cwd=REPO) as term:
        assert term.wait_for(lambda lines: any("filter" in line for line in lines), 30)
        term.wait_quiet(0.2, timeout=1.0)
        result = term.press("x", tail=0.2)
        assert result.first_change is not None and 0 < result.first_change < 2
        assert result.bytes > 0 and result.changed
        assert any("x" in line for line in term.sync())
        assert (term.peak_rss_mb() or 0) > 10
    with TerminalApp(python_argv("-m", "bench.anchor_apps", "line"), cwd=REPO) as term:
        assert term.wait_for(lambda lines: any(LINE_TEXT in line for line in lines), 30)


def test_crawl_anchor_walks_a_tiny_inbox_over_loopback() -> None:
    run = _loop(size=25, latency=0.0, pause=0.0)
    assert run.conversations == 25
    assert run.pages == 3 and run.refused == 0
    assert run.max_in_window == 3


def test_table_and_json_carry_every_figure(tmp_path: Path) -> None:
    figures = [Figure.unavailable(key, key, "not built") for key in FIGURES]
    row = Row("crawl", 9.8, "req/s", {"ceiling": 10.0}, 0.98, Target(">=", 0.95, "ratio", "t"))
    row.detail["429s"] = 0
    row.judge(quick=False)
    assert row.met is True
    figures[0] = Figure("crawl", "crawl", rows=[row])
    table = format_table(figures, quick=False)
    assert "not available: not built" in table and "yes" in table
    out = tmp_path / "b.json"
    write_json(out, {"figures": {f.key: f.to_json() for f in figures}})
    assert set(orjson.loads(out.read_bytes())["figures"]) == set(FIGURES)
    assert p95([float(v) for v in range(1, 21)]) == 19.0
