"""A conversation's thread laid out for reading at a given width. No Textual here: it is
tested headless, and the reader runs it in a worker thread when a thread is big.

The layout keeps three promises to the person reading:

- a quoted line keeps its quote markers (``> > ``) on every line it wraps to, so the
  nesting stays readable;
- a URL is never cut: one wider than the screen goes on a line of its own and overflows
  (the reader scrolls sideways to it), because half a URL can be neither read nor opened;
- widths are terminal cells, as a terminal draws them (a CJK character takes two).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import NamedTuple

from rich.cells import cell_len, split_graphemes

from lemlist_tui.api.models import ThreadMessage, ThreadPage
from lemlist_tui.text import clean_block, clean_line, html_to_text, local_time

__all__ = [
    "MIN_ROOM",
    "MIN_WIDTH",
    "Line",
    "Role",
    "ThreadLayout",
    "ThreadStopped",
    "body_size",
    "is_url",
    "layout_notice",
    "layout_thread",
    "wrap_message",
]

MIN_WIDTH = 12
"""Narrower widths are laid out at this one (and the reader scrolls sideways)."""
MIN_ROOM = 20
"""Cells kept for the words of a quoted or indented line, at most half the width: markers
nested deeper than that wrap as words, rather than leave no room for the text."""
TAB_SIZE = 4
MAX_BODY_CHARS = 400_000
"""Characters of one message body laid out; the rest ends in "…"."""

RECEIVED_GLYPH = "←"
SENT_GLYPH = "→"
RULE = "─"

# One or more ">" markers, spaces allowed around them: "> ", ">> ", "> > ", "  >".
_QUOTE = re.compile(r" *>(?: *>)* ?")
_WORD = re.compile(r"([^ ]+)( *)")
# Where a URL starts inside a word ("(https://…)" and "<www.…>" are URLs too), but not
# "www." at the end of a longer word ("awww.").
_URL_START = re.compile(r"(?<![\w.])(?:https?://|www\.|mailto:)", re.IGNORECASE)


class Role(enum.Enum):
    """What a line of the layout is; the reader styles each role its own way."""

    RULE = "rule"
    RECEIVED = "received"
    SENT = "sent"
    META = "meta"
    SUBJECT = "subject"
    BODY = "body"
    QUOTE = "quote"
    MUTED = "muted"
    ERROR = "error"


class Line(NamedTuple):
    text: str
    role: Role


@dataclass(frozen=True, slots=True)
class ThreadLayout:
    lines: tuple[Line, ...]
    starts: tuple[int, ...] = ()
    """Index of each message's first line, oldest message first."""
    width: int = 0
    """Cells of the widest line: more than the width laid out for only when a URL overflows."""

    @property
    def newest(self) -> int:
        """Index of the line where the newest message starts (0 without messages)."""
        return self.starts[-1] if self.starts else 0


class ThreadStopped(Exception):
    """Raised by :func:`layout_thread` when its ``stop`` says the layout is no longer wanted."""


# --- one message --------------------------------------------------------------------------


def is_url(word: str) -> bool:
    """Whether ``word`` holds a URL (``http://``, ``https://``, ``www.``, ``mailto:``)."""
    return _URL_START.search(word) is not None


def wrap_message(text: str, width: int) -> list[str]:
    """Lay ``text`` out in lines of at most ``width`` cells (at least :data:`MIN_WIDTH`).

    Words wrap at spaces; a word wider than a line is cut, unless it is a URL, which goes
    on a line of its own, whole. A quoted line's markers, and a line's indentation, start
    each of its continuation lines. Blank lines stay; tabs become spaces.
    """
    lines: list[str] = []
    _wrap(text, max(width, MIN_WIDTH), lines)
    return lines


