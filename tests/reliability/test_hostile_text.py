"""Hostile text, judged by the bytes the app writes to a real pseudo-terminal.

A small ASGI app serves an inbox whose contact names, emails, subjects, senders and HTML
bodies are the corpus of ``reliability_corpus.py`` (the team comes from the demo). The
real command runs on an 80x24 pty; a person walks every conversation and scrolls through
a thread. Then:

- every escape sequence in the output is one Textual itself uses to draw (an allowlist);
- no payload of the corpus (a clipboard write, a title, a link target, a control or bidi
  character) is anywhere in the byte stream;
- markup is shown literally on the emulated screen (pyte), and every entry was shown;
- the layout held: the separator, the status line and the footer stayed on their rows.

The same corpus also goes through the text helpers directly.
"""

from __future__ import annotations

import contextlib
import json
import operator
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from demo_fixtures import running_demo
from reliability_corpus import HTML_BODIES, LINES, Hostile
from reliability_support import (
    FIGURES,
    Message,
    Receive,
    Scope,
    Send,
    app_argv,
    child_env,
    graphemes,
    terminal,
)
from rich.text import Text

from lemlist_tui.demo import DemoConfig, DemoLemlist
from lemlist_tui.text import clean_block, clean_line, html_to_text, literal

KEY = "sk-hostile-e4d1a9c3b7f2"
NOW = datetime.now(UTC).replace(microsecond=0)
END = "END-OF-THREAD"
CONTACT = re.compile(r"/api/inbox/(ctc_hostile\d+)")


# --- the hostile lemlist ----------------------------------------------------------------


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _conversation(index: int, entry: Hostile, user_id: str) -> dict[str, Any]:
    contact = f"ctc_hostile{index:03d}"
    when = _iso(NOW - timedelta(minutes=index + 1))
    return {
        "_id": f"ibx_hostile{index:03d}",
        "contactId": contact,
        "teamId": "tea_hostile",
        "createdAt": when,
        "lastActivityAt": when,
        "channels": ["email", entry.text[:40]],
        "users": [{"userId": user_id, "sender": True, "read": False}],
        "haveReplies": True,
        "lastRepliedChannel": "email",
        "opportunities": [{"id": "opp_1", "type": entry.text[:60], "done": False}],
        "contact": {"_id": contact, "fullName": entry.text, "email": entry.text},
    }


def _thread(user_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    start = NOW - timedelta(days=1)
    for j, entry in enumerate(LINES):
        messages.append(
            {
                "_id": f"act_line{j:03d}",
                "type": "emailsReplied" if j % 2 else "emailsSent",
                "createdAt": _iso(start + timedelta(minutes=j)),
                "subject": entry.text,
                "message": f"<p>body of {entry.tag}</p>",
                "sendUserId": user_id,
                "sendUserName": entry.text,
                "leadEmail": entry.text,
            }
        )
    # H10 (60 KB of stray "<a ") reads as pages of text: last, so the scroll can jump over.
    bodies = sorted(HTML_BODIES, key=lambda entry: entry.tag == "H10")
    for j, entry in enumerate(bodies):
        messages.append(
            {
                "_id": f"act_html{j:03d}",
                "type": "emailsReplied",
                "createdAt": _iso(start + timedelta(hours=2, minutes=j)),
                "subject": f"{entry.tag} subject",
                "message": entry.text,
                "leadEmail": f"{entry.tag.lower()}@html.test",
            }
        )
    messages.append(
        {
            "_id": "act_end",
            "type": "emailsSent",
            "createdAt": _iso(start + timedelta(hours=5)),
            "subject": END,
            "message": "<p>the last one</p>",
        }
    )
    return messages


def _page(data: list[dict[str, Any]]) -> bytes:
    payload = {
        "data": data,
        "pagination": {
            "totalItems": len(data),
            "currentPage": 1,
            "nextPage": None,
            "previousPage": None,
            "perPage": 100,
            "totalPages": 1,
        },
    }
    # The standard library's encoder, not orjson: like JavaScript's JSON.stringify it writes
    # a lone surrogate as an escape (orjson cannot encode one at all).
    return json.dumps(payload).encode()


class HostileLemlist:
    """The demo's team and users; an inbox and threads made of the corpus."""

    def __init__(self, demo: DemoLemlist) -> None:
        self.demo = demo
        self.user_id = demo.team_user_ids[0]
        rows = [_conversation(i, entry, self.user_id) for i, entry in enumerate(LINES)]
        self.inbox = _page(rows)
        self.thread = _page(_thread(self.user_id))
        self.served: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/inbox"):
            await self.demo(scope, receive, send)
            return
        self.served.append(path)
        body = self.inbox if path.rstrip("/") == "/api/inbox" else None
        if body is None and CONTACT.fullmatch(path):
            body = self.thread
        status, body = (200, body) if body is not None else (404, b"Inbox not found")
        start: Message = {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})


