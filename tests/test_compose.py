"""Writing a reply, without a screen: the plan (channel, sender, fields), the editor's text
and what is read back from it, the HTML sent for email, and the editor's command."""

from __future__ import annotations

import html
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Mailbox,
    ThreadMessage,
    UserAccounts,
    parse_user_accounts,
)
from lemlist_tui.compose import (
    editor_command,
    editor_text,
    needs_accounts,
    plan_reply,
    read_editor_text,
    to_html,
)

ME = "usr_me"
WHEN = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def message(
    kind: str,
    *,
    sender: str | None = ME,
    mailbox: str | None = "mbx_1",
    email: str | None = "me@acme.example",
    subject: str | None = None,
    html_body: str = "<p>Hello</p>",
    lead: str | None = "lea_1",
) -> ThreadMessage:
    return ThreadMessage(
        id="act_x",
        type=kind,
        created_at=WHEN,
        subject=subject,
        html=html_body,
        sender_user_id=sender,
        sender_name="Me Myself",
        sender_email=email,
        lead_email="ana@client.example",
        lead_id=lead,
        mailbox_id=mailbox,
    )


def conversation(
    channels: tuple[str, ...] = ("email",), last_replied: str | None = None
) -> Conversation:
    return Conversation(
        id="ibx_1",
        contact=Contact("ctc_1", "Ana López", "ana@client.example"),
        channels=channels,
        last_replied_channel=last_replied,
    )


# --- the plan ----------------------------------------------------------------------------


def test_email_goes_from_the_mailbox_this_user_last_wrote_from() -> None:
    thread = [
        message("emailsSent", mailbox="mbx_old", subject="Quick question"),
        message("emailsSent", mailbox="mbx_new", email="me2@acme.example"),
        message("emailsReplied", sender=None, mailbox=None, subject="Re: Quick question"),
    ]
    plan = plan_reply(conversation(), thread, ME, user_name="Me Myself")
    assert plan.channel == "email"
    assert plan.fields["email"] == {
        "sendUserId": ME,
        "contactId": "ctc_1",
        "leadId": "lea_1",
        "sendUserEmail": "me2@acme.example",
        "sendUserMailboxId": "mbx_new",
    }
    assert plan.subject == "Re: Quick question"  # not "Re: Re: …"
    assert plan.to == "Ana López <ana@client.example>"
    assert plan.sender == "Me Myself <me2@acme.example>"
    assert not plan.problems


def test_a_teammates_mailbox_is_never_used_and_the_users_own_is_asked_for() -> None:
    thread = [message("emailsSent", sender="usr_other", mailbox="mbx_theirs")]
    assert needs_accounts(thread, ME)
    without = plan_reply(conversation(), thread, ME)
    assert "email" in without.problems and "email" not in without.fields
    accounts = UserAccounts(
        ME,
        "me@acme.example",
        (
            Mailbox("mbx_broken", "old@acme.example", status="disconnected"),
            Mailbox("mbx_ok", "me@acme.example", status="connected"),
        ),
    )
    plan = plan_reply(conversation(), thread, ME, accounts=accounts)
    assert plan.fields["email"]["sendUserMailboxId"] == "mbx_ok"


def test_the_default_channel_is_the_one_the_contact_last_used() -> None:
    thread = [
        message("emailsSent", subject="Hi"),
        message("linkedinReplied", sender=None),
        message("emailsSent"),
    ]
    plan = plan_reply(conversation(("email", "linkedin")), thread, ME)
    assert plan.channels == ("linkedin", "email")
    assert plan.fields["linkedin"] == {"sendUserId": ME, "contactId": "ctc_1", "leadId": "lea_1"}
    assert plan.next_channel() == "email"
    assert plan.with_channel("email").next_channel() == "linkedin"


def test_whatsapp_needs_an_account_lemlist_lists_and_says_so_without_one() -> None:
    thread = [message("whatsappReplied", sender=None)]
    assert needs_accounts(thread, ME)
    plan = plan_reply(conversation(("whatsapp",)), thread, ME, accounts_problem="Offline.")
    assert plan.problems["whatsapp"] == "Offline."
    accounts = parse_user_accounts(
        {
            "_id": ME,
            "email": "me@acme.example",
            "mailboxes": [{"_id": "mbx_1", "email": "me@acme.example", "status": "connected"}],
            "whatsappAccounts": [{"_id": "wha_1", "status": "connected"}],
        }
    )
    plan = plan_reply(conversation(("whatsapp",)), thread, ME, accounts=accounts)
    assert plan.fields["whatsapp"]["sendUserWhatsappAccountId"] == "wha_1"


def test_without_a_lead_nothing_can_be_sent_and_it_is_said() -> None:
    thread = [message("emailsReplied", sender=None, lead=None)]
    plan = plan_reply(conversation(), thread, ME)
    assert plan.problems["email"].startswith("No lead is known")


