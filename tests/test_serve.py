"""``lemlist-tui serve``: what it listens on, what it says when it cannot, what the app
in each browser tab is started with (the key never on its command line), and ``--help``
naming every subcommand on one line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.sshd import free_port
from lemlist_tui.__main__ import _parser
from lemlist_tui.exit_codes import ExitCode
from lemlist_tui.web import app_command, is_loopback

SECRET = "sk-serve-test-0123456789abcdef"
APP = [sys.executable, "-m", "lemlist_tui"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEMLIST_", "XDG_", "TEXTUAL", "PYTEST"))
    }
    env.update(
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        COLUMNS="80",
    )
    env.update(extra)
    return env


def _lemlist_tui(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lemlist_tui", *args],
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@contextlib.contextmanager
def _taken_port(host: str) -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_help_names_every_subcommand_on_one_line(tmp_path: Path) -> None:
    commands = next(
        action.choices
        for action in _parser()._actions
        if isinstance(action.choices, dict) and "export" in action.choices
    )
    assert {"export", "sync", "serve"} <= set(commands)
    shown = _lemlist_tui(tmp_path, "--help").stdout.splitlines()
    for name in commands:
        (at,) = [i for i, line in enumerate(shown) if line.split()[:1] == [name]]
        words = shown[at].split()
        assert len(words) > 3, f"{name} has no line of help: {shown[at]!r}"
        following = shown[at + 1]
        assert not following.startswith(" " * 8), f"{name}'s help wraps: {following!r}"


def test_only_loopback_counts_as_private() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.1.2.3"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.test"):
        assert not is_loopback(host), host


def test_a_taken_port_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    with _taken_port("127.0.0.1") as port:
        done = _lemlist_tui(tmp_path, "serve", "--demo", "--port", str(port))
    assert done.returncode == ExitCode.OTHER
    assert done.stderr.splitlines() == [
        f"lemlist-tui: Port {port} on 127.0.0.1 is already in use: choose another with --port."
    ]
    assert "Serving" not in done.stdout  # refused before textual-serve's banner


def test_another_host_is_warned_about(tmp_path: Path) -> None:
    # The port is taken, so nothing is ever served on every interface by this test.
    with _taken_port("0.0.0.0") as port:
        done = _lemlist_tui(tmp_path, "serve", "--demo", "--host", "0.0.0.0", "--port", str(port))
    warning, refusal = done.stderr.splitlines()
    assert warning == (
        f"lemlist-tui: warning: serving on 0.0.0.0: anyone who can reach port {port} "
        "gets the inbox, with no password."
    )
    assert "already in use" in refusal
    assert done.returncode == ExitCode.OTHER


def test_a_bad_port_is_usage(tmp_path: Path) -> None:
    done = _lemlist_tui(tmp_path, "serve", "--port", "70000")
    assert done.stderr.splitlines() == [
        "lemlist-tui: --port must be between 1 and 65535, not 70000."
    ]
    assert done.returncode == ExitCode.USAGE
    wrong = _lemlist_tui(tmp_path, "serve", "--port", "eighty")
    assert wrong.returncode == ExitCode.USAGE and "Traceback" not in wrong.stderr


def test_without_textual_serve_it_says_what_to_install(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['textual_serve'] = None\n"
        "from lemlist_tui.__main__ import main; main(['serve', '--demo'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == ExitCode.OTHER
    assert done.stderr.splitlines() == [
        "lemlist-tui: serve needs textual-serve: pip install 'lemlist-tui[web]'."
    ]


def test_the_app_command_is_this_python_and_the_options_only() -> None:
    command = app_command(["--demo", "--user", "usr_1 ; rm -rf /"])
    assert command.startswith(sys.executable)
    assert command.endswith("-m lemlist_tui --demo --user 'usr_1 ; rm -rf /'")


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _app_process(server: int, deadline: float) -> tuple[list[str], bytes]:
    """The app textual-serve started for a tab: its argv and its environment."""
    while time.monotonic() < deadline:
        for pid in _descendants(server):
            with contextlib.suppress(OSError):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
                if argv[:3] == APP:
                    return argv, Path(f"/proc/{pid}/environ").read_bytes()
        time.sleep(0.02)  # polling /proc against a deadline
    raise AssertionError("no app process was started for the tab")


async def _open_tab(server: subprocess.Popen[str], port: int) -> tuple[list[str], bytes, int]:
    """Connect as a browser tab does; the app's argv and environment, and the bytes of
    its first frames that came back."""
    import aiohttp

    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while True:  # until the server listens
            assert server.poll() is None, server.communicate()
            try:
                tab = await session.ws_connect(f"ws://127.0.0.1:{port}/ws?width=100&height=30")
                break
            except aiohttp.ClientConnectionError:
                assert time.monotonic() < deadline, "the server never listened"
                await asyncio.sleep(0.02)  # polling the port against a deadline
        async with tab:
            argv, environ = await asyncio.to_thread(_app_process, server.pid, deadline)
            received = 0
            while received < 1000 and time.monotonic() < deadline:
                message = await tab.receive(timeout=deadline - time.monotonic())
                if message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT):
                    received += len(message.data)
    return argv, environ, received


def test_the_key_reaches_the_tab_through_the_environment_only(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*APP, "serve", "--port", str(port), "--demo", "--demo-size", "40", "--read-only"],
        env=_env(tmp_path, LEMLIST_API_KEY=SECRET),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        argv, environ, received = asyncio.run(_open_tab(server, port))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            said, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            said, _ = server.communicate(timeout=5)
    assert argv == [*APP, "--demo", "--read-only", "--demo-size", "40"]
    assert f"LEMLIST_API_KEY={SECRET}".encode() in environ.split(b"\0")
    assert received >= 1000  # the app drew its first screen into the tab
    assert SECRET not in said and "Traceback" not in said, said
