"""Make untrusted text from the API safe and readable in a terminal.

Contact names, emails, subjects and HTML bodies come from strangers and are shown in a
terminal, often over SSH.  Everything here turns such text into plain printable characters:
no escape sequences (colour, clipboard writes, hyperlinks, window titles), no control or bidi
characters, no unbounded "zalgo" stacks, and never Rich markup.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from datetime import UTC, datetime, tzinfo
from html.parser import HTMLParser

from rich.cells import cell_len, split_graphemes
from rich.text import Text

__all__ = [
    "clean_block",
    "clean_line",
    "html_to_text",
    "literal",
    "local_time",
    "relative_time",
]

ELLIPSIS = "…"

# Whole escape sequences, so that their parameters do not survive as visible junk.
# Possessive quantifiers keep every alternative linear on hostile input.
_ESCAPE_SEQUENCE = re.compile(
    r"""
      (?:\x1b\[|\x9b) [\x30-\x3f]*+ [\x20-\x2f]*+ [\x40-\x7e]?      # CSI, 7- and 8-bit
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                     # OSC DCS SOS PM APC ...
      [^\x00-\x1f\x7f-\x9f]*+ (?:\x07|\x1b\\|\x9c)?               # ... string up to BEL/ST
    | \x1b [\x20-\x2f]*+ [\x30-\x7e]?                               # other ESC sequences
    """,
    re.VERBOSE,
)
_SURROGATE = re.compile("[\ud800-\udfff]")

# Invisible characters that reorder or hide text (bidi controls, zero-width spaces).  ZWJ
# (U+200D) and ZWNJ (U+200C) stay: emoji sequences and Persian need them (but see below).
# Then the ones whose width terminals and Rich disagree on: the Hangul fillers (U+3164 is
# 0 cells for Rich, 2 for tmux: the row's columns move), Khmer's inherent vowels,
# Mongolian variation selectors, the specials block's unassigned U+FFF0-U+FFF8, and the
# tag characters (U+E0000-U+E0FFF).
_INVISIBLE = (
    "\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\u115f\u1160\u3164\uffa0\u17b4\u17b5\u180b-\u180d\ufff0-\ufff8\U000e0000-\U000e0fff"
)
# Line breaks of every flavour, and the other whitespace controls.
_BREAKS = "\t\n\x0b\x0c\r\x85\u2028\u2029"
_LINE_JUNK = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f{_INVISIBLE}]")
_LINE_BREAKS = re.compile(f"[{_BREAKS}]")
_BLOCK_JUNK = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x84\x86-\x9f{_INVISIBLE}]")
_BLOCK_BREAKS = re.compile("\r\n?|[\x0c\x85\u2028\u2029]")
_MAX_MARKS = 3  # combining marks kept on one base character
_MARK_CATEGORIES = ("Mn", "Me")

# A zero-width joiner belongs between two emoji ("👩‍👩‍👧"). Anywhere else Rich counts the
# joined run ("x‍x‍x…") as one cell while a terminal draws every character, so the row
# overflows its columns; and no real sequence joins more than four emoji.
_PICTOGRAPHIC = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff"
    "\u25a0-\u27bf\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_EMOJI_END = f"{_PICTOGRAPHIC}\ufe0f\U0001f3fb-\U0001f3ff"  # an emoji, its VS16 or skin tone
_STRAY_JOINER = re.compile(f"(?<![{_EMOJI_END}])\u200d|\u200d(?![{_PICTOGRAPHIC}])")
_EMOJI = f"[{_PICTOGRAPHIC}][\ufe0f\U0001f3fb-\U0001f3ff]?"
_LONG_CHAIN = re.compile(f"(?:{_EMOJI}\u200d){{4,}}{_EMOJI}")


@functools.cache
def _excess_marks() -> re.Pattern[str]:
    """Match combining marks beyond the third in a run (built on first use: ~20 ms)."""
    ranges: list[str] = []
    start = end = -2
    # Marks live in planes 0-1 and in the variation selectors of plane 14.
    for code in (*range(0x20000), *range(0xE0100, 0xE01F0)):
        if unicodedata.category(chr(code)) in _MARK_CATEGORIES:
            if code != end + 1:
                if start >= 0:
                    ranges.append(f"{chr(start)}-{chr(end)}")
                start = code
            end = code
    ranges.append(f"{chr(start)}-{chr(end)}")
    marks = f"[{''.join(ranges)}]"
    return re.compile(f"(?<={marks}{{{_MAX_MARKS}}}){marks}++")


def _strip_escapes(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def _split_chain(match: re.Match[str]) -> str:
    emoji = match.group().split("\u200d")
    return "\u200d".join(emoji[:4]) + "".join(emoji[4:])


def _trim_marks(text: str) -> str:
    """At most three combining marks on a character; joiners only inside emoji sequences."""
    if text.isascii():
        return text
    if "\u200d" in text:
        text = _LONG_CHAIN.sub(_split_chain, _STRAY_JOINER.sub("", text))
    category = unicodedata.category
    # Unassigned code points: no terminal knows their width (U+0378 is the first one).
    if any(category(char) == "Cn" for char in text if char >= "\u0378"):
        text = "".join(char for char in text if char < "\u0378" or category(char) != "Cn")
    # Most non-ASCII text (precomposed "é", CJK) has no combining mark at all: a glance
    # per character spares the first paint the ~20-50 ms build of the full pattern.
    if not any(category(char) in _MARK_CATEGORIES for char in text if char >= "\u0300"):
        return text
    return _excess_marks().sub("", text)


def _fit_cells(text: str, max_cells: int) -> str:
    """Cut `text` to `max_cells` terminal cells on a grapheme boundary, ending in "…"."""
    if max_cells <= 0:
        return ""
    # No more than a few zero-width characters ride on each cell, so this head is enough to
    # measure; it keeps the pure-Python grapheme walk short on a 10 MB field.
    head = text[: max_cells * 8 + 8]
    if len(head) == len(text) and cell_len(text) <= max_cells:
        return text
    spans, _ = split_graphemes(head)
    width = cut = 0
    for _start, end, cells in spans:
        if width + cells > max_cells - 1:
            break
        width += cells
        cut = end
    fitted = head[:cut].rstrip() + ELLIPSIS
    while cell_len(fitted) > max_cells:  # defensive: Rich's measure disagreed with its spans
        fitted = fitted[:-2] + ELLIPSIS
    return fitted


def clean_line(value: str | None, max_cells: int | None = None) -> str:
    """Return `value` as one safe line of printable text, at most `max_cells` cells wide."""
    if value is None:
        return ""
    text = _strip_escapes(value)
    text = _LINE_BREAKS.sub(" ", text)
    text = _LINE_JUNK.sub("", text)
    text = " ".join(_trim_marks(text).split())
    return text if max_cells is None else _fit_cells(text, max_cells)


def clean_block(value: str | None, max_chars: int = 20_000) -> str:
    """Return `value` as safe multi-line text of at most `max_chars` characters."""
    if value is None or max_chars <= 0:
        return ""
    text = _strip_escapes(value)
    # Whitespace padding can be collapsed below, but not before this much has been read.
    budget = max(4 * max_chars, 65_536)
    cut = len(text) > budget
    text = _BLOCK_BREAKS.sub("\n", text[:budget]).replace("\t", "    ")
    text = _trim_marks(_BLOCK_JUNK.sub("", text))

    lines: list[str] = []
    blanks = 0
    for line in text.split("\n"):
        line = line.rstrip()
        blanks = 0 if line else blanks + 1
        if blanks <= 2 and (line or lines):
            lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    text = "\n".join(lines)

    if cut or len(text) > max_chars:
        if max_chars < 3:
            return ELLIPSIS
        text = text[: max_chars - 2].rstrip() + "\n" + ELLIPSIS
    return text


# --- HTML ---------------------------------------------------------------------------------

_MAX_HTML = 400_000  # characters of markup read, once inline images are gone
# Inline images (base64 payloads of hundreds of KB) are never shown: drop their bytes before
# anything else looks at the markup.
_DATA_URI = re.compile(r"data:[\w.+-]++/[\w.+-]++[;,][^\"'<>)]*+", re.IGNORECASE)
# Python 3.11's HTMLParser rescans the rest of the document for every "<" that does not start
# a complete tag (quadratic: 60 KB of "<a " takes 30 s).  So it is only ever shown complete
# tags: anything else starting with "<" becomes "&lt;" first.  Tags may not contain "<", which
# bounds every match attempt by the next "<" and keeps this pass linear.
_TAG = re.compile(r"""</?[A-Za-z][^\s/<>"']*+(?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>""")
_LOOSE_TAG = re.compile(r"</?[A-Za-z][^<>]*+>")  # unbalanced quotes: removed below
_DECLARATION = re.compile(r"<[!?][^<>]*+>")  # doctype, CDATA, processing instruction
_STRAY_LT = re.compile(r"<(?![A-Za-z/!?])")  # "<" that cannot start a tag: "a < b", "<3"
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_MAX_DEPTH = 10  # nesting shown by quote and list markers

_DROPPED = frozenset({"script", "style", "head", "title"})
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "footer",
        "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
        "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip


def _defuse(html: str) -> str:
    """Leave only complete tags in `html`; drop comments and declarations."""
    out: list[str] = []
    pos = 0
    while (lt := html.find("<", pos)) >= 0:
        out.append(html[pos:lt])
        if html.startswith("<!--", lt):
            end = html.find("-->", lt + 4)
            if end < 0:  # an unclosed comment hides the rest, as in a browser
                return "".join(out)
            pos = end + 3
        elif match := _TAG.match(html, lt):
            out.append(match.group())
            pos = match.end()
        elif match := _LOOSE_TAG.match(html, lt):
            out.append(match.group().replace('"', "").replace("'", ""))
            pos = match.end()
        elif match := _DECLARATION.match(html, lt):
            pos = match.end()
        else:
            out.append("&lt;")
            pos = lt + 1
    out.append(html[pos:])
    return "".join(out)


class _Enough(Exception):
    """Raised inside the parser once enough text has been collected."""


def _same_target(text: str, href: str) -> bool:
    def bare(url: str) -> str:
        url = url.lower().removeprefix("https://").removeprefix("http://")
        return url.removeprefix("www.").rstrip("/")

    return bare(text) == bare(href)


class _TextCollector(HTMLParser):
    """Turns HTML events into lines of text with quote and list markers."""

    def __init__(self, budget: int) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._parts: list[str] = []  # the line being built
        self._has_text = False  # only whitespace so far: a block boundary adds no line
        self._bullet = ""  # "• " waiting for the first text of a list item
        self._dropped: list[str] = []  # open <script>, <style>, ... whose text is skipped
        self._quotes = 0
        self._lists = 0
        self._pre = 0
        self._link: tuple[str, list[str]] | None = None  # href and text of the open <a>
        self._size = 0
        self._budget = budget

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropped.append(tag)
            return
        if tag == "body":  # an unclosed <head> or <title> must not hide the body
            self._dropped.clear()
        if self._dropped:
            return
        if tag == "br":
            self._end_line(force=True)
        elif tag in _BLOCKS:
            self._end_line()
        if tag == "blockquote":
            self._quotes += 1
        elif tag in ("ul", "ol"):
            self._lists += 1
        elif tag == "li":
            self._bullet = "  " * min(self._lists - 1, _MAX_DEPTH) + "• "
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th"):
            self._add(" ")  # cells of a row stay on one line, apart
        elif tag == "a":
            self._close_link()  # <a> does not nest: a new one closes the last, as in browsers
            href = next((value for name, value in attrs if name == "href"), None) or ""
            self._link = (href.strip()[:2000], [])

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            if tag in self._dropped:  # close it, and whatever was left open inside it
                while self._dropped.pop() != tag:
                    pass
            return
        if self._dropped:
            return
        if tag in _BLOCKS:
            self._end_line()
        if tag == "blockquote":
            self._quotes = max(self._quotes - 1, 0)
        elif tag in ("ul", "ol"):
            self._lists = max(self._lists - 1, 0)
        elif tag == "pre":
            self._pre = max(self._pre - 1, 0)
        elif tag == "a":
            self._close_link()

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._add(first)
            for line in rest:
                self._end_line(force=True)
                self._add(line)
            return
        text = _HTML_SPACE.sub(" ", data)
        if self._link is not None:
            self._link[1].append(text)
        self._add(text)

    def _add(self, text: str) -> None:
        room = self._budget - self._size
        self._size += len(text)
        if self._size > self._budget:
            text = text[:room]
        self._parts.append(text)
        self._has_text = self._has_text or bool(text.strip(" "))
        if self._size > self._budget:
            raise _Enough

    def _end_line(self, *, force: bool = False) -> None:
        if self._has_text or force:
            line = "".join(self._parts).replace("\xa0", " ")
            line = line.rstrip() if self._pre else " ".join(line.split())
            if self._has_text:
                line, self._bullet = self._bullet + line, ""
            self.lines.append(("> " * min(self._quotes, _MAX_DEPTH) + line).rstrip())
            self._size += 1 + 2 * min(self._quotes, _MAX_DEPTH)  # so <br><br>... ends too
            if self._size > self._budget:
                raise _Enough
        self._parts.clear()
        self._has_text = False

    def _close_link(self) -> None:
        if self._link is None:
            return
        href, words = self._link
        self._link = None
        label = " ".join("".join(words).split())
        # A bare link already shows its target; an image link (no label) is noise.
        web = href.lower().startswith(("http://", "https://"))
        if label and web and not _same_target(label, href):
            self._add(f" ({href})")

    def finish(self) -> str:
        with contextlib.suppress(_Enough):
            self._end_line()
        return "\n".join(self.lines)


def html_to_text(html: str | None, max_chars: int = 20_000) -> str:
    """Return readable, safe text for an email or LinkedIn HTML body.  Never raises."""
    if not html:
        return ""
    if not isinstance(html, str):
        html = str(html)
    markup = _DATA_URI.sub("data:", html)
    if len(markup) > _MAX_HTML:
        markup = markup[:_MAX_HTML]
        if (lt := markup.rfind("<")) > markup.rfind(">"):  # do not show half a tag
            markup = markup[:lt]
    markup = _defuse(_STRAY_LT.sub("&lt;", markup))
    collector = _TextCollector(budget=2 * max_chars + 1_000)
    # _Enough ends the parse early; any other failure costs the rest of the body, not a crash.
    with contextlib.suppress(Exception):
        collector.feed(markup)
        collector.close()
    return clean_block(collector.finish(), max_chars)


# --- Time -----------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _aware(when: datetime) -> datetime:
    # Timestamps are made aware at the API edge; a naive one can only be UTC from there.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def relative_time(when: datetime | None, now: datetime) -> str:
    """Return a short age for a list column: "now", "5m", "3h", "2d", "Mar 3", "Mar 2023".

    The day of the month within about six months, the year beyond."""
    if when is None:
        return "—"
    when, now = _aware(when), _aware(now)
    seconds = (now - when).total_seconds()
    if seconds < 60:  # includes the future: clock skew between us and the server
        return "now"
    if seconds < 3_600:
        return f"{int(seconds // 60)}m"
    if seconds < 86_400:
        return f"{int(seconds // 3_600)}h"
    if seconds < 7 * 86_400:
        return f"{int(seconds // 86_400)}d"
    try:
        local = when.astimezone(now.tzinfo)
    except (OverflowError, ValueError):
        local = when
    month = _MONTHS[local.month - 1]
    # "Dec 26" reads better than "Dec 2024" on Jan 5: the day for anything recent.
    return f"{month} {local.day}" if seconds < 180 * 86_400 else f"{month} {local.year}"


def local_time(when: datetime | None, tz: tzinfo | None = None) -> str:
    """Return "2024-12-03 10:12" in the local (or given) time zone."""
    if when is None:
        return "—"
    with contextlib.suppress(OverflowError, ValueError):  # year 1 or 9999 at an offset
        when = _aware(when).astimezone(tz)
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"


def literal(value: str | None, max_cells: int | None = None, style: str = "") -> Text:
    """Return `value` cleaned as a `Text` that is never parsed as Rich markup."""
    return Text(clean_line(value, max_cells), style=style)
