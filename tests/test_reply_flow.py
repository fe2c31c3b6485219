"""R, end to end, against the demo API: the editor is a script that writes a known text
(``EDITOR``), the review screen decides, and the demo server says what arrived."""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.apps import FIXED, demo_of, inbox, running, settle
from textual.pilot import Pilot
from textual.screen import Screen

from lemlist_tui.db.outbox import Outbox
from lemlist_tui.db.replies import Replies
from lemlist_tui.demo import DemoConfig, Fault
from lemlist_tui.screens.confirm import ConfirmScreen
from lemlist_tui.screens.inbox import READ_ONLY, InboxScreen
from lemlist_tui.screens.reply import ComposeScreen, DraftPicker, ReviewScreen
from lemlist_tui.widgets.status import StatusLine

ONE_USER = DemoConfig(size=300, now=FIXED, users=1)
WRITTEN = "Thanks Ana, Tuesday at 10 works <for us> & the team."

_EDITOR = """\
#!{python}
import os, shutil, stat, sys
path = sys.argv[1]
here = {here!r}
shutil.copyfile(path, os.path.join(here, "received.txt"))
with open(os.path.join(here, "seen.txt"), "w") as seen:
    seen.write(path + "\\n" + oct(stat.S_IMODE(os.stat(path).st_mode)))
with open(path, encoding="utf-8") as file:
    lines = file.read().split("\\n")
at = 2 if lines and lines[0].startswith("Subject:") else 0
lines[at] = {text!r}
with open(path, "w", encoding="utf-8") as file:
    file.write("\\n".join(lines))
"""


