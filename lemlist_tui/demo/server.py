"""The demo lemlist API: a plain ASGI 3 app that answers like api.lemlist.com.

It serves the app's ``--demo`` mode in-process (through ``httpx.ASGITransport``) and the
tests and benchmarks over real sockets (through uvicorn). It enforces lemlist's rate limit
exactly, logs every request, and injects :class:`Fault`s on demand.

In ``--demo`` the event loop it runs on is the app's: whatever costs more than a fraction of a
millisecond (a big inbox page) is built in a worker thread, from a snapshot taken on the loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from lemlist_tui.demo.data import DemoData, JsonObject, js_date, label_json, to_ms
from lemlist_tui.demo.directory import ContactDirectory
from lemlist_tui.demo.drafts import (
    DRAFT_CHANNELS,
    MAX_CONTENT_BYTES,
    MAX_DRAFTS,
    DraftBook,
    DraftLimitReached,
    draft_json,
    draft_summary_json,
)
from lemlist_tui.demo.faults import Fault
from lemlist_tui.demo.labels import LabelBook, LabelExists
from lemlist_tui.demo.state import InboxState, conversation_at, page_json, thread_json

DEMO_API_KEY = "demo-key"
DEMO_BASE_URL = "http://lemlist.demo/api"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json; charset=utf-8"
_AUTH_FAILED = "The authentication you supplied is incorrect"
_MAX_SIZE = 10_000_000
_INT = re.compile(r"[+-]?\d{1,15}")


@dataclass
class DemoConfig:
    """How the demo behaves. Fields read per request (rate limit, latency, page size, v2
    users) may be changed on a running app; the others shape the data at construction."""

    size: int = 2345
    """Conversations in the inbox at start-up."""
    seed: int = 7
    users: int = 3
    """Team members; every conversation involves all of them, read flags differ per user."""
    api_keys: tuple[str, ...] = (DEMO_API_KEY,)
    rate_limit: int = 20
    """Accepted requests per sliding window, per API key."""
    rate_window: float = 2.0
    latency: float = 0.0
    """Seconds added before every answer (a WAN link); the rate limit counts at arrival."""
    now: datetime | None = None
    """Aware anchor: the newest conversation is a little older. None = clock at construction."""
    team_users_in_v2: bool = True
    """False: ``/team?version=v2`` omits ``users``, as some accounts' answers do."""
    max_page_size: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.size <= _MAX_SIZE:
            raise ValueError(f"size must be between 0 and {_MAX_SIZE:,}")
        if self.users < 1 or self.rate_limit < 1 or self.max_page_size < 1:
            raise ValueError("users, rate_limit and max_page_size must be at least 1")
        if self.rate_window <= 0 or self.latency < 0:
            raise ValueError("rate_window must be positive and latency not negative")
        if self.now is not None and self.now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    at: float
    """time.monotonic() at arrival, the instant the rate limiter counts."""
    method: str
    path: str
    query: dict[str, str]
    status: int
    key: str | None
    """The API key presented (right or wrong), None without Basic credentials."""


# -- rate limit -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_in: float
    """Seconds until the oldest accepted request leaves the window (0 when it is empty)."""


class SlidingWindow:
    """Per key, the start times of the accepted requests of the last ``window`` seconds."""

    def __init__(self) -> None:
        self._starts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # tests poke the app from another thread than uvicorn's

    def admit(self, key: str, now: float, limit: int, window: float) -> RateDecision:
        with self._lock:
            starts = self._starts.setdefault(key, deque())
            while starts and now - starts[0] >= window:
                starts.popleft()
            allowed = len(starts) < limit
            if allowed:  # refused requests do not count, or a client that waits would never get in
                starts.append(now)
            reset_in = starts[0] + window - now if starts else 0.0
            return RateDecision(allowed, limit, max(0, limit - len(starts)), reset_in)


def _rate_headers(decision: RateDecision, wall_now: float) -> dict[str, str]:
    # Rounded up, like Retry-After: a client that waits until either is never early.
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": js_date(math.ceil(wall_now + decision.reset_in)),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(max(1, math.ceil(decision.reset_in)))
    return headers


# -- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


@dataclass(eq=False)
class RequestHook:
    """A callback that :meth:`DemoLemlist.on_request` runs once; see there for when."""

    callback: Callable[[], object]
    after: int
    path: str
    exact: bool
    method: str | None
    seen: int = 0
    """Matching requests routed since registration (it stops counting once fired)."""
    fired: bool = False

    def matches(self, request: Request) -> bool:
        if self.method is not None and self.method.upper() != request.method:
            return False
        if self.exact:  # normalised as routing does: /api/inbox/ is the list route too
            return (request.path.rstrip("/") or "/") == self.path
        return request.path.startswith(self.path)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = _TEXT
    headers: dict[str, str] = field(default_factory=dict)


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), _TEXT, headers or {})


