"""The outbox's sender: pending actions go out at lemlist's rate limit, one worker per app.

No ``textual`` import. :meth:`OutboxSender.run` loops until cancelled: it takes what may
be sent now (:meth:`Outbox.sendable`), sends those requests together through the client
(whose limiter keeps them within 20 per 2 s), and records each outcome:

- sent: done;
- lemlist unreachable, busy, a 5xx, a rate limit outlasting the client's own waits, a
  refused key: back to pending with the reason, and the sender waits (longer each time,
  up to :data:`MAX_BACKOFF`) or until :meth:`OutboxSender.wake`;
- refused (a 4xx): ``failed``, with lemlist's sentence, until retried or undone;
- a reply or a draft whose fate is unknown (the connection dropped after it went, no
  answer in time, a 5xx): ``unknown``, never sent again by the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from lemlist_tui.api.errors import AuthError, LemlistError, NotFoundError, OutcomeUnknownError
from lemlist_tui.compose import as_sent
from lemlist_tui.db.connection import StorageError
from lemlist_tui.db.outbox import Action, Kind, Outbox, Sendable
from lemlist_tui.db.replies import Replies, Reply

__all__ = ["MAX_BACKOFF", "ActionClient", "OutboxSender", "send_action"]

AT_ONCE = 5
"""Requests out together (the client's limiter still spaces them)."""
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 60.0
"""Seconds between tries while lemlist cannot be reached."""


class ActionClient(Protocol):
    """The client calls the sender makes (:class:`lemlist_tui.api.client.LemlistClient`)."""

    async def mark_read(self, contact_id: str, user_id: str) -> None: ...

    async def attach_labels(
        self, contact_id: str, label_ids: list[str], *, append: bool = True
    ) -> None: ...

    async def detach_labels(self, contact_id: str, label_ids: list[str]) -> None: ...

    async def set_interest(self, lead_id_or_email: str, interested: bool) -> None: ...

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
    ) -> None: ...

    async def send_linkedin(
        self, *, send_user_id: str, contact_id: str, lead_id: str, message: str
    ) -> None: ...

    async def send_whatsapp(
        self,
        *,
        send_user_id: str,
        whatsapp_account_id: str,
        contact_id: str,
        lead_id: str,
        message: str,
    ) -> None: ...

    async def create_draft(
        self,
        contact_id: str,
        owner: str,
        *,
        channel: str,
        content: str,
        subject: str | None = None,
    ) -> str: ...

    async def update_draft(
        self,
        contact_id: str,
        draft_id: str,
        owner: str,
        *,
        content: str,
        subject: str | None = None,
    ) -> None: ...

    async def delete_draft(self, contact_id: str, draft_id: str, owner: str) -> None: ...


async def send_reply(client: ActionClient, reply: Reply) -> None:
    """The one request that sends ``reply`` on its channel."""
    fields = reply.fields
    message = as_sent(reply.body, reply.channel)
    common = {
        "send_user_id": _field(fields, "sendUserId"),
        "contact_id": reply.contact_id,
        "lead_id": _field(fields, "leadId"),
    }
    if reply.channel == "email":
        await client.send_email(
            **common,
            send_user_email=_field(fields, "sendUserEmail"),
            mailbox_id=_field(fields, "sendUserMailboxId"),
            subject=reply.subject or "",
            html=message,
        )
    elif reply.channel == "linkedin":
        await client.send_linkedin(**common, message=message)
    elif reply.channel == "whatsapp":
        await client.send_whatsapp(
            **common,
            whatsapp_account_id=_field(fields, "sendUserWhatsappAccountId"),
            message=message,
        )
    else:
        raise ValueError(f"lemlist cannot send a reply on {reply.channel[:20]!r}.")


async def save_draft(client: ActionClient, reply: Reply) -> str:
    """Save ``reply`` as a lemlist draft (update the one it was saved as before); its id."""
    content = as_sent(reply.body, reply.channel)
    subject = reply.subject if reply.channel == "email" else None
    if reply.draft_id:
        await client.update_draft(
            reply.contact_id, reply.draft_id, reply.user_id, content=content, subject=subject
        )
        return reply.draft_id
    return await client.create_draft(
        reply.contact_id, reply.user_id, channel=reply.channel, content=content, subject=subject
    )


