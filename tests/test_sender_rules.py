"""The sender's rules, as lemlist and the user meet them: how often it tries while lemlist
cannot be reached (2 s, doubling, a minute at most) and that ``wake`` tries at once; a
change waits its undo time, then goes by itself; a disk that refuses a write or a read
holds the sender, never kills it; what each channel's request carries; the reason kept on
what lemlist refused; and the replies' table as the app reads it back.

:meth:`OutboxSender.run` runs as a task and is cancelled at the end. Its backoff goes
through an injected sleep the test holds (:class:`Clock`), or a real wait a ``wake``
cuts short. lemlist is a recording fake of the sender's ``ActionClient`` (or the demo API
in-process, for the labels). A real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import Any, TypeVar

import pytest
from support.clients import quick_config

import lemlist_tui.sync.sender as sender_module
from lemlist_tui.api.client import LemlistClient
from lemlist_tui.api.errors import (
    BadRequestError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
)
from lemlist_tui.db import InboxDatabase
from lemlist_tui.db.connection import StorageError
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.db.replies import Replies, Reply
from lemlist_tui.demo import DemoLemlist
from lemlist_tui.sync.sender import MAX_BACKOFF, OutboxSender

T = TypeVar("T")

FIELDS = {
    "sendUserId": "usr_me",
    "leadId": "lea_1",
    "sendUserEmail": "me@acme.example",
    "sendUserMailboxId": "mbx_1",
    "sendUserWhatsappAccountId": "wac_1",
}
OFFLINE = "Cannot reach lemlist: connection refused."
READ_ONLY = "The local inbox could not be written: the folder is read-only."
DEADLINE = 2.0
"""Longest a test waits for the sender to do something (it takes milliseconds)."""


class Lemlist:
    """An ActionClient that records each call with all its arguments, when it came and
    whether the sender then said it was idle; it fails as told (``down``: every call;
    ``refuse``: the next calls about a contact, or of a name)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.at: list[float] = []
        self.idle_then: list[object] = []
        self.down: Exception | None = None
        self.refuse: dict[str, list[Exception]] = {}
        self.arrived: asyncio.Queue[str] = asyncio.Queue()
        self.sender: OutboxSender | None = None
        self.drafts = 0

    def _call(self, name: str, contact_id: str | None, **fields: Any) -> None:
        self.calls.append((name, {"contact_id": contact_id, **fields}))
        self.at.append(time.time())
        if self.sender is not None:
            self.idle_then.append(self.sender.idle)
        self.arrived.put_nowait(name)
        if self.down is not None:
            raise self.down
        for key in (contact_id, name):
            waiting = self.refuse.get(key or "")
            if waiting:
                raise waiting.pop(0)

    async def mark_read(self, contact_id: str, user_id: str) -> None:
        self._call("mark_read", contact_id, user_id=user_id)

    async def attach_labels(
        self, contact_id: str, label_ids: list[str], *, append: bool = True
    ) -> None:
        self._call("attach_labels", contact_id, label_ids=label_ids, append=append)

    async def detach_labels(self, contact_id: str, label_ids: list[str]) -> None:
        self._call("detach_labels", contact_id, label_ids=label_ids)

    async def set_interest(self, lead_id_or_email: str, interested: bool) -> None:
        self._call("set_interest", None, lead=lead_id_or_email, interested=interested)

    async def send_email(self, *, contact_id: str, **fields: Any) -> None:
        self._call("send_email", contact_id, **fields)

    async def send_linkedin(self, *, contact_id: str, **fields: Any) -> None:
        self._call("send_linkedin", contact_id, **fields)

    async def send_whatsapp(self, *, contact_id: str, **fields: Any) -> None:
        self._call("send_whatsapp", contact_id, **fields)

    async def create_draft(self, contact_id: str, owner: str, **fields: Any) -> str:
        self._call("create_draft", contact_id, owner=owner, **fields)
        self.drafts += 1
        return f"drf_{self.drafts}"

    async def update_draft(self, contact_id: str, draft_id: str, owner: str, **fields: Any) -> None:
        self._call("update_draft", contact_id, draft_id=draft_id, owner=owner, **fields)

    async def delete_draft(self, contact_id: str, draft_id: str, owner: str) -> None:
        self._call("delete_draft", contact_id, draft_id=draft_id, owner=owner)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Clock:
    """The sender's sleep, held by the test: each backoff is recorded, and lasts until
    the test ends it (or the sender is cancelled)."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._started: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        over: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._started.put_nowait(over)
        await over

    async def next_wait(self, task: asyncio.Task[None]) -> asyncio.Future[None]:
        """The next backoff, once the sender is in it; set its result to end it."""
        return await until(self._started.get(), task)


async def until(awaitable: Awaitable[T], task: asyncio.Task[None]) -> T:
    """``awaitable``'s result, failing the test if the sender's task ends first (a crash)
    or nothing comes within :data:`DEADLINE`."""
    waiter = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait(
        {waiter, task}, timeout=DEADLINE, return_when=asyncio.FIRST_COMPLETED
    )
    if waiter in done:
        return waiter.result()
    waiter.cancel()
    if task in done:
        raise AssertionError(f"the sender stopped: {task.exception()!r}")
    raise AssertionError(f"nothing came within {DEADLINE} s")


async def idle(sender: OutboxSender, task: asyncio.Task[None]) -> None:
    """Until the sender says it is idle (as the app's waits ask it: tests/app_waits.py)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    # Polled: no event says the sender has gone idle.
    while not sender.idle:
        if task.done():
            raise AssertionError(f"the sender stopped: {task.exception()!r}")
        if loop.time() > deadline:
            raise AssertionError(f"the sender was not idle within {DEADLINE} s")
        await asyncio.sleep(0.001)


@contextlib.asynccontextmanager
async def running(sender: OutboxSender) -> AsyncIterator[asyncio.Task[None]]:
    """``sender.run()`` as the app runs it, cancelled at the end (a crash is raised)."""
    task = asyncio.create_task(sender.run())
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait({task}, timeout=DEADLINE)
        assert task.done(), "the sender outlived its cancel"
        if not task.cancelled():
            task.result()


def label(contact: str, target: str | None = "lab_1") -> Action:
    return Action(Kind.LABEL, contact, target=target)


def written(
    db: InboxDatabase,
    channel: str = "email",
    *,
    fields: dict[str, str] | None = None,
    subject: str | None = "Re: Pricing",
    draft_id: str | None = None,
) -> Reply:
    return Replies(db).save(
        Reply(
            contact_id="ctc_1",
            user_id="usr_me",
            channel=channel,
            body="Hi <Ana>,\n\nYes.",
            subject=subject,
            conversation_id="ibx_1",
            fields=FIELDS if fields is None else fields,
            draft_id=draft_id,
        )
    )


def queue(db: InboxDatabase, reply: Reply, kind: Kind = Kind.REPLY) -> None:
    action = Action(kind, reply.contact_id, reply.conversation_id, reply.user_id, str(reply.id))
    assert Outbox(db).add([action]).queued == 1


def reply_of(db: InboxDatabase, reply: Reply) -> Reply:
    got = Replies(db).get(reply.id or 0)
    assert got is not None
    return got


def refuse_writes_to_the_outbox(db: InboxDatabase, reason: str) -> None:
    """As a disk that refuses what the sender writes (its state changes), until
    :func:`allow_writes_to_the_outbox`."""
    db.write(
        "written",
        lambda c: c.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON outbox "
            f"BEGIN SELECT RAISE(ABORT, '{reason}'); END"
        ),
    )


