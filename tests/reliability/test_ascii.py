"""``--ascii`` and ``TERM=linux``, on a real pty: none of the app's symbols, borders or
bars reach the terminal (a Linux console has no glyph for them); letters stay as they are."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from reliability_support import Terminal, child_env, terminal

from lemlist_tui.ascii import ASCII, to_ascii, wants_ascii

ARGV = [sys.executable, "-m", "lemlist_tui", "--demo", "--demo-size", "300"]
SYMBOLS = {chr(code) for code in ASCII}


def _inbox_drawn(screen: list[str]) -> bool:
    return (
        any("Reply" in line and "Quit" in line for line in screen)
        and sum("@" in line for line in screen) >= 5
    )


def _drawn(term: Terminal) -> str:
    return term.output.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("argv", "env"),
    [([*ARGV, "--ascii"], {}), (ARGV, {"TERM": "linux"})],
    ids=["--ascii", "TERM=linux"],
)
def test_no_symbol_reaches_the_terminal(
    tmp_path: Path, argv: list[str], env: dict[str, str]
) -> None:
    with terminal(argv, env=child_env(tmp_path, None, **env)) as term:
        term.wait_for(lambda s: "Whose inbox" in "\n".join(s), timeout=30)
        term.press("enter")  # the picker, then an inbox, its detail and status line
        screen = term.wait_for(_inbox_drawn, timeout=30)
        term.press("l")  # a bordered modal
        term.wait_for(lambda s: any("enter applies" in line for line in s), timeout=10)
        term.press("escape")
        term.wait_for(lambda s: not any("enter applies" in line for line in s), timeout=10)
        term.press("?")
        help_screen = term.wait_for(
            lambda s: any("first / last conversation" in line for line in s), timeout=10
        )
        drawn = _drawn(term)
    assert not SYMBOLS & set(drawn), sorted(SYMBOLS & set(drawn))
    assert help_screen[0].startswith("+---") and help_screen[1].startswith("| ")  # borders
    assert any(line.startswith("|*") or line.startswith(" *") for line in screen)  # unread
    assert any(not ch.isascii() and ch.isalpha() for ch in drawn)  # names keep their letters


def test_without_it_the_symbols_are_drawn(tmp_path: Path) -> None:
    with terminal(ARGV, env=child_env(tmp_path, None, TERM="xterm-256color")) as term:
        term.wait_for(lambda s: "Whose inbox" in "\n".join(s), timeout=30)
        term.press("enter")
        term.wait_for(_inbox_drawn, timeout=30)
        drawn = _drawn(term)
    assert "●" in drawn and "╭" in drawn  # the unread mark and the picker's round border


def test_each_symbol_becomes_one_ascii_character_of_the_same_width() -> None:
    from rich.cells import cell_len

    for code, replacement in ASCII.items():
        assert len(replacement) == 1 and replacement.isascii()
        assert cell_len(chr(code)) == 1, f"{chr(code)!r} is not one cell: the layout would move"
    assert to_ascii("╭─ João ● ↩ · …") == "+- João * < . ."
    assert wants_ascii(False, {"TERM": "linux"}) and wants_ascii(True, {})
    assert not wants_ascii(False, {"TERM": "xterm-256color"})
