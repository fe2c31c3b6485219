"""The API key stays secret: not on disk, not in logs, errors, output, screens or ``ps``.

On disk means the database file and its ``-wal`` and ``-shm`` companions, read as raw
bytes while the database is open (the WAL holds the recent pages) and again once it is
closed. Also: a config file holding a key that others can read gets a warning (as ssh
does), and two keys on one machine never see each other's database: one folder each,
private (0700, its files 0600).
"""

from __future__ import annotations

import base64
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from demo_fixtures import running_demo
from reliability_support import (
    FIGURES,
    REPO,
    app_argv,
    child_env,
    closed_port,
    fast_client,
    terminal,
)

from lemlist_tui.api.client import account_fingerprint
from lemlist_tui.api.errors import LemlistError
from lemlist_tui.db import DB_NAME, InboxDatabase
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.demo import DemoConfig, DemoLemlist, Fault
from lemlist_tui.sync import InboxSync
from lemlist_tui.sync.sender import OutboxSender

KEY = "sk-secret-7Hq2Lw9Xv4Rz8Kp3"
OTHER_KEY = "sk-other-1Mn5Bc6Vd0Jf2Gh7"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def forms(key: str) -> list[bytes]:
    """Every way the key could be written down: raw, as Basic credentials, in part."""
    basic = base64.b64encode(f":{key}".encode())
    return [
        key.encode(),
        key.encode("utf-16-le"),
        basic,
        basic.rstrip(b"="),
        key[-12:].encode(),
        base64.b64encode(key.encode()),
    ]


def leaks(data: bytes | str, key: str = KEY) -> list[bytes]:
    blob = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return [form for form in forms(key) if form in blob]


def demo(seed: int = 1, keys: tuple[str, ...] = (KEY,), size: int = 300) -> DemoLemlist:
    return DemoLemlist(
        DemoConfig(size=size, seed=seed, users=1, rate_window=0.1, now=NOW, api_keys=keys)
    )


def run(
    argv: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "lemlist_tui", *argv],
        env=env,
        cwd=REPO,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


@pytest.fixture
def served() -> Iterator[tuple[str, DemoLemlist]]:
    app = demo()
    with running_demo(app) as base_url:
        yield base_url, app


# --- disk, logs, exceptions ----------------------------------------------------------------