def _json(payload: object, status: int = 200) -> Response:
    return Response(status, orjson.dumps(payload), _JSON)


@dataclass(frozen=True, slots=True)
class _Later:
    """A JSON answer too costly to make on the event loop: ``build`` runs in a worker thread.

    ``build`` must read only what it was given (a snapshot), never the live inbox state.
    """

    build: Callable[[], object]


def _json_answer(build: Callable[[], object], *, costly: bool) -> Response | _Later:
    return _Later(build) if costly else _json(build())


def _encode(build: Callable[[], object]) -> bytes:
    return orjson.dumps(build())


class _ClientError(Exception):
    """A 4xx found while reading a request; its text is the answer's body."""

    def __init__(self, text: str, status: int = 400) -> None:
        super().__init__(text)
        self.text = text
        self.status = status


_NO_INBOX = "Inbox not found"
_NO_LABEL = "Label not found"
_NO_LEAD = "Lead not found"
_NO_CONTACT = "Contact not found"
_NO_DRAFT = "Draft not found"
_INTERESTED = "interested"
_NOT_INTERESTED = "notinterested"


@contextmanager
def _still_there(gone: str = _NO_INBOX) -> Iterator[None]:
    """Refuse a change to a conversation deleted since its handler found it: only a test on
    another thread than the loop's (a uvicorn server) can delete in between. ``gone`` is
    the 404's text."""
    try:
        yield
    except KeyError:
        raise _ClientError(gone, 404) from None


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        raise _ClientError("Invalid JSON body") from None
    if not isinstance(body, dict):
        raise _ClientError("Invalid JSON body")
    return body


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    """``body[name]``, a string, or None if absent or null."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise _ClientError(f"{name} must be a string")
    return value


def _required_string(body: dict[str, Any], name: str) -> str:
    value = _optional_string(body, name)
    if value is None:
        raise _ClientError(f"{name} is required")
    return value


def _optional_emails(body: dict[str, Any], name: str) -> tuple[str, ...] | None:
    """``body[name]``, a list of email addresses, or None if absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) and "@" in x for x in value):
        raise _ClientError(f"{name} must be an array of emails")
    return tuple(value)


def _send_body(request: Request, fields: Sequence[str]) -> dict[str, Any]:
    """A send route's body: every field of ``fields`` required (checked in that order),
    each a string but ``cc``, and a message with more than blanks in it."""
    body = _json_object(request)
    for name in fields:
        if name != "cc":
            _required_string(body, name)
        elif _optional_emails(body, name) is None:
            raise _ClientError("cc is required")
    if not body["message"].strip():
        raise _ClientError("message must not be empty")
    return body


def _within_size(content: str) -> str:
    """A draft's ``content``, if it is not too large."""
    if len(content.encode()) > MAX_CONTENT_BYTES:
        raise _ClientError(f"content is too large (max {MAX_CONTENT_BYTES // 1024} KB)")
    return content


_EMAIL_FIELDS = (
    "sendUserId",
    "sendUserEmail",
    "sendUserMailboxId",
    "contactId",
    "leadId",
    "subject",
    "message",
    "cc",
)
_LINKEDIN_FIELDS = ("sendUserId", "leadId", "contactId", "message")
_WHATSAPP_FIELDS = ("sendUserId", "sendUserWhatsappAccountId", "contactId", "leadId", "message")


def _int_param(query: dict[str, str], name: str, default: int, minimum: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.fullmatch(raw) or (minimum is not None and int(raw) < minimum):
        qualifier = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}
        raise _ClientError(f"{name} must be {qualifier.get(minimum, 'an integer')}")
    return int(raw)


def _pagination(total: int, page: int, per_page: int) -> JsonObject:
    pages = math.ceil(total / per_page)
    return {
        "totalItems": total,
        "currentPage": page,
        "nextPage": page + 1 if page < pages else None,
        "previousPage": page - 1 if page > 1 else None,
        "perPage": per_page,
        "totalPages": pages,
    }


def _api_key(headers: Sequence[tuple[bytes, bytes]]) -> tuple[str | None, bool]:
    """The password of Basic credentials, and whether the login was empty as lemlist wants."""
    for name, value in headers:
        if name.lower() != b"authorization":
            continue
        scheme, _, encoded = value.decode("latin-1").partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        login, colon, password = decoded.partition(":")
        if not colon:
            return None, False
        return password, login == ""
    return None, False


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # http.disconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


Handler = Callable[[Request, tuple[str, ...]], Response | _Later]
"""Runs on the event loop, whole: validation, state changes and snapshots are atomic there."""