def allow_writes_to_the_outbox(db: InboxDatabase) -> None:
    db.write("written", lambda c: c.execute("DROP TRIGGER refuse"))


# --- the run loop: backoff, wake, the undo time ------------------------------------------------


async def test_offline_the_sender_waits_2_s_doubling_to_a_minute_and_tries_once_each_time(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    lemlist, clock, batches = Lemlist(), Clock(), []
    sender = OutboxSender(outbox, lemlist, sleep=clock.sleep, changed=lambda: batches.append(1))
    lemlist.sender = sender
    # A sender not started has sent nothing and waits for nothing (the app's waits).
    assert (sender.sent, sender.backoff, sender.idle) == (0, 0.0, False)
    outbox.add([label("ctc_1")])
    lemlist.down = NetworkError("connection refused", unsent=True)

    async with running(sender) as task:
        for tries, seconds in enumerate([2.0, 4.0, 8.0, 16.0, 32.0, MAX_BACKOFF, MAX_BACKOFF], 1):
            over = await clock.next_wait(task)
            assert clock.waits[-1] == seconds
            assert sender.idle  # out a backoff
            assert len(lemlist.calls) == tries == len(batches)
            assert outbox.summary().sentence() == f"1 to send, waiting: {OFFLINE}"
            assert str(sender.last_failure) == OFFLINE
            if tries == 7:
                lemlist.down = None  # lemlist is back
            over.set_result(None)

        await until(lemlist.arrived.get(), task)
        await idle(sender, task)
        assert outbox.summary().empty and sender.sent == 1
        assert sender.backoff == 0.0  # not waiting

        # Offline again: the wait starts over at 2 s, not where it was.
        lemlist.down = NetworkError("connection refused", unsent=True)
        outbox.add([label("ctc_2")])
        sender.wake()
        over = await clock.next_wait(task)
        assert clock.waits[-1] == 2.0
        over.set_result(None)
        await clock.next_wait(task)

    assert lemlist.names() == ["attach_labels"] * 10
    assert not any(lemlist.idle_then)  # never "idle" while a request is out
    assert clock.waits == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 2.0, 4.0]