def _field(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise ValueError(f"The reply lacks {name}: open it again with R to check it.")
    return value


async def send_action(client: ActionClient, action: Action) -> None:
    """The one request that makes ``action`` happen in lemlist (a triage action)."""
    kind = action.kind
    if kind is Kind.READ:
        await client.mark_read(action.contact_id, _required(action.user_id))
    elif kind is Kind.LABEL:
        await client.attach_labels(action.contact_id, [_required(action.target)], append=True)
    elif kind is Kind.UNLABEL:
        await client.detach_labels(action.contact_id, [_required(action.target)])
    elif kind is Kind.DRAFT_DELETE:
        # Gone already (deleted in the web inbox, or by a first try): done all the same.
        with contextlib.suppress(NotFoundError):
            await client.delete_draft(
                action.contact_id, _required(action.target), _required(action.user_id)
            )
    else:
        await client.set_interest(_required(action.target), kind is Kind.INTERESTED)


def _required(value: str | None) -> str:
    if value is None:
        raise ValueError("An outbox entry is damaged (a field is missing); z takes it back.")
    return value


class OutboxSender:
    """Sends what ``outbox`` holds through ``client``; ``changed`` is called (on the loop)
    after each batch, for the status line."""

    def __init__(
        self,
        outbox: Outbox,
        client: ActionClient,
        *,
        changed: Callable[[], object] = lambda: None,
        delivered: Callable[[Action], object] = lambda action: None,
        sleep: Callable[[float], Awaitable[object]] | None = None,
        held_for: float = 0.0,
    ) -> None:
        self.outbox = outbox
        self.held_for = held_for
        """Seconds a new change waits before it is sent (the time ``z`` has)."""
        self.client = client
        self._changed = changed
        self._delivered = delivered
        self._replies = Replies(outbox.db)
        self._wake = asyncio.Event()
        self._sleep = sleep
        self.backoff = 0.0
        """Seconds the sender waits before its next try (0: not waiting)."""
        self.sent = 0
        self.idle = False
        """Waiting: for something to send, or out a backoff (for tests and the status)."""
        self.error: str | None = None
        """Why the outbox itself could not be written, when it could not."""
        self.last_failure: LemlistError | None = None
        """The newest failure lemlist answered with (for tests and the CLI)."""

    def wake(self) -> None:
        """Something was queued, or the user asked to retry: try now."""
        self.backoff = 0.0
        self.idle = False
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled."""
        await asyncio.to_thread(self.outbox.recover)
        while True:
            self._wake.clear()
            due: float | None = None
            try:
                batch = self.outbox.sendable(AT_ONCE, held_for=self.held_for)
                if not batch:
                    due = self.outbox.next_due(self.held_for)
            except StorageError:
                batch = []
            if not batch:
                if due is not None and due > 0:  # a change in its undo time: not idle
                    await self._wait_for_wake(due)
                    continue
                self.idle = True
                await self._wake.wait()
                self.idle = False
                continue
            try:
                stalled = await self.send(batch)
                self.error = None
            except StorageError as error:  # the outcome could not be written: try later
                self.error = str(error)
                stalled = True
            self._changed()
            if stalled:
                self.backoff = min(MAX_BACKOFF, max(FIRST_BACKOFF, self.backoff * 2))
                await self._pause(self.backoff)
            else:
                self.backoff = 0.0

    async def drain(self, *, recover: bool = True) -> None:
        """Send until nothing is sendable or a try stalls (for ``sync`` and tests).

        ``recover=False``: rows another process has out (``sending``) are left to it
        (``lemlist-tui sync`` beside a running app)."""
        if recover:
            await asyncio.to_thread(self.outbox.recover)
        while batch := self.outbox.sendable(AT_ONCE, held_for=self.held_for):
            if await self.send(batch):
                return

    async def send(self, batch: list[Sendable]) -> bool:
        """Send ``batch`` together; True when lemlist could not be reached for any."""
        taken = set(await asyncio.to_thread(self.outbox.sending, [row.id for row in batch]))
        outcomes = await asyncio.gather(*(self._send_one(row) for row in batch if row.id in taken))
        return any(outcomes)

    async def _send_one(self, row: Sendable) -> bool:
        draft_id: str | None = None
        try:
            if row.action.kind.writes_reply:
                draft_id = await self._send_reply(row.action)
            else:
                await send_action(self.client, row.action)
        except OutcomeUnknownError as error:
            self.last_failure = error
            await asyncio.to_thread(self.outbox.unknown, row.id, str(error))
            return False
        except LemlistError as error:
            self.last_failure = error
            if error.retryable or isinstance(error, AuthError):
                await asyncio.to_thread(self.outbox.back, row.id, str(error))
                return True
            await asyncio.to_thread(self.outbox.failed, row.id, str(error))
            return False
        except ValueError as error:  # a row this version cannot send: say so, keep it
            await asyncio.to_thread(self.outbox.failed, row.id, str(error))
            return False
        # Cancelled with the request out: the row stays "sending"; when a sender starts
        # again a triage action goes back to pending (it is idempotent), a reply or a
        # draft becomes unknown.
        await asyncio.to_thread(self.outbox.sent, row.id, draft_id)
        self.sent += 1
        self._delivered(row.action)
        return False

    async def _send_reply(self, action: Action) -> str | None:
        reply = self._replies.get(int(action.target or 0))
        if reply is None:
            raise ValueError("The reply this entry sends is gone from the local database.")
        if action.kind is Kind.DRAFT:
            return await save_draft(self.client, reply)
        await send_reply(self.client, reply)
        if reply.draft_id:
            # It came from a lemlist draft: sent, the draft has done its work (as the web
            # inbox does). Best effort: the reply is sent whatever becomes of this.
            try:
                await self.client.delete_draft(reply.contact_id, reply.draft_id, reply.user_id)
            except LemlistError as error:
                self.last_failure = error
        return None

    async def _pause(self, seconds: float) -> None:
        self.idle = True
        try:
            if self._sleep is not None:
                await self._sleep(seconds)
                return
            await self._wait_for_wake(seconds)
        finally:
            self.idle = False

    async def _wait_for_wake(self, seconds: float) -> None:
        """Until :meth:`wake` or ``seconds``. Not ``asyncio.wait_for``: on Python 3.11 it
        loses a cancel that comes in the loop turn the wake does, and the sender would
        outlive the app."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()
