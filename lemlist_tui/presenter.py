"""Presenter mode: a real account shown in public, every person on screen invented.

No ``textual`` import. A :class:`Presenter` turns what the screens show into a stand-in:
each contact and teammate gets an invented name and email, the same one for the whole
session (keyed by their id, else their real email or name, and a salt drawn at start, so
two sessions do not pair the same real person with the same invented one); subjects and
bodies become stand-in words of the same shape, line for line. Counts, dates, channels,
labels and ids are kept: the structure is what a demo shows.

The invented names share no name with the demo's (a test checks it), so a test can look
for every real name in a presenter session's bytes.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import secrets
from typing import Protocol

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Draft,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.db import ListRow
from lemlist_tui.text import html_to_text

__all__ = ["FIRST_NAMES", "LAST_NAMES", "PresentedThreads", "Presenter", "Threads"]

FIRST_NAMES = (
    "Avery", "Blake", "Arden", "Dakota", "Emerson", "Finley", "Harper", "Hayden", "Briar",
    "Kendall", "Logan", "Marlowe", "Ember", "Parker", "Quinn", "Reese", "Riley", "Rowan",
    "Sage", "Skyler", "Tatum", "Wren", "Ainsley", "Bellamy", "Corin", "Darcy", "Ellery",
    "Gray", "Indigo", "Jules", "Kit", "Lennox", "Marin", "Noel", "Oakley", "Peyton",
)  # fmt: skip
LAST_NAMES = (
    "Ashdown", "Birchall", "Calloway", "Dunmore", "Everly", "Fairweather", "Galloway",
    "Hartwell", "Ingleby", "Jessop", "Kingsley", "Lockridge", "Marchbank", "Northcott",
    "Oakhurst", "Pemberton", "Quenby", "Rookwood", "Stanwick", "Thistlewood", "Underhill",
    "Vantongeren", "Whitcombe", "Yardley", "Ambrose", "Blackwood", "Cresswell", "Dorrance",
)  # fmt: skip
DOMAINS = (
    "northgate.invalid", "bluefern.invalid", "copperline.invalid", "tidewater.invalid",
    "harbourlight.invalid", "stonebridge.invalid", "larkspur.invalid", "meadowbank.invalid",
)  # fmt: skip
_WORDS = (
    "a", "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed",
    "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna",
    "aliqua", "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco",
    "laboris", "nisi", "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute",
    "irure", "in", "reprehenderit", "voluptate", "velit", "esse", "cillum", "fugiat",
    "nulla", "pariatur", "excepteur", "sint", "occaecat", "cupidatat", "non", "proident",
    "sunt", "culpa", "qui", "officia", "deserunt", "mollit", "anim", "id", "est", "laborum",
)  # fmt: skip
_BY_LENGTH: dict[int, tuple[str, ...]] = {}
for _word in _WORDS:
    _BY_LENGTH.setdefault(len(_word), ())
    _BY_LENGTH[len(_word)] += (_word,)
_LONGEST = max(_BY_LENGTH)

_WORD = re.compile(r"[^\W\d_]+")
_DIGITS = re.compile(r"\d+")


class Presenter:
    """Stand-ins for the people and texts of one session (see the module)."""

    def __init__(self, salt: bytes | None = None) -> None:
        self._salt = salt if salt is not None else secrets.token_bytes(16)

    def _draw(self, kind: str, key: str) -> int:
        digest = hashlib.blake2b(f"{kind}\0{key}".encode(), key=self._salt, digest_size=8)
        return int.from_bytes(digest.digest(), "big")

    # --- people ----------------------------------------------------------------------

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 (one presenter per session)
    def person(self, key: str) -> tuple[str, str]:
        """(name, email) invented for the person known by ``key`` (an id, else a real
        email or name): the same for the whole session."""
        draw = self._draw("person", key)
        first = FIRST_NAMES[draw % len(FIRST_NAMES)]
        last = LAST_NAMES[(draw // len(FIRST_NAMES)) % len(LAST_NAMES)]
        domain = DOMAINS[(draw // 1_000_003) % len(DOMAINS)]
        return f"{first} {last}", f"{first}.{last}@{domain}".lower()

    def _person_of(self, *keys: str | None) -> tuple[str, str] | None:
        key = next((k for k in keys if k), None)
        return self.person(key) if key is not None else None

    def _name(self, *keys: str | None) -> str | None:
        person = self._person_of(*keys)
        return person[0] if person else None

    def _email(self, *keys: str | None) -> str | None:
        person = self._person_of(*keys)
        return person[1] if person else None

    # --- texts -----------------------------------------------------------------------

    def text(self, text: str | None) -> str | None:
        """Every word a stand-in of its length (capitals kept), every number another:
        line breaks, punctuation and quoting (``> ``) stay as they were."""
        if text is None:
            return None
        words = _WORD.sub(self._word, text)
        return _DIGITS.sub(self._number, words)

    def _number(self, match: re.Match[str]) -> str:
        digits = len(match.group())
        return str(self._draw("number", match.group()) % 10**digits).zfill(digits)

    def _word(self, match: re.Match[str]) -> str:
        word = match.group()
        length = min(len(word), _LONGEST)
        while length > 1 and length not in _BY_LENGTH:
            length -= 1
        choices = _BY_LENGTH[length]
        stand_in = choices[self._draw("word", word.casefold()) % len(choices)]
        stand_in = (stand_in * (len(word) // len(stand_in) + 1))[: len(word)]
        if word.isupper() and len(word) > 1:
            return stand_in.upper()
        return stand_in.capitalize() if word[0].isupper() else stand_in

    # --- what the screens show -----------------------------------------------------------

    def row(self, row: ListRow) -> ListRow:
        key = row.email or row.name or row.id
        name, email = self.person(key)
        return dataclasses.replace(
            row, name=name if row.name else None, email=email if row.email else None
        )

    def contact(self, contact: Contact) -> Contact:
        key = contact.email or contact.full_name or contact.id
        if key is None:
            return contact
        name, email = self.person(key)
        return dataclasses.replace(
            contact,
            full_name=name if contact.full_name else None,
            email=email if contact.email else None,
        )

    def conversation(self, conversation: Conversation) -> Conversation:
        return dataclasses.replace(
            conversation,
            contact=self.contact(conversation.contact),
            messages=tuple(
                dataclasses.replace(
                    m,
                    sender=self._name(m.sender),
                    recipient=self._name(m.recipient),
                    body=self.text(m.body),
                )
                for m in conversation.messages
            ),
        )

    def thread(self, thread: ThreadPage) -> ThreadPage:
        return dataclasses.replace(thread, messages=tuple(map(self.message, thread.messages)))

    def message(self, message: ThreadMessage) -> ThreadMessage:
        body = message.text if message.text is not None else html_to_text(message.html)
        return dataclasses.replace(
            message,
            subject=self.text(message.subject),
            html=None,
            text=self.text(body),
            sender_name=self._name(message.sender_user_id, message.sender_email)
            if message.sender_name
            else None,
            sender_email=self._email(message.sender_user_id, message.sender_email)
            if message.sender_email
            else None,
            lead_email=self._email(message.lead_email),
        )

    def drafts(self, drafts: tuple[Draft, ...]) -> tuple[Draft, ...]:
        return tuple(
            dataclasses.replace(
                d,
                subject=self.text(d.subject),
                preview=self.text(d.preview),
                content=self.text(d.content),
            )
            for d in drafts
        )

    def team(self, team: Team) -> Team:
        """Teammates invented too, keyed by their id (as the thread's senders are)."""
        return dataclasses.replace(
            team,
            name=self.text(team.name),
            users=tuple(self.teammate(user) for user in team.users),
        )

    def teammate(self, user: TeamUser) -> TeamUser:
        name, email = self.person(user.id)
        return dataclasses.replace(
            user, name=name if user.name else None, email=email if user.email else None
        )


class Threads(Protocol):
    """Where threads come from (:class:`lemlist_tui.sync.engine.InboxSync`)."""

    def cached_thread(self, conversation: Conversation) -> ThreadPage | None: ...

    async def thread(self, conversation: Conversation) -> ThreadPage: ...


class PresentedThreads:
    """``threads``, every page it gives presented."""

    def __init__(self, threads: Threads, presenter: Presenter) -> None:
        self._threads = threads
        self._presenter = presenter

    def cached_thread(self, conversation: Conversation) -> ThreadPage | None:
        thread = self._threads.cached_thread(conversation)
        return None if thread is None else self._presenter.thread(thread)

    async def thread(self, conversation: Conversation) -> ThreadPage:
        return self._presenter.thread(await self._threads.thread(conversation))