async def test_not_in_the_database_the_logs_or_any_error(
    served: tuple[str, DemoLemlist], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base_url, app = served
    folder = tmp_path / "cache" / account_fingerprint(KEY, base_url)
    errors: list[LemlistError] = []
    db = InboxDatabase(folder)
    try:
        async with fast_client(KEY, base_url) as client:
            team = await client.team()
            db.save_team(team)
            db.save_labels(await client.labels())
            sync = InboxSync(client, db, team.user_ids[0])
            await sync.crawl()
            first = next(db.iter_conversations(sync.user_id))
            await sync.thread(first)
            unread = next(db.iter_conversations(sync.user_id, unread_only=True))
            assert unread.contact_id is not None
            outbox = Outbox(db)
            outbox.add([Action(Kind.READ, unread.contact_id, unread.id, sync.user_id)])
            await OutboxSender(outbox, client).drain()
            assert outbox.summary().empty
            # Servers and proxies that echo what they were sent, in every failure the
            # client knows.
            basic = base64.b64encode(f":{KEY}".encode()).decode()
            echo = f"key={KEY} Authorization: Basic {basic}"
            for fault in (
                Fault(status=400, body=echo.encode(), times=1),
                Fault(status=404, body=echo.encode(), times=1),
                Fault(status=401, body=echo.encode(), times=1),
                Fault(status=502, body=f"<html>{echo}</html>".encode(), times=None),
                Fault(status=200, body=echo.encode(), content_type="text/plain", times=None),
                Fault(status=429, body=echo.encode(), headers={"Retry-After": "900"}, times=1),
                Fault(drop=True, cut_at=10, times=None),
            ):
                app.faults[:] = [fault]
                try:
                    await sync.refresh()
                except LemlistError as error:
                    errors.append(error)
            app.faults.clear()
        # Open: the recent pages are in the WAL, not yet in the database file.
        files = _database_files(folder)
        assert folder / f"{DB_NAME}-wal" in files
    finally:
        db.close()
    closed = _database_files(folder)  # checkpointed into the one file
    assert set(closed) == {folder / DB_NAME}
    files.update({path.with_name(path.name + " (closed)"): b for path, b in closed.items()})
    async with fast_client(KEY, f"http://127.0.0.1:{closed_port()}/api") as client:
        try:
            await client.team()
        except LemlistError as error:
            errors.append(error)

    assert len(errors) == 8
    for failure in errors:
        FIGURES.count("secrets: error messages checked")
        text = f"{failure}\n{failure!r}\n{failure.args!r}\n{vars(failure)!r}"
        assert not leaks(text), (type(failure).__name__, text)
    for path, content in files.items():
        FIGURES.count("secrets: database files checked")
        assert not leaks(content), path
    logged = caplog.text + "".join(
        f"{r.getMessage()}{r.exc_text or ''}{r.args!r}" for r in caplog.records
    )
    FIGURES.count("secrets: log records checked", len(caplog.records), varies=True)
    assert caplog.records  # httpx logs at this level: the check looked at something
    assert not leaks(logged)


def _database_files(folder: Path) -> dict[Path, bytes]:
    """Every file of the account's folder, as raw bytes (the database, -wal, -shm)."""
    files = {path: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    assert folder / DB_NAME in files
    assert sum(len(content) for content in files.values()) > 100_000  # 300 conversations
    return files


# --- the command line ----------------------------------------------------------------------


def test_no_command_line_option_takes_a_key(tmp_path: Path) -> None:
    env = child_env(tmp_path, None)
    option = re.compile(r"--[\w-]*(key|token|secret|password|auth)", re.IGNORECASE)
    for argv in (["--help"], ["export", "--help"]):
        shown = run(argv, env)
        assert shown.returncode == 0
        assert not option.search(shown.stdout.decode()), shown.stdout.decode()
        assert "LEMLIST_API_KEY" in shown.stdout.decode()  # it says where the key comes from
    refused = run(["--api-key", KEY, "export", "--user", "usr_x"], env)
    assert refused.returncode == 2 and not leaks(refused.stdout)


def test_not_in_export_output_nor_in_the_running_apps_arguments(
    served: tuple[str, DemoLemlist], tmp_path: Path
) -> None:
    base_url, app = served
    user = app.team_user_ids[0]
    env = child_env(tmp_path, KEY)
    exported = run(["export", "--base-url", base_url, "--user", user, "--format", "csv"], env)
    assert exported.returncode == 0, exported.stderr
    assert len(exported.stdout.splitlines()) == 301
    assert not leaks(exported.stdout + exported.stderr)
    # The same with a failure, and with a refused key (the message names where keys live).
    app.faults.append(Fault(status=401, body=KEY.encode(), times=None))
    refused = run(["export", "--base-url", base_url, "--user", user], env)
    assert refused.returncode == 3 and not leaks(refused.stdout + refused.stderr)
    FIGURES.count("secrets: export runs checked", 2)
    app.faults.clear()

    with terminal(app_argv(base_url, user), env=env) as term:
        term.wait_for(lambda s: any(" · " in line and "unread" in line for line in s))
        pid = term.process.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert b"lemlist_tui" in cmdline  # the right process
        assert not leaks(cmdline)
        # Its environment holds the key, readable by this user only (as any env var).
        environ = Path(f"/proc/{pid}/environ")
        assert oct(environ.stat().st_mode & 0o777) == "0o400"
        term.close()
        assert not leaks(term.output)
    FIGURES.count("secrets: process arguments checked")


# --- the config file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "warned"), [(0o644, True), (0o640, True), (0o604, True), (0o600, False)]
)
def test_a_config_key_others_can_read_is_warned_about(
    mode: int, warned: bool, tmp_path: Path
) -> None:
    env = child_env(tmp_path, None)
    config = tmp_path / "xdg-config" / "lemlist-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'api_key = "{KEY}"\nbase_url = "http://127.0.0.1:{closed_port()}/api"\n')
    config.chmod(mode)
    done = run(["--clear-cache"], env)
    assert done.returncode == 0, done.stderr
    stderr = done.stderr.decode()
    warnings = [line for line in stderr.splitlines() if "warning" in line]
    if warned:
        assert len(warnings) == 1 and "chmod 600" in warnings[0] and str(config) in warnings[0]
    else:
        assert not warnings
    assert not leaks(done.stdout + done.stderr)
    FIGURES.count("secrets: config permissions checked")


# --- two keys on one machine -------------------------------------------------------------


def test_two_keys_never_see_each_others_database(tmp_path: Path) -> None:
    first, second = demo(seed=1, keys=(KEY,)), demo(seed=2, keys=(OTHER_KEY,), size=120)
    with running_demo(first) as url_a, running_demo(second) as url_b:
        user_a, user_b = first.team_user_ids[0], second.team_user_ids[0]
        # One machine, one cache folder: the first key runs with nothing of the second's.
        env_b = child_env(tmp_path, OTHER_KEY)
        before = run(["export", "--offline", "--base-url", url_b, "--user", user_a], env_b)
        assert before.returncode == 0 and before.stdout == b""
        for env, url, user in ((child_env(tmp_path, KEY), url_a, user_a), (env_b, url_b, user_b)):
            online = run(["export", "--base-url", url, "--user", user], env)
            assert online.returncode == 0, online.stderr

        def offline(env: dict[str, str], url: str, user: str) -> set[str]:
            done = run(["export", "--offline", "--base-url", url, "--user", user], env)
            assert done.returncode == 0, done.stderr
            return {orjson.loads(line)["id"] for line in done.stdout.splitlines()}

        env_a = child_env(tmp_path, KEY)
        a_sees = offline(env_a, url_a, user_a)
        b_sees = offline(env_b, url_b, user_b)
        assert a_sees == set(first.conversation_ids()) and b_sees == set(second.conversation_ids())
        # Each key asking for the other's user, or at the other's server: nothing.
        assert offline(env_b, url_b, user_a) == set()
        assert offline(env_b, url_a, user_a) == set()
        assert offline(env_a, url_b, user_b) == set()

    root = tmp_path / "xdg-cache" / "lemlist-tui"
    folder_a, folder_b = account_fingerprint(KEY, url_a), account_fingerprint(OTHER_KEY, url_b)
    # One folder per key and server, each with its own database; only the two that
    # synced hold anything, and each only its own key's conversations.
    holding: dict[str, set[str]] = {}
    for account in root.iterdir():
        assert account.is_dir() and not account.is_symlink()
        assert oct(account.stat().st_mode & 0o777) == "0o700"
        db = InboxDatabase(account)
        try:
            assert db.notice is None
            held = {c.id for user in (user_a, user_b) for c in db.iter_conversations(user)}
        finally:
            db.close()
        if held:
            holding[account.name] = held
        for path in account.iterdir():
            assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600", path
            content = path.read_bytes()
            assert not leaks(content, KEY) and not leaks(content, OTHER_KEY), path
    assert holding == {
        folder_a: set(first.conversation_ids()),
        folder_b: set(second.conversation_ids()),
    }
    FIGURES.count("secrets: two-key isolation checked")