# --- the editor's text -------------------------------------------------------------------


def test_the_email_template_has_the_subject_a_line_to_write_on_and_the_quote() -> None:
    thread = [
        message("emailsReplied", sender=None, subject="Pricing", html_body="<p>How much?</p>")
    ]
    plan = plan_reply(conversation(), thread, ME)
    text = editor_text(plan)
    lines = text.split("\n")
    assert lines[0] == "Subject: Re: Pricing"
    assert lines[1] == "" and lines[2] == ""
    assert "ana@client.example wrote:" in text
    assert "> How much?" in lines
    lines[2] = "It is 10 euros."  # the line the cursor starts on
    written = "\n".join(lines)
    composed = read_editor_text(written, plan)
    assert composed.subject == "Re: Pricing"
    assert composed.body.startswith("It is 10 euros.\n\nOn ")
    assert composed.body.endswith("> How much?")


def test_an_untouched_template_is_nothing_written() -> None:
    plan = plan_reply(conversation(), [message("emailsReplied", sender=None, subject="S")], ME)
    assert read_editor_text(editor_text(plan), plan).empty
    assert read_editor_text("Subject: changed only\n\n", plan).empty


def test_a_chat_reply_drops_the_quote_the_template_put_there() -> None:
    thread = [message("linkedinReplied", sender=None, html_body="<p>Interested!</p>")]
    plan = plan_reply(conversation(("linkedin",)), thread, ME)
    text = editor_text(plan)
    assert not text.startswith("Subject:")
    composed = read_editor_text("Great, talk soon." + text, plan)
    assert composed.body == "Great, talk soon."


def test_hostile_text_in_the_quoted_message_reaches_the_editor_as_plain_text() -> None:
    hostile = (
        "<p>Hi\x1b]52;c;cm0gLXJmIH4=\x07 there\x1b[2J\x1b[31m red \u202e evil\x9b31m</p>"
        "<script>alert(1)</script>"
    )
    thread = [message("emailsReplied", sender=None, subject="S\x1b[1mX", html_body=hostile)]
    text = editor_text(plan_reply(conversation(), thread, ME))
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\u202e" not in text and "alert(1)" not in text
    assert "> Hi" in text and "red" in text
    assert all(ch == "\n" or ch >= " " for ch in text)


def test_a_saved_text_is_offered_as_it_was() -> None:
    plan = plan_reply(conversation(), [message("emailsReplied", sender=None, subject="S")], ME)
    text = editor_text(plan, "my words\n> quoted", "Re: mine")
    assert text == "Subject: Re: mine\n\nmy words\n> quoted\n"


# --- the HTML sent -------------------------------------------------------------------------


def test_html_escapes_everything_and_keeps_paragraphs_breaks_and_quotes() -> None:
    body = "Hi <Ana> & co,\nline two\n\nSecond 'para'\n> quoted <b>\n>> deeper\nafter"
    assert to_html(body) == (
        "<p>Hi &lt;Ana&gt; &amp; co,<br>line two</p>"
        "<p>Second &#x27;para&#x27;</p>"
        "<blockquote><p>quoted &lt;b&gt;</p><blockquote><p>deeper</p></blockquote></blockquote>"
        "<p>after</p>"
    )


@given(st.text(max_size=300))
def test_no_text_makes_a_tag_of_its_own(body: str) -> None:
    out = to_html(body)
    for tag in ("<p>", "</p>", "<br>", "<blockquote>", "</blockquote>"):
        out = out.replace(tag, "")
    assert "<" not in out and ">" not in out
    # every word written is there, escaped
    for word in body.replace(">", " ").split():
        assert html.escape(word) in to_html(body)


# --- the editor's command ------------------------------------------------------------------


def test_visual_wins_over_editor_and_is_split_without_a_shell(tmp_path: Path) -> None:
    program = tmp_path / "my editor"
    program.write_text("#!/bin/sh\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    env = {"VISUAL": f"'{program}' --wait", "EDITOR": "vi", "PATH": str(tmp_path)}
    assert editor_command(env) == [str(program), "--wait"]
    assert editor_command({"EDITOR": "no-such-editor-here", "PATH": str(tmp_path)}) is None
    assert editor_command({"EDITOR": "'unclosed", "PATH": str(tmp_path)}) is None
    assert editor_command({"PATH": str(tmp_path)}) is None


@pytest.mark.parametrize("value", ["; rm -rf ~", "$(touch /tmp/x)"])
def test_shell_syntax_in_the_editor_variable_is_not_run(value: str, tmp_path: Path) -> None:
    assert editor_command({"EDITOR": value, "PATH": str(tmp_path)}) is None