def fake_editor(here: Path, text: str = WRITTEN) -> Path:
    """A script for ``EDITOR`` that writes ``text`` on the line to write on, and keeps a
    copy of the file it was given (and its mode) in ``here``."""
    here.mkdir(exist_ok=True)
    script = here / "fake-editor"
    script.write_text(_EDITOR.format(python=sys.executable, here=str(here), text=text))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``EDITOR`` set to :func:`fake_editor`; the folder where it leaves its copies."""
    here = tmp_path / "editor"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(fake_editor(here)))
    return here


def gone(path: str) -> bool:
    return not Path(path).exists()


async def until(pilot: Pilot[None], done: Callable[[], bool], what: str) -> None:
    """Let the app run until ``done()``; bounded in turns, not in time."""
    for _ in range(2000):
        if done():
            return
        await pilot.pause()
    raise AssertionError(f"never: {what}")


async def on_screen(pilot: Pilot[None], kind: type[Screen[Any]]) -> Any:
    await until(pilot, lambda: isinstance(pilot.app.screen, kind), kind.__name__)
    return pilot.app.screen


async def send_from_review(pilot: Pilot[None]) -> ConfirmScreen:
    """``S`` on the review, ``enter`` on its question; the question asked."""
    await pilot.press("S")
    confirm: ConfirmScreen = await on_screen(pilot, ConfirmScreen)
    await pilot.press("enter")
    await settle(pilot)
    return confirm


async def go_to(pilot: Pilot[None], screen: InboxScreen, replied: str, channels: int = 1) -> str:
    """Put the cursor on a conversation whose contact last wrote on ``replied``; its id."""
    rows = screen.conversation_list.rows
    for index in range(len(rows)):
        conversation = screen.session.db.conversation(rows[index].id)
        if (
            conversation is not None
            and conversation.last_replied_channel == replied
            and len(conversation.channels) >= channels
        ):
            screen.conversation_list.cursor = index
            await settle(pilot)  # its thread is fetched and kept
            return rows[index].id
    raise AssertionError(f"no conversation last replied on {replied}")


async def test_r_then_d_saves_the_text_as_a_lemlist_draft(tmp_path: Path, editor: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        await pilot.press("R")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.body.startswith(WRITTEN)
        await pilot.press("d")
        await settle(pilot)
        demo = demo_of(session)
        contact = demo.contact_id_of(conversation_id)
        drafts = demo.drafts_of(contact, screen.user_id)
        assert len(drafts) == 1
        assert drafts[0]["channel"] == "email"
        assert drafts[0]["content"].startswith(
            "<p>Thanks Ana, Tuesday at 10 works &lt;for us&gt; &amp; the team.</p>"
        )
        assert "<blockquote>" in drafts[0]["content"]  # the quote stays quoted
        assert drafts[0]["subject"].startswith("Re: ")
        assert demo.sent_messages(conversation_id) == []  # a draft sends nothing
        # The editor's file was private, and is gone.
        path, mode = (editor / "seen.txt").read_text().split("\n")
        assert mode == "0o600"
        assert gone(path)


async def test_r_then_send_and_confirm_sends_one_email_that_the_thread_then_shows(
    tmp_path: Path, editor: Path
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        await pilot.press("R")
        await on_screen(pilot, ReviewScreen)
        confirm = await send_from_review(pilot)
        assert "cannot be unsent" in confirm.question
        demo = demo_of(session)
        sent = demo.sent_messages(conversation_id)
        assert len(sent) == 1
        body = sent[0]
        assert set(body) >= {
            "sendUserId", "sendUserEmail", "sendUserMailboxId", "contactId", "leadId",
            "subject", "message", "cc",
        }  # fmt: skip
        assert body["sendUserId"] == screen.user_id
        assert body["contactId"] == demo.contact_id_of(conversation_id)
        assert body["leadId"] == demo.lead_id_of(conversation_id)
        assert body["message"].startswith("<p>Thanks Ana, Tuesday at 10 works &lt;for us&gt;")
        # The thread, fetched again, ends with it; the conversation is on top of the list.
        conversation = session.db.conversation(conversation_id)
        assert conversation is not None
        thread = screen.sync.cached_thread(conversation)
        assert thread is not None and thread.messages[-1].html == body["message"]
        assert screen.conversation_list.rows[0].id == conversation_id
        assert Outbox(session.db).summary().empty
        # Pressing S again has nothing to send: R starts a new reply.
        assert Replies(session.db).open_for(body["contactId"], screen.user_id) is None


async def test_cancelling_the_question_sends_nothing_and_keeps_the_text(
    tmp_path: Path, editor: Path
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        await pilot.press("R")
        await on_screen(pilot, ReviewScreen)
        await pilot.press("S")
        await on_screen(pilot, ConfirmScreen)
        await pilot.press("escape")
        await on_screen(pilot, ReviewScreen)  # back to the review, nothing queued
        await pilot.press("escape")
        await settle(pilot)
        assert demo_of(session).sent_messages(conversation_id) == []
        assert Outbox(session.db).summary().empty


@pytest.mark.parametrize(
    ("channel", "fields"),
    [
        ("linkedin", {"sendUserId", "leadId", "contactId", "message"}),
        (
            "whatsapp",
            {"sendUserId", "sendUserWhatsappAccountId", "contactId", "leadId", "message"},
        ),
    ],
)
async def test_a_chat_reply_goes_on_the_contacts_channel_with_its_fields(
    tmp_path: Path, editor: Path, channel: str, fields: set[str]
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, channel)
        await pilot.press("R")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.channel == channel
        await send_from_review(pilot)
        sent = demo_of(session).sent_messages(conversation_id)
        assert len(sent) == 1
        assert set(sent[0]) - {"channel"} == fields
        assert sent[0]["message"] == WRITTEN  # text, not HTML, and no quote


async def test_c_changes_the_channel_before_sending(tmp_path: Path, editor: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "linkedin", channels=2)
        await pilot.press("R")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.channel == "linkedin"
        await pilot.press("c")
        review = await on_screen(pilot, ReviewScreen)
        await until(pilot, lambda: pilot.app.screen.reply.channel == "email", "email chosen")
        await send_from_review(pilot)
        sent = demo_of(session).sent_messages(conversation_id)
        assert [m["channel"] for m in sent] == ["email"]


async def test_a_send_cut_off_after_lemlist_read_it_is_unknown_and_never_sent_twice(
    tmp_path: Path, editor: Path
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        demo = demo_of(session)
        demo.faults.append(Fault(path_prefix="/api/inbox/email", method="POST", hang_up=True))
        await pilot.press("R")
        await on_screen(pilot, ReviewScreen)
        await send_from_review(pilot)
        assert len(demo.sent_messages(conversation_id)) == 1  # it did arrive
        summary = Outbox(session.db).summary()
        assert summary.unknown == 1 and summary.pending == 0
        await pilot.pause()
        status = str(screen.query_one(StatusLine).render())
        assert "may have been sent" in status
        assert screen.sender is not None
        screen.sender.wake()
        await settle(pilot)
        assert len(demo.sent_messages(conversation_id)) == 1
        assert demo.count(path_prefix="/api/inbox/email") == 1
        # R says what happened and offers the text again.
        await pilot.press("R")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.state == "unknown"
        assert review.query_one("#review-unknown")


async def test_the_text_outlives_a_restart_in_the_middle(tmp_path: Path, editor: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        await pilot.press("R")
        await on_screen(pilot, ReviewScreen)
        app.exit()  # gone with the review up: nothing sent, nothing saved in lemlist
    (editor / "received.txt").unlink()

    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        index = screen.conversation_list.rows.index_of_id(conversation_id)
        assert index is not None
        screen.conversation_list.cursor = index
        await settle(pilot)
        await pilot.press("R")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.body.startswith(WRITTEN)
        assert not (editor / "received.txt").exists()  # offered as it was: no editor
        await pilot.press("e")  # and edited from where it was
        await on_screen(pilot, ReviewScreen)
        await until(pilot, (editor / "received.txt").exists, "the editor ran")
        assert (editor / "received.txt").read_text().startswith("Subject: Re: ")
        assert WRITTEN in (editor / "received.txt").read_text()
        assert demo_of(session).sent_messages(conversation_id) == []


async def test_hostile_text_in_the_quoted_message_reaches_the_editor_as_plain_text(
    tmp_path: Path, editor: Path
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        row = screen.conversation_list.highlighted
        assert row is not None
        demo = demo_of(session)
        contact = demo.contact_id_of(row.id)
        hostile = {
            "data": [
                {
                    "_id": "act_evil",
                    "type": "emailsReplied",
                    "createdAt": "2025-03-14T10:00:00.000Z",
                    "subject": "Re: hi\x1b]0;pwned\x07",
                    "message": "<p>Sure\x1b]52;c;cm0gLXJmIH4=\x07 thing\x1b[2J\u202e</p>"
                    "<script>alert(1)</script><p>\x9b31mred</p>",
                    "leadId": demo.lead_id_of(row.id),
                    "leadEmail": "ana@x.example",
                }
            ],
            "pagination": {"totalItems": 1, "currentPage": 1, "nextPage": None},
        }
        conversation = session.db.conversation(row.id)
        assert conversation is not None
        demo.faults.append(
            Fault(
                path_prefix=f"/api/inbox/{contact}",
                status=200,
                body=orjson.dumps(hostile),
                content_type="application/json",
            )
        )
        await screen.sync.thread(conversation)  # the hostile thread is now the one held
        await pilot.press("R")
        await on_screen(pilot, ReviewScreen)
        received = (editor / "received.txt").read_text(encoding="utf-8")
        assert "> Sure" in received and "thing" in received and "red" in received
        for bad in ("\x1b", "\x07", "\x9b", "\u202e", "alert(1)", "pwned\x07"):
            assert bad not in received
        assert all(ch == "\n" or ch >= " " for ch in received)


async def test_without_an_editor_the_text_is_written_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _):
        screen = inbox(app)
        await go_to(pilot, screen, "linkedin")
        await pilot.press("R")
        await on_screen(pilot, ComposeScreen)
        await pilot.press(*"See you soon")
        await pilot.press("ctrl+s")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.body == "See you soon"


async def test_read_only_sends_nothing_whatever_is_pressed(tmp_path: Path, editor: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):  # kept locally
        pass
    async with running(tmp_path, config=ONE_USER, read_only=True) as (app, pilot, session):
        screen = inbox(app)
        assert screen.sender is None
        assert "Camille Martin · read-only · " in str(screen.query_one(StatusLine).render())
        await go_to(pilot, screen, "email")
        keys = ["m", "n", "m", "i", "x", "R", "l", "v", "v", "m", "z", "enter", "m", "R", "q"]
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        demo = demo_of(session)
        changing = [
            r for r in demo.log
            if r.method != "GET" or r.query.get("markAsRead") == "true"
        ]  # fmt: skip
        assert changing == []
        assert Outbox(session.db).summary().empty
        assert not (editor / "received.txt").exists()
        assert [n.message for n in app._notifications][-1] == READ_ONLY


async def test_lemlist_drafts_are_listed_opened_updated_sent_and_deleted(
    tmp_path: Path, editor: Path
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        conversation_id = await go_to(pilot, screen, "email")
        demo = demo_of(session)
        contact = demo.contact_id_of(conversation_id)
        client = session.client
        assert client is not None
        for subject in ("From the web inbox", "Second thoughts"):
            await client.create_draft(
                contact, screen.user_id, channel="email", content="<p>Hello there</p>",
                subject=subject,
            )  # fmt: skip
        await pilot.press("j", "k")  # drafts are asked for when the cursor rests again
        screen._drafts.clear()
        await pilot.press("j", "k")
        await settle(pilot)
        assert "2 in lemlist (D opens them)" in screen.detail.plain
        assert "“Second thoughts”" in screen.detail.plain

        # D, enter: the newest opens at the review; e edits, d puts it back (PATCH).
        await pilot.press("D")
        picker = await on_screen(pilot, DraftPicker)
        assert [d.subject for d in picker.drafts] == ["Second thoughts", "From the web inbox"]
        await pilot.press("enter")
        review = await on_screen(pilot, ReviewScreen)
        assert review.reply.body == "Hello there" and review.reply.draft_id is not None
        await pilot.press("e")
        await on_screen(pilot, ReviewScreen)
        await until(pilot, lambda: pilot.app.screen.reply.body.startswith(WRITTEN), "edited")
        await pilot.press("d")
        await settle(pilot)
        drafts = demo.drafts_of(contact, screen.user_id)
        assert len(drafts) == 2  # updated, not a third
        assert drafts[0]["content"].startswith("<p>Thanks Ana")
        assert drafts[0]["subject"] == "Second thoughts"

        # D, x: the other is deleted (through the outbox).
        await pilot.press("D")
        await on_screen(pilot, DraftPicker)
        await pilot.press("down", "x")
        await settle(pilot)
        assert [d["subject"] for d in demo.drafts_of(contact, screen.user_id)] == [
            "Second thoughts"
        ]

        # Sent from the draft: the message goes, the draft has done its work.
        await pilot.press("D")
        await on_screen(pilot, DraftPicker)
        await pilot.press("enter")
        await on_screen(pilot, ReviewScreen)
        await send_from_review(pilot)
        sent = demo.sent_messages(conversation_id)
        assert len(sent) == 1 and sent[0]["subject"] == "Second thoughts"
        assert demo.drafts_of(contact, screen.user_id) == []
        assert "Drafts" not in screen.detail.plain
