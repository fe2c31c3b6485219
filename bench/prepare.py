"""The databases the screen and export figures run on: generated once, installed per run.

:func:`prewarm` starts generating (or finding in the cache) every size the run needs, in
a subprocess (``python -m bench.dbgen``), while the crawl figures wait on the network;
:func:`prepared` waits for one size and installs a copy of it in a scratch ``XDG_*``
home of its own, as the bench account's database (see :mod:`bench.dbgen`).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.common import Bench, Unavailable
from bench.dbgen import account_env, generated, install

__all__ = ["Prepared", "prepare_in", "prepared", "prewarm"]

REPO = Path(__file__).resolve().parent.parent
TABLE_ROWS = 2000
"""Rows given to the DataTable anchor: what a cursor move redraws does not depend on more."""
GENERATE_TIMEOUT = 1800


@dataclass(slots=True)
class Prepared:
    size: int
    home: Path
    """The scratch ``XDG_*`` home holding the installed copy."""
    env: dict[str, str]
    folder: Path
    """The installed account folder (``…/cache/lemlist-tui/FINGERPRINT``)."""
    meta: dict[str, Any]
    rows_path: Path
    """The first rows as the list draws them (JSON, for the DataTable anchor)."""

    @property
    def user(self) -> str:
        return str(self.meta["user"])

    @property
    def names(self) -> list[str]:
        return list(self.meta["names"])

    @property
    def needle(self) -> str:
        """Text of the first conversation that must appear: its name, as the list cuts it."""
        return self.names[0][:12].rstrip()

    @property
    def database(self) -> Path:
        from lemlist_tui.db import DB_NAME

        return self.folder / DB_NAME

    @property
    def generate_seconds(self) -> float:
        return float(self.meta["seconds"]["total"])

    def argv(self, *extra: str) -> list[str]:
        """The app as a user with this (warm) database starts it, offline."""
        return [sys.executable, "-m", "lemlist_tui", "--offline", "--user", self.user, *extra]


_lock = threading.Lock()
_generating: dict[int, threading.Event] = {}
_generated: dict[int, dict[str, Any] | str] = {}
"""Per size: the meta of the cached file (with its ``folder``), or why it failed."""
_installed: dict[tuple[Path, int], Prepared] = {}


def _generate(bench: Bench, size: int) -> None:
    started = time.perf_counter()
    bench.log(f"prepare: database of {size:,} conversations (generated once, then cached)")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bench.dbgen", str(size), "--json"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=GENERATE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _generated[size] = f"generating {size:,} conversations took over {GENERATE_TIMEOUT} s"
        return
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        _generated[size] = f"generating {size:,} failed: {lines[-1] if lines else '?'}"
        return
    _generated[size] = orjson.loads(result.stdout.strip().splitlines()[-1])
    bench.log(f"prepare: {size:,} ready after {time.perf_counter() - started:.1f} s")


def prewarm(bench: Bench, sizes: Iterable[int]) -> None:
    """Generate ``sizes`` in the background, smallest first (one subprocess at a time)."""
    wanted = []
    with _lock:
        for size in sorted(set(sizes)):
            if size not in _generating:
                _generating[size] = threading.Event()
                wanted.append(size)
    if not wanted:
        return

    def work() -> None:
        for size in wanted:
            try:
                _generate(bench, size)
            finally:
                _generating[size].set()

    threading.Thread(target=work, name="bench-dbgen", daemon=True).start()


def prepared(bench: Bench, size: int) -> Prepared:
    """The database of ``size`` installed in ``bench.scratch/app-SIZE`` (once per run)."""
    prewarm(bench, [size])
    _generating[size].wait()
    outcome = _generated.get(size, "not generated")
    if isinstance(outcome, str):
        raise Unavailable(outcome)
    return prepare_in(bench.scratch / f"app-{size}", size, outcome)


def prepare_in(home: Path, size: int, meta: dict[str, Any] | None = None) -> Prepared:
    """Install the cached database of ``size`` (generated here if need be) under ``home``."""
    key = (home, size)
    if key in _installed:
        return _installed[key]
    made = generated(size)
    meta = made.meta if meta is None else meta
    env = account_env(home)
    folder = install(made, env)
    rows_path = home / "rows.json"
    rows_path.write_bytes(orjson.dumps(_table_rows(folder, str(meta["user"]))))
    ready = Prepared(size, home, env, folder, meta, rows_path)
    _installed[key] = ready
    return ready


def _table_rows(folder: Path, user: str) -> dict[str, Any]:
    """The list's columns for the first rows, with the same texts the app's list draws."""
    from datetime import UTC, datetime

    from lemlist_tui.db import InboxDatabase
    from lemlist_tui.text import clean_line, relative_time
    from lemlist_tui.widgets.conversation_list import REPLIED_GLYPH, UNREAD_GLYPH, channel_tags

    now = datetime.now(UTC)
    db = InboxDatabase(folder)
    try:
        rows = db.rows(user, limit=TABLE_ROWS)
    finally:
        db.close()
    table = []
    for row in rows:
        replied = row.have_replies or row.last_replied_at is not None
        table.append(
            [
                UNREAD_GLYPH if row.unread else " ",
                clean_line(row.display_name, 32),
                clean_line((row.email if row.name else None) or "", 40),
                channel_tags(row.channels),
                relative_time(row.last_activity_at, now),
                REPLIED_GLYPH if replied else " ",
                f"${row.opportunities}" if row.opportunities else "",
            ]
        )
    return {"columns": ["", "name", "email", "channels", "activity", "", "$"], "rows": table}
