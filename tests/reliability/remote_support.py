"""Shared pieces of the remote tests (over SSH, in a browser): the demo's first
conversation as the app itself shows it, a port to wait for, headless Chromium.

Chromium is driven over its DevTools pipe (``--remote-debugging-pipe``: commands on its
fd 3, answers on its fd 4, each a JSON text ending in NUL), so no debugging port is
opened and no browser-automation package is needed.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import select
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from app_waits import all_done

__all__ = [
    "CHROMIUM",
    "Chromium",
    "FirstConversation",
    "chromium_missing",
    "first_conversation",
    "wait_for_port",
]

CHROMIUM = "/usr/bin/chromium"
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but loopback fails at once: the page's web font is not waited for.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

# textual-serve keeps its xterm.js Terminal in a closure, drawn on a canvas: nothing in
# the DOM holds the text. Its page stores the terminal as ``this.terminal = new
# Terminal(...)``; a setter on Object.prototype sees that assignment and keeps the object
# whose public API (``loadAddon``, ``buffer``) says it is xterm's, so the test reads the
# very buffer the renderer draws from.
_TERMINAL_HOOK = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && typeof value.loadAddon === "function" && value.buffer) {
      window.__lemlistTerminal = value;
    }
  },
});
"""
_READ_LINES = """(() => {
  const term = window.__lemlistTerminal;
  if (!term) return null;
  const buffer = term.buffer.active, lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines;
})()"""


# --- the demo, as the app shows it ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstConversation:
    name: str
    """As the list shows it (the contact's name, else the email)."""
    email: str | None


async def first_conversation(folder: Path, size: int) -> FirstConversation:
    """The conversation under the cursor when ``lemlist-tui --demo --demo-size SIZE``
    opens the first user of its picker: the app run headless (Pilot) on the same demo."""
    from lemlist_tui.app import make_app
    from lemlist_tui.config import Settings
    from lemlist_tui.screens import InboxScreen, PickerScreen

    settings = Settings(
        demo=True,
        demo_size=size,
        cache_dir=folder / "cache",
        state_path=folder / "state" / "state.json",
        config_path=folder / "config.toml",
    )
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        deadline = time.monotonic() + 30

        async def until(ready: Any) -> None:
            while not ready():
                assert time.monotonic() < deadline, f"the app never got there: {app.screen!r}"
                await pilot.pause(0.01)  # a turn of the app's loop, against a deadline

        await until(lambda: isinstance(app.screen, PickerScreen) and app.screen.shown)
        await pilot.press("enter")
        await until(
            lambda: (
                isinstance(app.screen, InboxScreen)
                and app.screen.conversation_list.highlighted is not None
                and all_done(app)
            )
        )
        assert isinstance(app.screen, InboxScreen)
        row = app.screen.conversation_list.highlighted
        assert row is not None
        await pilot.press("q")
    return FirstConversation(row.display_name, row.email)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Until something accepts on 127.0.0.1:PORT; AssertionError if ``process`` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode} before listening"
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)  # polling the port against a deadline
    raise AssertionError(f"nothing listened on port {port} within {timeout:.0f} s")


# --- headless Chromium -------------------------------------------------------------------


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists() or shutil.which("bash") is None:
        return f"{CHROMIUM} is absent (Debian: apt-get install chromium)"
    return None


class Chromium:
    """One headless Chromium with a fresh profile in ``folder``, one page."""

    def __init__(self, folder: Path, *, width: int = 1280, height: int = 800) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        commands_in, commands_out = os.pipe()
        answers_in, answers_out = os.pipe()
        # Chromium reads fd 3 and writes fd 4; bash puts the pipe ends there (dash
        # cannot name an fd above 9).
        keep = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (commands_in, answers_out)]
        script = f'exec "$0" "$@" 3<&{keep[0]} 4>&{keep[1]} {keep[0]}<&- {keep[1]}>&-'
        argv = [
            CHROMIUM,
            *HEADLESS_FLAGS,
            f"--user-data-dir={folder / 'profile'}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.log_path = folder / "chromium.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["bash", "-c", script, *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=keep,
                start_new_session=True,
            )
        for fd in (commands_in, answers_out, *keep):
            os.close(fd)
        self._out = commands_out
        self._in = answers_in
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float = 20.0,
        browser: bool = False,
    ) -> dict[str, Any]:
        """Send one DevTools command (to the page, once one is open) and return its answer."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session is not None and not browser:
            message["sessionId"] = self._session
        os.write(self._out, orjson.dumps(message) + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, _, self._buffer = self._buffer.partition(b"\0")
                answer = orjson.loads(raw)
                if answer.get("id") == self._next_id:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    result: dict[str, Any] = answer.get("result", {})
                    return result
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._in], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"Chromium did not answer {method} within {timeout:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed its pipe:\n{self.log()[-2000:]}")
            self._buffer += chunk

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self.call("Page.enable")
        self.call("Page.addScriptToEvaluateOnNewDocument", {"source": _TERMINAL_HOOK})
        navigated = self.call("Page.navigate", {"url": url})
        assert "errorText" not in navigated, navigated

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return answer["result"].get("value")

    def terminal_lines(self) -> list[str] | None:
        """The page's terminal as text, one line per row (None: no terminal yet)."""
        lines: list[str] | None = self.evaluate(_READ_LINES)
        return lines

    def wait_for_terminal(self, found: Any, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        lines: list[str] | None = None
        while time.monotonic() < deadline:
            lines = self.terminal_lines()
            if lines is not None and found(lines):
                return lines
            time.sleep(0.05)  # polling the page against a deadline
        shown = "\n".join(lines) if lines is not None else "(no terminal on the page)"
        raise AssertionError(f"the page never showed it:\n{shown}")

    def press_enter(self) -> None:
        """A real key press, into the terminal (xterm reads keys from its hidden textarea)."""
        self.evaluate("window.__lemlistTerminal.focus()")
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", "text": "\r", **key})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", **key})

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self.call("Browser.close", timeout=5, browser=True)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
