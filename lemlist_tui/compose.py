"""Writing a reply: who it goes from and to, the text the editor starts with, and the
message as it is sent. No ``textual`` import, no I/O but the editor's.

The fields of a reply come from the thread (every activity carries ``leadId``,
``sendUserId``, ``sendUserEmail``, ``sendUserMailboxId``) and, when the thread has no
message from this user, from ``GET /users/{id}`` (its mailboxes). What is missing makes a
channel unusable, with one sentence why (:attr:`ReplyPlan.problems`).
"""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from lemlist_tui.api.models import Conversation, ThreadMessage, UserAccounts
from lemlist_tui.text import clean_block, clean_line, html_to_text, local_time

__all__ = [
    "CHANNELS",
    "MAX_BODY_CHARS",
    "Composed",
    "ReplyPlan",
    "as_sent",
    "editor_command",
    "editor_text",
    "needs_accounts",
    "plan_reply",
    "read_editor_text",
    "to_html",
]

CHANNELS = ("email", "linkedin", "whatsapp")
"""The channels lemlist's API replies on."""
CHANNEL_NAMES = {"email": "email", "linkedin": "LinkedIn", "whatsapp": "WhatsApp"}
MAX_BODY_CHARS = 30_000
"""A lemlist draft's content is at most 30 KB; a reply longer than that is refused here."""
_QUOTED_CHARS = 8_000
"""The last message is quoted up to this many characters."""
_SUBJECT = "Subject:"
_RE = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """Everything a reply to one conversation needs but its text."""

    contact_id: str
    conversation_id: str
    user_id: str
    channel: str
    """The channel chosen (the one the contact last used, by default)."""
    channels: tuple[str, ...]
    """Every channel of the conversation lemlist can reply on, the default first."""
    to: str
    """The contact, as the review screen shows it."""
    sender: str
    """The user, as the review screen shows it (with the mailbox for email)."""
    subject: str
    """``Re: <subject>`` of the thread's last email (email only)."""
    quote: str
    """The last message as plain quoted text (``> `` lines), with who wrote it when."""
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per channel, the request's fields other than the text."""
    problems: Mapping[str, str] = field(default_factory=dict)
    """Per channel that cannot be used, why (one sentence)."""

    def with_channel(self, channel: str) -> ReplyPlan:
        return replace(self, channel=channel)

    def next_channel(self) -> str:
        """The channel after the current one (``c`` on the review screen)."""
        if self.channel not in self.channels:
            return self.channels[0] if self.channels else self.channel
        index = self.channels.index(self.channel)
        return self.channels[(index + 1) % len(self.channels)]


@dataclass(frozen=True, slots=True)
class Composed:
    """What came back from the editor: the subject (email) and the body to send."""

    subject: str
    body: str

    @property
    def empty(self) -> bool:
        return not self.body.strip()


def _display(name: str | None, email: str | None) -> str:
    name, email = clean_line(name, 60), clean_line(email, 80)
    if name and email and name != email:
        return f"{name} <{email}>"
    return name or email or "(unknown)"


def _channel_of(message: ThreadMessage) -> str | None:
    channel = message.channel
    return channel if channel in CHANNELS else None


def _default_channel(conversation: Conversation, thread: Sequence[ThreadMessage]) -> str | None:
    """The channel the contact last used: their newest message's, else the conversation's
    ``lastRepliedChannel``, else the newest message's."""
    for message in reversed(thread):
        if message.inbound and _channel_of(message):
            return _channel_of(message)
    if conversation.last_replied_channel in CHANNELS:
        return conversation.last_replied_channel
    for message in reversed(thread):
        if _channel_of(message):
            return _channel_of(message)
    return None


def _subject(thread: Sequence[ThreadMessage]) -> str:
    for message in reversed(thread):
        subject = clean_line(message.subject, 200)
        if message.channel == "email" and subject:
            return subject if _RE.match(subject) else f"Re: {subject}"
    return ""


