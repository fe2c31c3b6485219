"""The inbox's data, parsed once at the edge into immutable typed objects.

The parsers are tolerant in the way lemlist's documents require: both documented
conversation shapes, missing and extra fields, ``null`` anywhere. A malformed item
inside a page is skipped and reported in ``InboxPage.skipped``; a response whose
frame is wrong (not an object, no ``data`` list) raises :class:`ProtocolError`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from lemlist_tui.api.errors import ProtocolError

__all__ = [
    "Contact",
    "ContactCampaign",
    "ContactDetails",
    "Conversation",
    "ConversationMessage",
    "Draft",
    "InboxPage",
    "Label",
    "Mailbox",
    "Opportunity",
    "Pagination",
    "Participant",
    "Team",
    "TeamUser",
    "ThreadMessage",
    "ThreadPage",
    "UserAccounts",
    "parse_contact_details",
    "parse_datetime",
    "parse_draft",
    "parse_drafts",
    "parse_inbox_page",
    "parse_label",
    "parse_labels",
    "parse_team",
    "parse_thread_page",
    "parse_user",
    "parse_user_accounts",
]

_T = TypeVar("_T")


# --- field readers: each returns a safe default instead of raising -----------------


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _id(obj: Mapping[str, Any], key: str = "_id") -> str | None:
    """An identifier: a non-empty string, interned (ids repeat across 100k rows)."""
    value = obj.get(key)
    if isinstance(value, str) and value:
        return sys.intern(value)
    return None


def _bool(obj: Mapping[str, Any], key: str) -> bool:
    return obj.get(key) is True


_INT_TEXT = re.compile(r"-?[0-9]{1,18}")


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    # ASCII digits only, and few: "²".isdigit() holds but int("²") raises, and int() of
    # 5,000 digits raises too.
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value)
    return None


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, dict) else None


def parse_datetime(value: object) -> datetime | None:
    """ISO-8601 (``2024-12-03T10:12:20.620Z``) or epoch milliseconds → aware UTC."""
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
            # astimezone overflows at the ends of time ("0001-01-01T00:00:00+05:00").
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


# Small values repeat across every conversation of an inbox: share one object each
# instead of holding 100k equal tuples (the memory budget is 150 MB at 100k rows).
_shared: dict[object, Any] = {}


def _share(value: _T) -> _T:
    if len(_shared) > 4096:
        _shared.clear()
    return _shared.setdefault(value, value)  # type: ignore[no-any-return]


# --- the conversation ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contact:
    id: str | None
    full_name: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        """The name a person reads: full name, else email, else the id."""
        return self.full_name or self.email or self.id or "(unknown contact)"


@dataclass(frozen=True, slots=True)
class Participant:
    """One team user's part in a conversation; ``read`` is per user."""

    user_id: str
    sender: bool = False
    read: bool = True


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: str | None
    type: str | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class ConversationMessage:
    """A message of the documented ``InboxConversation`` schema shape."""

    id: str | None
    sender: str | None = None
    recipient: str | None = None
    body: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    contact: Contact
    last_activity_at: datetime | None = None
    created_at: datetime | None = None
    last_replied_at: datetime | None = None
    channels: tuple[str, ...] = ()
    participants: tuple[Participant, ...] = ()
    have_replies: bool = False
    last_replied_channel: str | None = None
    opportunities: tuple[Opportunity, ...] = ()
    labels: tuple[str, ...] = ()
    team_id: str | None = None
    created_by: str | None = None
    lead_id: str | None = None
    messages: tuple[ConversationMessage, ...] = field(default=(), repr=False)

    @property
    def contact_id(self) -> str | None:
        return self.contact.id

    def participant(self, user_id: str) -> Participant | None:
        for participant in self.participants:
            if participant.user_id == user_id:
                return participant
        return None

    def is_unread_for(self, user_id: str) -> bool:
        """Unread only when lemlist says so for this user; no entry means no claim."""
        participant = self.participant(user_id)
        return participant is not None and not participant.read

    def marked_read_for(self, user_id: str) -> Conversation:
        """A copy with ``user_id``'s read flag set (after ``markAsRead``)."""
        participants = tuple(
            _share(Participant(p.user_id, p.sender, True)) if p.user_id == user_id else p
            for p in self.participants
        )
        if not any(p.user_id == user_id for p in participants):
            participants += (_share(Participant(user_id, False, True)),)
        return dataclasses.replace(self, participants=_share(participants))


