"""Deterministic, lazily generated data for the demo lemlist API.

Conversation ``i`` is a pure function of ``(seed, i)``: nothing is generated up front, so a
100,000-conversation inbox costs no more to create than a ten-conversation one. Ids carry their
index (see :mod:`lemlist_tui.demo.ids`), which lets the server find a conversation from its
``ibx_``/``ctc_`` id without any table. Word lists live in :mod:`lemlist_tui.demo.texts`.

A crawl builds every conversation once, 100 to a page: :meth:`DemoData._build` is the hot
path, hence its flat style and :class:`~lemlist_tui.demo.draws.Draws`. Everything here is
immutable after construction, so pages and threads may be built in worker threads.
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from lemlist_tui.demo.draws import Draws
from lemlist_tui.demo.ids import IndexedIds, random_id
from lemlist_tui.demo.texts import (
    ANSWERS,
    CALL_NOTES,
    COMPANIES,
    FOLLOW_UPS,
    HOOKS,
    INBOUND_REPLIES,
    LABELS,
    NAME_GROUPS,
    NOTABLE_NAMES,
    OPPORTUNITY_TYPES,
    PROOFS,
    SHORT_INBOUND,
    SHORT_OUTBOUND,
    STYLE_BLOCK,
    SUBJECTS,
    TEAM,
    VALUES,
    PersonName,
    ascii_fold,
)

JsonObject = dict[str, Any]

TEAM_NAME = "Acme Sales"
TEAM_DOMAIN = "acme-sales.example"
TRACKING_HOST = "https://track.lemlist.example/p/"

# Base conversation i ends at anchor - LEAD - i*STEP - jitter(i), jitter < STEP - 5 min, so
# consecutive conversations are 5..11 minutes apart and the order is strictly by index.
_LEAD_MS = 45_000
_STEP_MS = 8 * 60_000
_JITTER_MS = 3 * 60_000
_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

# Probability that a conversation is unread, per team member (cycled).
_UNREAD_RATE = (0.25, 0.40, 0.12, 0.30, 0.18)

_CHANNEL_PROFILES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("email",), 68),
    (("email", "linkedin"), 12),
    (("linkedin",), 10),
    (("email", "whatsapp"), 4),
    (("email", "sms"), 3),
    (("email", "call"), 3),
)
_PROFILES = tuple(profile for profile, _ in _CHANNEL_PROFILES)
_PROFILE_TOTALS = tuple(itertools.accumulate(weight for _, weight in _CHANNEL_PROFILES))

_UNREPLIED_COUNTS = (1, 1, 2, 2, 3, 3, 4)
_OPPORTUNITY_COUNTS = (1, 1, 2)
_CAMPAIGNS = 7

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# -- time -------------------------------------------------------------------------------------


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime, without float rounding."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


@functools.lru_cache(maxsize=1024)
def _iso_date(days: int) -> str:
    return f"{_EPOCH + timedelta(days=days):%Y-%m-%dT}"


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))


def iso_ms(ms: int) -> str:
    """The API's timestamp format: ``2024-12-17T09:42:32.971Z``."""
    days, in_day = divmod(ms, _DAY)  # a datetime per timestamp would cost five times as much
    seconds, milli = divmod(in_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    two = _TWO_DIGITS
    return f"{_iso_date(days)}{two[hour]}:{two[minute]}:{two[second]}.{_THREE_DIGITS[milli]}Z"


def js_date(epoch_seconds: int) -> str:
    """JavaScript's ``Date.prototype.toString()`` in UTC, as ``X-RateLimit-Reset`` carries it."""
    moment = _EPOCH + timedelta(seconds=epoch_seconds)
    return (
        f"{_DAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} {moment.year} "
        f"{moment:%H:%M:%S} GMT+0000 (Coordinated Universal Time)"
    )


def _mail_date(ms: int) -> str:
    """``Tue, Mar 4, 2025 at 10:12 AM``, as mail clients quote it (locale-independent)."""
    moment = from_ms(ms)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return (
        f"{_DAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}, {moment.year} "
        f"at {hour}:{moment.minute:02d} {half}"
    )


# -- model ------------------------------------------------------------------------------------
# Immutable throughout. The records made several times per conversation are NamedTuples:
# a frozen dataclass takes 2-4 times as long to make.


@dataclass(frozen=True, slots=True)
class TeamMember:
    id: str
    first: str
    last: str
    email: str
    role: str
    mailbox_id: str
    provider: str
    whatsapp_account_id: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str
    color: str
    created_at: int
    created_by: str  # the creator's email, as the API documents it


class Contact(NamedTuple):
    id: str
    first_name: str
    full_name: str | None
    email: str
    company: str
    lead_id: str


class Opportunity(NamedTuple):
    id: str
    type: str
    done: bool


class Step(NamedTuple):
    """One message of a thread, without its text (texts are only made for the thread route)."""

    id: str
    inbound: bool
    channel: str
    at: int


class SentMessage(NamedTuple):
    """A message a team member sent through ``POST /inbox/{email,linkedin,whatsapp}``,
    kept as it was sent: the thread shows its text, not a generated one."""

    id: str
    channel: str
    at: int
    sender: int  # index of the team member who sent it
    subject: str  # "" unless an email
    message: str  # the HTML as received
    cc: tuple[str, ...]

    def step(self) -> Step:
        return Step(self.id, False, self.channel, self.at)


@dataclass(frozen=True, slots=True)
class Conversation:
    index: int
    id: str
    contact: Contact
    sender: int  # index of the team member the campaign sends as
    campaign_id: str
    subject: str
    steps: tuple[Step, ...]
    read: tuple[bool, ...]  # per team member, before any overlay
    opportunities: tuple[Opportunity, ...]
    labels: tuple[str, ...]
    sent: tuple[SentMessage, ...] = ()
    """The steps that are sent messages (see :class:`SentMessage`), oldest first."""

    @property
    def created_at(self) -> int:
        return self.steps[0].at

    @property
    def last_activity(self) -> int:
        return self.steps[-1].at

    @property
    def last_reply(self) -> Step | None:
        return next((s for s in reversed(self.steps) if s.inbound), None)

    @property
    def channels(self) -> list[str]:
        return list(dict.fromkeys(s.channel for s in self.steps))


# -- generator --------------------------------------------------------------------------------
# Every draw below consumes the stream exactly as the random.Random call it replaced, in the
# same order: reordering two lines changes every conversation after the first draw that moved.


def _pick_name(draws: Draws) -> PersonName:
    if draws.random() < 0.08:
        return draws.pick(NOTABLE_NAMES)
    givens, families, order = draws.pick(NAME_GROUPS)
    given, given_ascii = draws.pick(givens)
    family, family_ascii = draws.pick(families)
    if order == "western":
        full = f"{given} {family}"
    elif order == "eastern":
        full = f"{family} {given}"
    else:  # "joined"
        full = f"{family}{given}"
    return PersonName(given, full, given_ascii, family_ascii)


def _email_local(draws: Draws, name: PersonName) -> str:
    first, last = name.first_ascii, name.last_ascii
    pattern = draws.below(5)  # first.last twice as often as the others
    if pattern <= 1:
        return f"{first}.{last}"
    if pattern == 2:
        return first
    if pattern == 3:
        return f"{first[0]}{last}"
    return f"{first}_{last}"


def _gap_before(draws: Draws, step_inbound: bool, previous_inbound: bool) -> int:
    """Milliseconds between a message and the one before it, by who wrote each."""
    if step_inbound:  # a lead answering: minutes to a day and a half
        return draws.between(3 * _MINUTE, 36 * _HOUR)
    if previous_inbound:  # the rep answering a reply: within working hours
        return draws.between(5 * _MINUTE, 6 * _HOUR)
    return draws.between(2 * _DAY, 5 * _DAY)  # a sequence follow-up


class DemoData:
    """Everything the demo serves that does not change: the team and every conversation."""

    def __init__(self, *, seed: int, users: int, anchor_ms: int) -> None:
        if users < 1:
            raise ValueError("a demo team needs at least one user")
        self.seed = seed
        self.anchor_ms = anchor_ms
        draws = Draws(f"{seed}:team")
        self.team_id = random_id("tea", draws)
        self.members = [self._member(draws, k) for k in range(users)]
        self.team_created_at = anchor_ms - 731 * _DAY + draws.below(_DAY)
        self.campaign_ids = [random_id("cam", draws) for _ in range(_CAMPAIGNS)]
        self.labels = [
            Label(
                random_id("lbl", draws),
                name,
                color,
                self.team_created_at + (k + 1) * 17 * _DAY + draws.below(_DAY),
                self.members[0].email,
            )
            for k, (name, color) in enumerate(LABELS)
        ]
        self.conversation_ids = IndexedIds("ibx", seed)
        self.contact_ids = IndexedIds("ctc", seed)
        self._unread_rates = tuple(_UNREAD_RATE[u % len(_UNREAD_RATE)] for u in range(users))
        self._member_ids = tuple(m.id for m in self.members)
        # A crawl reads each conversation once, a refresh re-reads the top few pages.
        self._cached = functools.lru_cache(maxsize=4096)(self._build)

    def _member(self, draws: Draws, k: int) -> TeamMember:
        first, last, role, provider = TEAM[k % len(TEAM)]
        lap = k // len(TEAM)
        suffix = str(lap + 1) if lap else ""
        return TeamMember(
            id=random_id("usr", draws),
            first=first,
            last=f"{last} {suffix}".strip(),
            email=f"{ascii_fold(first)}{suffix}@{TEAM_DOMAIN}",
            role=role,
            mailbox_id=random_id("mbx", draws),
            provider=provider,
            # A stream of its own: the team's draws, and so every id after them, stay as they were.
            whatsapp_account_id=random_id("wha", Draws(f"{self.seed}:whatsapp:{k}")),
        )

    def base_last_activity(self, index: int, jitter: int) -> int:
        return self.anchor_ms - _LEAD_MS - index * _STEP_MS - jitter

    def conversation(self, index: int, last_activity: int | None = None) -> Conversation:
        """Conversation ``index``; ``last_activity`` re-anchors one made after start-up."""
        return self._cached(index, last_activity)

    def _build(self, index: int, last_activity: int | None) -> Conversation:
        draws = Draws(f"{self.seed}:conversation:{index}")
        random = draws.random
        jitter = draws.below(_JITTER_MS)
        end = self.base_last_activity(index, jitter) if last_activity is None else last_activity
        contact = self._draw_contact(draws, index)

        profile = draws.pick_weighted(_PROFILES, _PROFILE_TOTALS)
        replied = random() < 0.6
        count = draws.between(2, 8) if replied else draws.pick(_UNREPLIED_COUNTS)
        inbound = [replied and k % 2 == 1 for k in range(count)]
        channels: list[str] = []
        for k in range(count):
            if inbound[k]:  # a lead answers where they were written to; nobody answers a call
                channels.append("email" if channels[k - 1] == "call" else channels[k - 1])
            else:  # even a one-channel profile draws for the follow-ups
                channels.append(profile[0] if k == 0 else draws.pick(profile))
        times = [end] * count
        for k in range(count - 1, 0, -1):
            times[k - 1] = times[k] - _gap_before(draws, inbound[k], inbound[k - 1])
        steps = tuple(
            [Step(random_id("act", draws), inbound[k], channels[k], times[k]) for k in range(count)]
        )

        read = tuple([random() >= rate for rate in self._unread_rates])
        opportunities: tuple[Opportunity, ...] = ()
        if random() < 0.10:
            opportunities = tuple(
                Opportunity(random_id("opp", draws), draws.pick(OPPORTUNITY_TYPES), random() < 0.4)
                for _ in range(draws.pick(_OPPORTUNITY_COUNTS))
            )
        labels = (draws.pick(self.labels[:4]).id,) if random() < 0.08 else ()
        subject = draws.pick(SUBJECTS).format(company=contact.company, first=contact.first_name)
        return Conversation(
            index=index,
            id=self.conversation_ids.encode(index),
            contact=contact,
            sender=draws.below(len(self.members)),
            campaign_id=draws.pick(self.campaign_ids),
            subject=subject,
            steps=steps,
            read=read,
            opportunities=opportunities,
            labels=labels,
        )

    def contact(self, index: int) -> Contact:
        """The contact of conversation ``index`` alone, without the rest of its draws: for
        looking a lead up by its id or email."""
        draws = Draws(f"{self.seed}:conversation:{index}")
        draws.below(_JITTER_MS)  # the draw _build makes first
        return self._draw_contact(draws, index)

    def _draw_contact(self, draws: Draws, index: int) -> Contact:
        """The contact's draws, the first of a conversation's after its time jitter."""
        name = _pick_name(draws)
        company, domain = draws.pick(COMPANIES)
        full_name = name.full if draws.random() >= 0.15 else None
        email = f"{_email_local(draws, name)}@{domain}"
        return Contact(
            self.contact_ids.encode(index),
            name.first,
            full_name,
            email,
            company,
            random_id("lea", draws),
        )

    def extra_reply(self, conversation: Conversation, at: int) -> Step:
        """A new inbound message (see ``touch``), answering on the thread's last channel."""
        draws = Draws(f"{self.seed}:reply:{conversation.index}:{len(conversation.steps)}")
        last = conversation.steps[-1].channel
        return Step(random_id("act", draws), True, "email" if last == "call" else last, at)

    # -- JSON ---------------------------------------------------------------------------------

    def team_json(self, *, with_users: bool) -> JsonObject:
        body: JsonObject = {
            "_id": self.team_id,
            "name": TEAM_NAME,
            "userIds": [m.id for m in self.members],
            "createdBy": self.members[0].id,
            "createdAt": iso_ms(self.team_created_at),
            "hooks": [],
            "beta": [],
            "invitedUsers": [],
        }
        if with_users:
            body["users"] = [
                {"userId": m.id, "name": m.name, "email": m.email, "role": m.role}
                for m in self.members
            ]
        return body

    def user_json(self, member: TeamMember) -> JsonObject:
        # The real route has no name: clients name users from /team?version=v2 or the email.
        return {
            "_id": member.id,
            "email": member.email,
            "role": member.role,
            "linkedIn": {},
            "mailboxes": [
                {
                    "_id": member.mailbox_id,
                    "email": member.email,
                    "provider": member.provider,
                    "status": "connected",
                }
            ],
            # A demo assumption: lemlist documents the sendUserWhatsappAccountId a WhatsApp
            # reply needs, not where a client finds it. The demo lists it here, by the mailboxes.
            "whatsappAccounts": [{"_id": member.whatsapp_account_id, "status": "connected"}],
        }

    def labels_json(self) -> list[JsonObject]:
        """The generated labels; the server adds those created since (``LabelBook``)."""
        return [label_json(label) for label in self.labels]

    def contact_json(self, conversation: Conversation, interest: str | None) -> JsonObject:
        """``GET /contacts/{id}``: the contact, its one campaign, and the lead's state there
        (``interest`` as ``/leads/interested`` or ``/leads/notinterested`` set it, else the
        type of the thread's last activity, as lemlist's lead states read)."""
        contact = conversation.contact
        owner = self.members[conversation.sender].id
        body: JsonObject = {"_id": contact.id, "teamId": self.team_id}
        if contact.full_name is not None:
            body["fullName"] = contact.full_name
        body["email"] = contact.email
        fields: JsonObject = {"companyName": contact.company}
        if contact.full_name is not None:  # the inbox does not know a nameless one's name
            fields["firstName"] = contact.first_name
        last = conversation.steps[-1]
        lead_state = _LEAD_STATES.get(interest or "")
        if lead_state is None:
            lead_state = _ACTIVITY_TYPES[(last.channel, last.inbound)]
        body.update(
            fields=fields,
            campaigns=[
                {
                    "campaignId": conversation.campaign_id,
                    "campaignState": "running",
                    "leadState": lead_state,
                }
            ],
            ownerId=owner,
            createdAt=iso_ms(conversation.created_at),
            createdBy=owner,
        )
        return body

    def lead_json(self, conversation: Conversation) -> JsonObject:
        """A lead as lemlist's campaign-level interest routes answer it."""
        contact = conversation.contact
        body: JsonObject = {}
        if contact.full_name is not None:
            body["firstName"] = contact.first_name
        body.update(
            companyName=contact.company,
            email=contact.email,
            _id=contact.lead_id,
            isPaused=False,
            campaignId=conversation.campaign_id,
            contactId=contact.id,
        )
        return body

    def conversation_json(
        self, conversation: Conversation, read: Sequence[bool], labels: Sequence[str]
    ) -> JsonObject:
        contact: JsonObject = {"_id": conversation.contact.id}
        if conversation.contact.full_name is not None:
            contact["fullName"] = conversation.contact.full_name
        contact["email"] = conversation.contact.email
        steps = conversation.steps
        sender = conversation.sender
        body: JsonObject = {
            "_id": conversation.id,
            "opportunities": [
                {"id": o.id, "type": o.type, "done": o.done} for o in conversation.opportunities
            ],
            "lastActivityAt": iso_ms(steps[-1].at),
            "createdBy": steps[0].id,
            "channels": conversation.channels,
            "teamId": self.team_id,
            "contactId": conversation.contact.id,
            "users": [
                {"userId": user_id, "sender": k == sender, "read": read[k]}
                for k, user_id in enumerate(self._member_ids)
            ],
            "createdAt": iso_ms(steps[0].at),
            "haveReplies": False,
        }
        reply = conversation.last_reply
        if reply is not None:
            body["haveReplies"] = True
            body["lastRepliedAt"] = iso_ms(reply.at)
            body["lastRepliedChannel"] = reply.channel
        body["contact"] = contact
        if labels:
            body["labels"] = list(labels)
        return body

    def thread_json(self, conversation: Conversation) -> list[JsonObject]:
        """The conversation's activities, oldest first, with their HTML bodies."""
        return _ThreadWriter(self, conversation).write()


def label_json(label: Label) -> JsonObject:
    return {
        "_id": label.id,
        "name": label.name,
        "color": label.color,
        "createdAt": iso_ms(label.created_at),
        "createdBy": label.created_by,
    }


_LEAD_STATES = {"interested": "interested", "notinterested": "notInterested"}
"""The demo's interest words (the routes') as lemlist's lead states spell them."""

_ACTIVITY_TYPES = {
    ("email", False): "emailsSent",
    ("email", True): "emailsReplied",
    ("linkedin", False): "linkedinSent",
    ("linkedin", True): "linkedinReplied",
    ("whatsapp", False): "whatsappSent",
    ("whatsapp", True): "whatsappReplied",
    ("sms", False): "smsSent",
    ("sms", True): "smsReplied",
    ("call", False): "aircallDone",
}


class _ThreadWriter:
    """Writes a thread's message bodies; texts depend only on (seed, index, position).

    A sent message (:class:`SentMessage`) keeps its own text and draws nothing, so every
    generated step gets the text it would have had without it.
    """

    def __init__(self, data: DemoData, conversation: Conversation) -> None:
        self.data = data
        self.conversation = conversation
        self.member = data.members[conversation.sender]
        self.sent = {message.id: message for message in conversation.sent}
        self.rng = Draws(f"{data.seed}:thread:{conversation.index}")
        contact = conversation.contact
        greeting = contact.first_name if contact.full_name is not None else "there"
        self.fields = {
            "first": html.escape(greeting),
            "company": html.escape(contact.company),
            "sender_first": html.escape(self.member.first),
            "hook": self.rng.pick(HOOKS),
        }

    def write(self) -> list[JsonObject]:
        activities: list[JsonObject] = []
        previous: tuple[Step, str] | None = None  # a message and its own text, for quoting
        email_seen = False
        for step in self.conversation.steps:
            sent = self.sent.get(step.id)
            if sent is not None:
                activities.append(self._sent_activity(step, sent))
                previous = (step, sent.message)
                email_seen = email_seen or step.channel == "email"
                continue
            own = self._own_text(step, previous[0] if previous else None)
            message = own
            if step.channel == "email":
                if previous is not None and (step.inbound or previous[0].inbound):
                    message = own + self._quote(*previous)
                if not step.inbound:
                    message = self._outbound_frame(message)
                subject = (
                    f"Re: {self.conversation.subject}" if email_seen else self.conversation.subject
                )
                email_seen = True
            else:
                subject = ""
            activities.append(self._activity(step, subject, message))
            previous = (step, own)
        return activities

    def _own_text(self, step: Step, previous: Step | None) -> str:
        rng, fields = self.rng, self.fields
        if step.channel == "call":
            return f"<p>{rng.pick(CALL_NOTES).format(**fields)}</p>"
        if step.channel != "email":
            pool = SHORT_INBOUND if step.inbound else SHORT_OUTBOUND
            return f"<p>{rng.pick(pool).format(**fields)}</p>"
        if step.inbound:
            return f'<div dir="ltr">{rng.pick(INBOUND_REPLIES).format(**fields)}</div>'
        if previous is not None and previous.inbound:
            body = rng.pick(ANSWERS).format(ref=f"{rng.getrandbits(32):08x}", **fields)
        elif previous is not None:
            body = rng.pick(FOLLOW_UPS).format(**fields)
        else:
            body = (
                f"<p>I noticed {fields['company']} is {fields['hook']}. We help teams like "
                f"yours {rng.pick(VALUES)}&nbsp;&mdash; {rng.pick(PROOFS)}.</p>"
                "<p>Would it make sense to chat for 15 minutes next week? Here&rsquo;s my "
                f'calendar: <a href="https://cal.acme-sales.example/{ascii_fold(self.member.first)}'
                '/15min">book a slot</a>.</p>'
            )
        return (
            f"<div><p>Hi {fields['first']},</p>{body}<p>Best,<br>"
            f"{html.escape(self.member.name)}<br>"
            f'<span class="sig">Account Executive &middot; {TEAM_NAME}</span></p></div>'
        )

    def _quote(self, step: Step, text: str) -> str:
        if step.inbound:
            who = self.conversation.contact.full_name or self.conversation.contact.email
            address = self.conversation.contact.email
        else:
            member = self._member_of(step)
            who, address = member.name, member.email
        return (
            '<br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            f"On {_mail_date(step.at)}, {html.escape(who)} &lt;{address}&gt; wrote:<br></div>"
            '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
            f'padding-left:1ex">{text}</blockquote></div>'
        )

    def _outbound_frame(self, message: str) -> str:
        style = STYLE_BLOCK if self.rng.random() < 0.25 else ""
        pixel = (
            f'<img src="{TRACKING_HOST}{self.rng.getrandbits(96):024x}" width="1" height="1" '
            'alt="" style="display:none">'
        )
        return f"{style}{message}{pixel}"

    def _member_of(self, step: Step) -> TeamMember:
        """Who wrote an outbound step: its sender if it was sent, else the campaign's."""
        sent = self.sent.get(step.id)
        return self.member if sent is None else self.data.members[sent.sender]

    def _activity(self, step: Step, subject: str, message: str) -> JsonObject:
        """A generated step's activity; its messageId is the step's last draw."""
        domain = self.conversation.contact.email.partition("@")[2] if step.inbound else TEAM_DOMAIN
        message_id = f"<{self.rng.getrandbits(80):020x}@{domain}>"
        return self._json(step, subject, message, self.member, [], message_id)

    def _sent_activity(self, step: Step, sent: SentMessage) -> JsonObject:
        """A sent message's activity, as sent, by its sender; it draws nothing."""
        digest = hashlib.blake2b(sent.id.encode(), digest_size=10).hexdigest()
        member = self.data.members[sent.sender]
        return self._json(
            step, sent.subject, sent.message, member, list(sent.cc), f"<{digest}@{TEAM_DOMAIN}>"
        )

    def _json(
        self,
        step: Step,
        subject: str,
        message: str,
        member: TeamMember,
        cc: list[str],
        message_id: str,
    ) -> JsonObject:
        contact = self.conversation.contact
        activity: JsonObject = {
            "_id": step.id,
            "type": _ACTIVITY_TYPES[(step.channel, step.inbound)],
            "createdAt": iso_ms(step.at),
            "subject": subject,
            "message": message,
            "sendUserId": member.id,
            "sendUserName": member.name,
            "sendUserEmail": member.email,
            "sendUserMailboxId": member.mailbox_id,
            "leadEmail": contact.email,
            "contactId": contact.id,
            "leadId": contact.lead_id,
            "campaignId": self.conversation.campaign_id,
            "cc": cc,
            "attachments": [],
            "messageId": message_id,
        }
        if step.channel == "whatsapp":  # either way: sendUser* name the team's side
            activity["sendUserWhatsappAccountId"] = member.whatsapp_account_id
        return activity
