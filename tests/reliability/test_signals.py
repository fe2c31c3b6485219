"""SIGTERM and SIGHUP close the app as ``q`` does: the terminal restored, a documented status.

``python -m lemlist_tui --demo`` runs on a real pty at 80x24 until its inbox is drawn,
then gets the signal. Every mode Textual turned on must be off again in the bytes it
writes afterwards (the alternate screen left, mouse reporting off, the cursor shown, ...),
the process must exit with 128 + the signal's number (``--help`` says so) and nothing may
print a traceback.

The SSH drop is its own case: the pty's master side closes first, so the terminal is gone
before the app hears of it, and the app's restore sequences can only fail (EIO).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest
from reliability_support import KEYS, REPO, GraphemeScreen, Terminal, child_env, terminal

from bench.terminal import spawn_on_pty
from lemlist_tui.app import SHUTDOWN_SIGNALS, make_app
from lemlist_tui.config import Settings

DEMO_SIZE = 20_000
"""Two hundred pages, about 20 s at the rate limit: the signal lands in the middle of the
background crawl that opening the inbox starts."""
ARGV = [sys.executable, "-m", "lemlist_tui", "--demo", "--demo-size", str(DEMO_SIZE)]
STATUS = {signal.SIGTERM: 143, signal.SIGHUP: 129}
"""What the ``--help`` epilog documents: 128 + the signal's number."""

# (what Textual turns on as it starts, what turns it off again), from textual's LinuxDriver.
MODES: dict[str, tuple[bytes, bytes]] = {
    "alternate screen": (b"\x1b[?1049h", b"\x1b[?1049l"),
    "mouse clicks (1000)": (b"\x1b[?1000h", b"\x1b[?1000l"),
    "mouse motion (1003)": (b"\x1b[?1003h", b"\x1b[?1003l"),
    "urxvt mouse (1015)": (b"\x1b[?1015h", b"\x1b[?1015l"),
    "SGR mouse (1006)": (b"\x1b[?1006h", b"\x1b[?1006l"),
    "bracketed paste": (b"\x1b[?2004h", b"\x1b[?2004l"),
    "focus events": (b"\x1b[?1004h", b"\x1b[?1004l"),
    "hidden cursor": (b"\x1b[?25l", b"\x1b[?25h"),
    "no line wrap": (b"\x1b[?7l", b"\x1b[?7h"),
    "kitty keyboard": (b"\x1b[>", b"\x1b[<u"),
}

# Run by the child of the SSH-drop case, through PYTHONPATH (the app is not changed):
# - the pty becomes its controlling terminal, as a login shell's is, so that closing the
#   master hangs it up and the kernel itself sends SIGHUP (and SIGCONT) as sshd's does;
# - Python's stderr goes to a file: the terminal is gone, and Textual draws on the real
#   stderr (fd 2), which must stay the pty for the hangup to reach the app's output;
# - a thread's or an unraisable exception goes to that file too: while the app runs,
#   Textual captures sys.stderr, and such a traceback would otherwise vanish.
SITECUSTOMIZE = """\
import os, sys, threading, traceback

_path = os.environ.get("LEMLIST_SIGNALS_TEST_STDERR")
if _path:
    import fcntl, termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    _err = open(_path, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
    sys.stderr = _err

    def _thread_died(args):
        _err.write(f"Exception in thread {getattr(args.thread, 'name', '?')}:\\n")
        traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback, file=_err)

    def _unraisable(u):
        _err.write(f"Exception ignored in: {u.object!r}\\n")
        traceback.print_exception(u.exc_type, u.exc_value, u.exc_traceback, file=_err)

    threading.excepthook = _thread_died
    sys.unraisablehook = _unraisable
"""


def _picker_shown(screen: list[str]) -> bool:
    return any("Whose inbox?" in line for line in screen)


def _inbox_drawn(screen: list[str]) -> bool:
    """The inbox's own footer, and rows of contacts (their email addresses)."""
    footer = any("Reply" in line and "Quit" in line for line in screen)
    return footer and sum("@" in line for line in screen) >= 5


def _assert_restored(output: bytes, after_signal: bytes) -> None:
    for mode, (on, off) in MODES.items():
        assert on in output, f"{mode}: never turned on, so the check proves nothing"
        assert off in after_signal, f"{mode}: not turned off after the signal"
        assert output.rfind(off) > output.rfind(on), f"{mode}: left on at the end"


@pytest.mark.parametrize(
    ("end", "status"),
    [("q", 0), (signal.SIGTERM, STATUS[signal.SIGTERM]), (signal.SIGHUP, STATUS[signal.SIGHUP])],
    ids=["q", "SIGTERM", "SIGHUP"],
)
def test_a_signal_closes_the_app_as_q_does(
    end: str | signal.Signals, status: int, tmp_path: Path
) -> None:
    env = child_env(tmp_path, None)
    with terminal(ARGV, env=env) as term:
        _open_an_inbox(term)
        mark = len(term.output)
        if isinstance(end, signal.Signals):
            os.kill(term.process.pid, end)
        else:
            term.press(end)
        term.process.wait(20)  # exits by itself, or TimeoutExpired fails the test
        returncode = term.close()  # the reader has then read up to EOF
    output = term.output
    assert returncode == status, output[-2000:].decode(errors="replace")
    _assert_restored(output, output[mark:])
    # The pty is its stderr too: a traceback would be in there.
    assert b"Traceback" not in output and b"Exception ignored" not in output
    _assert_committed_pages_kept(tmp_path)


