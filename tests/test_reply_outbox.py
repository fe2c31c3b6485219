"""Replies and lemlist drafts through the outbox, on a real SQLite file: queued here at
once, undoable until they go, sent once, and never sent again once their fate is unknown
(not by the sender, not after a crash). The client is a recorder: what reaches lemlist is
the demo API's business (tests/test_reply_flow.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lemlist_tui.api.errors import (
    BadRequestError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
)
from lemlist_tui.db import InboxDatabase
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.db.replies import Replies, Reply
from lemlist_tui.sync.sender import OutboxSender

FIELDS = {
    "sendUserId": "usr_me",
    "contactId": "ctc_1",
    "leadId": "lea_1",
    "sendUserEmail": "me@acme.example",
    "sendUserMailboxId": "mbx_1",
}


class Recorder:
    """An ActionClient that records each call, or fails with the next queued error."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[Exception] = []
        self.drafts = 0

    def _record(self, name: str, **fields: Any) -> None:
        self.calls.append((name, fields))
        if self.failures:
            raise self.failures.pop(0)

    async def mark_read(self, contact_id: str, user_id: str) -> None:
        self._record("mark_read", contact_id=contact_id)

    async def attach_labels(
        self, contact_id: str, label_ids: list[str], *, append: bool = True
    ) -> None:
        self._record("attach_labels", contact_id=contact_id, label_ids=label_ids)

    async def detach_labels(self, contact_id: str, label_ids: list[str]) -> None:
        self._record("detach_labels", contact_id=contact_id)

    async def set_interest(self, lead_id_or_email: str, interested: bool) -> None:
        self._record("set_interest", lead=lead_id_or_email)

    async def send_email(self, **fields: Any) -> None:
        self._record("send_email", **fields)

    async def send_linkedin(self, **fields: Any) -> None:
        self._record("send_linkedin", **fields)

    async def send_whatsapp(self, **fields: Any) -> None:
        self._record("send_whatsapp", **fields)

    async def create_draft(self, contact_id: str, owner: str, **fields: Any) -> str:
        self._record("create_draft", contact_id=contact_id, owner=owner, **fields)
        self.drafts += 1
        return f"drf_{self.drafts}"

    async def update_draft(self, contact_id: str, draft_id: str, owner: str, **fields: Any) -> None:
        self._record("update_draft", draft_id=draft_id, **fields)

    async def delete_draft(self, contact_id: str, draft_id: str, owner: str) -> None:
        self._record("delete_draft", draft_id=draft_id, owner=owner)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[InboxDatabase]:
    database = InboxDatabase(tmp_path / "account")
    yield database
    database.close()


def written(db: InboxDatabase, channel: str = "email", body: str = "Hi <Ana>,\n\nYes.") -> Reply:
    return Replies(db).save(
        Reply(
            contact_id="ctc_1",
            user_id="usr_me",
            channel=channel,
            body=body,
            subject="Re: Pricing",
            conversation_id="ibx_1",
            fields=FIELDS,
        )
    )


def queue(db: InboxDatabase, reply: Reply, kind: Kind = Kind.REPLY) -> int:
    action = Action(kind, reply.contact_id, reply.conversation_id, "usr_me", str(reply.id))
    return Outbox(db).add([action]).queued


def sender(db: InboxDatabase, client: Recorder) -> OutboxSender:
    return OutboxSender(Outbox(db), client)


def state(db: InboxDatabase, reply: Reply) -> str:
    got = Replies(db).get(reply.id or 0)
    assert got is not None
    return got.state


async def test_a_reply_is_sent_once_as_html_and_is_then_sent(db: InboxDatabase) -> None:
    reply = written(db)
    assert queue(db, reply) == 1
    assert state(db, reply) == "queued"
    assert queue(db, reply) == 0  # S twice: one send
    client = Recorder()
    await sender(db, client).drain()
    assert client.names() == ["send_email"]
    fields = client.calls[0][1]
    assert fields["html"] == "<p>Hi &lt;Ana&gt;,</p><p>Yes.</p>"
    assert fields["subject"] == "Re: Pricing"
    assert fields["mailbox_id"] == "mbx_1" and fields["lead_id"] == "lea_1"
    assert state(db, reply) == "sent"
    assert Replies(db).open_for("ctc_1", "usr_me") is None  # R starts afresh
    await sender(db, client).drain()
    assert len(client.calls) == 1