# --- what may reach the terminal -----------------------------------------------------------

ESCAPE = re.compile(
    r"""
      \x1b\[ (?P<priv>[?<=>]?) (?P<params>[0-9;:]*) (?P<inter>[\x20-\x2f]*) (?P<final>[\x40-\x7e])
    | \x1b\] (?P<osc>[^\x07\x1b]*) (?:\x07|\x1b\\)
    | \x1b (?P<other>[\s\S]?)
    """,
    re.VERBOSE,
)
TEXTUAL_MODES = {"1", "7", "25", "1000", "1002", "1003", "1004", "1006", "1015", "1049", "2004"}
TEXTUAL_MODES |= {"2026", "2048"}
FORBIDDEN_CHARS = re.compile(
    "[\x00-\x09\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _allowed(match: re.Match[str]) -> bool:
    """A sequence Textual writes to draw: cursor moves, colours, its own modes."""
    if match["final"] is not None:
        priv, params, inter, final = match["priv"], match["params"], match["inter"], match["final"]
        if not priv and not inter and final in "Hm":
            return True  # cursor position, SGR
        if priv == "?" and not inter and final in "hl":
            return all(mode in TEXTUAL_MODES for mode in params.split(";"))
        if priv == "?" and inter == "$" and final == "p":
            return params in TEXTUAL_MODES  # DECRQM: asks the terminal what it supports
        return priv in "<>" and not inter and final == "u"  # kitty keyboard protocol
    if match["osc"] is not None:
        return re.fullmatch(r"22;[a-z-]+", match["osc"]) is not None  # pointer shape
    return False


def escape_problems(stream: str) -> list[str]:
    """Every escape sequence or control character that Textual would not write itself."""
    problems = [repr(m.group())[:60] for m in ESCAPE.finditer(stream) if not _allowed(m)]
    rest = ESCAPE.sub("", stream).replace("\r", "").replace("\n", "")
    problems += [
        f"{c!r} at {i}" for i, c in ((m.start(), m.group()) for m in FORBIDDEN_CHARS.finditer(rest))
    ]
    return problems


# --- unit level: the text helpers -----------------------------------------------------------


@pytest.mark.parametrize("entry", [*LINES, *HTML_BODIES], ids=lambda e: e.tag)
def test_the_text_helpers_make_every_entry_safe(entry: Hostile) -> None:
    text = entry.text
    outputs = {
        "clean_line": clean_line(text),
        "clean_line(40)": clean_line(text, 40),
        "clean_block": clean_block(text),
        "html_to_text": html_to_text(text),
        "literal": literal(text, 60).plain,
    }
    for name, out in outputs.items():
        assert "\x1b" not in out, name
        found = FORBIDDEN_CHARS.findall(
            out.replace("\n", "") if "block" in name or "html" in name else out
        )
        assert not found, (name, found)
        # An HTML body's script or style is harmless text to clean_line; only the
        # HTML reading must drop it.
        if entry in LINES or name == "html_to_text":
            for marker in entry.forbidden:
                assert marker not in out, (name, marker)
        assert not re.search("[\ud800-\udfff]", out), name
    assert "\n" not in outputs["clean_line"]
    shown = literal(text, 60)
    assert isinstance(shown, Text) and not shown.spans  # never parsed as markup
    assert entry.tag in outputs["html_to_text" if entry in HTML_BODIES else "clean_line"]


# --- end to end: the bytes on a pty -------------------------------------------------------


@pytest.fixture
def hostile_server() -> Iterator[tuple[str, HostileLemlist]]:
    demo = DemoLemlist(DemoConfig(size=0, users=1, api_keys=(KEY,), rate_window=0.5))
    app = HostileLemlist(demo)
    with running_demo(app) as base_url:  # type: ignore[arg-type]
        yield base_url, app


def _separator(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if line.strip() and set(line.strip()) == {"▔"}:
            return index
    return None


def _titled(tag: str, lines: list[str]) -> bool:
    """The detail pane's title (the row under the separator) shows ``tag``."""
    separator = _separator(lines)
    return separator is not None and separator + 1 < len(lines) and tag in lines[separator + 1]


def _layout_problem(lines: list[str]) -> str | None:
    """The inbox's rows: list, separator, detail, then the status line and the footer."""
    if len(lines) != 24:
        return "the screen is not 24 rows"
    separator = _separator(lines)
    if separator is None or not 8 <= separator <= 14:
        return f"the separator moved (row {separator})"
    if " · " not in lines[22] or "unread" not in lines[22]:
        return f"the status line left row 22: {lines[22]!r}"
    if "Filter" not in lines[23] and "Quit" not in lines[23]:
        return f"the footer left row 23: {lines[23]!r}"
    # Each list row is one conversation in its columns: a row drawn wider than the app
    # measured it pushes its columns right (off the edge) or leaves stale cells behind.
    columns = set()
    for row in lines[:separator]:
        if not re.search(r"Q\d\d", row):
            continue
        if row.count("mail·") != 1 or row.count("↩") != 1:
            return f"a list row is garbled: {row!r}"
        columns.add(sum(cells for _, cells in graphemes(row[: row.index("mail·")])))
    if len(columns) > 1:
        return f"the list's columns are not aligned (at cells {sorted(columns)})"
    return None


def test_hostile_text_never_reaches_the_terminal(
    hostile_server: tuple[str, HostileLemlist], tmp_path: Path
) -> None:
    base_url, server = hostile_server
    entries = [*LINES, *HTML_BODIES]
    FIGURES.hostile_tried += len(entries)
    env = child_env(tmp_path, KEY)
    layout: list[str] = []

    with terminal(app_argv(base_url, server.user_id), env=env) as term:

        def shows(found: Callable[[list[str]], bool], timeout: float = 20) -> list[str]:
            """The screen once ``found`` holds and the layout is whole (frames arrive in
            pieces: a half-drawn one is not a broken layout, one that stays so is)."""
            try:
                return term.wait_for(
                    lambda s: found(s) and _layout_problem(s) is None, timeout, quiet=0.05
                )
            except AssertionError:
                lines = term.display()
                problem = _layout_problem(lines) or "never shown"
                layout.append(problem + "\n" + "\n".join(lines))
                raise

        # First paint: the list, the detail of the first conversation.
        lines = shows(lambda s: "Q01" in "".join(s[:11]))
        # Idle, it draws nothing (over SSH every frame is bandwidth; animating a hidden
        # widget cost 80 KB/s and a third of a core).
        with contextlib.suppress(AssertionError):  # the thread arrives just after
            term.wait_for(lambda s: True, timeout=5, quiet=0.3)
        idle = term.bytes_written_in(1.0)
        # Every conversation in turn: its name and email in the list and in the detail.
        for entry in LINES[1:]:
            term.press("down")
            lines = shows(partial(_titled, entry.tag))
        # The thread: open it and page down to its end.
        term.press("home", "tab")  # the detail pane (enter opens the reader)
        lines = shows(partial(_titled, "Q01"))
        for _ in range(100):
            if any(END in line for line in term.seen):
                break
            term.press("end" if any("H10 tags" in line for line in term.seen) else "pagedown")
            try:
                lines = shows(partial(operator.ne, lines), timeout=3)
            except AssertionError:
                if layout and not layout[-1].startswith("never shown"):
                    raise
                layout.clear()
                break  # the end: pagedown changes nothing more
        code = term.close()
        output = term.output

    assert idle < 2048, f"{idle} bytes drawn in an idle second"
    # What the pty saw: valid UTF-8, only Textual's own sequences, no payload, no key.
    assert code == 0
    stream = output.decode("utf-8")  # strict: a raw C1 byte would not decode
    problems = escape_problems(stream)
    assert not problems, problems[:20]
    assert KEY not in stream
    FIGURES.count("secrets: pty sessions without the key")
    assert not layout, layout[0]
    seen = "\n".join(sorted(term.seen))
    assert any(END in line for line in term.seen), "the thread's end was never shown"

    unsafe: list[str] = []
    for entry in entries:
        leaked = [marker for marker in entry.forbidden if marker in stream]
        missing = [text for text in (entry.tag, *entry.shown) if text not in seen]
        if leaked or missing:
            unsafe.append(f"{entry.tag}: leaked {leaked!r}, never shown {missing!r}")
        else:
            FIGURES.hostile_safe += 1
    assert not unsafe, "\n".join(unsafe)
    assert any(p.startswith("/api/inbox/ctc_hostile") for p in server.served)