_INLINE_CONVERSATIONS = 10
"""Pages of up to this many conversations (well under a millisecond) are built on the loop."""


class DemoLemlist:
    """The demo lemlist API as an ASGI 3 app: ``await app(scope, receive, send)``.

    Routes, under ``/api``: ``GET /team``, ``GET /users/{userId}``, ``GET /inbox``,
    ``GET /inbox/{contactId}`` (the thread), ``GET|POST /inbox/labels``,
    ``GET /inbox/labels/{labelId}``, ``POST|DELETE /inbox/conversations/labels/{contactId}``,
    ``POST /inbox/email``, ``POST /inbox/linkedin``, ``POST /inbox/whatsapp`` (replies),
    ``GET|POST /inbox/{contactId}/drafts``,
    ``GET|PATCH|DELETE /inbox/{contactId}/drafts/{draftId}``,
    ``POST /leads/interested/{leadIdOrEmail}``, ``POST /leads/notinterested/{leadIdOrEmail}``
    and ``GET /contacts/{contactIdOrEmail}``.

    Where lemlist's documents are silent, the demo chooses: label names are unique without
    regard to case or surrounding blanks; a lead named by its email is every lead with that
    email (the interest routes mark them all, "in all campaigns", and answer the first
    lead); a contact named by its email is the first conversation's with that email.
    A reply may go out on any of the three channels, whatever the thread's; it is checked
    in this order: its body's fields (required, typed, a message not blank), the sender
    and their mailbox or WhatsApp account, the contact, the lead. A draft owner's email is
    compared without case; drafts are listed newest created first; ``PATCH`` needs one of
    ``content``, ``subject``, ``cc``; ``replyToActivityId`` and ``attachments`` are kept
    unchecked.
    """

    def __init__(self, config: DemoConfig | None = None) -> None:
        self.config = config if config is not None else DemoConfig()
        anchor = self.config.now if self.config.now is not None else datetime.now(UTC)
        self._anchor_ms = to_ms(anchor)
        self._started = time.monotonic()
        self._data = DemoData(
            seed=self.config.seed, users=self.config.users, anchor_ms=self._anchor_ms
        )
        self._state = InboxState(self._data, self.config.size)
        self._label_book = LabelBook(self._data)
        self._directory = ContactDirectory(self._data)
        self._drafts = DraftBook(self._data.seed)
        self._sent: dict[int, list[JsonObject]] = {}
        self._sent_lock = threading.Lock()  # tests read it from their own thread
        self._limiter = SlidingWindow()
        self.faults: list[Fault] = []
        self.log: list[RequestRecord] = []
        self.team_user_ids: list[str] = [m.id for m in self._data.members]
        self._users = {m.id: k for k, m in enumerate(self._data.members)}
        self._user_emails = {m.email.casefold(): k for k, m in enumerate(self._data.members)}
        self._last_answer: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None
        self._hooks: list[RequestHook] = []
        self._hooks_lock = threading.Lock()  # tests register from their own thread
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"/api/team"), {"GET": self._team}),
            (re.compile(r"/api/users/([^/]+)"), {"GET": self._user}),
            (re.compile(r"/api/inbox"), {"GET": self._inbox}),
            (re.compile(r"/api/inbox/labels"), {"GET": self._labels, "POST": self._create_label}),
            (re.compile(r"/api/inbox/labels/([^/]+)"), {"GET": self._label}),
            (
                re.compile(r"/api/inbox/conversations/labels/([^/]+)"),
                {"POST": self._attach_labels, "DELETE": self._detach_labels},
            ),
            (re.compile(r"/api/inbox/email"), {"POST": self._send_email}),
            (re.compile(r"/api/inbox/linkedin"), {"POST": self._send_linkedin}),
            (re.compile(r"/api/inbox/whatsapp"), {"POST": self._send_whatsapp}),
            (
                re.compile(r"/api/inbox/([^/]+)/drafts"),
                {"GET": self._list_drafts, "POST": self._create_draft},
            ),
            (
                re.compile(r"/api/inbox/([^/]+)/drafts/([^/]+)"),
                {"GET": self._get_draft, "PATCH": self._update_draft, "DELETE": self._delete_draft},
            ),
            # After every /api/inbox/{labels,email,linkedin,whatsapp} route: fullmatch in this
            # order decides, so GET /api/inbox/email is that route's 405, not a thread.
            (re.compile(r"/api/inbox/([^/]+)"), {"GET": self._thread}),
            (re.compile(r"/api/leads/interested/([^/]+)"), {"POST": self._interested}),
            (re.compile(r"/api/leads/notinterested/([^/]+)"), {"POST": self._not_interested}),
            (re.compile(r"/api/contacts/([^/]+)"), {"GET": self._get_contact}),
        ]

    # -- inspection and control, for tests and the demo itself --------------------------------

    def max_in_window(
        self, window: float | None = None, *, accepted_only: bool = True, key: str | None = None
    ) -> int:
        """The most requests (not answered 429, if ``accepted_only``) that started within any
        ``window`` seconds (default: the rate window); ``key`` restricts to one API key."""
        span = self.config.rate_window if window is None else window
        starts = sorted(
            r.at
            for r in list(self.log)
            if (not accepted_only or r.status != 429) and (key is None or r.key == key)
        )
        best = first = 0
        for last, at in enumerate(starts):
            while at - starts[first] >= span:
                first += 1
            best = max(best, last - first + 1)
        return best

    def count(self, status: int | None = None, path_prefix: str = "") -> int:
        return sum(
            1
            for r in list(self.log)
            if (status is None or r.status == status) and r.path.startswith(path_prefix)
        )

    def conversation_ids(self) -> list[str]:
        """Every conversation id in inbox order, newest first."""
        encode = self._data.conversation_ids.encode
        return [encode(index) for index in self._state.order(0, self._state.total)]

    def add_conversations(self, k: int) -> list[str]:
        """``k`` brand-new conversations on top, unread for everyone; ids newest first."""
        made = self._state.add(k, self._now_ms())
        return [self._data.conversation_ids.encode(index) for index in made]

    def touch(self, conversation_id: str) -> None:
        """A new inbound message: newest activity, unread for everyone, moved to the top."""
        self._state.touch(self._conversation_index(conversation_id), self._now_ms())

    def delete_conversations(self, conversation_ids: Iterable[str]) -> None:
        """Delete conversations, as a user deleting them in lemlist: from the next request on,
        pages skip them (later ones shift up), ``totalItems`` drops, and their contacts'
        threads and label routes answer 404 ``Inbox not found``.

        All or nothing: KeyError, and nothing deleted, if an id is unknown or already
        deleted; an id repeated in ``conversation_ids`` is deleted once.
        """
        if isinstance(conversation_ids, str):  # one id would iterate as its characters
            raise TypeError("conversation_ids must be an iterable of ids, not one id")
        self._state.delete([self._conversation_index(c) for c in conversation_ids])

    def delete_newest(self, k: int) -> list[str]:
        """Delete the ``k`` newest conversations (every one if fewer), atomically; their ids,
        newest first."""
        if k < 0:
            raise ValueError("k must not be negative")
        encode = self._data.conversation_ids.encode
        return [encode(index) for index in self._state.delete_newest(k)]

    def on_request(
        self,
        callback: Callable[[], object],
        *,
        after: int = 1,
        path: str = "/api/inbox",
        exact: bool = False,
        method: str | None = None,
    ) -> RequestHook:
        """Run ``callback`` once, right after the ``after``-th matching request is routed:
        to change the inbox in the middle of a crawl, at a precise point, without sleeping.

        Counted: matching requests that reach routing after registration, i.e. let in by
        the rate limiter (not 429), authenticated (not 401) and not answered by a
        :class:`Fault`'s ``status`` (a fault that only delays, cuts or drops still routes, so
        it counts); a 4xx the route itself answers (400, 404) counts.

        Matching: ``path`` is a prefix of the request path (the default, ``/api/inbox``, also
        matches threads ``/api/inbox/{contactId}`` and the label routes), or with
        ``exact=True`` the whole path, trailing ``/`` ignored (``path="/api/inbox",
        exact=True``: the inbox list only); and ``method`` if given.

        When: on the server's event loop, synchronously after the n-th request's answer
        was made or snapshotted, before any other request is routed. So the n-th answer
        shows the inbox as it was, the next routed request as ``callback`` left it, even with
        requests in flight concurrently. The n-th request's :attr:`log` record is appended
        after the callback returns. An exception from ``callback`` propagates out of that
        request (``httpx.ASGITransport`` re-raises it to the caller; uvicorn answers 500);
        the hook counts as fired all the same. Returns the hook (``seen``, ``fired``).
        """
        if after < 1:
            raise ValueError("after must be at least 1")
        if exact:
            path = path.rstrip("/") or "/"
        hook = RequestHook(callback, after, path, exact, method)
        with self._hooks_lock:
            self._hooks.append(hook)
        return hook

    def is_read(self, conversation_id: str, user_id: str) -> bool:
        return self._state.is_read(self._conversation_index(conversation_id), self._users[user_id])

    def contact_id_of(self, conversation_id: str) -> str:
        return self._data.contact_ids.encode(self._conversation_index(conversation_id))

    def lead_id_of(self, conversation_id: str) -> str:
        """The ``leadId`` every activity of the conversation's thread carries."""
        return self._data.contact(self._conversation_index(conversation_id)).lead_id

    def labels_of(self, conversation_or_contact_id: str) -> set[str]:
        """The label ids on a conversation, named by its ``ibx_`` or its contact's ``ctc_``
        id; KeyError if it is not in the inbox."""
        index = self._state.find_conversation(conversation_or_contact_id)
        if index is None:
            index = self._state.find_contact(conversation_or_contact_id)
        if index is None:
            raise KeyError(conversation_or_contact_id)
        return set(self._state.labels(index))

    def sent_messages(self, conversation_or_contact_id: str) -> list[JsonObject]:
        """What the send routes sent to a conversation, named by its ``ibx_`` or its
        contact's ``ctc_`` id, oldest first: each the body as received plus ``channel``
        (``email``, ``linkedin`` or ``whatsapp``). Kept after the conversation is deleted;
        KeyError if no such conversation was ever made."""
        index = self._made_index(conversation_or_contact_id)
        with self._sent_lock:
            return [dict(body) for body in self._sent.get(index, [])]

    def drafts_of(self, contact_id: str, owner_id: str) -> list[JsonObject]:
        """The drafts ``owner_id`` (a user id or login email) keeps on ``contact_id``'s
        conversation, newest first, whole as ``GET …/drafts/{draftId}`` answers each.
        KeyError if no such conversation was ever made or the owner is not in the team."""
        index = self._made_index(contact_id)
        owner = self._member_named(owner_id)
        if owner is None:
            raise KeyError(owner_id)
        return [draft_json(draft) for draft in self._drafts.drafts(index, owner)]

    def _made_index(self, conversation_or_contact_id: str) -> int:
        """The index of a conversation ever made (deleted or not), by either id."""
        for ids in (self._data.conversation_ids, self._data.contact_ids):
            index = ids.decode(conversation_or_contact_id)
            if index is not None and index < self._state.made:
                return index
        raise KeyError(conversation_or_contact_id)

    def _member_named(self, user_id_or_email: str) -> int | None:
        """A team member by user id or login email (without case)."""
        user = self._users.get(user_id_or_email)
        return user if user is not None else self._user_emails.get(user_id_or_email.casefold())

    def label_id(self, name: str) -> str | None:
        """The id of the label called ``name`` (compared as creation compares names)."""
        label = self._label_book.named(name)
        return None if label is None else label.id

    def interest_of(self, lead_id_or_email: str) -> str | None:
        """``"interested"`` or ``"notinterested"`` as the interest routes last set it for
        the lead (the first lead, given an email shared by several); None if never.
        KeyError if no such lead is in the inbox."""
        indices = self._leads(lead_id_or_email)
        if not indices:
            raise KeyError(lead_id_or_email)
        return self._state.interest(indices[0])

    def _conversation_index(self, conversation_id: str) -> int:
        index = self._state.find_conversation(conversation_id)
        if index is None:
            raise KeyError(conversation_id)
        return index

    def _leads(self, lead_id_or_email: str) -> list[int]:
        """The conversations of a lead id (one) or of an email (any number), in index order."""
        made = self._state.made
        if "@" in lead_id_or_email:
            found = self._directory.email(lead_id_or_email, made)
        elif lead_id_or_email.startswith("lea_"):  # anything else would only cost a scan
            index = self._directory.lead(lead_id_or_email, made)
            found = [] if index is None else [index]
        else:
            found = []
        return [index for index in found if self._state.exists(index)]

    def _now_ms(self) -> int:
        # The anchor moves with the clock, so new activity is "now" in the demo's own time.
        return self._anchor_ms + int((time.monotonic() - self._started) * 1000)

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await _lifespan(receive, send)
        elif scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        arrival, wall_now = time.monotonic(), time.time()
        config = self.config
        method: str = scope["method"]
        path: str = scope["path"]
        query: dict[str, str] = {}
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), True):
            query.setdefault(name, value)
        key, login_empty = _api_key(scope.get("headers", []))
        # Counted at arrival, before any latency: that is when lemlist's limiter sees it.
        decision = self._limiter.admit(
            key if key is not None else "anonymous", arrival, config.rate_limit, config.rate_window
        )
        body = await _read_body(receive)
        if config.latency > 0:
            await asyncio.sleep(config.latency)

        fault: Fault | None = None
        if not decision.allowed:
            response = _text(429, "Too many requests")
        elif key is None or not login_empty or key not in config.api_keys:
            response = _text(401, _AUTH_FAILED)
        else:
            fault = self._take_fault(method, path, query)
            if fault is not None and fault.delay > 0:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                response = Response(fault.status, fault.body, fault.content_type)
            else:
                response = await self._answer(Request(method, path, query, body))
        headers = {**_rate_headers(decision, wall_now), **response.headers}
        if fault is not None:
            headers.update(fault.headers)
        self.log.append(RequestRecord(arrival, method, path, query, response.status, key))
        if fault is not None and fault.hang_up:
            import httpx  # here only, as in _send_response

            raise httpx.RemoteProtocolError("demo fault: server disconnected without an answer")
        await _send_response(send, response, headers, fault)

    def _take_fault(self, method: str, path: str, query: dict[str, str]) -> Fault | None:
        for fault in list(self.faults):
            if fault.matches(method, path, query):
                fault.use()
                return fault
        return None

    async def _answer(self, request: Request) -> Response:
        """Route ``request`` on the loop, build what is costly in a worker thread, and answer
        after every request routed before it: a cheap request never overtakes a page being
        built, so answers (and the rate-limit budget clients read off the latest one) come in
        the same order as when everything was made on the loop."""
        answer = self._route(request)
        self._run_hooks(request)  # before any await: no other request is routed in between
        loop, done = asyncio.get_running_loop(), asyncio.Event()
        previous, self._last_answer = self._last_answer, (loop, done)
        try:
            if isinstance(answer, _Later):
                # In --demo this loop is the app's: a page must not stall its keys and screen.
                answer = Response(200, await asyncio.to_thread(_encode, answer.build), _JSON)
            if previous is not None and previous[0] is loop:
                await previous[1].wait()
            return answer
        finally:
            done.set()

    def _run_hooks(self, request: Request) -> None:
        if not self._hooks:
            return
        with self._hooks_lock:
            due: list[RequestHook] = []
            for hook in self._hooks:
                if hook.matches(request):
                    hook.seen += 1
                    if hook.seen >= hook.after:
                        hook.fired = True
                        due.append(hook)
            for hook in due:
                self._hooks.remove(hook)
        for hook in due:  # outside the lock: a callback may register another hook
            hook.callback()

    def _route(self, request: Request) -> Response | _Later:
        path = request.path.rstrip("/") or "/"
        for pattern, handlers in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = handlers.get(request.method)
            if handler is None:
                return _text(405, "Method not allowed", {"Allow": ", ".join(handlers)})
            try:
                return handler(request, match.groups())
            except _ClientError as error:
                return _text(error.status, error.text)
        return _text(404, "Not found")

    # -- routes -------------------------------------------------------------------------------

    def _viewer(self, request: Request) -> int:
        user_id = request.query.get("userId", "")
        if not user_id:
            raise _ClientError("User ID is required")
        if user_id not in self._users:
            raise _ClientError("User not in team")
        return self._users[user_id]

    def _limit(self, request: Request) -> int:
        limit = _int_param(request.query, "limit", 100, None)
        return max(1, min(limit, self.config.max_page_size))

    def _contact(self, contact_id: str) -> int:
        index = self._state.find_contact(contact_id)
        if index is None:  # unknown, or deleted: lemlist answers both alike
            raise _ClientError(_NO_INBOX, 404)
        return index

    def _team(self, request: Request, _: tuple[str, ...]) -> Response:
        with_users = request.query.get("version") == "v2" and self.config.team_users_in_v2
        return _json(self._data.team_json(with_users=with_users))

    def _user(self, _: Request, args: tuple[str, ...]) -> Response:
        user = self._users.get(args[0])
        if user is None:
            return _text(404, "User not found")
        return _json(self._data.user_json(self._data.members[user]))

    def _inbox(self, request: Request, _: tuple[str, ...]) -> Response | _Later:
        self._viewer(request)  # every user sees every conversation; read flags are per user
        page = _int_param(request.query, "page", 1, 1)
        limit = self._limit(request)
        snapshot = self._state.page((page - 1) * limit, limit)
        pagination = _pagination(snapshot.total, page, limit)
        costly = len(snapshot.entries) > _INLINE_CONVERSATIONS
        data = self._data

        def build() -> JsonObject:
            conversations = page_json(data, snapshot.entries, in_worker=costly)
            return {"data": conversations, "pagination": pagination}

        return _json_answer(build, costly=costly)

    def _thread(self, request: Request, args: tuple[str, ...]) -> Response | _Later:
        user = self._viewer(request)
        index = self._contact(args[0])
        limit = self._limit(request)
        skip = _int_param(request.query, "skip", 0, 0)
        if request.query.get("markAsRead") == "true":  # only the exact string, as lemlist
            with _still_there():
                self._state.mark_read(index, user)
        overlay = self._state.overlay(index)
        data = self._data

        def build() -> JsonObject:
            activities = thread_json(data, index, overlay)
            pagination = _pagination(len(activities), skip // limit + 1, limit)
            if skip + limit >= len(activities):  # skip need not be a multiple of limit
                pagination["nextPage"] = None
            return {"data": activities[skip : skip + limit], "pagination": pagination}

        return _json_answer(build, costly=False)  # a whole thread: ~30 µs, p90 60 µs

    def _labels(self, _: Request, __: tuple[str, ...]) -> Response:
        return _json([label_json(label) for label in self._label_book.all()])

    def _create_label(self, request: Request, _: tuple[str, ...]) -> Response:
        name = _json_object(request).get("labelName")
        if name is None:
            raise _ClientError("labelName is required")
        if not isinstance(name, str) or not name.strip():
            raise _ClientError("labelName must be a non-empty string")
        try:
            label = self._label_book.create(name, self._now_ms())
        except LabelExists:
            raise _ClientError("Label with this name already exists", 409) from None
        return _json(label_json(label))

    def _label(self, _: Request, args: tuple[str, ...]) -> Response:
        label = self._label_book.get(args[0])
        if label is None:
            raise _ClientError(_NO_LABEL, 404)
        return _json(label_json(label))

    def _label_body(self, request: Request, *, append_flag: bool) -> tuple[list[str], bool]:
        body = _json_object(request)
        label_ids = body.get("labelIds")
        if not isinstance(label_ids, list) or not all(isinstance(x, str) for x in label_ids):
            raise _ClientError("labelIds must be an array of label ids")
        append = body.get("appendLabels")
        if append_flag and not isinstance(append, bool):
            raise _ClientError("appendLabels must be a boolean")
        if any(self._label_book.get(label) is None for label in label_ids):
            raise _ClientError(_NO_LABEL, 404)
        return label_ids, bool(append)

    def _attach_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        index = self._contact(args[0])
        label_ids, append = self._label_body(request, append_flag=True)
        with _still_there():
            self._state.attach_labels(index, label_ids, append=append)
        return _json({"ok": True})

    def _detach_labels(self, request: Request, args: tuple[str, ...]) -> Response:
        index = self._contact(args[0])
        label_ids, _ = self._label_body(request, append_flag=False)
        with _still_there():
            self._state.detach_labels(index, set(label_ids))
        return _json({"ok": True})

    def _interested(self, _: Request, args: tuple[str, ...]) -> Response:
        return self._mark_interest(args[0], _INTERESTED)

    def _not_interested(self, _: Request, args: tuple[str, ...]) -> Response:
        return self._mark_interest(args[0], _NOT_INTERESTED)

    def _mark_interest(self, lead_id_or_email: str, interest: str) -> Response:
        indices = self._leads(lead_id_or_email)
        if not indices:
            raise _ClientError(_NO_LEAD, 404)
        with _still_there(_NO_LEAD):
            self._state.set_interest(indices, interest)
        # lemlist documents no answer for these; its per-campaign routes answer the lead.
        return _json(self._data.lead_json(self._state.conversation(indices[0])))

    def _get_contact(self, _: Request, args: tuple[str, ...]) -> Response:
        key = args[0]
        if "@" in key:
            found = self._leads(key)
            index = found[0] if found else None
        else:
            index = self._state.find_contact(key)
        if index is None:
            raise _ClientError(_NO_CONTACT, 404)
        overlay = self._state.overlay(index)
        conversation = conversation_at(self._data, index, overlay)
        return _json(self._data.contact_json(conversation, overlay.interest))

    # -- replies ------------------------------------------------------------------------------

    def _send_email(self, request: Request, _: tuple[str, ...]) -> Response:
        body = _send_body(request, _EMAIL_FIELDS)
        user = self._sender(body)
        member = self._data.members[user]
        if body["sendUserEmail"].casefold() != member.email.casefold():
            raise _ClientError("sendUserEmail is not this user's email")
        if body["sendUserMailboxId"] != member.mailbox_id:
            raise _ClientError("Mailbox not found for this user")
        return self._deliver("email", body, user, body["subject"], body["cc"])

    def _send_linkedin(self, request: Request, _: tuple[str, ...]) -> Response:
        body = _send_body(request, _LINKEDIN_FIELDS)
        return self._deliver("linkedin", body, self._sender(body))

    def _send_whatsapp(self, request: Request, _: tuple[str, ...]) -> Response:
        body = _send_body(request, _WHATSAPP_FIELDS)
        user = self._sender(body)
        if body["sendUserWhatsappAccountId"] != self._data.members[user].whatsapp_account_id:
            raise _ClientError("WhatsApp account not found for this user")
        return self._deliver("whatsapp", body, user)

    def _sender(self, body: dict[str, Any]) -> int:
        user = self._users.get(body["sendUserId"])
        if user is None:
            raise _ClientError("User not in team")
        return user

    def _deliver(
        self,
        channel: str,
        body: dict[str, Any],
        user: int,
        subject: str = "",
        cc: Sequence[str] = (),
    ) -> Response:
        """Send a checked message: the conversation's newest activity, and recorded for
        :meth:`sent_messages`."""
        index = self._contact(body["contactId"])
        if body["leadId"] != self._data.contact(index).lead_id:
            raise _ClientError("Lead does not belong to this contact")
        with _still_there():
            self._state.send(
                index,
                self._now_ms(),
                channel=channel,
                sender=user,
                subject=subject,
                message=body["message"],
                cc=cc,
            )
        with self._sent_lock:
            self._sent.setdefault(index, []).append({**body, "channel": channel})
        return _json({"ok": True})

    # -- drafts -------------------------------------------------------------------------------

    def _draft_owner(self, request: Request) -> int:
        owner = request.query.get("draftOwner", "")
        if not owner:
            raise _ClientError("draftOwner is required")
        user = self._member_named(owner)
        if user is None:
            raise _ClientError("User not in team")
        return user

    def _list_drafts(self, request: Request, args: tuple[str, ...]) -> Response:
        owner = self._draft_owner(request)
        index = self._contact(args[0])
        drafts = self._drafts.drafts(index, owner)
        return _json({"drafts": [draft_summary_json(draft) for draft in drafts]})

    def _create_draft(self, request: Request, args: tuple[str, ...]) -> Response:
        owner = self._draft_owner(request)
        index = self._contact(args[0])
        body = _json_object(request)
        channel = body.get("channel")
        if channel is None:
            raise _ClientError("channel is required")
        if channel not in DRAFT_CHANNELS:
            raise _ClientError(f"channel must be one of {', '.join(DRAFT_CHANNELS)}")
        content = _within_size(_required_string(body, "content"))
        attachments = body.get("attachments")
        if attachments is not None and not isinstance(attachments, list):
            raise _ClientError("attachments must be an array")
        try:
            draft = self._drafts.create(
                index,
                owner,
                self._now_ms(),
                channel=channel,
                content=content,
                subject=_optional_string(body, "subject") or "",
                cc=_optional_emails(body, "cc") or (),
                attachments=tuple(attachments or ()),
                reply_to=_optional_string(body, "replyToActivityId"),
            )
        except DraftLimitReached:
            limit = f"Draft limit reached (max {MAX_DRAFTS} per conversation)"
            raise _ClientError(limit) from None
        return _json({"draftId": draft.id}, status=201)

    def _get_draft(self, request: Request, args: tuple[str, ...]) -> Response:
        owner = self._draft_owner(request)
        index = self._contact(args[0])
        draft = self._drafts.get(index, owner, args[1])
        if draft is None:
            raise _ClientError(_NO_DRAFT, 404)
        return _json(draft_json(draft))

    def _update_draft(self, request: Request, args: tuple[str, ...]) -> Response:
        owner = self._draft_owner(request)
        index = self._contact(args[0])
        body = _json_object(request)
        content = _optional_string(body, "content")
        if content is not None:
            _within_size(content)
        subject = _optional_string(body, "subject")
        cc = _optional_emails(body, "cc")
        if content is None and subject is None and cc is None:
            raise _ClientError("content, subject or cc is required")
        draft = self._drafts.update(
            index, owner, args[1], self._now_ms(), content=content, subject=subject, cc=cc
        )
        if draft is None:
            raise _ClientError(_NO_DRAFT, 404)
        return _json(draft_json(draft))

    def _delete_draft(self, request: Request, args: tuple[str, ...]) -> Response:
        owner = self._draft_owner(request)
        index = self._contact(args[0])
        if not self._drafts.delete(index, owner, args[1]):
            raise _ClientError(_NO_DRAFT, 404)
        return _json({"ok": True})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _send_response(
    send: Send, response: Response, headers: dict[str, str], fault: Fault | None
) -> None:
    body = response.body
    raw = [(b"content-type", response.content_type.encode())]
    raw += [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()]
    cut = fault is not None and fault.cut_at is not None and not fault.drop
    if not cut:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": raw})
    if fault is not None and fault.drop:
        part = fault.cut_at if fault.cut_at is not None else len(body) // 2
        await send({"type": "http.response.body", "body": body[:part], "more_body": True})
        # httpx's own error, so a client behind ASGITransport sees what a socket would give it
        # (uvicorn just logs it and resets the connection).
        import httpx  # here only: the app's first frame should not wait for httpx

        raise httpx.ReadError("demo fault: connection dropped mid-body")
    if cut and fault is not None and fault.cut_at is not None:
        await send({"type": "http.response.body", "body": body[: fault.cut_at], "more_body": True})
        body = b""
    await send({"type": "http.response.body", "body": body, "more_body": False})