async def test_a_chat_reply_is_sent_as_its_text(db: InboxDatabase) -> None:
    reply = written(db, "linkedin", "Great <3")
    queue(db, reply)
    client = Recorder()
    await sender(db, client).drain()
    assert client.calls == [
        (
            "send_linkedin",
            {"send_user_id": "usr_me", "contact_id": "ctc_1", "lead_id": "lea_1",
             "message": "Great <3"},
        )
    ]  # fmt: skip


async def test_undo_before_it_goes_keeps_the_text_and_sends_nothing(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply)
    undone = Outbox(db).undo()
    assert undone.withdrawn == 1 and "reply" in undone.sentence()
    assert state(db, reply) == "draft"
    client = Recorder()
    await sender(db, client).drain()
    assert client.calls == []
    kept = Replies(db).open_for("ctc_1", "usr_me")
    assert kept is not None and kept.body == reply.body


async def test_a_sent_reply_cannot_be_undone_and_it_is_said(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply)
    await sender(db, Recorder()).drain()
    undone = Outbox(db).undo()
    assert undone.nothing and "final" in undone.sentence()


async def test_an_unknown_fate_is_kept_and_never_sent_again_by_itself(
    db: InboxDatabase,
) -> None:
    reply = written(db)
    queue(db, reply)
    client = Recorder()
    client.failures.append(OutcomeUnknownError(NetworkError("the connection dropped")))
    one = sender(db, client)
    await one.drain()
    assert state(db, reply) == "unknown"
    summary = Outbox(db).summary()
    assert summary.unknown == 1 and summary.pending == 0
    assert "may have been sent" in (summary.sentence() or "")
    kept = Replies(db).get(reply.id or 0)
    assert kept is not None and "may have been sent" in (kept.error or "")
    await one.drain()
    await sender(db, client).drain()  # a restart
    assert client.names() == ["send_email"]


async def test_sending_again_after_checking_is_the_users_call_and_settles_it(
    db: InboxDatabase,
) -> None:
    reply = written(db)
    queue(db, reply)
    client = Recorder()
    client.failures.append(OutcomeUnknownError(NetworkError("dropped")))
    await sender(db, client).drain()
    assert queue(db, reply) == 1  # the user checked the thread, and says so
    assert Outbox(db).summary().unknown == 0
    await sender(db, client).drain()
    assert client.names() == ["send_email", "send_email"]
    assert state(db, reply) == "sent"


async def test_forgetting_an_unknown_reply_clears_the_status_line(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply)
    client = Recorder()
    client.failures.append(OutcomeUnknownError(NetworkError("dropped")))
    await sender(db, client).drain()
    assert Replies(db).discard(reply.id or 0)
    assert Outbox(db).summary().empty
    assert Replies(db).open_for("ctc_1", "usr_me") is None


async def test_a_crash_while_a_reply_was_out_makes_it_unknown_not_pending(
    db: InboxDatabase,
) -> None:
    reply = written(db)
    queue(db, reply)
    label = Action(Kind.LABEL, "ctc_2", target="lab_1")
    outbox = Outbox(db)
    assert outbox.add([label]).queued == 1
    ids = [row.id for row in outbox.sendable(10)]
    assert outbox.sending(ids) == ids  # both out, then the process dies
    assert outbox.recover() == 1  # the label goes back to pending (it is idempotent)
    assert state(db, reply) == "unknown"
    client = Recorder()
    await sender(db, client).drain()
    assert client.names() == ["attach_labels"]


@pytest.mark.parametrize(
    "refusal",
    [RateLimitedError(120.0), NetworkError("connection refused", unsent=True)],
    ids=["rate-limited", "never-connected"],
)
async def test_a_send_refused_before_it_left_waits_and_goes_later(
    db: InboxDatabase, refusal: Exception
) -> None:
    reply = written(db)
    queue(db, reply)
    client = Recorder()
    client.failures.append(refusal)
    await sender(db, client).drain()
    assert state(db, reply) == "queued"
    assert Outbox(db).summary().pending == 1
    await sender(db, client).drain()
    assert client.names() == ["send_email", "send_email"]
    assert state(db, reply) == "sent"


