"""Leaving a problem screen exits with the status ``--help`` documents: 3 no key or key
refused, 4 unreachable or rate limited, 1 anything else; 0 after q anywhere else.

In-process with Pilot (``app.return_code``), and as a person runs it: ``python -m
lemlist_tui`` on a pseudo-terminal, q pressed once the problem is on screen.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pyte
import pytest
from support.apps import FIXED, app_settings, inbox, running
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from bench.terminal import spawn_on_pty
from lemlist_tui.api.base import account_fingerprint
from lemlist_tui.api.client import NO_RETRY, LemlistClient
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.app import make_app
from lemlist_tui.config import Settings
from lemlist_tui.db import InboxDatabase
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist, Fault
from lemlist_tui.exit_codes import ExitCode
from lemlist_tui.screens import ProblemScreen
from lemlist_tui.session import Session, resolve_account

REPO = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- in-process --------------------------------------------------------------------------


async def problem_shown(pilot: Pilot[None]) -> ProblemScreen:
    """The problem screen, once the start-up's workers are done (one of them failed)."""
    with contextlib.suppress(WorkerFailed):
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()  # the app's handling of the failure
    screen = pilot.app.screen
    assert isinstance(screen, ProblemScreen), f"expected a problem screen, not {screen!r}"
    return screen


@pytest.mark.parametrize("leave", ["q", "escape", "ctrl+q"])
async def test_no_key_exits_3(tmp_path: Path, leave: str) -> None:
    settings = app_settings(tmp_path, demo=False, api_key=None)
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await problem_shown(pilot)
        assert app.return_code is None
        await pilot.press(leave)
        assert app.return_code == ExitCode.AUTH == 3


async def test_a_refused_key_exits_3(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    refused = DemoConfig(size=10, now=FIXED, api_keys=("other",))
    app = make_app(settings, demo_config=refused, clock=lambda: FIXED)
    async with app.run_test(size=(100, 30)) as pilot:
        assert "refused the API key" in (await problem_shown(pilot)).sentence
        await pilot.press("q")
        assert app.return_code == ExitCode.AUTH


def private_session(settings: Settings, key: str, base_url: str, **options: Any) -> Session:
    """A session whose client asks once, on its own limiter: a Retry-After it hears holds
    no other test's requests (the process keeps one limiter per key otherwise)."""
    fingerprint = account_fingerprint(key, base_url)
    limiter = SlidingWindowLimiter()
    client = LemlistClient(key, base_url=base_url, retry=NO_RETRY, limiter=limiter, **options)
    return Session(settings, fingerprint, client, InboxDatabase(settings.cache_dir / fingerprint))


async def test_rate_limited_at_start_exits_4(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    demo = DemoLemlist(DemoConfig(size=10, now=FIXED))
    demo.faults.append(
        Fault(path_prefix="/api/team", status=429, headers={"Retry-After": "600"}, times=None)
    )
    transport = httpx.ASGITransport(app=demo)
    session = private_session(settings, DEMO_API_KEY, DEMO_BASE_URL, transport=transport)
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert "rate limit" in (await problem_shown(pilot)).sentence
            await pilot.press("q")
            assert app.return_code == ExitCode.NETWORK == 4
    finally:
        await session.aclose()


async def test_unreachable_at_start_exits_4(tmp_path: Path) -> None:
    key, base_url = "a-key", f"http://127.0.0.1:{closed_port()}/api"
    settings = app_settings(tmp_path, demo=False, api_key=key, base_url=base_url)
    session = private_session(settings, key, base_url)
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert "Cannot reach lemlist" in (await problem_shown(pilot)).sentence
            await pilot.press("escape")
            assert app.return_code == ExitCode.NETWORK
    finally:
        await session.aclose()


async def test_a_local_inbox_that_cannot_open_exits_1(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    config = DemoConfig(size=10, now=FIXED)
    folder = resolve_account(settings, config).folder
    folder.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere, target_is_directory=True)  # refused, never followed
    app = make_app(settings, demo_config=config, clock=lambda: FIXED)
    async with app.run_test(size=(100, 30)) as pilot:
        assert "symbolic link" in (await problem_shown(pilot)).sentence
        await pilot.press("q")
        assert app.return_code == ExitCode.OTHER == 1


async def test_q_in_the_inbox_exits_0(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=20, now=FIXED, users=1)) as (
        app,
        pilot,
        _session,
    ):
        inbox(app)
        await pilot.press("q")
        assert app.return_code == ExitCode.OK


# --- a real process on a real terminal ----------------------------------------------------


class Terminal:
    """``python -m lemlist_tui`` on a pty of 100x30, its screen read through pyte."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        cols, rows = 100, 30
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.process, self.master = spawn_on_pty(
            [sys.executable, "-m", "lemlist_tui", *args],
            env=env | {"TERM": "xterm-256color"},
            cols=cols,
            rows=rows,
            cwd=REPO,
        )
        self.ended = False

    def _read(self, timeout: float) -> None:
        """Feed pyte what the app wrote within ``timeout`` (select waits on the pty)."""
        if self.ended:
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the child closed its side
            data = b""
        if data:
            self._stream.feed(data)
        else:
            self.ended = True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, words: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while words not in self.text():
            if self.ended or time.monotonic() > deadline:
                raise AssertionError(f"never shown: {words!r}\n{self.text()}")
            self._read(0.2)

    def press(self, key: bytes) -> None:
        os.write(self.master, key)

    def exit_status(self, timeout: float = 30.0) -> int:
        """Read to the end (a full pty would block the app's last writes), then wait."""
        deadline = time.monotonic() + timeout
        while not self.ended and time.monotonic() < deadline:
            self._read(0.2)
        return self.process.wait(max(0.1, deadline - time.monotonic()))


@contextmanager
def terminal(tmp_path: Path, *args: str, key: str | None = None) -> Iterator[Terminal]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEMLIST_", "XDG_", "TEXTUAL", "PYTEST", "NO_COLOR"))
    }
    env |= {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path / "home"),
    }
    if key is not None:
        env["LEMLIST_API_KEY"] = key
    term = Terminal(list(args), env)
    try:
        yield term
    finally:
        if term.process.poll() is None:
            os.killpg(term.process.pid, signal.SIGKILL)
            term.process.wait(5)
        os.close(term.master)


def test_the_process_exits_3_after_the_no_key_screen(tmp_path: Path) -> None:
    with terminal(tmp_path) as term:
        term.wait_for("No lemlist API key yet")
        term.press(b"q")
        assert term.exit_status() == 3
    assert "Traceback" not in term.text()


def test_the_process_exits_4_when_lemlist_is_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api"
    with terminal(tmp_path, "--base-url", url, key="a-key") as term:
        term.wait_for("Cannot reach lemlist")  # after the client's bounded retries
        term.press(b"q")
        assert term.exit_status() == 4
    assert "Traceback" not in term.text()
