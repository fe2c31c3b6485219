"""Presenter mode's stand-ins: the same invented person for the same real one all
session, nobody real left in a text, the shape of every text kept, and no invented name
that the demo's data could also hold (the pty test looks for every real name)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.db import ListRow
from lemlist_tui.demo.texts import NAME_GROUPS, NOTABLE_NAMES, TEAM
from lemlist_tui.presenter import DOMAINS, FIRST_NAMES, LAST_NAMES, Presenter

SALT = b"0123456789abcdef"


def test_no_invented_name_is_one_the_demo_uses() -> None:
    real = {t for given_names, families, _ in NAME_GROUPS for t, _ in (*given_names, *families)}
    real |= {part for name in NOTABLE_NAMES for part in name.full.split()}
    real |= {part for member in TEAM for part in member[:2]}
    assert not real & {*FIRST_NAMES, *LAST_NAMES}


def test_the_same_person_keeps_one_stand_in_and_another_gets_another() -> None:
    presenter = Presenter(SALT)
    name, email = presenter.person("ctc_1")
    assert presenter.person("ctc_1") == (name, email)
    assert Presenter(SALT).person("ctc_1") == (name, email)  # it depends on the salt alone
    first, last = name.split(" ")
    assert first in FIRST_NAMES and last in LAST_NAMES
    assert email == f"{first}.{last}".lower() + "@" + email.split("@")[1]
    assert email.split("@")[1] in DOMAINS
    others = {Presenter(SALT).person(f"ctc_{k}")[0] for k in range(200)}
    assert len(others) > 150  # 1,008 names for 200 people: few collide
    salted = {Presenter(bytes([k]) * 16).person("ctc_1") for k in range(8)}
    assert len(salted) > 1  # another session, other stand-ins


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_a_text_keeps_its_shape_and_none_of_its_words(text: str) -> None:
    shown = Presenter(SALT).text(text)
    assert shown is not None
    assert len(shown) == len(text)
    # Every character that is not a letter or digit stays where it was (line ends,
    # punctuation, quoting); letters and digits become ASCII stand-ins.
    for before, after in zip(text, shown, strict=True):
        if before.isalnum():
            assert after.isascii() and after.isalnum()
        else:
            assert after == before


def test_a_reply_is_stand_in_words_with_its_quoting_and_punctuation() -> None:
    text = "Hi João,\n> On Dec 6, Jonas Becker wrote:\n> Call 555-0142 — https://acme.example/x"
    shown = Presenter(SALT).text(text)
    assert shown is not None
    assert shown.splitlines()[1].startswith("> ") and shown.splitlines()[2].startswith("> ")
    for word in ("João", "Jonas", "Becker", "acme", "example", "555", "0142", "Dec"):
        assert word not in shown
    assert re.fullmatch(r"> \w+ \d{3}-\d{4} — \w+://\w+\.\w+/\w", shown.splitlines()[2])
    assert Presenter(SALT).text(text) == shown  # stable


def test_rows_contacts_threads_and_teams_are_presented_keeping_the_rest() -> None:
    presenter = Presenter(SALT)
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    row = ListRow(
        local_id=1, sort_value=5, id="ibx_1", name="Renée O'Connor", email="renee@wonka.example",
        channels=("email",), unread=True, last_activity_at=at, last_replied_at=None,
        created_at=at, have_replies=True, opportunities=2, labels=("lbl_1",), owner="usr_1",
    )  # fmt: skip
    shown = presenter.row(row)
    assert (shown.name, shown.email) == presenter.person("renee@wonka.example")
    assert dataclasses.replace(shown, name=row.name, email=row.email) == row

    contact = Contact("ctc_1", "Renée O'Connor", "renee@wonka.example")
    conversation = Conversation(
        "ibx_1", contact, last_activity_at=at, participants=(Participant("usr_1", True, False),)
    )
    presented = presenter.conversation(conversation)
    # The contact keeps the name its row has: keyed by the same email.
    assert (presented.contact.full_name, presented.contact.email) == (shown.name, shown.email)
    assert presented.participants == conversation.participants
    assert presented.last_activity_at == at

    message = ThreadMessage(
        "act_1", "email", at, "Re: Wonka", "<p>Hi Renée, Jonas here</p>",
        sender_user_id="usr_1", sender_name="Jonas Becker", sender_email="jonas@acme.example",
        lead_email="renee@wonka.example",
    )  # fmt: skip
    thread = presenter.thread(ThreadPage((message,), pagination=None))  # type: ignore[arg-type]
    [out] = thread.messages
    assert out.html is None and out.text is not None
    assert "Renée" not in out.text and "Jonas" not in out.text
    assert out.lead_email == shown.email  # the contact, the same stand-in everywhere
    team = presenter.team(
        Team(
            "tea_1", "Acme", ("usr_1",), (TeamUser("usr_1", "Jonas Becker", "jonas@acme.example"),)
        )
    )
    [user] = team.users
    assert (user.name, user.email) == presenter.person("usr_1")
    assert out.sender_name == user.name  # the sender is the teammate, by id
    assert out.created_at == at and out.type == "email"