def _wrap(text: str, width: int, out: list[str]) -> int:
    """Add ``text``'s lines to ``out``; return the cells of the widest overflowing URL's
    line (0 when every line fits)."""
    widest = 0
    for line in text.split("\n"):
        widest = max(widest, _wrap_line(line.expandtabs(TAB_SIZE).rstrip(), width, out))
    return widest


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def _wrap_line(line: str, width: int, out: list[str]) -> int:
    # Most lines, as they are. (A line of more characters than cells, all combining marks,
    # goes the long way, and comes out the same.)
    if len(line) <= width // 2 or (len(line) <= width and _cells(line) <= width):
        out.append(line)
        return 0
    measure = _cells
    room_kept = min(MIN_ROOM, width // 2)
    quote = _QUOTE.match(line)
    prefix = quote.group() if quote is not None else ""
    if measure(prefix) > width - room_kept:
        prefix = ""
    rest = line[len(prefix) :]
    words = rest.lstrip(" ")
    indent = rest[: len(rest) - len(words)]
    lead = prefix + indent[: max(0, width - measure(prefix) - room_kept)]
    lead_cells = measure(lead)
    room = width - lead_cells

    current, used, gap, widest = lead, lead_cells, "", 0
    started = False  # whether ``current`` holds a word yet
    for match in _WORD.finditer(words):
        word, after = match.groups()
        cells = measure(word)
        if started and used + len(gap) + cells <= width:
            current, used = current + gap + word, used + len(gap) + cells
        else:
            if started:
                out.append(current)
            started = True
            if cells <= room:
                current, used = lead + word, lead_cells + cells
            elif is_url(word):
                out.append(lead + word)  # whole, overflowing: see the module's docstring
                current, used, started = lead, lead_cells, False
                widest = max(widest, lead_cells + cells)
            else:
                *full, last = _cut(word, room)
                out.extend(lead + piece for piece in full)
                current, used = lead + last, lead_cells + measure(last)
        gap = after
    if started:
        out.append(current)
    return widest


def _cut(word: str, room: int) -> list[str]:
    """``word`` in pieces of at most ``room`` cells, never inside a character cluster."""
    if word.isascii():
        return [word[start : start + room] for start in range(0, len(word), room)]
    spans, _ = split_graphemes(word)
    pieces: list[str] = []
    start = used = 0
    for span_start, _end, cells in spans:
        if used + cells > room and used:
            pieces.append(word[start:span_start])
            start, used = span_start, 0
        used += cells
    pieces.append(word[start:])
    return pieces


# --- a thread -----------------------------------------------------------------------------


def body_size(thread: ThreadPage) -> int:
    """Characters of text in ``thread``: how long laying it out will take."""
    return sum(len(m.text if m.text is not None else m.html or "") for m in thread.messages)


def layout_notice(sentence: str, width: int, role: Role = Role.MUTED) -> ThreadLayout:
    """One sentence (loading, an error) laid out in place of a thread."""
    lines = tuple(Line(text, role) for text in wrap_message(clean_line(sentence), width))
    return ThreadLayout(lines, (), max(width, MIN_WIDTH))


def layout_thread(
    thread: ThreadPage,
    width: int,
    *,
    contact_name: str,
    user_name: Callable[[str], str],
    tz: tzinfo | None = None,
    stop: Callable[[], bool] | None = None,
) -> ThreadLayout:
    """Lay out ``thread`` oldest message first, each under a header: who sent it, when,
    on which channel, and its subject.

    ``contact_name`` names the contact on replies without an email; ``user_name`` a
    team member from their id. ``stop`` is asked before each message; when it says so,
    :class:`ThreadStopped` is raised.
    """
    width = max(width, MIN_WIDTH)
    messages = sorted(
        thread.messages,
        key=lambda m: m.created_at.timestamp() if m.created_at else float("-inf"),
    )
    lines: list[Line] = []
    starts: list[int] = []
    widest = width  # header lines fit; only a body's URL may overflow
    count = len(messages)
    total = thread.pagination.total_items
    if total is not None and total > count:
        older = total - count
        note = f"({older:,} older message{'s' if older != 1 else ''} not loaded)"
        lines.append(Line(note, Role.MUTED))
    if not messages:
        lines.append(Line("No messages in this conversation yet.", Role.MUTED))
    for number, message in enumerate(messages, 1):
        if stop is not None and stop():
            raise ThreadStopped
        if lines:
            lines.append(Line("", Role.BODY))
        starts.append(len(lines))
        lines.extend(_header(message, number, count, width, contact_name, user_name, tz))
        lines.append(Line("", Role.BODY))
        body = _body(message)
        if not body:
            lines.append(Line("(no text)", Role.MUTED))
        texts: list[str] = []
        widest = max(widest, _wrap(body, width, texts))
        lines.extend(Line(text, Role.QUOTE if _QUOTE.match(text) else Role.BODY) for text in texts)
    return ThreadLayout(tuple(lines), tuple(starts), widest)


def _header(
    message: ThreadMessage,
    number: int,
    count: int,
    width: int,
    contact_name: str,
    user_name: Callable[[str], str],
    tz: tzinfo | None,
) -> list[Line]:
    label = f"{RULE * 2} {number}/{count}{' · newest' if number == count else ''} "[:width]
    rule = label + RULE * (width - len(label))  # all of it one cell a character
    if message.inbound:
        sender = clean_line(message.lead_email) or clean_line(contact_name) or "the contact"
        who = Line(clean_line(f"{RECEIVED_GLYPH} from {sender}", width), Role.RECEIVED)
    else:
        sender = (
            clean_line(message.sender_name)
            or clean_line(message.sender_email)
            or (clean_line(user_name(message.sender_user_id)) if message.sender_user_id else "")
            or "your team"
        )
        who = Line(clean_line(f"{SENT_GLYPH} sent by {sender}", width), Role.SENT)
    when = local_time(message.created_at, tz) if message.created_at else "date unknown"
    meta = Line("  " + clean_line(f"{when} · {message.channel}", width - 2), Role.META)
    header = [Line(rule, Role.RULE), who, meta]
    if message.subject and (subject := clean_line(message.subject)):
        # Indented: wrap_message starts each continuation line at the same indentation.
        header.extend(Line(text, Role.SUBJECT) for text in wrap_message(f"  {subject}", width))
    return header


def _body(message: ThreadMessage) -> str:
    if message.text is None:
        return html_to_text(message.html)  # cleaned and bounded already
    # Made by html_to_text when it was stored; cleaned again, as everything from the
    # database is on its way to the screen.
    return clean_block(message.text, MAX_BODY_CHARS)