def _quote(message: ThreadMessage | None) -> str:
    """The message as quoted plain text: safe (no escape sequences), bounded."""
    if message is None:
        return ""
    text = message.text if message.text is not None else html_to_text(message.html)
    text = clean_block(text, _QUOTED_CHARS)
    if not text.strip():
        return ""
    who = message.sender_name or message.sender_email
    if message.inbound:
        who = message.lead_email or who
    when = local_time(message.created_at) if message.created_at else ""
    header = f"On {when}, {clean_line(who, 80) or 'they'} wrote:" if when else "They wrote:"
    lines = [f"> {line}".rstrip() for line in text.split("\n")]
    return "\n".join([header, *lines])


def _lead_id(conversation: Conversation, thread: Sequence[ThreadMessage]) -> str | None:
    if conversation.lead_id:
        return conversation.lead_id
    return next((m.lead_id for m in reversed(thread) if m.lead_id), None)


def plan_reply(
    conversation: Conversation,
    thread: Sequence[ThreadMessage],
    user_id: str,
    *,
    user_name: str | None = None,
    accounts: UserAccounts | None = None,
    accounts_problem: str | None = None,
) -> ReplyPlan:
    """What a reply by ``user_id`` to ``conversation`` goes out with, per channel.

    ``accounts``: ``GET /users/{user_id}``, needed only when the thread has no email
    from this user (its mailbox) or for WhatsApp; ``accounts_problem``: why it could not
    be had (offline, refused), said for the channels that needed it.
    """
    contact = conversation.contact
    contact_id = contact.id or ""
    offered = [c for c in conversation.channels if c in CHANNELS]
    offered += [c for c in (_channel_of(m) for m in thread) if c and c not in offered]
    default = _default_channel(conversation, thread)
    if default in offered:
        offered.remove(default)
        offered.insert(0, default)
    if not offered:
        offered = ["email"]
    lead_id = _lead_id(conversation, thread)
    mine = [m for m in thread if m.sender_user_id == user_id and not m.inbound]
    fields: dict[str, dict[str, str]] = {}
    problems: dict[str, str] = {}
    sender_email: str | None = None
    common = {"sendUserId": user_id, "contactId": contact_id}
    if lead_id:
        common["leadId"] = lead_id
    for channel in offered:
        if not contact_id:
            problems[channel] = "This conversation has no contact id: lemlist cannot be told."
            continue
        if not lead_id:
            problems[channel] = "No lead is known for this conversation: lemlist needs one."
            continue
        if channel == "email":
            mailbox = _mailbox(mine, accounts)
            if mailbox is None:
                problems[channel] = (
                    accounts_problem
                    or "This user has no connected mailbox in lemlist to send from."
                )
                continue
            sender_email = mailbox[1]
            fields[channel] = {
                **common,
                "sendUserEmail": mailbox[1],
                "sendUserMailboxId": mailbox[0],
            }
        elif channel == "whatsapp":
            account = next(
                (a for a in (accounts.whatsapp_accounts if accounts else ()) if a.usable), None
            )
            if account is None:
                problems[channel] = accounts_problem or (
                    "lemlist lists no WhatsApp account for this user: reply from lemlist."
                )
                continue
            fields[channel] = {**common, "sendUserWhatsappAccountId": account.id}
        else:
            fields[channel] = dict(common)
    last = thread[-1] if thread else None
    sender_label = user_name or user_id
    if sender_email:
        sender_label = _display(user_name, sender_email)
    return ReplyPlan(
        contact_id=contact_id,
        conversation_id=conversation.id,
        user_id=user_id,
        channel=offered[0],
        channels=tuple(offered),
        to=_display(contact.full_name, contact.email),
        sender=sender_label,
        subject=_subject(thread),
        quote=_quote(last),
        fields=fields,
        problems=problems,
    )


def _mailbox(
    mine: Sequence[ThreadMessage], accounts: UserAccounts | None
) -> tuple[str, str] | None:
    """(mailbox id, email) this user last wrote from in the thread, else the first
    usable mailbox lemlist lists for them."""
    for message in reversed(mine):
        if message.mailbox_id and message.sender_email:
            return message.mailbox_id, message.sender_email
    for mailbox in accounts.mailboxes if accounts else ():
        if mailbox.usable and mailbox.email:
            return mailbox.id, mailbox.email
    return None


