"""Models ⇄ compact JSON-able records, for the disk cache.

Conversations are stored **by column**, not one object per row: a block of rows is
``{"n": N, "id": [...], "name": [...], ...}``. orjson parses flat lists of strings far
faster than 100k small objects, and the values that repeat across an inbox (channels,
participants, team and sender ids) are stored once in a table and referenced by
index, so loading shares one Python object per distinct value for free.

The record format is private to the cache; :data:`SCHEMA` versions it. Every decoder
raises :class:`RecordError` on anything it does not expect, and the cache then
ignores the file: a cache is never worth a crash.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from types import MemberDescriptorType
from typing import Any, TypeVar

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    ConversationMessage,
    Opportunity,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)

__all__ = [
    "SCHEMA",
    "RecordError",
    "conversations_from_block",
    "conversations_to_block",
    "team_from_record",
    "team_to_record",
    "thread_from_record",
    "thread_to_record",
]

SCHEMA = 1
"""Bump on any change to the shapes below: older files are then ignored and rewritten."""

_K = TypeVar("_K", bound=Hashable)
_T = TypeVar("_T")

_SENDER = 1
_READ = 2


class RecordError(ValueError):
    """A stored record is not in the shape this version writes."""


# --- fast construction ------------------------------------------------------------------


def _fast_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A positional constructor for a frozen slotted dataclass that fills the slots directly.

    A frozen dataclass's ``__init__`` goes through ``object.__setattr__`` once per
    field; calling the slot descriptors directly builds the same object in about half
    the time, which is a good share of a 100k cold start. Only for plain classes (every
    field in ``__init__``, no ``__post_init__``); anything else keeps its constructor.
    Round-trip tests compare the result with ``cls(...)``.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = [f.name for f in fields]
    plain = all(f.init for f in fields) and not hasattr(cls, "__post_init__")
    if not plain or not all(isinstance(getattr(cls, n, None), MemberDescriptorType) for n in names):
        return cls
    setters = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    defaults = ", ".join(f"{key}={key}" for key in setters)
    body = "".join(f"    _set_{name}(self, {name})\n" for name in names)
    source = (
        f"def make({', '.join(names)}, *, _new=_new, _cls=_cls, {defaults}):\n"
        f"    self = _new(_cls)\n{body}    return self\n"
    )
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, namespace)
    make: Callable[..., _T] = namespace["make"]
    return make


_CONVERSATION = _fast_constructor(Conversation)
_CONTACT = _fast_constructor(Contact)
_TEXT_TYPES = frozenset({str, type(None)})


# --- small codecs ----------------------------------------------------------------------


def _when(value: object) -> datetime | None:
    if value is None:
        return None
    if type(value) is not str:
        raise RecordError("a timestamp is not a string")
    when = datetime.fromisoformat(value)  # ValueError on garbage: the caller drops the file
    if when.tzinfo is None:  # not written by us (see _check_utc)
        raise RecordError("a timestamp has no time zone")
    return when


def _check_utc(column: list[Any]) -> None:
    """Every timestamp of a column ends in "Z", as orjson writes the models' UTC times
    (checked at C speed: about 10 ms at 100k). A naive one, from a file we did not write,
    would crash the next start: naive and aware datetimes do not compare, and a naive one
    in the first hours of year 1 has no timestamp()."""
    stamps = list(filter(None, column))
    if "".join(stamps).count("Z") != len(stamps):  # TypeError if one is not a string
        raise RecordError("a timestamp is not a UTC time")


def _opt_str(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise RecordError("a text field is not a string")


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(type(v) is str for v in values):
        raise RecordError("a list of strings is not one")
    return tuple(sys.intern(v) for v in values)


def _column(block: dict[str, Any], name: str, n: int) -> list[Any]:
    column = block.get(name)
    if not isinstance(column, list) or len(column) != n:
        raise RecordError(f"column {name!r} is missing or has the wrong length")
    return column


def _dictionary(values: list[_K]) -> tuple[list[_K], list[int]]:
    """Dictionary encoding: the distinct values, and each row's index into them.

    Distinct objects are found by identity first (C speed; the models already share
    repeated values), then merged by value, so hashing a Python-level ``__hash__``
    happens once per distinct object, not once per row.
    """
    distinct = dict(zip(map(id, values), values, strict=True))
    table: dict[_K, int] = {}
    slot = {key: table.setdefault(value, len(table)) for key, value in distinct.items()}
    return list(table), list(map(slot.__getitem__, map(id, values)))


def _decode_table(
    block: dict[str, Any], name: str, n: int, decode: Callable[[Any], Any]
) -> list[Any]:
    """Each row's value of a dictionary-encoded column, one shared object per value."""
    table = block.get(name + "_t")
    if not isinstance(table, list):
        raise RecordError(f"table {name!r} is missing")
    values = [decode(entry) for entry in table]
    try:
        return [values[index] for index in _column(block, name, n)]
    except (IndexError, TypeError):
        raise RecordError(f"column {name!r} points outside its table") from None


