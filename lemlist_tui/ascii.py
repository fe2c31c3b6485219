"""``--ascii`` (and ``TERM=linux``): the app's marks, borders and bars drawn in ASCII.

The Linux console and some serial terminals have no glyph for ``●``, ``↩`` or ``╭``.
Rather than a second spelling of every widget, the driver translates what is written to
the terminal: each of the app's symbols (and Textual's box drawing, block elements and
scroll bars) becomes one ASCII character of the same width, so no layout moves. Letters
are left alone: a name with accents is the contact's name, in any mode.

No ``textual`` import at module level: the driver class is made on demand.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.driver import Driver

__all__ = ["ASCII", "ascii_driver", "to_ascii", "wants_ascii"]

_GROUPS = {
    # the app's marks
    "●•": "*",
    "✓": "v",
    "↩←◀": "<",
    "→▶": ">",
    "▼↓": "v",
    "▲↑": "^",
    "·": ".",
    "…": ".",
    "“”„": '"',
    "\u2018\u2019": "'",  # curly single quotes
    "⚠": "!",
    "≥": ">",
    "≤": "<",
    "\u2014\u2013": "-",  # em and en dashes
    "⏎": "<",
    # borders and rules (light, heavy, double, rounded), and Textual's half-block edges
    "─━═╌╍┄┅┈┉▔▁": "-",
    "│┃║╎╏┆┇┊┋▏▕▎▊▍▋▌▐": "|",
    "┌┐└┘╭╮╰╯┏┓┗┛╔╗╚╝├┤┬┴┼┣┫┳┻╋╠╣╦╩╬╞╡╤╧╪": "+",
    # scroll bars and bars: a thumb is drawn by its colour; the glyph only refines it
    "▂▃▄▅▆▇█░▒▓": "#",
}

ASCII: Mapping[int, str] = {
    ord(char): replacement for chars, replacement in _GROUPS.items() for char in chars
}
"""Each symbol drawn to one ASCII character (``str.translate`` table)."""


def to_ascii(text: str) -> str:
    return text.translate(ASCII)


def wants_ascii(flag: bool, env: Mapping[str, str] | None = None) -> bool:
    """``--ascii`` / ``ascii = true``, or a terminal known to lack the glyphs."""
    env = os.environ if env is None else env
    return flag or env.get("TERM", "") in ("linux", "vt100", "vt220")


def ascii_driver(base: type[Driver]) -> type[Driver]:
    """``base`` (the platform's driver) writing through :func:`to_ascii`."""

    class AsciiDriver(base):  # type: ignore[valid-type,misc]
        def write(self, data: str) -> None:
            super().write(data.translate(ASCII))

    AsciiDriver.__name__ = f"Ascii{base.__name__}"
    return AsciiDriver