def needs_accounts(plan_thread: Sequence[ThreadMessage], user_id: str) -> bool:
    """Whether ``GET /users/{id}`` is worth asking: no email from this user in the
    thread to take the mailbox from, or a WhatsApp conversation."""
    mine = [m for m in plan_thread if m.sender_user_id == user_id and m.mailbox_id]
    whatsapp = any(m.channel == "whatsapp" for m in plan_thread)
    return not mine or whatsapp


# --- the editor's text -------------------------------------------------------------------


def editor_text(plan: ReplyPlan, body: str | None = None, subject: str | None = None) -> str:
    """What the editor opens: for email a ``Subject:`` line, then the body (``body``, a
    text kept from before, or an empty line to write on), then the last message quoted."""
    head = f"{_SUBJECT} {subject if subject is not None else plan.subject}\n\n"
    if plan.channel != "email":
        head = ""
    if body is not None:
        return head + body.rstrip("\n") + "\n"
    quote = f"\n\n{plan.quote}\n" if plan.quote else "\n"
    return head + quote


def read_editor_text(text: str, plan: ReplyPlan) -> Composed:
    """The subject and body of what the editor saved. For LinkedIn and WhatsApp the quote
    the template put at the end is dropped if left as it was (chat messages do not quote);
    for email it stays, and is sent quoted."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    subject = plan.subject
    lines = text.split("\n")
    if lines and lines[0].startswith(_SUBJECT):
        subject = clean_line(lines[0][len(_SUBJECT) :], 300)
        lines = lines[1:]
    body = "\n".join(lines).strip("\n")
    if plan.channel != "email" and plan.quote and body.endswith(plan.quote):
        body = body[: -len(plan.quote)].rstrip()
    body = "\n".join(line.rstrip() for line in body.split("\n")).strip("\n")
    if not _written(body):
        body = ""
    return Composed(subject, body)


_ATTRIBUTION = re.compile(r"^(On .*, .* wrote:|They wrote:)$")


def _written(body: str) -> bool:
    """Anything but the quote and its header: a reply of only a quote is nothing."""
    own = [
        line
        for line in body.split("\n")
        if line.strip() and not line.startswith(">") and not _ATTRIBUTION.match(line)
    ]
    return bool(own)


def to_html(body: str) -> str:
    """Plain text as safe HTML: every character escaped, paragraphs (blank lines) and
    line breaks kept, ``> `` lines as nested ``<blockquote>``."""
    out: list[str] = []
    _blocks(body.split("\n"), out)
    return "".join(out)


def _blocks(lines: list[str], out: list[str]) -> None:
    paragraph: list[str] = []
    quoted: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            out.append("<p>" + "<br>".join(html.escape(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def flush_quote() -> None:
        if quoted:
            out.append("<blockquote>")
            _blocks(quoted[:], out)
            out.append("</blockquote>")
            quoted.clear()

    for line in lines:
        if line.startswith(">"):
            flush_paragraph()
            quoted.append(line[2:] if line.startswith("> ") else line[1:])
        elif line.strip():
            flush_quote()
            paragraph.append(line)
        else:
            flush_paragraph()
            flush_quote()
    flush_paragraph()
    flush_quote()


def as_sent(body: str, channel: str) -> str:
    """The ``message`` field: HTML for email, the text itself for chat channels."""
    return to_html(body) if channel == "email" else body


# --- the editor --------------------------------------------------------------------------


def editor_command(env: Mapping[str, str] | None = None) -> list[str] | None:
    """``$VISUAL``, else ``$EDITOR``, as an argument list (run without a shell); None
    when neither names a program that can be found."""
    env = os.environ if env is None else env
    for name in ("VISUAL", "EDITOR"):
        value = env.get(name, "").strip()
        if not value:
            continue
        try:
            argv = shlex.split(value)
        except ValueError:
            continue
        if argv and shutil.which(argv[0], path=env.get("PATH")):
            return argv
    return None
