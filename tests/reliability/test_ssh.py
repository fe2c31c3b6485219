"""Over SSH, for real: a private ``sshd`` on a loopback port, ``ssh -tt`` running
``lemlist-tui --demo`` there, the client's side of the link read through a pty and pyte.

The copy key's OSC 52 sequence must cross the link: that is how ``y`` reaches the
clipboard of the machine the person sits at.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import time
from pathlib import Path

import pytest
from reliability_support import Terminal, child_env
from remote_support import first_conversation

from bench.ssh import Relay
from bench.sshd import LoopbackSshd, missing, remote_command
from lemlist_tui.demo import DEMO_API_KEY

SIZE = 300


def _remote_env(folder: Path) -> dict[str, str]:
    """The app's environment on the far side: a login shell's, plus private XDG dirs."""
    return {
        "XDG_CACHE_HOME": str(folder / "xdg-cache"),
        "XDG_CONFIG_HOME": str(folder / "xdg-config"),
        "XDG_STATE_HOME": str(folder / "xdg-state"),
        "TERM": "xterm-256color",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _wait_output(term: Terminal, wanted: bytes, start: int, timeout: float = 10.0) -> bytes:
    deadline = time.monotonic() + timeout
    while wanted not in (after := term.output[start:]):
        if time.monotonic() > deadline:
            raise AssertionError(f"never arrived: {wanted!r}; got {after[-400:]!r}")
        time.sleep(0.01)  # polling the pty against a deadline
    return after


def test_the_demo_over_ssh_draws_copies_and_quits(tmp_path: Path) -> None:
    why = missing()
    if why is not None:
        pytest.skip(why)
    expected = asyncio.run(first_conversation(tmp_path / "pilot", SIZE))
    assert expected.email, "the demo's first conversation has an email to copy"
    app = [sys.executable, "-m", "lemlist_tui", "--demo", "--demo-size", str(SIZE)]
    with LoopbackSshd(tmp_path / "sshd") as sshd:
        relay = Relay(sshd.port)  # bench.ssh's byte counter, checked against the real link
        remote = remote_command(app, _remote_env(tmp_path / "remote"))
        argv = sshd.ssh_argv(remote, port=relay.port)
        term = Terminal(argv, env=child_env(tmp_path, None), cols=120, rows=40)
        try:
            term.wait_for(lambda s: "Whose inbox" in "\n".join(s), timeout=30)
            term.press("enter")
            screen = term.wait_for(
                lambda s: (
                    any(expected.name[:20] in line for line in s)
                    and any(" unread of " in line for line in s)
                ),
                timeout=30,
            )
            before = len(term.output)
            term.press("y")
            copied = base64.b64encode(expected.email.encode()).decode()
            osc52 = f"\x1b]52;c;{copied}\a".encode()
            _wait_output(term, osc52, before)
            told = term.wait_for(lambda s: any("Copied" in line for line in s), timeout=10)
            code = term.close()  # q
        finally:
            if term.process.poll() is None:
                term.process.kill()
                term.process.wait(5)
            relay.close()
        sshd_log = sshd.log()
    # The first row, highlighted (the detail pane may show the name too).
    assert any(line.lstrip().startswith("▌") and expected.name[:20] in line for line in screen), (
        "\n".join(screen)
    )
    assert any(expected.email in line for line in told)
    assert code == 0, f"ssh exited with {code}; sshd said: {sshd_log[-500:]}"
    assert DEMO_API_KEY.encode() not in term.output
    assert b"Traceback" not in term.output
    # Encrypted, framed and MACed, the link carries more than the terminal receives.
    assert relay.down > len(term.output) > 10_000, (relay.down, len(term.output))
    assert relay.up > 0
