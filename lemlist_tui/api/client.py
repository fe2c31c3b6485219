"""A typed async client for the few lemlist routes an inbox browser needs.

Every request of a process that uses the same API key and base URL goes through one
:class:`SlidingWindowLimiter`, so the app, ``export`` and the benchmarks all run at
lemlist's ceiling (20 requests per 2 s) without tripping it. Failures become the
typed errors of :mod:`lemlist_tui.api.errors`; transient ones are retried first, unless
the request is not idempotent (see :meth:`LemlistClient._request`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from lemlist_tui import __version__
from lemlist_tui.api.base import DEFAULT_BASE_URL, account_fingerprint
from lemlist_tui.api.errors import (
    AuthError,
    BadRequestError,
    LemlistError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    scrub,
)
from lemlist_tui.api.models import (
    ContactDetails,
    Draft,
    InboxPage,
    Label,
    Team,
    TeamUser,
    ThreadPage,
    UserAccounts,
    parse_contact_details,
    parse_draft,
    parse_drafts,
    parse_inbox_page,
    parse_label,
    parse_labels,
    parse_team,
    parse_thread_page,
    parse_user,
    parse_user_accounts,
)
from lemlist_tui.api.ratelimit import (
    RateLimitStatus,
    SlidingWindowLimiter,
    limiter_for,
    parse_retry_after,
)

__all__ = ["DEFAULT_BASE_URL", "LemlistClient", "RetryPolicy", "account_fingerprint"]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""An answer larger than this is refused: no inbox page comes near it."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries: by attempts and by the total time spent waiting."""

    attempts: int = 5
    max_wait: float = 60.0
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter (attempt 1 → up to base_delay)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


NO_RETRY = RetryPolicy(attempts=1)

_NOT_JSON = object()
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lenient_json(body: bytes) -> object:
    """JSON that orjson refuses for a lone surrogate escape alone (``"\\ud83d"``).

    JavaScript's JSON.stringify writes one for a string cut in the middle of an emoji:
    one such contact name must not make a whole page unreadable. It becomes U+FFFD.
    A byte that is not UTF-8 (one in one contact's name) becomes U+FFFD in the string
    that holds it, and the rest of the page is kept. Anything else orjson refuses (a cut
    body, NaN, huge numbers) stays refused.
    """
    repaired = body.decode("utf-8", "replace").encode()
    if repaired != body:
        try:
            return orjson.loads(repaired)
        except orjson.JSONDecodeError:
            body = repaired  # perhaps a lone surrogate escape as well
    if b"\\u" not in body:
        return _NOT_JSON
    try:
        text = json.dumps(json.loads(body), ensure_ascii=False)
        return orjson.loads(_SURROGATE.sub("\ufffd", text))
    except (ValueError, RecursionError):
        return _NOT_JSON