def _parse_contact(raw: object, contact_id: str | None) -> Contact:
    obj = _mapping(raw) or {}
    return Contact(
        id=_id(obj) or contact_id,
        full_name=_str(obj, "fullName") or None,
        email=_str(obj, "email") or None,
    )


def _parse_participant(raw: object) -> Participant | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    user_id = _id(obj, "userId")
    if user_id is None:
        return None
    read = obj.get("read")
    return _share(Participant(user_id, _bool(obj, "sender"), read is not False))


def _parse_opportunity(raw: object) -> Opportunity | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    return Opportunity(
        id=_id(obj, "id") or _id(obj), type=_str(obj, "type"), done=_bool(obj, "done")
    )


def _parse_message(raw: object) -> ConversationMessage | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    return ConversationMessage(
        id=_id(obj),
        sender=_str(obj, "sender"),
        recipient=_str(obj, "recipient"),
        body=_str(obj, "body"),
        sent_at=parse_datetime(obj.get("sentAt")),
    )


def _parse_conversation(obj: Mapping[str, Any]) -> Conversation:
    conversation_id = _id(obj)
    if conversation_id is None:
        raise ValueError("conversation without an _id")
    contact_id = _id(obj, "contactId") or _id(obj, "leadId")
    messages = tuple(m for m in map(_parse_message, _list(obj, "messages")) if m is not None)
    last_activity = parse_datetime(obj.get("lastActivityAt"))
    if last_activity is None and messages:
        # The schema shape has no lastActivityAt: its newest message stands in.
        last_activity = max((m.sent_at for m in messages if m.sent_at), default=None)
    channels = tuple(sys.intern(c) for c in _list(obj, "channels") if isinstance(c, str) and c)
    participants = tuple(p for p in map(_parse_participant, _list(obj, "users")) if p)
    opportunities = tuple(o for o in map(_parse_opportunity, _list(obj, "opportunities")) if o)
    labels = tuple(sys.intern(x) for x in _list(obj, "labels") if isinstance(x, str) and x)
    return Conversation(
        id=conversation_id,
        contact=_parse_contact(obj.get("contact"), contact_id),
        last_activity_at=last_activity,
        created_at=parse_datetime(obj.get("createdAt")),
        last_replied_at=parse_datetime(obj.get("lastRepliedAt")),
        channels=_share(channels),
        participants=_share(participants),
        have_replies=_bool(obj, "haveReplies"),
        last_replied_channel=_id(obj, "lastRepliedChannel"),
        opportunities=opportunities,
        labels=_share(labels),
        team_id=_id(obj, "teamId"),
        created_by=_id(obj, "createdBy"),
        lead_id=_id(obj, "leadId"),
        messages=messages,
    )


# --- pages --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pagination:
    total_items: int | None
    current_page: int
    next_page: int | None
    previous_page: int | None
    per_page: int | None
    total_pages: int | None


def _parse_pagination(raw: object, requested_page: int, item_count: int) -> Pagination:
    obj = _mapping(raw)
    if obj is None:
        # No pagination: the page is all there is.
        return Pagination(item_count, requested_page, None, None, None, 1)
    next_page = _int(obj, "nextPage")
    return Pagination(
        total_items=_int(obj, "totalItems"),
        current_page=_int(obj, "currentPage") or requested_page,
        next_page=next_page if next_page is not None and next_page > 0 else None,
        previous_page=_int(obj, "previousPage"),
        per_page=_int(obj, "perPage"),
        total_pages=_int(obj, "totalPages"),
    )


