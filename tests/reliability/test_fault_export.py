"""``lemlist-tui export`` in a subprocess under faults: an exit code, one line, no traceback.

The command runs with its real retry policy (seconds of back-off), so the cases run side
by side, each against its own demo server. A representative subset: the sync-level matrix
(test_fault_matrix.py) covers every fault; this proves the command turns each kind of
outcome into its exit code and one line, and leaves its database whole: what it exported
is what the database holds, and a failed run kept only what lemlist sent.
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from demo_fixtures import running_demo
from reliability_support import FIGURES, Rewrite, child_env, closed_port, one_line, read_database

from lemlist_tui.api.client import account_fingerprint
from lemlist_tui.demo import DemoConfig, DemoLemlist, Fault

KEY = "sk-export-faults-51ab7e90c4"
SIZE = 150  # two pages of 100
FIXED_DAY = "2025-03-14"


@dataclass(frozen=True)
class ExportCase:
    name: str
    exit_code: int
    faults: tuple[Fault, ...] = ()
    size: int = SIZE
    lie: bool = False
    refused: bool = False
    words: str = ""
    most_requests: int = 12


CASES = (
    ExportCase("500 once", 0, (Fault(status=500, times=1),)),
    ExportCase("500 always", 1, (Fault(status=500, times=None),), words="server failed (500)"),
    ExportCase(
        "429, Retry-After 600",
        4,
        (Fault(status=429, headers={"Retry-After": "600"}, times=None),),
        words="600",
        most_requests=1,
    ),
    ExportCase(
        "JSON of the wrong shape",
        1,
        (Fault(status=200, body=b"[[[", content_type="application/json", times=None),),
        words="JSON",
    ),
    ExportCase(
        "401 key refused",
        3,
        (Fault(status=401, body=b"The authentication you supplied is incorrect", times=None),),
        words="refused the API key",
        most_requests=1,
    ),
    ExportCase("connection refused", 4, refused=True, words="Cannot reach lemlist"),
    ExportCase("nextPage loops back", 0, lie=True),
    ExportCase("an empty inbox", 0, size=0),
)


def _loop_back(query: dict[str, str], _: Any, payload: Any) -> Any:
    payload["pagination"]["nextPage"] = 1 if query.get("page", "1") != "1" else 2
    return payload


def test_export_under_faults(tmp_path: Path) -> None:
    from datetime import datetime

    now = datetime.fromisoformat(f"{FIXED_DAY}T09:30:00+00:00")
    with ExitStack() as stack:
        runs: list[tuple[ExportCase, DemoLemlist, subprocess.Popen[bytes], Path]] = []
        for index, case in enumerate(CASES):
            demo = DemoLemlist(DemoConfig(size=case.size, seed=3, now=now, api_keys=(KEY,)))
            demo.faults.extend(case.faults)
            app: Any = Rewrite(demo, [(r"/api/inbox", _loop_back)]) if case.lie else demo
            base_url = stack.enter_context(running_demo(app))
            if case.refused:
                base_url = f"http://127.0.0.1:{closed_port()}/api"
            home = tmp_path / f"case-{index}"
            argv = [sys.executable, "-m", "lemlist_tui", "export", "--base-url", base_url]
            argv += ["--user", demo.team_user_ids[0], "--format", "jsonl"]
            process = subprocess.Popen(
                argv,
                env=child_env(home, KEY),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )
            folder = home / "xdg-cache" / "lemlist-tui" / account_fingerprint(KEY, base_url)
            runs.append((case, demo, process, folder))

        failures: list[str] = []
        deadline = time.monotonic() + 60
        for case, demo, process, folder in runs:
            FIGURES.faults_tried += 1
            FIGURES.count("faults: export")
            try:
                out, err = process.communicate(timeout=max(deadline - time.monotonic(), 1))
            except subprocess.TimeoutExpired:
                process.kill()
                failures.append(f"{case.name}: still running after a minute")
                continue
            problem = _check(case, demo, process.returncode, out, err, folder)
            if problem is None:
                FIGURES.faults_survived += 1
            else:
                failures.append(f"{case.name}: {problem}")
    assert not failures, "\n".join(failures)


def _check(
    case: ExportCase, demo: DemoLemlist, code: int, out: bytes, err: bytes, folder: Path
) -> str | None:
    problem = _check_output(case, demo, code, out, err)
    if problem is not None:
        return problem
    # The database the run left: whole, nothing invented; after a success, the rows.
    held = read_database(folder, demo.team_user_ids[0])
    if held.problems:
        return f"the database: {'; '.join(held.problems)}"
    if not set(held.conversations) <= set(demo.conversation_ids()):
        return "the database holds conversations lemlist never sent"
    if code == 0:
        exported = [orjson.loads(line)["id"] for line in out.decode().splitlines()]
        if sorted(exported) != sorted(held.conversations):
            return f"exported {len(exported)} rows, the database holds {len(held.conversations)}"
    return None


def _check_output(
    case: ExportCase, demo: DemoLemlist, code: int, out: bytes, err: bytes
) -> str | None:
    stderr = err.decode("utf-8", "replace")
    stdout = out.decode("utf-8", "replace")
    if KEY in stdout or KEY in stderr:
        return "the API key is in the output"
    if "Traceback" in stderr:
        return f"a traceback:\n{stderr}"
    if code != case.exit_code:
        return f"exit code {code}, expected {case.exit_code}; stderr: {stderr!r}"
    inbox_requests = demo.count(path_prefix="/api/inbox")
    if case.exit_code != 0:
        lines = stderr.splitlines()
        if out or len(lines) != 1 or not one_line(lines[0]) or case.words not in lines[0]:
            return f"expected one line saying {case.words!r} and no rows: {stderr!r} / {out[:80]!r}"
        if not lines[0].startswith("lemlist-tui: "):
            return f"not the CLI's own line: {lines[0]!r}"
        if inbox_requests > case.most_requests:
            return f"{inbox_requests} inbox requests: retries are not bounded"
        return None
    rows = [orjson.loads(line) for line in stdout.splitlines()]
    ids = [row["id"] for row in rows]
    if stderr.strip():
        return f"something on stderr: {stderr!r}"
    if len(ids) != len(set(ids)) or not set(ids) <= set(demo.conversation_ids()):
        return "rows repeated or invented"
    if not case.lie and sorted(ids) != sorted(demo.conversation_ids()):
        return f"{len(ids)} rows, expected {case.size}"
    if inbox_requests > 3 * (case.size // 100 + 3):
        return f"{inbox_requests} inbox requests for {case.size} conversations"
    return None