# --- conversations ------------------------------------------------------------------


def _participants_record(participants: tuple[Participant, ...]) -> list[list[Any]]:
    return [
        [p.user_id, (_SENDER if p.sender else 0) | (_READ if p.read else 0)] for p in participants
    ]


def _participants(entry: object) -> tuple[Participant, ...]:
    if not isinstance(entry, list):
        raise RecordError("participants are not a list")
    out = []
    for item in entry:
        if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is str):
            raise RecordError("a participant is malformed")
        flags = item[1]
        if type(flags) is not int:
            raise RecordError("a participant's flags are not a number")
        out.append(Participant(sys.intern(item[0]), bool(flags & _SENDER), bool(flags & _READ)))
    return tuple(out)


def _opportunities(entry: object) -> tuple[Opportunity, ...]:
    if entry is None:
        return ()
    if not isinstance(entry, list):
        raise RecordError("opportunities are not a list")
    out = []
    for item in entry:
        if not (isinstance(item, list) and len(item) == 3):
            raise RecordError("an opportunity is malformed")
        out.append(Opportunity(_opt_str(item[0]), _opt_str(item[1]), item[2] is True))
    return tuple(out)


def _messages(entry: object) -> tuple[ConversationMessage, ...]:
    if entry is None:
        return ()
    if not isinstance(entry, list):
        raise RecordError("messages are not a list")
    out = []
    for item in entry:
        if not (isinstance(item, list) and len(item) == 5):
            raise RecordError("a message is malformed")
        out.append(
            ConversationMessage(
                _opt_str(item[0]),
                _opt_str(item[1]),
                _opt_str(item[2]),
                _opt_str(item[3]),
                _when(item[4]),
            )
        )
    return tuple(out)


def conversations_to_block(conversations: Sequence[Conversation]) -> dict[str, Any]:
    """One column per field; repeated values dictionary-encoded (see the module doc).

    Timestamps stay ``datetime`` objects: orjson writes them (RFC 3339) in C, five
    times faster than ``isoformat()``, and ``fromisoformat`` reads them back exactly.
    """
    cs = conversations
    channels_t, channels = _dictionary([c.channels for c in cs])
    users_t, users = _dictionary([c.participants for c in cs])
    labels_t, labels = _dictionary([c.labels for c in cs])
    lrc_t, lrc = _dictionary([c.last_replied_channel for c in cs])
    team_t, team = _dictionary([c.team_id for c in cs])
    return {
        "n": len(cs),
        "id": [c.id for c in cs],
        "contact": [c.contact.id for c in cs],
        "name": [c.contact.full_name for c in cs],
        "email": [c.contact.email for c in cs],
        "last": [c.last_activity_at for c in cs],
        "created": [c.created_at for c in cs],
        "replied": [c.last_replied_at for c in cs],
        "replies": [1 if c.have_replies else 0 for c in cs],
        "lead": [c.lead_id for c in cs],
        "by": [c.created_by for c in cs],  # an activity id: unique per row
        # Rare and unique per row: stored inline, null when empty.
        "opps": [[[o.id, o.type, o.done] for o in c.opportunities] or None for c in cs],
        "msgs": [
            [[m.id, m.sender, m.recipient, m.body, m.sent_at] for m in c.messages] or None
            for c in cs
        ],
        "channels": channels,
        "channels_t": [list(value) for value in channels_t],
        "users": users,
        "users_t": [_participants_record(value) for value in users_t],
        "labels": labels,
        "labels_t": [list(value) for value in labels_t],
        "lrc": lrc,
        "lrc_t": lrc_t,
        "team": team,
        "team_t": team_t,
    }


def conversations_from_block(block: object) -> list[Conversation]:
    """The conversations of a block, in stored order. Raises RecordError on any flaw."""
    if not isinstance(block, dict):
        raise RecordError("a block of conversations is not an object")
    n = block.get("n")
    if type(n) is not int or n < 0:
        raise RecordError("a block has no row count")
    try:
        return _decode_block(block, n)
    except (TypeError, ValueError, AttributeError) as error:
        if isinstance(error, RecordError):
            raise
        raise RecordError(f"a block of conversations is malformed: {error}") from None