def _frame(payload: object, what: str) -> tuple[list[Any], object]:
    """The ``{"data": [...], "pagination": {...}}`` frame of a list answer."""
    if isinstance(payload, list):
        return payload, None
    obj = _mapping(payload)
    if obj is None or not isinstance(obj.get("data"), list):
        raise ProtocolError(f"lemlist sent {what} in a shape this app does not understand.")
    return obj["data"], obj.get("pagination")


@dataclass(frozen=True, slots=True)
class InboxPage:
    conversations: tuple[Conversation, ...]
    pagination: Pagination
    skipped: tuple[str, ...] = ()
    """One line per malformed item that was left out."""


def parse_inbox_page(payload: object, requested_page: int = 1) -> InboxPage:
    items, raw_pagination = _frame(payload, "an inbox page")
    conversations: list[Conversation] = []
    skipped: list[str] = []
    for index, item in enumerate(items):
        obj = _mapping(item)
        try:
            if obj is None:
                raise ValueError("not an object")
            conversations.append(_parse_conversation(obj))
        except (ValueError, TypeError) as error:
            skipped.append(f"item {index}: {error}")
    pagination = _parse_pagination(raw_pagination, requested_page, len(items))
    return InboxPage(tuple(conversations), pagination, tuple(skipped))


# --- the thread ---------------------------------------------------------------------


_CHANNEL_PREFIXES = (
    ("linkedin", "linkedin"),
    ("whatsapp", "whatsapp"),
    ("sms", "sms"),
    ("aircall", "call"),  # lemlist logs calls as aircallDone, aircallCreated, …
    ("call", "call"),
    ("email", "email"),
)


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    id: str | None
    type: str | None
    created_at: datetime | None
    subject: str | None
    html: str | None
    sender_user_id: str | None = None
    sender_name: str | None = None
    sender_email: str | None = None
    lead_email: str | None = None
    text: str | None = field(default=None, repr=False)
    """The message as plain text, made from ``html`` once when it was stored (None: not
    made yet; :func:`lemlist_tui.text.html_to_text` makes it)."""
    lead_id: str | None = None
    """The lead this message belongs to (``leadId``): interest is set on it."""
    campaign_id: str | None = None
    mailbox_id: str | None = None
    """``sendUserMailboxId``: the mailbox a reply by email goes out from."""

    @property
    def inbound(self) -> bool:
        """A reply from the contact (``emailsReplied``, ``linkedinReplied``, …)."""
        kind = (self.type or "").lower()
        return "replied" in kind or "received" in kind

    @property
    def channel(self) -> str:
        kind = (self.type or "").lower()
        for prefix, name in _CHANNEL_PREFIXES:
            if kind.startswith(prefix):
                return name
        return kind or "message"


@dataclass(frozen=True, slots=True)
class ThreadPage:
    messages: tuple[ThreadMessage, ...]
    pagination: Pagination
    skipped: tuple[str, ...] = ()


def _parse_thread_message(obj: Mapping[str, Any]) -> ThreadMessage:
    return ThreadMessage(
        id=_id(obj),
        type=_str(obj, "type"),
        created_at=parse_datetime(obj.get("createdAt")),
        subject=_str(obj, "subject"),
        html=_str(obj, "message") or _str(obj, "body"),
        sender_user_id=_id(obj, "sendUserId"),
        sender_name=_str(obj, "sendUserName"),
        sender_email=_str(obj, "sendUserEmail"),
        lead_email=_str(obj, "leadEmail"),
        lead_id=_id(obj, "leadId"),
        campaign_id=_id(obj, "campaignId"),
        mailbox_id=_id(obj, "sendUserMailboxId"),
    )


