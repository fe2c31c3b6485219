"""Shared pieces of the reliability suite: the figures, ASGI wrappers, clients, the local
database as the next start reads it, a pty.

The folder has no ``__init__.py``: pytest puts it on ``sys.path``, so the test modules
import this by its (suite-unique) name.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
import pyte
from wcwidth import wcwidth

from bench.terminal import pump_pty, spawn_on_pty
from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.models import Conversation
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.db import DB_NAME, InboxDatabase, SortKey
from lemlist_tui.inbox import InboxView

REPO = Path(__file__).resolve().parents[2]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --- the figures the README quotes ------------------------------------------------------


@dataclass
class Figures:
    """Counts the suite reports at the end of the session (``figures.json``)."""

    faults_tried: int = 0
    faults_survived: int = 0
    hostile_tried: int = 0
    hostile_safe: int = 0
    kills_tried: int = 0
    kills_intact: int = 0
    """Kills after which the database opened as it was and held every committed page."""
    fuzz_examples: int = 0
    details: dict[str, int] = field(default_factory=dict)
    observed: dict[str, int] = field(default_factory=dict)
    """Counts that vary from run to run (timing): printed, kept out of figures.json."""

    def count(self, name: str, n: int = 1, *, varies: bool = False) -> None:
        into = self.observed if varies else self.details
        into[name] = into.get(name, 0) + n

    def as_json(self) -> dict[str, Any]:
        return {
            "faults": {"tried": self.faults_tried, "survived": self.faults_survived},
            "hostile_strings": {"tried": self.hostile_tried, "shown_safely": self.hostile_safe},
            "kills": {"tried": self.kills_tried, "database_intact": self.kills_intact},
            "fuzz": {"examples": self.fuzz_examples},
            "details": dict(sorted(self.details.items())),
        }


FIGURES = Figures()


# --- ASGI wrappers around the demo ------------------------------------------------------


class Switchboard:
    """One uvicorn server for a whole module: requests go to whatever ``target`` is now."""

    def __init__(self, target: ASGIApp | None = None) -> None:
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self.target is not None, "no demo behind the switchboard"
        await self.target(scope, receive, send)


Rule = Callable[[dict[str, str], re.Match[str], Any], Any]
"""(query, path match, decoded JSON of a 200) -> new JSON value, or raw ``bytes``."""


class Rewrite:
    """Wraps an ASGI app and rewrites the JSON of its 200 answers to matching GETs.

    The demo's :class:`Fault` answers with one fixed body; lying pagination, duplicated
    ids and padded bodies need the real answer, changed per request.
    """

    def __init__(self, app: ASGIApp, rules: Sequence[tuple[str, Rule]]) -> None:
        self.app = app
        self.rules = [(re.compile(pattern), rule) for pattern, rule in rules]
        self.rewritten = 0

    def _rule(self, scope: Scope) -> tuple[re.Match[str], Rule] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        for pattern, rule in self.rules:
            if match := pattern.fullmatch(scope["path"]):
                return match, rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._rule(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        match, rule = found
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start.get("status") == 200:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
            out = rule(query, match, orjson.loads(body))
            body = out if isinstance(out, bytes) else orjson.dumps(out)
            self.rewritten += 1
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


# --- clients ------------------------------------------------------------------------------

ATTEMPTS = 3
FAST_RETRY = RetryPolicy(attempts=ATTEMPTS, base_delay=0.005, max_delay=0.01, max_wait=3.0)
"""Bounded like the real policy, but in milliseconds: the suite must stay fast."""


def fast_limiter() -> SlidingWindowLimiter:
    # The demo runs with a 0.1 s window; a server's Retry-After: 600 holds for 0.5 s here.
    return SlidingWindowLimiter(20, 0.1, max_retry_after=0.5, max_hold=0.5)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~80 ms a client; the demo is plain HTTP anyway.
    return httpx.create_ssl_context()


class SwitchTransport(httpx.AsyncBaseTransport):
    """A real socket transport that can be told to dial a closed port (connection refused)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(verify=_ssl_context())
        self.refuse_port: int | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse_port is not None:
            request.url = request.url.copy_with(port=self.refuse_port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def fast_client(
    api_key: str,
    base_url: str,
    *,
    timeout: float = 2.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LemlistClient:
    return LemlistClient(
        api_key,
        base_url=base_url,
        timeout=timeout,
        transport=transport,
        limiter=fast_limiter(),
        retry=FAST_RETRY,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def one_line(message: str) -> bool:
    """A message a person can read on one status line: no traceback, no control."""
    return (
        bool(message.strip())
        and "\n" not in message
        and "\r" not in message
        and "Traceback" not in message
        and len(message) <= 300
        and not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in message)
    )


def child_env(tmp: Path, api_key: str | None, **extra: str) -> dict[str, str]:
    """An environment for a subprocess of the app: private XDG dirs, the key from env."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEMLIST_", "XDG_", "TEXTUAL", "PYTEST", "NO_COLOR"))
        and k != "TERM"  # the terminal's own, set by Terminal (or by a test)
    }
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
            "XDG_CONFIG_HOME": str(tmp / "xdg-config"),
            "XDG_STATE_HOME": str(tmp / "xdg-state"),
            "HOME": str(tmp / "home"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if api_key is not None:
        env["LEMLIST_API_KEY"] = api_key
    env.update(extra)
    return env


# --- the local database, as the next start reads it ---------------------------------------


def shape(conversation: Conversation, *, read_flags: bool = True) -> tuple[Any, ...]:
    """A conversation as comparable data: the read matrix in a fixed order (the database
    gives it by user id, lemlist in team order), its read flags left out if asked."""
    participants = sorted(
        (p.user_id, p.sender, p.read if read_flags else None) for p in conversation.participants
    )
    return dataclasses.replace(conversation, participants=()), tuple(participants)


async def server_inbox(
    base_url: str,
    api_key: str,
    user_id: str,
    *,
    page_size: int = 100,
    app: ASGIApp | None = None,
) -> dict[str, Conversation]:
    """Every conversation of ``user_id`` as the server's pages give it now, by id (asked
    in-process when given the server's ``app``: no socket, the same answers)."""
    held: dict[str, Conversation] = {}
    transport = httpx.ASGITransport(app=app) if app is not None else None
    async with fast_client(api_key, base_url, transport=transport) as client:
        number: int | None = 1
        while number is not None:
            page = await client.inbox_page(user_id, number, page_size)
            held.update((c.id, c) for c in page.conversations)
            next_page = page.pagination.next_page
            number = next_page if page.conversations and next_page else None
    return held


@dataclass
class Held:
    """What a fresh :class:`InboxDatabase` on an account's folder holds for one user."""

    conversations: dict[str, Conversation]
    counts: tuple[int, int]
    problems: list[str]
    notice: str | None


def read_database(folder: Path, user_id: str) -> Held:
    """Open ``folder``'s database as the next start does and check it is whole.

    Problems: it was moved aside (a notice, or a ``.corrupt-`` file: never wanted here),
    SQLite's integrity check fails, a row lacks its conversation (or a conversation its
    row), an id is held twice, ``counts()`` differs from a count of the rows themselves
    (brute force, twice: the conversations one by one, and SQL over the inbox table), the
    unread flag of a row disagrees with the read matrix, or the list (``InboxView``, in
    every sort) shows something else than the rows.
    """
    problems: list[str] = []
    db = InboxDatabase(folder)
    try:
        if db.notice is not None:
            problems.append(f"moved aside: {db.notice}")
        aside = sorted(p.name for p in folder.glob(f"{DB_NAME}.corrupt-*"))
        if aside:
            problems.append(f"a damaged copy was set aside: {aside}")
        connection = db.reader()
        try:
            check = connection.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                problems.append(f"integrity check: {check[:3]}")
            orphans = connection.execute(
                "SELECT (SELECT count(*) FROM inbox WHERE conversation NOT IN "
                "(SELECT local_id FROM conversations)), "
                "(SELECT count(*) FROM conversations WHERE local_id NOT IN "
                "(SELECT conversation FROM inbox)), "
                "(SELECT count(*) FROM participants WHERE conversation NOT IN "
                "(SELECT local_id FROM conversations))"
            ).fetchone()
            if any(orphans):
                problems.append(
                    f"rows without their conversation, conversations in no inbox, read flags "
                    f"of no conversation: {orphans}"
                )
            total, unread = connection.execute(
                "SELECT count(*), coalesce(sum(unread), 0) FROM inbox WHERE user_id = ?",
                (user_id,),
            ).fetchone()
            disagree = connection.execute(
                "SELECT count(*) FROM inbox AS i WHERE i.user_id = ? AND i.unread != EXISTS "
                "(SELECT 1 FROM participants AS p WHERE p.conversation = i.conversation "
                "AND p.user_id = i.user_id AND p.read = 0)",
                (user_id,),
            ).fetchone()[0]
            if disagree:
                problems.append(f"{disagree} rows whose unread flag contradicts the read matrix")
        finally:
            connection.close()
        listed = list(db.iter_conversations(user_id))
        conversations = {c.id: c for c in listed}
        if len(conversations) != len(listed):
            problems.append("an id held twice")
        counts = db.counts(user_id)
        by_hand = (len(listed), sum(c.is_unread_for(user_id) for c in listed))
        if counts != by_hand or counts != (total, unread):
            table = (total, unread)
            problems.append(f"counts() {counts}, the rows {by_hand}, the inbox table {table}")
        view = InboxView(db, user_id)
        for sort in SortKey:
            rows = view.apply("", sort=sort)
            shown = [row.id for row in rows]
            if len(rows) != len(listed) or sorted(shown) != sorted(conversations):
                problems.append(f"the list sorted by {sort.value} shows {len(shown)} rows")
        return Held(conversations, counts, problems, db.notice)
    finally:
        db.close()


# --- a real pseudo-terminal ----------------------------------------------------------------


def _pictographic(char: str) -> bool:
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2190 <= code <= 0x2BFF
        or char in "\u00a9\u00ae\u203c\u2049\u2122\u2139\u3030\u303d\u3297\u3299"
    )


def _extends(char: str) -> bool:
    """Rides on the character before it (UAX #29's Extend, SpacingMark, modifiers)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def graphemes(text: str) -> Iterator[tuple[str, int]]:
    """(cluster, cells) as a grapheme-aware terminal draws them (kitty, WezTerm, Ghostty).

    Written from UAX #29 and wcwidth, not from Rich: the suite checks Rich's measure
    against it. A joiner joins two emoji; elsewhere it is zero-width and the next
    character takes its own cell.
    """
    i, n = 0, len(text)
    while i < n:
        start, base = i, text[i]
        i += 1
        if 0x1F1E6 <= ord(base) <= 0x1F1FF and i < n and 0x1F1E6 <= ord(text[i]) <= 0x1F1FF:
            i += 1  # a flag: two regional indicators
        while i < n:
            char = text[i]
            if _extends(char):
                i += 1
            elif char == "\u200d":
                joins = _pictographic(base) and i + 1 < n and _pictographic(text[i + 1])
                i += 2 if joins else 1
            else:
                break
        cluster = text[start:i]
        flag = 0x1F1E6 <= ord(base) <= 0x1F1FF
        emoji_sequence = _pictographic(base) and len(cluster) > 1 and wcwidth(base) == 2
        wide = flag or "\ufe0f" in cluster or emoji_sequence
        yield cluster, 2 if wide else max(wcwidth(base), 0)


class GraphemeScreen(pyte.Screen):
    """pyte, drawing by grapheme cluster.

    pyte itself stops drawing a run at the first zero-width character that is not a
    combining mark (a joiner, a variation selector): any emoji would garble its row.
    """

    @property
    def display(self) -> list[str]:
        lines = []
        for y in range(self.lines):
            line, cells, x = self.buffer[y], [], 0
            while x < self.columns:
                data = line[x].data
                cells.append(data)
                x += 2 if data and next(graphemes(data))[1] == 2 else 1
            lines.append("".join(cells))
        return lines

    def draw(self, data: str) -> None:
        data = data.translate(self.g1_charset if self.charset else self.g0_charset)
        for cluster, width in graphemes(data):
            line = self.buffer[self.cursor.y]
            if width == 0:
                if self.cursor.x:
                    last = line[self.cursor.x - 1]
                    line[self.cursor.x - 1] = last._replace(data=last.data + cluster)
                continue
            if self.cursor.x == self.columns:
                if pyte.modes.DECAWM in self.mode:
                    self.dirty.add(self.cursor.y)
                    self.carriage_return()
                    self.linefeed()
                else:
                    self.cursor.x -= width
            if pyte.modes.IRM in self.mode:
                self.insert_characters(width)
            line = self.buffer[self.cursor.y]
            line[self.cursor.x] = self.cursor.attrs._replace(data=cluster)
            if width == 2 and self.cursor.x + 1 < self.columns:
                line[self.cursor.x + 1] = self.cursor.attrs._replace(data="")
            self.cursor.x = min(self.cursor.x + width, self.columns)
        self.dirty.add(self.cursor.y)


KEYS: dict[str, bytes] = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "enter": b"\r",
    "tab": b"\t",
    "escape": b"\x1b",
    "pagedown": b"\x1b[6~",
    "end": b"\x1b[F",
    "home": b"\x1b[H",
}


class Terminal:
    """One process on its own pty (``cols`` x ``rows``); every byte it writes is kept."""

    def __init__(
        self, argv: Sequence[str], *, env: Mapping[str, str], cols: int = 80, rows: int = 24
    ) -> None:

        self.cols, self.rows = cols, rows
        self.screen = GraphemeScreen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._chunks: list[bytes] = []
        self._fed = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._last_read = time.monotonic()
        full_env = dict(env)
        full_env.setdefault("TERM", "xterm-256color")  # what pyte emulates
        self.process, self.master = spawn_on_pty(argv, env=full_env, cols=cols, rows=rows, cwd=REPO)
        self.seen: set[str] = set()
        """Every screen line shown at any moment the screen was looked at."""
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _quiet_for(self, seconds: float) -> bool:
        with self._lock:
            return time.monotonic() - self._last_read >= seconds and self._fed == len(self._chunks)

    def _read(self) -> None:
        def received(data: bytes) -> bool:
            with self._lock:
                self._chunks.append(data)
                self._last_read = time.monotonic()
            return True

        pump_pty(self.master, self.process, received)
        self._closed.set()

    @property
    def output(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)

    def display(self) -> list[str]:
        with self._lock:
            pending = self._chunks[self._fed :]
            self._fed = len(self._chunks)
        for data in pending:
            self._stream.feed(data)
        lines: list[str] = self.screen.display
        self.seen.update(lines)
        return lines

    def wait_for(
        self, found: Callable[[list[str]], bool], timeout: float = 20.0, quiet: float = 0.0
    ) -> list[str]:
        """The screen once ``found(screen)`` holds (and the app has written nothing more for
        ``quiet`` seconds: a frame can arrive in pieces); AssertionError if never."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.display()
            if found(lines) and (quiet <= 0 or self._quiet_for(quiet)):
                return lines
            if time.monotonic() > deadline or (
                self._closed.is_set() and self._fed == len(self._chunks)
            ):
                raise AssertionError("the terminal never showed it:\n" + "\n".join(lines))
            time.sleep(0.01)  # polling the pty, not settling: the condition decides

    def bytes_written_in(self, seconds: float) -> int:
        """What the app writes in the next ``seconds`` without a key pressed (a measure)."""
        before = len(self.output)
        time.sleep(seconds)
        return len(self.output) - before

    def press(self, *keys: str) -> None:
        for key in keys:
            os.write(self.master, KEYS.get(key, key.encode()))

    def close(self, timeout: float = 10.0) -> int | None:
        """Quit politely (q), then by force; returns the exit code."""
        if self.process.poll() is None:
            try:
                # q alone: an escape right before it would arrive as alt+q.
                self.press("q")
                self.process.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._closed.wait(5)
        os.close(self.master)
        return self.process.returncode


@contextmanager
def terminal(
    argv: Sequence[str], *, env: Mapping[str, str], cols: int = 80, rows: int = 24
) -> Iterator[Terminal]:
    term = Terminal(argv, env=env, cols=cols, rows=rows)
    try:
        yield term
    finally:
        if term.process.poll() is None:
            os.killpg(term.process.pid, signal.SIGKILL)
            term.process.wait(5)


def app_argv(base_url: str, user_id: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lemlist_tui", "--base-url", base_url, "--user", user_id, *extra]