async def test_a_reply_lemlist_refuses_keeps_its_text_and_reason(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply)
    client = Recorder()
    client.failures.append(BadRequestError(400, "leadId is required"))
    await sender(db, client).drain()
    summary = Outbox(db).summary()
    assert summary.failed == 1 and "leadId is required" in (summary.error or "")
    Outbox(db).undo()  # z: back to a draft, to mend and send again
    assert state(db, reply) == "draft"


async def test_a_reply_does_not_wait_behind_a_refused_label_of_the_same_contact(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lab_1")])
    client = Recorder()
    client.failures.append(BadRequestError(404, "Label not found"))
    await sender(db, client).drain()
    reply = written(db)
    queue(db, reply)
    await sender(db, client).drain()
    assert client.names() == ["attach_labels", "send_email"]


async def test_a_draft_is_saved_then_updated_not_made_twice(db: InboxDatabase) -> None:
    reply = written(db)
    queue(db, reply, Kind.DRAFT)
    assert state(db, reply) == "saving"
    client = Recorder()
    await sender(db, client).drain()
    saved = Replies(db).get(reply.id or 0)
    assert saved is not None and saved.state == "saved" and saved.draft_id == "drf_1"
    assert client.calls[0][1] == {
        "contact_id": "ctc_1",
        "owner": "usr_me",
        "channel": "email",
        "content": "<p>Hi &lt;Ana&gt;,</p><p>Yes.</p>",
        "subject": "Re: Pricing",
    }
    edited = Replies(db).save(replace(saved, body="Changed."))
    assert edited.state == "draft" and edited.draft_id == "drf_1"
    queue(db, edited, Kind.DRAFT)
    await sender(db, client).drain()
    assert client.names() == ["create_draft", "update_draft"]
    assert client.calls[1][1]["draft_id"] == "drf_1"


def test_a_reply_on_its_way_cannot_be_edited_and_a_sent_one_not_discarded(
    db: InboxDatabase,
) -> None:
    reply = written(db)
    queue(db, reply)
    again = Replies(db).save(replace(reply, body="changed while queued"))
    assert again.id != reply.id  # a new text, the queued one untouched
    queued = Replies(db).get(reply.id or 0)
    assert queued is not None and queued.state == "queued" and queued.body == reply.body
    assert not Replies(db).discard(reply.id or 0)


async def test_a_draft_deletion_is_undoable_until_it_goes_and_a_404_is_done(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    delete = Action(Kind.DRAFT_DELETE, "ctc_1", "ibx_1", "usr_me", "drf_9")
    assert outbox.add([delete]).queued == 1
    assert outbox.add([delete]).queued == 0  # x twice: one request
    assert outbox.undo().withdrawn == 1
    client = Recorder()
    await sender(db, client).drain()
    assert client.calls == []
    outbox.add([delete])
    client.failures.append(NotFoundError("such draft", "Draft not found"))
    await sender(db, client).drain()
    assert client.calls == [("delete_draft", {"draft_id": "drf_9", "owner": "usr_me"})]
    assert outbox.summary().empty  # gone already is done


async def test_a_reply_made_from_a_lemlist_draft_deletes_it_once_sent(
    db: InboxDatabase,
) -> None:
    reply = Replies(db).save(replace(written(db), id=None, draft_id="drf_3"))
    queue(db, reply)
    client = Recorder()
    await sender(db, client).drain()
    assert client.names() == ["send_email", "delete_draft"]
    assert state(db, reply) == "sent"


def test_z_takes_back_a_damaged_reply_entry_without_a_crash(db: InboxDatabase) -> None:
    """A reply's entry whose reply number is gone (a damaged file): the sender fails it
    with a sentence saying z takes it back, and z does, with no exception."""
    reply = written(db)
    queue(db, reply)
    db.write("written", lambda c: c.execute("UPDATE outbox SET target = NULL"))

    undone = Outbox(db).undo()

    assert undone.withdrawn == 1
    assert Outbox(db).summary().empty


def test_z_takes_back_a_reply_entry_that_lost_its_earlier_state(db: InboxDatabase) -> None:
    """An entry whose earlier state is gone (a damaged file): z withdraws it and leaves
    the reply as it is, rather than writing an empty state over it."""
    reply = written(db)
    queue(db, reply)
    db.write("written", lambda c: c.execute("UPDATE outbox SET previous = NULL"))

    undone = Outbox(db).undo()

    assert undone.withdrawn == 1
    assert Outbox(db).summary().empty
    assert state(db, reply) == "queued"