def parse_thread_page(payload: object) -> ThreadPage:
    items, raw_pagination = _frame(payload, "a conversation thread")
    messages: list[ThreadMessage] = []
    skipped: list[str] = []
    for index, item in enumerate(items):
        obj = _mapping(item)
        if obj is None:
            skipped.append(f"message {index}: not an object")
            continue
        messages.append(_parse_thread_message(obj))
    pagination = _parse_pagination(raw_pagination, 1, len(items))
    return ThreadPage(tuple(messages), pagination, tuple(skipped))


# --- the team -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamUser:
    id: str
    name: str | None = None
    email: str | None = None
    role: str | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.id


@dataclass(frozen=True, slots=True)
class Team:
    id: str | None
    name: str | None
    user_ids: tuple[str, ...]
    users: tuple[TeamUser, ...]
    """Named users, when the answer carried them (``version=v2``); may be empty."""

    def user(self, user_id: str) -> TeamUser | None:
        return next((u for u in self.users if u.id == user_id), None)


def _parse_team_user(raw: object) -> TeamUser | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    user_id = _id(obj, "userId") or _id(obj)
    if user_id is None:
        return None
    return TeamUser(user_id, _str(obj, "name"), _str(obj, "email"), _str(obj, "role"))


def parse_team(payload: object) -> Team:
    obj = _mapping(payload)
    if obj is None:
        raise ProtocolError("lemlist sent the team in a shape this app does not understand.")
    users = tuple(u for u in map(_parse_team_user, _list(obj, "users")) if u)
    user_ids = tuple(sys.intern(u) for u in _list(obj, "userIds") if isinstance(u, str) and u)
    listed, named = set(user_ids), {u.id for u in users}
    user_ids += tuple(u.id for u in users if u.id not in listed)
    if users:
        # Named users came (version=v2): an id without a name still gets an entry.
        users += tuple(TeamUser(u) for u in user_ids if u not in named)
    return Team(id=_id(obj), name=_str(obj, "name"), user_ids=user_ids, users=users)


def parse_user(payload: object) -> TeamUser:
    obj = _mapping(payload)
    user_id = _id(obj) if obj is not None else None
    if obj is None or user_id is None:
        raise ProtocolError("lemlist sent a user in a shape this app does not understand.")
    name = _str(obj, "name")
    if name is None:
        first, last = _str(obj, "firstName") or "", _str(obj, "lastName") or ""
        name = f"{first} {last}".strip() or None
    return TeamUser(user_id, name, _str(obj, "email"), _str(obj, "role"))


@dataclass(frozen=True, slots=True)
class Mailbox:
    """An account a user sends from: a mailbox (``mailboxes``) or a WhatsApp account."""

    id: str
    email: str | None = None
    provider: str | None = None
    status: str | None = None

    @property
    def usable(self) -> bool:
        """Not known to be broken (lemlist says ``connected``, or says nothing)."""
        return self.status in (None, "connected", "active", "ok")


@dataclass(frozen=True, slots=True)
class UserAccounts:
    """What ``GET /users/{id}`` says a user can send from."""

    user_id: str
    email: str | None
    mailboxes: tuple[Mailbox, ...] = ()
    whatsapp_accounts: tuple[Mailbox, ...] = ()


def _parse_mailbox(raw: object) -> Mailbox | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    mailbox_id = _id(obj)
    if mailbox_id is None:
        return None
    return Mailbox(mailbox_id, _str(obj, "email"), _str(obj, "provider"), _str(obj, "status"))


def parse_user_accounts(payload: object) -> UserAccounts:
    """The mailboxes (and WhatsApp accounts, when listed) of ``GET /users/{id}``."""
    user = parse_user(payload)
    obj = _mapping(payload) or {}
    return UserAccounts(
        user.id,
        user.email,
        tuple(m for m in map(_parse_mailbox, _list(obj, "mailboxes")) if m),
        tuple(m for m in map(_parse_mailbox, _list(obj, "whatsappAccounts")) if m),
    )


# --- labels -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    name: str | None
    color: str | None