def _assert_committed_pages_kept(tmp_path: Path) -> None:
    """The crawl was cut in the middle: the database opens as it is (no repair), holding
    whole pages, and knows where to resume."""
    from lemlist_tui.db import TEAM, InboxDatabase

    (folder,) = (tmp_path / "xdg-cache" / "lemlist-tui").iterdir()
    db = InboxDatabase(folder)
    try:
        assert db.notice is None
        ((user, held, _),) = db._reader.execute(
            "SELECT * FROM inbox_counts WHERE user_id != ?", (TEAM,)
        ).fetchall()
        assert 100 <= held < DEMO_SIZE and held % 100 == 0
        assert len(db.rows(user, limit=DEMO_SIZE)) == held
        state = db.sync_state(user)
        assert state is not None and not state.complete and state.next_page is not None
        assert state.next_page >= held // 100  # the frontier: pages before it are held
    finally:
        db.close()


def _open_an_inbox(term: Terminal) -> None:
    # A fresh state folder: the demo asks whose inbox first.
    term.wait_for(_picker_shown, timeout=30)
    term.press("enter")
    term.wait_for(_inbox_drawn, timeout=30)


def test_sighup_after_the_terminal_is_gone_exits_cleanly(tmp_path: Path) -> None:
    """The SSH drop: the master closes (the kernel hangs the pty up and signals SIGHUP),
    then the shell's SIGHUP arrives as a second one. The app exits with 129, at once,
    and nothing on its stderr says a thing went wrong."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    stderr = tmp_path / "stderr.txt"
    env = child_env(
        tmp_path,
        None,
        PYTHONPATH=os.pathsep.join((str(hooks), str(REPO))),
        LEMLIST_SIGNALS_TEST_STDERR=str(stderr),
    )
    process, master = _spawn_on_pty(ARGV, env)
    try:
        pty = _PtyScreen(master)
        pty.wait_for(_picker_shown)
        os.write(master, KEYS["enter"])
        # Quiet too: a frame on its way out as the terminal goes would be cut mid-write.
        pty.wait_for(_inbox_drawn, quiet=0.3)
        os.close(master)
        master = -1
        os.kill(process.pid, signal.SIGHUP)
        returncode = process.wait(20)
    finally:
        if master >= 0:
            os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
    errors = stderr.read_text()
    assert returncode == STATUS[signal.SIGHUP], errors[-2000:]
    assert "Traceback" not in errors and "Exception" not in errors, errors[-2000:]


def _spawn_on_pty(
    argv: list[str], env: dict[str, str], cols: int = 80, rows: int = 24
) -> tuple[subprocess.Popen[bytes], int]:
    """Like reliability_support.Terminal, without its reader thread: this test closes the
    master itself, and the thread would go on reading whatever takes that fd number."""
    env = {**env, "TERM": "xterm-256color"}
    return spawn_on_pty(argv, env=env, cols=cols, rows=rows, cwd=REPO)


class _PtyScreen:
    """The master side read on the test's own thread, into a screen."""

    def __init__(self, master: int, cols: int = 80, rows: int = 24) -> None:
        self.master = master
        self.screen = GraphemeScreen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)

    def wait_for(
        self, found: Callable[[list[str]], bool], timeout: float = 30.0, quiet: float = 0.0
    ) -> None:
        """Until ``found(screen)`` holds and nothing came for ``quiet`` s; fails at the
        deadline or at EOF."""
        deadline = time.monotonic() + timeout
        last_read = time.monotonic()
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.master, 1 << 16)
                except OSError:  # EIO: the child closed its side
                    data = b""
                if not data:
                    raise AssertionError("the app ended:\n" + "\n".join(self.screen.display))
                self.stream.feed(data)
                last_read = time.monotonic()
            elif found(self.screen.display) and time.monotonic() - last_read >= quiet:
                return
            if time.monotonic() > deadline:
                raise AssertionError("never shown:\n" + "\n".join(self.screen.display))


async def test_a_second_signal_is_ignored_and_the_handlers_are_given_back(
    tmp_path: Path,
) -> None:
    """In process, with real signals: the first decides the status, a second one while
    shutting down changes nothing, and the process's own handlers come back after."""
    settings = Settings(
        api_key=None,  # the no-key screen: no network, no worker
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state.json",
        config_path=tmp_path / "config.toml",
    )
    before = {signum: signal.getsignal(signum) for signum in SHUTDOWN_SIGNALS}
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        # Else the kill below would end pytest itself.
        assert all(signal.getsignal(s) is not before[s] for s in SHUTDOWN_SIGNALS)
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 10
        while app.return_code is None:
            assert time.monotonic() < deadline, "SIGTERM did not make the app exit"
            await pilot.pause()
        # No await since the check: the app is still shutting down, its handler installed.
        assert signal.getsignal(signal.SIGHUP) is not before[signal.SIGHUP]
        os.kill(os.getpid(), signal.SIGHUP)
    assert app.return_code == STATUS[signal.SIGTERM]
    assert {signum: signal.getsignal(signum) for signum in SHUTDOWN_SIGNALS} == before
