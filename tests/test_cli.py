"""The command line as a person runs it: real processes, the demo API, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
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


# --- the local database: sync, offline export, clearing, the old cache, a full disk --------


def account_folder(tmp_path: Path, size: int) -> Path:
    """Where the demo account of ``size`` keeps its database (as the child computes it)."""
    from lemlist_tui.config import Settings
    from lemlist_tui.session import resolve_account

    settings = Settings(demo=True, demo_size=size, cache_dir=tmp_path / "cache" / "lemlist-tui")
    return resolve_account(settings).folder


def test_sync_then_offline_export_is_the_whole_inbox(tmp_path: Path, user_id: str) -> None:
    result = run(tmp_path, "sync", "--demo", "--demo-size", "250", "--user", user_id)
    assert result.returncode == 0, result.stderr
    assert f"{user_id}: 250 conversations" in result.stderr
    offline = run(
        tmp_path, "export", "--demo", "--demo-size", "250", "--user", user_id, "--offline"
    )
    assert offline.returncode == 0
    assert len(offline.stdout.splitlines()) == 250
    assert "warning" not in offline.stderr  # whole: nothing to say
    every = run(tmp_path, "sync", "--demo", "--demo-size", "250", "--all-users")
    assert every.returncode == 0
    assert every.stderr.count(": 250 conversations") == 3  # the demo team has three users


def test_offline_export_of_nothing_says_the_inbox_is_incomplete(
    tmp_path: Path, user_id: str
) -> None:
    result = run(tmp_path, "export", "--demo", "--user", user_id, "--offline")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "may be incomplete" in result.stderr


def test_sync_usage(tmp_path: Path, user_id: str) -> None:
    both = run(tmp_path, "sync", "--demo", "--user", user_id, "--all-users")
    assert both.returncode == 2
    offline = run(tmp_path, "sync", "--demo", "--user", user_id, "--offline")
    assert offline.returncode == 2 and "drop --offline" in offline.stderr
    nobody = run(tmp_path, "sync", "--demo")
    assert nobody.returncode == 2 and "--all-users" in nobody.stderr


def test_clear_cache_refuses_a_symlinked_account_folder(tmp_path: Path) -> None:
    folder = account_folder(tmp_path, 50)
    elsewhere = tmp_path / "precious"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    folder.parent.mkdir(parents=True)
    folder.symlink_to(elsewhere, target_is_directory=True)
    result = run(tmp_path, "--demo", "--demo-size", "50", "--clear-cache")
    assert result.returncode == 1
    assert "symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert (elsewhere / "keep.txt").read_text() == "mine"
    # The database refuses it too: nothing is written through the link.
    export = run(tmp_path, "export", "--demo", "--demo-size", "50", "--user", "usr_x")
    assert export.returncode == 1
    assert "symbolic link" in export.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


def test_the_old_cache_files_are_removed(tmp_path: Path, user_id: str) -> None:
    folder = account_folder(tmp_path, 50)
    old = folder / "users" / "usr_x"
    old.mkdir(parents=True)
    (old / "inbox.json").write_bytes(b"{}")
    (folder / "team.json").write_bytes(b"{}")
    result = run(tmp_path, "export", "--demo", "--demo-size", "50", "--user", user_id)
    assert result.returncode == 0
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("inbox.sqlite3")) == []
    assert (folder / "inbox.sqlite3").is_file()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KB tmpfs (needs root and mount; skipped where the sandbox forbids it)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_disk_is_a_sentence_and_keeps_what_was_committed(
    tiny_disk: Path, user_id: str
) -> None:
    from lemlist_tui.db import InboxDatabase

    env_home = tiny_disk  # XDG_CACHE_HOME = <tiny>/cache
    result = run(env_home, "sync", "--demo", "--demo-size", "3000", "--user", user_id)
    assert result.returncode == 1
    assert "The local inbox could not be written: the disk is full." in result.stderr
    assert "Traceback" not in result.stderr
    folder = account_folder(env_home, 3000)
    db = InboxDatabase(folder)  # opens: the last committed state, whole pages
    held, _ = db.counts(user_id)
    assert 0 < held < 3000
    assert held % 100 == 0
    assert len(db.rows(user_id, limit=10_000)) == held
    db.close()


def test_account_options_count_before_and_after_the_subcommand(
    tmp_path: Path, user_id: str
) -> None:
    before = run(tmp_path, "--demo", "--demo-size", str(DEMO_SIZE), "export", "--user", user_id)
    after = run(tmp_path, "export", "--demo", "--demo-size", str(DEMO_SIZE), "--user", user_id)
    assert before.returncode == 0, before.stderr  # was: "No lemlist API key" (exit 3)
    assert before.stdout == after.stdout != ""


def test_export_to_a_full_stdout_is_a_sentence(tmp_path: Path, user_id: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEMLIST_", "XDG_"))} | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "lemlist_tui", "export", "--demo", "--user", user_id],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "lemlist-tui: Could not write the export to standard output: No space left on device."
    ]


def test_sync_sends_what_the_outbox_holds_and_read_only_sends_nothing(
    tmp_path: Path, user_id: str
) -> None:
    """Triage on a train: marked offline, sent by the next `sync` (cron)."""
    from lemlist_tui.db import InboxDatabase
    from lemlist_tui.db.outbox import Action, Kind, Outbox

    assert run(tmp_path, "sync", "--demo", "--demo-size", "50", "--user", user_id).returncode == 0
    db = InboxDatabase(account_folder(tmp_path, 50))
    try:
        rows = db.rows(user_id, unread_only=True, limit=2)
        assert len(rows) == 2
        actions = [Action(Kind.READ, db.conversation(r.id).contact_id, r.id, user_id) for r in rows]  # type: ignore[union-attr]
        assert Outbox(db).add(actions).queued == 2
        db.write(
            "written", lambda c: c.execute("UPDATE outbox SET created_at = 0")
        )  # undo time over
    finally:
        db.close()
    args = ("sync", "--demo", "--demo-size", "50", "--user", user_id)
    kept = run(tmp_path, *args, "--read-only")
    assert kept.returncode == 0
    assert "outbox: 2 to send; not sent (read-only)." in kept.stderr
    sent = run(tmp_path, *args)
    assert sent.returncode == 0, sent.stderr
    assert "outbox: 2 sent." in sent.stderr
    db = InboxDatabase(account_folder(tmp_path, 50))
    try:
        assert Outbox(db).summary().empty
    finally:
        db.close()