def _parse_label(raw: object) -> Label | None:
    obj = _mapping(raw)
    label_id = _id(obj) if obj is not None else None
    if obj is None or label_id is None:
        return None
    return Label(label_id, _str(obj, "name"), _str(obj, "color"))


def parse_labels(payload: object) -> tuple[Label, ...]:
    items: Sequence[Any]
    if isinstance(payload, list):
        items = payload
    else:
        items, _ = _frame(payload, "the labels")
    return tuple(label for label in map(_parse_label, items) if label is not None)


def parse_label(payload: object) -> Label:
    """One label (``GET /inbox/labels/{id}``, ``POST /inbox/labels``); it needs an ``_id``."""
    label = _parse_label(payload)
    if label is None:
        raise ProtocolError("lemlist sent a label in a shape this app does not understand.")
    return label


# --- a contact and its campaigns ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactCampaign:
    """A campaign the contact is a lead of, and where the lead stands in it."""

    campaign_id: str | None
    campaign_state: str | None = None
    """The campaign's own state (``running``, ``paused``, …)."""
    lead_state: str | None = None
    """The lead's state there (``interested``, ``notInterested``, ``emailsReplied``, …)."""


@dataclass(frozen=True, slots=True)
class ContactDetails:
    """``GET /contacts/{contactIdOrEmail}``: the CRM record behind a conversation's
    :class:`Contact`, with its campaigns and owner. Every field may be missing."""

    id: str | None
    full_name: str | None = None
    email: str | None = None
    owner_id: str | None = None
    """The team user who owns the contact."""
    campaigns: tuple[ContactCampaign, ...] = ()
    created_at: datetime | None = None


def _parse_contact_campaign(raw: object) -> ContactCampaign | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    return ContactCampaign(
        campaign_id=_id(obj, "campaignId"),
        campaign_state=_str(obj, "campaignState"),
        lead_state=_str(obj, "leadState"),
    )


def parse_contact_details(payload: object) -> ContactDetails:
    obj = _mapping(payload)
    if obj is None:
        raise ProtocolError("lemlist sent a contact in a shape this app does not understand.")
    campaigns = map(_parse_contact_campaign, _list(obj, "campaigns"))
    return ContactDetails(
        id=_id(obj),
        full_name=_str(obj, "fullName") or None,
        email=_str(obj, "email") or None,
        owner_id=_id(obj, "ownerId"),
        campaigns=tuple(c for c in campaigns if c is not None),
        created_at=parse_datetime(obj.get("createdAt")),
    )


# --- drafts -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """A lemlist draft on a conversation (``GET /inbox/{contactId}/drafts``). The list
    gives ``preview`` only; one draft's own route gives ``content``."""

    id: str
    channel: str | None = None
    subject: str | None = None
    preview: str | None = None
    content: str | None = None
    source: str | None = None
    updated_at: datetime | None = None


def _parse_draft(raw: object) -> Draft | None:
    obj = _mapping(raw)
    if obj is None:
        return None
    draft_id = _id(obj) or _id(obj, "draftId")
    if draft_id is None:
        return None
    return Draft(
        draft_id,
        channel=_str(obj, "channel"),
        subject=_str(obj, "subject"),
        preview=_str(obj, "contentPreview"),
        content=_str(obj, "content"),
        source=_str(obj, "source"),
        updated_at=parse_datetime(obj.get("updatedAt") or obj.get("createdAt")),
    )


def parse_drafts(payload: object) -> tuple[Draft, ...]:
    obj = _mapping(payload)
    items = _list(obj, "drafts") if obj is not None else payload
    if not isinstance(items, list):
        raise ProtocolError("lemlist sent the drafts in a shape this app does not understand.")
    return tuple(d for d in map(_parse_draft, items) if d)


def parse_draft(payload: object) -> Draft:
    obj = _mapping(payload)
    inner = _mapping(obj.get("draft")) if obj is not None else None
    draft = _parse_draft(inner or obj)
    if draft is None:
        raise ProtocolError("lemlist sent a draft in a shape this app does not understand.")
    return draft
