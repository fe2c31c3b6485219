"""An unexpected failure in every layer, on a real pty: whatever the app does about it (a
sentence in the status line, or its crash handler's one line and a report), the key is in
none of the bytes the terminal received, in no report, and no traceback is shown.

Each run: a demo lemlist on loopback that knows only our key; the app (or ``export`` /
``sync``) as a child on a pty, one layer patched to raise an error that quotes the key
(see ``reliability_fault_child.py``).
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_fixtures import running_demo
from reliability_support import Terminal, child_env, terminal

from lemlist_tui.demo import DemoConfig, DemoLemlist

KEY = "sk-crash-layers-0123456789abcdef"
CHILD = Path(__file__).with_name("reliability_fault_child.py")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, str]]:
    demo = DemoLemlist(
        DemoConfig(size=300, users=1, now=datetime(2025, 3, 14, 9, 30, tzinfo=UTC), api_keys=(KEY,))
    )
    with running_demo(demo) as base_url:
        yield base_url, demo.team_user_ids[0]


def _forms() -> list[bytes]:
    basic = base64.b64encode(f":{KEY}".encode()).decode()
    return [KEY.encode(), basic.encode(), basic.rstrip("=").encode()]


def _argv(layer: str, *args: str) -> list[str]:
    return [sys.executable, str(CHILD), layer, *args]


def _check(term: Terminal, home: Path, code: int | None) -> None:
    output = term.output
    for form in _forms():
        assert form not in output, f"the key reached the terminal: {output[-1500:]!r}"
    assert b"Traceback" not in output, output[-1500:]
    assert code in (0, 1), (code, output[-1500:])
    for report in (home / "xdg-state").rglob("crash-*.txt"):
        text = report.read_bytes()
        assert b"RuntimeError" in text
        assert not any(form in text for form in _forms())
    if code == 0:  # the app went on: it said what happened, in a sentence
        assert any("unexpected" in line and "RuntimeError" in line for line in term.seen)
    if code == 1:
        # The crash handler's own line, after the terminal was given back.
        tail = output[output.rfind(b"\x1b[?1049l") :]
        assert b"stopped on an unexpected error (RuntimeError)" in tail


# Layers met while the inbox opens: the app says it, or stops with its one line.
OPENING = ["client", "database", "sync", "session", "widget"]


@pytest.mark.parametrize("layer", OPENING)
def test_an_unexpected_error_while_opening_never_shows_the_key(
    served: tuple[str, str], tmp_path: Path, layer: str
) -> None:
    base_url, user = served
    argv = _argv(layer, "--base-url", base_url, "--user", user)
    with terminal(argv, env=child_env(tmp_path, KEY), cols=100, rows=30) as term:
        term.wait_for(
            lambda s: (
                any("unexpected" in line or "Something" in line or "stopped" in line for line in s)
                or term.process.poll() is not None
            ),
            timeout=30,
        )
        code = term.close()
    _check(term, tmp_path, code)


def test_an_unexpected_error_in_a_key_action_never_shows_the_key(
    served: tuple[str, str], tmp_path: Path
) -> None:
    base_url, user = served
    argv = _argv("screen", "--base-url", base_url, "--user", user)
    with terminal(argv, env=child_env(tmp_path, KEY), cols=100, rows=30) as term:
        term.wait_for(lambda s: any(" unread of " in line for line in s), timeout=30)
        term.press("u")  # the patched action
        term.process.wait(20)
        code = term.close()
    assert code == 1
    _check(term, tmp_path, code)


@pytest.mark.parametrize(
    ("layer", "command"),
    [
        ("export", ["export", "--user"]),
        ("sync", ["sync", "--user"]),
        ("client", ["sync", "--user"]),
    ],
)
def test_an_unexpected_error_in_a_subcommand_never_shows_the_key(
    served: tuple[str, str], tmp_path: Path, layer: str, command: list[str]
) -> None:
    base_url, user = served
    argv = _argv(layer, "--base-url", base_url, *command, user)
    with terminal(argv, env=child_env(tmp_path, KEY), cols=100, rows=30) as term:
        term.process.wait(30)
        code = term.close()
    output = term.output
    for form in _forms():
        assert form not in output, output[-1500:]
    assert b"Traceback" not in output, output[-1500:]
    assert code == 1, output[-1500:]
    assert b"unexpected error (RuntimeError)" in output, output[-1500:]
