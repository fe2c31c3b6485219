"""The command line as a person runs it: real processes, the demo API, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from lemlist_tui.demo import DemoLemlist

DEMO_SIZE = 120


def run(tmp_path: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEMLIST_", "XDG_"))} | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    if key is not None:
        env["LEMLIST_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "lemlist_tui", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def user_id() -> str:
    return DemoLemlist().team_user_ids[0]


def test_export_jsonl_from_the_demo(tmp_path: Path, user_id: str) -> None:
    result = run(tmp_path, "export", "--demo", "--demo-size", str(DEMO_SIZE), "--user", user_id)
    assert result.returncode == 0, result.stderr
    rows = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == DEMO_SIZE
    assert len({row["id"] for row in rows}) == DEMO_SIZE
    times = [row["lastActivityAt"] for row in rows]
    assert times == sorted(times, reverse=True)
    assert result.stderr == ""  # stderr is not a terminal: no progress bar


def test_export_unread_csv(tmp_path: Path, user_id: str) -> None:
    everything = run(tmp_path, "export", "--demo", "--demo-size", str(DEMO_SIZE), "--user", user_id)
    unread = run(
        tmp_path,
        "export",
        "--demo",
        "--demo-size",
        str(DEMO_SIZE),
        "--user",
        user_id,
        "--unread",
        "--format",
        "csv",
    )
    assert unread.returncode == 0, unread.stderr
    header, *lines = unread.stdout.splitlines()
    assert header.startswith("id,contactId,name,email")
    expected = sum(orjson.loads(line)["unread"] for line in everything.stdout.splitlines())
    assert 0 < len(lines) == expected < DEMO_SIZE


def test_export_unknown_user_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    result = run(tmp_path, "export", "--demo", "--user", "usr_nobody")
    assert result.returncode == 1
    assert "User not in team" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_without_a_key_exits_3(tmp_path: Path) -> None:
    result = run(tmp_path, "export", "--user", "usr_x")
    assert result.returncode == 3
    assert "LEMLIST_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_with_an_unreachable_server_exits_4(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "export",
        "--user",
        "usr_x",
        "--base-url",
        "http://127.0.0.1:9/api",
        key="secret-cli-key",
    )
    assert result.returncode == 4
    assert "Cannot reach lemlist" in result.stderr
    assert "secret-cli-key" not in result.stderr + result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "export").returncode == 2
    assert run(tmp_path, "--demo-size", "-5").returncode == 2


def test_broken_config_file_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "config" / "lemlist-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("api_key = ")
    result = run(tmp_path, "export", "--user", "usr_x")
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_clear_cache_empties_this_account_only(tmp_path: Path, user_id: str) -> None:
    assert run(tmp_path, "export", "--demo", "--demo-size", "50", "--user", user_id).returncode == 0
    cache = tmp_path / "cache" / "lemlist-tui"
    before = [p for p in cache.rglob("*") if p.is_file()]
    assert before
    result = run(tmp_path, "--demo", "--demo-size", "50", "--clear-cache")
    assert result.returncode == 0
    assert "Cleared" in result.stderr
    after = [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".lock"]
    assert len(after) < len(before)
    assert not any("inbox" in p.name for p in after)