async def test_wake_ends_a_backoff_at_once(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    lemlist = Lemlist()
    lemlist.refuse["ctc_1"] = [NetworkError("connection refused", unsent=True)]
    batch = asyncio.Event()
    sender = OutboxSender(outbox, lemlist, changed=batch.set)
    outbox.add([label("ctc_1")])

    async with running(sender) as task:
        await until(batch.wait(), task)  # the first try failed: now out its 2 s backoff
        assert sender.idle and sender.backoff == 2.0
        started = asyncio.get_running_loop().time()
        sender.wake()  # R, or something new queued
        assert not sender.idle and sender.backoff == 0.0  # busy until it has looked again
        await until(lemlist.arrived.get(), task)
        await until(lemlist.arrived.get(), task)
        assert asyncio.get_running_loop().time() - started < 1.0
        await idle(sender, task)

    assert lemlist.names() == ["attach_labels", "attach_labels"]
    assert outbox.summary().empty


@pytest.mark.parametrize("waiting", ["backoff", "undo time"])
async def test_a_cancel_that_meets_a_wake_still_stops_the_sender(
    db: InboxDatabase, monkeypatch: pytest.MonkeyPatch, waiting: str
) -> None:
    # The app quits (its worker cancelled) in the loop turn something wakes the sender:
    # on Python 3.11, asyncio.wait_for lost that cancel and the sender ran on.
    outbox = Outbox(db)
    lemlist = Lemlist()
    waits = asyncio.Event()
    if waiting == "backoff":
        lemlist.refuse["ctc_1"] = [NetworkError("connection refused", unsent=True)]
        sender = OutboxSender(outbox, lemlist, changed=waits.set)  # then its 2 s backoff
    else:
        sender = OutboxSender(outbox, lemlist, held_for=60.0)
        next_due = outbox.next_due

        def looked(held_for: float) -> float | None:
            due = next_due(held_for)
            waits.set()  # the change is held: the sender waits out its undo time
            return due

        monkeypatch.setattr(outbox, "next_due", looked)
    outbox.add([label("ctc_1")])
    task = asyncio.create_task(sender.run())
    try:
        await until(waits.wait(), task)
        sender.wake()
        task.cancel()
        await asyncio.wait({task}, timeout=DEADLINE)
        assert task.cancelled()
    finally:
        task.cancel()
    assert lemlist.names() == (["attach_labels"] if waiting == "backoff" else [])


async def test_offline_the_sender_tries_again_by_itself_when_its_backoff_is_over(
    db: InboxDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "FIRST_BACKOFF", 0.05)  # a backoff the test can wait out
    outbox = Outbox(db)
    lemlist = Lemlist()
    lemlist.refuse["ctc_1"] = [NetworkError("connection refused", unsent=True)]
    sender = OutboxSender(outbox, lemlist)
    outbox.add([label("ctc_1")])

    async with running(sender) as task:
        await until(lemlist.arrived.get(), task)
        await until(lemlist.arrived.get(), task)  # no wake: the backoff ran out
        await idle(sender, task)

    assert lemlist.at[1] - lemlist.at[0] >= 0.05
    assert outbox.summary().empty and sender.sent == 1


async def test_a_change_waits_its_undo_time_then_goes_by_itself(db: InboxDatabase) -> None:
    held_for = 0.1
    outbox = Outbox(db)
    lemlist = Lemlist()
    sender = OutboxSender(outbox, lemlist, held_for=held_for)

    async with running(sender) as task:
        await idle(sender, task)  # nothing to send
        queued_at = time.time()
        outbox.add([label("ctc_1")])
        sender.wake()
        await until(lemlist.arrived.get(), task)  # no second wake: its time ran out
        await idle(sender, task)

    assert lemlist.at[0] >= queued_at + held_for
    assert outbox.summary().empty


async def test_a_change_behind_a_refused_one_leaves_the_sender_idle_until_retried(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    lemlist = Lemlist()
    lemlist.refuse["ctc_1"] = [BadRequestError(404, "Label not found")]
    sender = OutboxSender(outbox, lemlist)
    outbox.add([label("ctc_1", "lab_1")])

    async with running(sender) as task:
        await until(lemlist.arrived.get(), task)
        await idle(sender, task)  # refused: no backoff, nothing else to send
        outbox.add([label("ctc_1", "lab_2")])  # same contact and lane: waits its turn
        sender.wake()
        await idle(sender, task)  # waiting for the user, not trying over and over
        assert lemlist.names() == ["attach_labels"]
        assert outbox.summary().sentence() == (
            "1 to send, waiting: lemlist said: Label not found (404)., 1 refused"
        )
        assert outbox.retry_failed() == 1  # R
        sender.wake()
        await until(lemlist.arrived.get(), task)
        await until(lemlist.arrived.get(), task)
        await idle(sender, task)

    assert [call["label_ids"] for _, call in lemlist.calls] == [["lab_1"], ["lab_1"], ["lab_2"]]
    assert outbox.summary().empty


async def test_a_disk_that_refuses_the_outcome_holds_the_send_and_says_why(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    lemlist, clock, batches = Lemlist(), Clock(), []
    sender = OutboxSender(outbox, lemlist, sleep=clock.sleep, changed=lambda: batches.append(1))
    outbox.add([label("ctc_1")])
    refuse_writes_to_the_outbox(db, "database or disk is full")

    async with running(sender) as task:
        over = await clock.next_wait(task)
        assert sender.error == "The local inbox could not be written: the disk is full."
        assert lemlist.calls == []  # nothing goes out that could not be recorded
        assert outbox.summary().pending == 1 and batches == [1]
        allow_writes_to_the_outbox(db)  # room again
        over.set_result(None)
        await until(lemlist.arrived.get(), task)
        await idle(sender, task)
        assert sender.error is None

    assert clock.waits == [2.0] and batches == [1, 1]
    assert outbox.summary().empty and sender.sent == 1


async def test_a_read_the_disk_refuses_leaves_the_sender_waiting_not_dead(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    lemlist = Lemlist()
    sender = OutboxSender(outbox, lemlist)

    async with running(sender) as task:
        await idle(sender, task)
        # As a damaged file: the outbox cannot be read for a while.
        db.write("written", lambda c: c.execute("ALTER TABLE outbox RENAME TO outbox_away"))
        with pytest.raises(StorageError):
            outbox.sendable(5)
        sender.wake()
        await idle(sender, task)
        db.write("written", lambda c: c.execute("ALTER TABLE outbox_away RENAME TO outbox"))
        outbox.add([label("ctc_1")])
        sender.wake()
        await until(lemlist.arrived.get(), task)
        await idle(sender, task)

    assert lemlist.names() == ["attach_labels"] and outbox.summary().empty


async def test_at_start_a_reply_left_out_is_unknown_and_a_label_goes_once(
    db: InboxDatabase,
) -> None:
    reply = written(db)
    queue(db, reply)
    outbox = Outbox(db)
    outbox.add([label("ctc_2")])
    assert len(outbox.sending([row.id for row in outbox.sendable(5)])) == 2  # then it died
    lemlist = Lemlist()
    sender = OutboxSender(outbox, lemlist)

    async with running(sender) as task:
        await until(lemlist.arrived.get(), task)
        await idle(sender, task)

    assert lemlist.names() == ["attach_labels"]
    assert reply_of(db, reply).state == "unknown"
    assert outbox.summary().sentence() == "1 may have been sent: check the thread (R)"


# --- drain: what one failure does to the rest -----------------------------------------------


async def test_sent_counts_each_delivered_change_and_names_it(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    actions = [label("ctc_1"), Action(Kind.INTERESTED, "ctc_2", target="lea_2")]
    outbox.add(actions)
    delivered: list[Action] = []
    sender = OutboxSender(outbox, Lemlist(), delivered=delivered.append)
    await sender.drain()
    assert sender.sent == 2  # "outbox: 2 sent"
    assert delivered == actions
    assert sender.last_failure is None and sender.error is None


async def test_drain_leaves_a_change_in_its_undo_time_alone(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    outbox.add([label("ctc_1")])
    lemlist = Lemlist()
    await OutboxSender(outbox, lemlist, held_for=60.0).drain()
    assert lemlist.calls == [] and outbox.summary().pending == 1


@pytest.mark.parametrize("fate", ["unknown", "refused", "damaged"])
async def test_one_changes_fate_does_not_stop_the_rest_from_going(
    db: InboxDatabase, fate: str
) -> None:
    lemlist = Lemlist()
    outbox = Outbox(db)
    failure: Exception | None = None
    if fate == "unknown":
        queue(db, written(db))
        failure = OutcomeUnknownError(NetworkError("the connection dropped"))
    elif fate == "refused":
        outbox.add([label("ctc_1")])
        failure = BadRequestError(404, "Label not found")
    else:
        outbox.add([label("ctc_1", None)])
    if failure is not None:
        lemlist.refuse["ctc_1"] = [failure]
    others = [f"ctc_{n}" for n in range(2, 7)]
    outbox.add([label(contact) for contact in others])  # a batch and one more

    await OutboxSender(outbox, lemlist).drain()

    sent = [call["contact_id"] for name, call in lemlist.calls if name == "attach_labels"]
    assert sent[-5:] == others
    summary = outbox.summary()
    assert summary.pending == 0
    assert (summary.unknown, summary.failed) == ((1, 0) if fate == "unknown" else (0, 1))


@pytest.mark.parametrize(
    "failure",
    [OutcomeUnknownError(NetworkError("the connection dropped")), BadRequestError(400, "No")],
    ids=["unknown", "refused"],
)
async def test_the_newest_failure_is_the_one_kept(db: InboxDatabase, failure: Exception) -> None:
    queue(db, written(db))
    lemlist = Lemlist()
    lemlist.refuse["ctc_1"] = [failure]
    sender = OutboxSender(Outbox(db), lemlist)
    await sender.drain()
    assert sender.last_failure is failure
    assert reply_of(db, Reply("ctc_1", "usr_me", "email", "", id=1)).error == str(failure)


# --- each channel's request -----------------------------------------------------------------


async def test_an_email_reply_carries_every_field_lemlist_needs(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply)
    untitled = Replies(db).save(replace(reply, id=None, subject=None, contact_id="ctc_2"))
    queue(db, untitled)
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    expected = {
        "send_user_id": "usr_me",
        "contact_id": "ctc_1",
        "lead_id": "lea_1",
        "send_user_email": "me@acme.example",
        "mailbox_id": "mbx_1",
        "subject": "Re: Pricing",
        "html": "<p>Hi &lt;Ana&gt;,</p><p>Yes.</p>",
    }
    assert lemlist.calls == [
        ("send_email", expected),
        ("send_email", {**expected, "contact_id": "ctc_2", "subject": ""}),
    ]


async def test_a_whatsapp_reply_goes_from_the_senders_account_as_text(db: InboxDatabase) -> None:
    reply = written(db, "whatsapp")
    queue(db, reply)
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    assert lemlist.calls == [
        (
            "send_whatsapp",
            {"send_user_id": "usr_me", "contact_id": "ctc_1", "lead_id": "lea_1",
             "whatsapp_account_id": "wac_1", "message": "Hi <Ana>,\n\nYes."},
        )
    ]  # fmt: skip
    assert reply_of(db, reply).state == "sent"


async def test_a_reply_lacking_a_field_is_refused_here_with_the_fields_name(
    db: InboxDatabase,
) -> None:
    fields = {k: v for k, v in FIELDS.items() if k != "sendUserWhatsappAccountId"}
    reply = written(db, "whatsapp", fields=fields)
    queue(db, reply)
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    reason = "The reply lacks sendUserWhatsappAccountId: open it again with R to check it."
    assert lemlist.calls == []
    assert Outbox(db).summary().sentence() == f"1 refused: {reason}"
    assert reply_of(db, reply).error == reason


async def test_a_reply_on_a_channel_lemlist_cannot_send_is_refused_in_a_sentence(
    db: InboxDatabase,
) -> None:
    reply = written(db, "carrier-pigeon-express-post")
    queue(db, reply)
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    assert lemlist.calls == []
    assert reply_of(db, reply).error == "lemlist cannot send a reply on 'carrier-pigeon-expre'."


async def test_a_chat_draft_has_no_subject_and_an_email_draft_update_keeps_it(
    db: InboxDatabase,
) -> None:
    chat = written(db, "linkedin")
    queue(db, chat, Kind.DRAFT)
    email = Replies(db).save(replace(written(db), id=None, contact_id="ctc_2", draft_id="drf_7"))
    queue(db, email, Kind.DRAFT)
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    assert lemlist.calls == [
        (
            "create_draft",
            {"contact_id": "ctc_1", "owner": "usr_me", "channel": "linkedin",
             "content": "Hi <Ana>,\n\nYes.", "subject": None},
        ),
        (
            "update_draft",
            {"contact_id": "ctc_2", "draft_id": "drf_7", "owner": "usr_me",
             "content": "<p>Hi &lt;Ana&gt;,</p><p>Yes.</p>", "subject": "Re: Pricing"},
        ),
    ]  # fmt: skip
    assert reply_of(db, chat).draft_id == "drf_1"
    assert reply_of(db, email).state == "saved" and reply_of(db, email).draft_id == "drf_7"


async def test_a_reply_sent_from_a_lemlist_draft_deletes_that_draft_best_effort(
    db: InboxDatabase,
) -> None:
    reply = written(db, draft_id="drf_3")
    queue(db, reply)
    lemlist = Lemlist()
    gone = ServerError(502)
    lemlist.refuse["delete_draft"] = [gone]
    sender = OutboxSender(Outbox(db), lemlist)
    await sender.drain()
    assert lemlist.calls[1] == (
        "delete_draft",
        {"contact_id": "ctc_1", "draft_id": "drf_3", "owner": "usr_me"},
    )
    assert reply_of(db, reply).state == "sent"  # sent whatever became of the draft
    assert Outbox(db).summary().empty
    assert sender.last_failure is gone


async def test_a_draft_deletion_names_the_contact_draft_and_owner(db: InboxDatabase) -> None:
    Outbox(db).add([Action(Kind.DRAFT_DELETE, "ctc_1", "ibx_1", "usr_me", "drf_9")])
    lemlist = Lemlist()
    lemlist.refuse["ctc_1"] = [NotFoundError("such draft", "Draft not found")]
    await OutboxSender(Outbox(db), lemlist).drain()
    assert lemlist.calls == [
        ("delete_draft", {"contact_id": "ctc_1", "draft_id": "drf_9", "owner": "usr_me"})
    ]
    assert Outbox(db).summary().empty  # gone already: done


async def test_a_reply_entry_that_lost_its_reply_number_sends_no_other_reply(
    db: InboxDatabase,
) -> None:
    reply = written(db)  # reply number 1
    queue(db, reply)
    db.write("written", lambda c: c.execute("UPDATE outbox SET target = NULL"))
    lemlist = Lemlist()
    await OutboxSender(Outbox(db), lemlist).drain()
    assert lemlist.calls == []
    assert Outbox(db).summary().sentence() == (
        "1 refused: The reply this entry sends is gone from the local database."
    )


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config(size=60))


async def test_a_label_is_added_to_those_lemlist_lists_not_instead(
    db: InboxDatabase, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, had = next(
        (demo.contact_id_of(c), min(demo.labels_of(c)))
        for c in demo.conversation_ids()
        if demo.labels_of(c)
    )
    known = set().union(*(demo.labels_of(c) for c in demo.conversation_ids()))
    added = min(known - {had})
    outbox = Outbox(db)
    assert outbox.add([label(contact, added)]).queued == 1
    await OutboxSender(outbox, client).drain()
    assert outbox.summary().empty
    assert {had, added} <= demo.labels_of(contact)


# --- the replies' table ---------------------------------------------------------------------


def test_a_saved_reply_reads_back_as_written(db: InboxDatabase) -> None:
    replies = Replies(db, clock=lambda: 1234.5)
    reply = Reply(
        contact_id="ctc_1",
        user_id="usr_me",
        channel="email",
        body="Hi",
        subject="Re: Pricing",
        conversation_id="ibx_9",
        fields={"leadId": "lea_1"},
    )
    stored = replies.save(reply)
    assert stored.id is not None
    assert stored == dataclasses.replace(reply, id=stored.id, state="draft", updated_at=1234.5)
    assert replies.get(stored.id or 0) == stored


def test_editing_a_reply_changes_that_reply_not_a_new_one(db: InboxDatabase) -> None:
    now = [100.0]
    replies = Replies(db, clock=lambda: now[0])
    first = replies.save(Reply("ctc_1", "usr_me", "email", "v1", conversation_id="ibx_1"))
    now[0] = 200.0
    edited = replies.save(replace(first, body="v2"))
    assert (edited.id, edited.body, edited.updated_at) == (first.id, "v2", 200.0)
    assert replies.open_for("ctc_1", "usr_me") == edited
    assert db.read_connection.execute("SELECT count(*) FROM replies").fetchone()[0] == 1


@pytest.mark.parametrize("kept", ['["sendUserId"]', "not json", '{"leadId": 5, "sendUserId": "u"}'])
def test_damaged_fields_read_back_as_none_or_the_text_ones(db: InboxDatabase, kept: str) -> None:
    reply = written(db)
    db.write("written", lambda c: c.execute("UPDATE replies SET fields = ?", (kept,)))
    expected = {"sendUserId": "u"} if kept.startswith("{") else {}
    assert reply_of(db, reply).fields == expected


def test_a_reply_the_disk_refuses_is_a_sentence(db: InboxDatabase) -> None:
    reply = written(db)
    db.write("written", lambda connection: connection.execute("PRAGMA query_only = 1"))
    with pytest.raises(StorageError) as saving:
        Replies(db).save(replace(reply, body="changed"))
    with pytest.raises(StorageError) as discarding:
        Replies(db).discard(reply.id or 0)
    assert str(saving.value) == str(discarding.value) == READ_ONLY
    assert reply_of(db, reply) == reply


def test_a_reply_gone_as_it_is_saved_is_a_sentence(db: InboxDatabase) -> None:
    """Another process deleting the row between the write and its read back."""
    db.write(
        "written",
        lambda c: c.execute(
            "CREATE TRIGGER vanish AFTER INSERT ON replies "
            "BEGIN DELETE FROM replies WHERE id = NEW.id; END"
        ),
    )
    with pytest.raises(
        StorageError, match=r"^The reply could not be read back from the local database\.$"
    ):
        written(db)