def _decoder(encoding: str) -> Any:
    """A bounded zlib decoder for ``Content-Encoding`` (None: not compressed)."""
    codings = [c.strip().lower() for c in encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise ProtocolError(
            "lemlist's answer is compressed more than once (Content-Encoding: "
            f"{', '.join(codings)[:60]}); refused."
        )
    if codings[0] in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if codings[0] == "deflate":
        return zlib.decompressobj()
    raise ProtocolError(
        f"lemlist's answer uses an encoding lemlist-tui does not read ({codings[0][:30]})."
    )


def _segment(value: str) -> str:
    """An id or an email as one path segment: a ``/``, ``?`` or ``#`` in it must not
    reach another route."""
    return quote(value, safe="@")


class LemlistClient:
    """One account on one lemlist server.

    ``transport`` lets the app and the tests talk to the demo API in-process
    (``httpx.ASGITransport``) through exactly the same code as a real account.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 20.0,
        deadline: float = 30.0,
        limiter: SlidingWindowLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.fingerprint = account_fingerprint(api_key, self.base_url)
        self.limiter = limiter or limiter_for(self.fingerprint)
        self.retry = retry or RetryPolicy()
        self.requests_sent = 0
        """Every request that left this client (retries included); for tests and benchmarks."""
        self._secret = api_key
        self._timeout = timeout
        self._deadline = deadline
        """Seconds a whole request may take, its answer read to the end: each read has
        ``timeout``, and a server that trickles a byte at a time never trips that."""
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth("", api_key),
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={
                "User-Agent": f"lemlist-tui/{__version__}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",  # the ones _read_capped decodes
            },
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"LemlistClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> LemlistClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def rate_limit(self) -> RateLimitStatus | None:
        """What the server last said about the budget left, for the status line."""
        return self.limiter.status

    # --- the routes ------------------------------------------------------------------

    async def team(self) -> Team:
        """The team and its users; names each user with ``/users/{id}`` when needed."""
        team = parse_team(await self._get_json("/team", {"version": "v2"}, what="team"))
        if team.users or not team.user_ids:
            return team
        users = await asyncio.gather(*(self.user(user_id) for user_id in team.user_ids))
        return Team(team.id, team.name, team.user_ids, tuple(users))

    async def user(self, user_id: str) -> TeamUser:
        return parse_user(await self._get_json(f"/users/{user_id}", {}, what="such user"))

    async def user_accounts(self, user_id: str) -> UserAccounts:
        """What ``user_id`` can send from: mailboxes, and WhatsApp accounts when listed."""
        payload = await self._get_json(f"/users/{_segment(user_id)}", {}, what="such user")
        return parse_user_accounts(payload)

    async def inbox_page(self, user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        params = {"userId": user_id, "page": str(page), "limit": str(limit)}
        payload = await self._get_json("/inbox", params, what="inbox for this user")
        return parse_inbox_page(payload, page)

    async def thread(
        self,
        contact_id: str,
        user_id: str,
        *,
        limit: int = 100,
        skip: int = 0,
        mark_as_read: bool = False,
    ) -> ThreadPage:
        """One conversation's messages. Never marks it read unless asked to."""
        params = {"userId": user_id, "limit": str(limit), "skip": str(skip)}
        if mark_as_read:
            params["markAsRead"] = "true"
        payload = await self._get_json(f"/inbox/{contact_id}", params, what="such conversation")
        return parse_thread_page(payload)

    async def mark_read(self, contact_id: str, user_id: str) -> None:
        """Mark a conversation read for ``user_id`` (the thread route's ``markAsRead``)."""
        await self.thread(contact_id, user_id, limit=1, mark_as_read=True)

    async def labels(self) -> tuple[Label, ...]:
        return parse_labels(await self._get_json("/inbox/labels", {}, what="labels"))

    # Triage. Each is idempotent in effect (attaching what is attached, marking a lead
    # interested twice), so each is retried like a read after a 5xx or a network error.

    async def label(self, label_id: str) -> Label:
        payload = await self._get_json(f"/inbox/labels/{_segment(label_id)}", {}, what="such label")
        return parse_label(payload)

    async def create_label(self, name: str) -> Label:
        """A new team label called ``name``. A name already taken is refused with a 409
        (:class:`BadRequestError`, ``status == 409``).

        Retried like the others: lemlist keeps names unique, so a repeat cannot make a
        second label; at worst it answers 409 for the label the first attempt made.
        """
        payload = await self._request(
            "POST", "/inbox/labels", body={"labelName": name}, what="way to create labels"
        )
        return parse_label(payload)

    async def attach_labels(
        self, contact_id: str, label_ids: Sequence[str], *, append: bool = True
    ) -> None:
        """Put labels on a conversation; ``append=False`` replaces all it had."""
        await self._request(
            "POST",
            f"/inbox/conversations/labels/{_segment(contact_id)}",
            body={"labelIds": _id_list(label_ids), "appendLabels": append},
            what="such conversation or label",
            decode=False,
        )

    async def detach_labels(self, contact_id: str, label_ids: Sequence[str]) -> None:
        await self._request(
            "DELETE",
            f"/inbox/conversations/labels/{_segment(contact_id)}",
            body={"labelIds": _id_list(label_ids)},
            what="such conversation or label",
            decode=False,
        )

    async def set_interest(self, lead_id_or_email: str, interested: bool) -> None:
        """Mark a lead interested or not interested, in all its campaigns."""
        route = "interested" if interested else "notinterested"
        await self._request(
            "POST", f"/leads/{route}/{_segment(lead_id_or_email)}", what="such lead", decode=False
        )

    async def contact(self, contact_id_or_email: str) -> ContactDetails:
        """A contact with its campaigns (the lead's state in each) and its owner."""
        payload = await self._get_json(
            f"/contacts/{_segment(contact_id_or_email)}", {}, what="such contact"
        )
        return parse_contact_details(payload)

    # Replies. A send is not idempotent: each goes out once (``idempotent=False``); after
    # a failure that may have come after lemlist read it, OutcomeUnknownError.

    async def send_email(
        self,
        *,
        send_user_id: str,
        send_user_email: str,
        mailbox_id: str,
        contact_id: str,
        lead_id: str,
        subject: str,
        html: str,
        cc: Sequence[str] = (),
    ) -> None:
        """Reply by email (``POST /inbox/email``); ``html`` is the message as sent."""
        body = {
            "sendUserId": send_user_id,
            "sendUserEmail": send_user_email,
            "sendUserMailboxId": mailbox_id,
            "contactId": contact_id,
            "leadId": lead_id,
            "subject": subject,
            "message": html,
            "cc": list(cc),
        }
        await self._send_message("/inbox/email", body)

    async def send_linkedin(
        self, *, send_user_id: str, contact_id: str, lead_id: str, message: str
    ) -> None:
        body = {
            "sendUserId": send_user_id,
            "leadId": lead_id,
            "contactId": contact_id,
            "message": message,
        }
        await self._send_message("/inbox/linkedin", body)

    async def send_whatsapp(
        self,
        *,
        send_user_id: str,
        whatsapp_account_id: str,
        contact_id: str,
        lead_id: str,
        message: str,
    ) -> None:
        body = {
            "sendUserId": send_user_id,
            "sendUserWhatsappAccountId": whatsapp_account_id,
            "contactId": contact_id,
            "leadId": lead_id,
            "message": message,
        }
        await self._send_message("/inbox/whatsapp", body)

    async def _send_message(self, path: str, body: Mapping[str, object]) -> None:
        await self._request(
            "POST", path, body=body, what="such conversation", idempotent=False, decode=False
        )

    # Drafts, kept in lemlist (visible in its web inbox) for ``owner``: a user id or a
    # login email.

    async def drafts(self, contact_id: str, owner: str) -> tuple[Draft, ...]:
        payload = await self._get_json(
            f"/inbox/{_segment(contact_id)}/drafts", {"draftOwner": owner}, what="such conversation"
        )
        return parse_drafts(payload)

    async def draft(self, contact_id: str, draft_id: str, owner: str) -> Draft:
        payload = await self._get_json(
            f"/inbox/{_segment(contact_id)}/drafts/{_segment(draft_id)}",
            {"draftOwner": owner},
            what="such draft",
        )
        return parse_draft(payload)

    async def create_draft(
        self,
        contact_id: str,
        owner: str,
        *,
        channel: str,
        content: str,
        subject: str | None = None,
    ) -> str:
        """A new lemlist draft; its id. Not repeated after an unknown outcome (a repeat
        would make a second draft)."""
        body: dict[str, object] = {"channel": channel, "content": content}
        if subject is not None:
            body["subject"] = subject
        payload = await self._request(
            "POST",
            f"/inbox/{_segment(contact_id)}/drafts",
            {"draftOwner": owner},
            body=body,
            what="such conversation",
            idempotent=False,
        )
        draft = _draft_id(payload)
        if draft is None:
            raise ProtocolError("lemlist saved the draft but did not say under which id.")
        return draft

    async def update_draft(
        self,
        contact_id: str,
        draft_id: str,
        owner: str,
        *,
        content: str,
        subject: str | None = None,
    ) -> None:
        body: dict[str, object] = {"content": content}
        if subject is not None:
            body["subject"] = subject
        await self._request(
            "PATCH",
            f"/inbox/{_segment(contact_id)}/drafts/{_segment(draft_id)}",
            {"draftOwner": owner},
            body=body,
            what="such draft",
            decode=False,
        )

    async def delete_draft(self, contact_id: str, draft_id: str, owner: str) -> None:
        await self._request(
            "DELETE",
            f"/inbox/{_segment(contact_id)}/drafts/{_segment(draft_id)}",
            {"draftOwner": owner},
            what="such draft",
            decode=False,
        )

    # --- transport -------------------------------------------------------------------

    async def _get_json(self, path: str, params: Mapping[str, str], *, what: str) -> object:
        return await self._request("GET", path, params, what=what)

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        what: str,
        body: object = None,
        idempotent: bool = True,
        decode: bool = True,
    ) -> object:
        """Send with the limiter and bounded retries; return the decoded JSON of a 2xx.

        ``body``: sent as JSON unless None. ``what`` names the thing a 404 did not find
        ("such label": "lemlist has no such label"). ``decode=False``: the answer's body is
        not read as JSON and None is returned (routes whose answer says nothing needed).

        ``idempotent=False`` (a POST that sends a message): after a 5xx, a timeout, a
        dropped connection or a cut answer the effect is unknown, so it is not sent again;
        only a 429, refused before any effect, is retried.

        Decoding happens inside the retry loop: a body cut short is worth another try.
        """
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._send_once(method, path, params, body, what=what, decode=decode)
            except LemlistError as error:
                if not idempotent and _may_have_acted(error):
                    raise OutcomeUnknownError(error) from None
                delay = self._retry_delay(error, attempt, idempotent=idempotent)
                if delay is None or waited + delay > self.retry.max_wait:
                    raise
                waited += delay
                if isinstance(error, RateLimitedError):
                    # The limiter holds every other request of this key as well.
                    self.limiter.pause_for(delay)
                await self._sleep(delay)

    def _retry_delay(
        self, error: LemlistError, attempt: int, *, idempotent: bool = True
    ) -> float | None:
        if not error.retryable or attempt >= self.retry.attempts:
            return None
        if not idempotent and not isinstance(error, RateLimitedError):
            return None
        if isinstance(error, RateLimitedError):
            after = error.retry_after
            if after is None:
                return self.limiter.window
            return after if after <= self.retry.max_retry_after else None
        return self.retry.backoff(attempt)

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: object,
        *,
        what: str,
        decode: bool,
    ) -> object:
        try:
            async with self.limiter.request():
                self.requests_sent += 1
                async with asyncio.timeout(self._deadline):
                    async with self._http.stream(
                        method, path, params=params, json=body
                    ) as response:
                        self.limiter.observe(response.headers, response.status_code)
                        if not decode and response.is_success:
                            # The status is the whole answer: a body cut after it must
                            # not make a message that was sent look unknown. (Read all
                            # the same, so the connection is kept for the next request.)
                            with contextlib.suppress(httpx.TransportError, ProtocolError):
                                await self._read_capped(response)
                            return None
                        answer = await self._read_capped(response)
        except TimeoutError:
            raise RequestTimeoutError(self._deadline) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # Before the request was written: nothing reached lemlist.
            raise NetworkError(self._describe(error), unsent=True) from None
        except httpx.TimeoutException:
            raise RequestTimeoutError(self._timeout) from None
        except httpx.TransportError as error:
            raise NetworkError(self._describe(error)) from None
        self._raise_for_status(response, answer, what)
        if not decode:
            return None
        try:
            return orjson.loads(answer)
        except orjson.JSONDecodeError:
            payload = _lenient_json(answer)
        if payload is _NOT_JSON:
            raise ProtocolError("lemlist's answer was cut short or is not JSON.", retryable=True)
        return payload

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, decoded here (not by httpx) so that its decoded size is capped as it
        streams: a few hundred bytes of ``gzip, gzip`` inflated to 2.1 GB in one step of
        httpx's decoder. One ``Content-Encoding`` at most, gzip or deflate."""
        chunks: list[bytes] = []
        size = 0
        if response.is_stream_consumed:
            # A response made whole in memory (a mock transport): httpx has read and
            # decoded it already.
            if len(response.content) > MAX_BODY_BYTES:
                raise ProtocolError(
                    f"lemlist's answer is larger than {MAX_BODY_BYTES // 2**20} MB; refused."
                )
            return response.content
        decoder = _decoder(response.headers.get("Content-Encoding", ""))

        def take(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > MAX_BODY_BYTES:
                raise ProtocolError(
                    f"lemlist's answer is larger than {MAX_BODY_BYTES // 2**20} MB; refused."
                )
            chunks.append(data)

        try:
            async for raw in response.aiter_raw():
                if decoder is None:
                    take(raw)
                    continue
                # Never more than the room left (+1 to see it overflow) per step.
                data = decoder.decompress(raw, MAX_BODY_BYTES + 1 - size)
                take(data)
                while decoder.unconsumed_tail:
                    take(decoder.decompress(decoder.unconsumed_tail, MAX_BODY_BYTES + 1 - size))
            if decoder is not None:
                take(decoder.flush())
        except zlib.error:
            raise ProtocolError(
                "lemlist's answer is not the compressed data it says it is.", retryable=True
            ) from None
        return b"".join(chunks)

    def _describe(self, error: httpx.TransportError) -> str:
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return f"the connection to {httpx.URL(self.base_url).host} failed"
        if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
            return "the connection dropped in the middle of an answer"
        return scrub(type(error).__name__, self._secret)

    def _raise_for_status(self, response: httpx.Response, body: bytes, what: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        text = scrub(body[:2000].decode("utf-8", "replace"), self._secret)
        if status == 401:
            raise AuthError()
        if status == 404:
            raise NotFoundError(what, text)
        if status == 429:
            after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimitedError(after)
        if status >= 500:
            raise ServerError(status)
        if "<" in text and "html" in text.lower():
            text = ""  # a proxy's HTML page says nothing a person can use
        raise BadRequestError(status, text)


def _may_have_acted(error: LemlistError) -> bool:
    """Whether lemlist may have acted on a request that failed with ``error``: anything
    but a refusal (4xx, 401, 429) or a connection that was never made."""
    if isinstance(error, NetworkError):
        return not error.unsent
    return isinstance(error, ServerError | RequestTimeoutError | ProtocolError)


def _draft_id(payload: object) -> str | None:
    if isinstance(payload, dict):
        for key in ("draftId", "_id"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _id_list(ids: Sequence[str]) -> list[str]:
    if isinstance(ids, str):  # one id would go out as its characters
        raise TypeError("label_ids must be a sequence of ids, not one id")
    return list(ids)
