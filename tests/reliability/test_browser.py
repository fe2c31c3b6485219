"""In the browser: ``lemlist-tui serve --demo`` on a free loopback port, the page loaded
in headless Chromium, a key pressed in it, the inbox read back from the page's terminal
and photographed.

``LEMLIST_TUI_SAVE_SCREENSHOT=1`` also writes the photograph to
``screenshots/browser.png`` (the README's); other runs leave that file alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_support import REPO, child_env
from remote_support import Chromium, chromium_missing, first_conversation, wait_for_port

from bench.sshd import free_port
from lemlist_tui.demo import DEMO_API_KEY

SIZE = 300
SAVED = REPO / "screenshots" / "browser.png"


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", png[:16]
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The server and the app it started for the page (one process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _inbox_shown(name: str) -> object:
    def shown(lines: list[str]) -> bool:
        return (
            any(name in line for line in lines)
            and any(" unread of " in line for line in lines)
            and not any("loading" in line for line in lines)
        )

    return shown


def test_the_demo_inbox_is_drawn_in_headless_chromium(tmp_path: Path) -> None:
    why = chromium_missing()
    if why is not None:
        pytest.skip(why)
    expected = asyncio.run(first_conversation(tmp_path / "pilot", SIZE))
    port = free_port()
    argv = [sys.executable, "-m", "lemlist_tui", "serve", "--demo", "--demo-size", str(SIZE)]
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*argv, "--port", str(port)],
            env=child_env(tmp_path, None, COLUMNS="120"),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        wait_for_port(port, server)
        with Chromium(tmp_path / "chromium") as browser:
            browser.open(f"http://127.0.0.1:{port}/")
            browser.wait_for_terminal(lambda lines: any("Whose inbox" in s for s in lines))
            browser.press_enter()  # the picker's first user, as in a terminal
            lines = browser.wait_for_terminal(_inbox_shown(expected.name[:20]))
            png = browser.screenshot()
    finally:
        _stop(server)
    served = log_path.read_text(errors="replace")
    # The first row, highlighted (the detail pane may show the name too).
    assert any(line.lstrip().startswith("▌") and expected.name[:20] in line for line in lines), (
        "\n".join(lines)
    )
    assert expected.email is None or any(expected.email[:20] in line for line in lines)
    assert DEMO_API_KEY not in "\n".join(lines)
    assert f"http://127.0.0.1:{port}" in served and "Traceback" not in served, served
    width, height = _png_size(png)
    assert width >= 1000 and height >= 600, (width, height)
    # A page with nothing drawn is one colour and compresses to a few kB; the inbox, its
    # rows of text, does not.
    assert len(png) > 50_000, len(png)
    if os.environ.get("LEMLIST_TUI_SAVE_SCREENSHOT") == "1":
        SAVED.write_bytes(png)
