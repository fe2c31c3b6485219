"""The benchmark harness still works (``.ci/run`` runs ``python -m bench --quick`` in full).

Light on purpose: the pty driver against a bare Textual app, one tiny crawl anchor over
a real loopback socket, the database generator against the app's own storing code, the
export runner, and the table/JSON writer. A few seconds in all; no thresholds.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import orjson

try:
    import bench  # noqa: F401  (``python -m pytest`` from the repository puts it on the path)
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import FIGURES, dbgen
from bench.anchor_apps import LINE_TEXT
from bench.crawl import _loop
from bench.export import _run
from bench.report import Figure, Row, Target, format_table, p95, write_json
from bench.screen import _exact_count, _first_screen
from bench.terminal import TerminalApp, python_argv
from lemlist_tui.api.models import parse_inbox_page, parse_labels, parse_team
from lemlist_tui.db import DB_NAME, InboxDatabase

REPO = Path(__file__).resolve().parents[1]


def test_pty_driver_sees_a_bare_app_and_times_a_key() -> None:
    with TerminalApp(python_argv("-m", "bench.anchor_apps", "input"), cwd=REPO) as term:
        assert term.wait_for(lambda lines: any("filter" in line for line in lines), 30)
        term.wait_quiet(0.2, timeout=1.0)
        echoed = {"x": lambda lines: any("x" in line for line in lines)}
        result = term.press("x", tail=0.2, marks=echoed)
        assert result.first_change is not None and 0 < result.first_change < 2
        assert result.bytes > 0 and result.changed
        assert result.marks["x"] is not None and result.marks["x"] >= result.first_change
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


def _tables(folder: Path) -> dict[str, Any]:
    """Every table's rows (sync times aside), the schema and its version."""
    connection = sqlite3.connect(folder / DB_NAME)
    try:
        names = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        ]
        dump: dict[str, Any] = {
            name: sorted(map(repr, connection.execute(f"SELECT * FROM {name}")))
            for name in names
            if name != "sync_state"
        }
        dump["sync_state"] = connection.execute(
            "SELECT user_id, total_items, page_size, pages_seen, complete, next_page, crawl, "
            "crawl_total, crawl_steady FROM sync_state"
        ).fetchall()
        dump["schema"] = sorted(connection.execute("SELECT type, name, sql FROM sqlite_schema"))
        dump["version"] = connection.execute("PRAGMA user_version").fetchone()
    finally:
        connection.close()
    return dump


def test_generated_database_is_what_the_app_stores(tmp_path: Path) -> None:
    size = 250
    meta = dbgen.build(tmp_path / "generated", size)
    # The same conversations as lemlist's JSON, through the app's own parsing and storing.
    team = dbgen.team_for()
    drafts = list(dbgen.drafts(size, team=team, anchor=dbgen.ANCHOR_TIME))
    db = InboxDatabase(tmp_path / "stored")
    try:
        db.save_team(parse_team(team.team_json))
        db.save_labels(parse_labels(team.labels_json))
        for start in range(0, size, 100):
            data = [dbgen.conversation_json(d, team) for d in drafts[start : start + 100]]
            page = parse_inbox_page({"data": data})
            assert not page.skipped
            db.store_page(meta["user"], page.conversations, dbgen.sync_state(size, 0.0), crawl=1)
        assert db.counts(meta["user"]) == (size, meta["unread"])
    finally:
        db.close()
    generated, stored = _tables(tmp_path / "generated"), _tables(tmp_path / "stored")
    assert generated.keys() == stored.keys()
    for table in generated:
        assert generated[table] == stored[table], table
    assert len(generated["participants"]) == size * len(team.user_ids)
    terms = meta["queries"]["terms"]
    assert terms["common_pair"] and terms["rare_pair"]
    assert all(count >= 0 for count in meta["queries"]["counts"].values())


def test_export_runner_counts_rows_and_reads_peak_memory(tmp_path: Path) -> None:
    meta = dbgen.build(tmp_path / "db", 120)
    env = dbgen.account_env(tmp_path / "home")
    module = ["bench.export_anchor", str(tmp_path / "db" / DB_NAME), meta["user"]]
    run = _run("floor", module, env, tmp_path)
    assert run.status == 0, run.stderr
    assert run.rows == 120 and run.bytes > 0
    assert 5 < run.peak_rss_mb < 500


def test_filter_marks_read_the_status_line() -> None:
    status = " Camille Martin · ≥ 64 shown · 611 unread of 1,994 · filter “an” · sort: created"
    exact = status.replace("≥ 64", "1,203")
    assert _first_screen("an")(["row", status]) and not _exact_count("an")(["row", status])
    assert _exact_count("an")(["row", exact]) and not _first_screen("a")(["row", exact])
    plain = " Camille Martin · 611 unread of 1,994 · offline (local inbox only)"
    assert _first_screen("")([plain]) and _exact_count("")([plain])
    assert not _first_screen("")([status])