def _decode_block(block: dict[str, Any], n: int) -> list[Conversation]:
    ids = _column(block, "id", n)
    if set(map(type, ids)) - {str} or "" in ids:
        raise RecordError("a conversation id is not a string")
    text = {name: _column(block, name, n) for name in ("contact", "name", "email", "lead", "by")}
    for name, column in text.items():
        if set(map(type, column)) - _TEXT_TYPES:
            raise RecordError(f"column {name!r} holds something other than text")
    for name in ("last", "created", "replied"):
        _check_utc(_column(block, name, n))
    when = datetime.fromisoformat
    conversation, contact = _CONVERSATION, _CONTACT
    # The hot loop of a 100k cold start: locals only, and no helper call on the common
    # path (no opportunities, no messages).
    out: list[Conversation] = []
    append = out.append
    for (
        cid,
        contact_id,
        name,
        email,
        last,
        created,
        replied,
        replies,
        lead,
        opps,
        msgs,
        channels,
        users,
        labels,
        lrc,
        team,
        by,
    ) in zip(
        ids,
        text["contact"],
        text["name"],
        text["email"],
        _column(block, "last", n),
        _column(block, "created", n),
        _column(block, "replied", n),
        _column(block, "replies", n),
        text["lead"],
        _column(block, "opps", n),
        _column(block, "msgs", n),
        _decode_table(block, "channels", n, _strings),
        _decode_table(block, "users", n, _participants),
        _decode_table(block, "labels", n, _strings),
        _decode_table(block, "lrc", n, _opt_str),
        _decode_table(block, "team", n, _opt_str),
        text["by"],
        strict=True,
    ):
        last_at = when(last) if last is not None else None
        append(
            conversation(
                cid,
                contact(contact_id, name, email),
                last_at,
                # Equal timestamps share one datetime (a conversation nobody answered
                # yet has createdAt == lastActivityAt): 48 bytes a row saved.
                last_at if created == last else when(created) if created is not None else None,
                last_at if replied == last else when(replied) if replied is not None else None,
                channels,
                users,
                replies == 1,
                lrc,
                _opportunities(opps) if opps is not None else (),
                labels,
                team,
                by,
                lead,
                _messages(msgs) if msgs is not None else (),
            )
        )
    return out


# --- threads ------------------------------------------------------------------------


def _pagination_record(p: Pagination) -> list[int | None]:
    return [p.total_items, p.current_page, p.next_page, p.previous_page, p.per_page, p.total_pages]


def _opt_int(value: object) -> int | None:
    if value is None or type(value) is int:
        return value
    raise RecordError("a number field is not a number")


def _pagination(entry: object) -> Pagination:
    if not (isinstance(entry, list) and len(entry) == 6):
        raise RecordError("pagination is malformed")
    total, current, next_page, previous, per_page, pages = map(_opt_int, entry)
    if current is None:
        raise RecordError("pagination has no current page")
    return Pagination(total, current, next_page, previous, per_page, pages)


def thread_to_record(page: ThreadPage) -> dict[str, Any]:
    return {
        "messages": [
            [
                m.id,
                m.type,
                m.created_at,
                m.subject,
                m.html,
                m.sender_user_id,
                m.sender_name,
                m.sender_email,
                m.lead_email,
            ]
            for m in page.messages
        ],
        "pagination": _pagination_record(page.pagination),
        "skipped": list(page.skipped),
    }


def thread_from_record(record: object) -> ThreadPage:
    if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
        raise RecordError("a thread is malformed")
    messages = []
    for item in record["messages"]:
        if not (isinstance(item, list) and len(item) == 9):
            raise RecordError("a thread message is malformed")
        texts = [_opt_str(value) for value in item]
        try:
            created = _when(item[2])
        except ValueError:
            raise RecordError("a thread message has a bad timestamp") from None
        messages.append(ThreadMessage(texts[0], texts[1], created, *texts[3:]))
    return ThreadPage(
        tuple(messages), _pagination(record.get("pagination")), _strings(record.get("skipped"))
    )


# --- the team -----------------------------------------------------------------------


def team_to_record(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "user_ids": list(team.user_ids),
        "users": [[u.id, u.name, u.email, u.role] for u in team.users],
    }


def team_from_record(record: object) -> Team:
    if not isinstance(record, dict) or not isinstance(record.get("users"), list):
        raise RecordError("the team is malformed")
    users = []
    for item in record["users"]:
        if not (isinstance(item, list) and len(item) == 4 and type(item[0]) is str):
            raise RecordError("a team user is malformed")
        users.append(TeamUser(item[0], *(_opt_str(value) for value in item[1:])))
    return Team(
        _opt_str(record.get("id")),
        _opt_str(record.get("name")),
        _strings(record.get("user_ids")),
        tuple(users),
    )
