"""The filter's language, parsed and run against the inbox the demo API serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.clients import quick_config

from lemlist_tui.api.client import LemlistClient
from lemlist_tui.api.models import Conversation
from lemlist_tui.db import InboxDatabase, SortKey
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.db.query import parse_query
from lemlist_tui.demo import DemoLemlist
from lemlist_tui.inbox import InboxView
from lemlist_tui.sync.engine import InboxSync


def test_free_text_and_facets_combine() -> None:
    query = parse_query("is:unread label:hot Acme", {"hot": ["lbl_1", "lbl_2"]})
    assert query.terms == ("acme",)
    assert query.unread
    assert query.facets.labels == (("lbl_1", "lbl_2"),)
    assert not query.problems


def test_quoted_label_names_and_case() -> None:
    query = parse_query('LABEL:"Big Deal" Channel:LinkedIn has:Deal', {"big deal": ["lbl_9"]})
    assert query.facets.labels == (("lbl_9",),)
    assert query.facets.channels == ("linkedin",)
    assert query.facets.has_deal
    assert query.terms == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("is:snoozed", "is:snoozed"),
        ("has:meeting", "has:meeting"),
        ("from:ana", "“from:” is not a filter"),
        ("label:nope", "No label is named “nope”"),
        ("label:", "needs a value"),
        ("is:unread is:read", "match nothing"),
    ],
)
def test_what_cannot_be_used_is_said(text: str, says: str) -> None:
    query = parse_query(text, {})
    assert query.hint is not None and says in query.hint


def test_text_that_only_looks_like_a_term_stays_text() -> None:
    assert parse_query("9:30").terms == ("9:30",)
    assert parse_query("https://acme.test").terms == ("https://acme.test",)
    assert parse_query('"unclosed').terms == ('"unclosed',)


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config(size=300))


@pytest.fixture
async def db(
    tmp_path: Path, client: LemlistClient, demo: DemoLemlist
) -> AsyncIterator[InboxDatabase]:
    database = InboxDatabase(tmp_path / "account")
    sync = InboxSync(client, database, demo.team_user_ids[0], page_size=100)
    await sync.crawl()
    await sync.labels()
    yield database
    database.close()


def held(db: InboxDatabase, user: str) -> list[Conversation]:
    return list(db.iter_conversations(user))


def ids(view: InboxView, query: str, **options: object) -> set[str]:
    rows = view.apply(query, **options)  # type: ignore[arg-type]
    return {row.id for row in rows}


async def test_is_awaiting_is_exactly_where_the_contact_wrote_last(
    db: InboxDatabase, demo: DemoLemlist
) -> None:
    user = demo.team_user_ids[0]
    want = {
        c.id
        for c in held(db, user)
        if c.last_replied_at is not None and c.last_replied_at == c.last_activity_at
    }
    assert 0 < len(want) < 300
    view = InboxView(db, user)
    assert ids(view, "is:awaiting") == want
    assert ids(view, "", awaiting_only=True) == want
    unread = {c.id for c in held(db, user) if c.is_unread_for(user)}
    assert ids(view, "is:awaiting is:unread") == want & unread
    assert ids(view, "is:read") == {c.id for c in held(db, user)} - unread


async def test_label_channel_and_deal_match_the_demo_data(
    db: InboxDatabase, demo: DemoLemlist
) -> None:
    user = demo.team_user_ids[0]
    view = InboxView(db, user)
    conversations = held(db, user)
    listed_ids = {label for c in conversations for label in c.labels}
    label = next(label for label in db.labels() if label.id in listed_ids)
    # Labels lemlist lists on a conversation, and one the app applies.
    listed = {c.id for c in conversations if label.id in c.labels}
    assert listed  # the demo lists some labels on its conversations
    target = next(c for c in conversations if c.id not in listed and c.contact_id)
    assert target.contact_id is not None
    Outbox(db).add([Action(Kind.LABEL, target.contact_id, target=label.id)])
    assert label.name
    assert ids(view, f'label:"{label.name}"') == listed | {target.id}
    assert not view.problems
    assert ids(view, "channel:linkedin") == {
        c.id for c in conversations if "linkedin" in c.channels
    }
    assert ids(view, "has:deal") == {c.id for c in conversations if c.opportunities}


async def test_facets_keep_their_place_walks_and_counts_on_every_sort(
    db: InboxDatabase, demo: DemoLemlist
) -> None:
    user = demo.team_user_ids[0]
    view = InboxView(db, user)
    for sort in SortKey:
        rows = view.apply("is:awaiting", sort=sort)
        listed = [row.id for row in rows]
        assert rows.exact and len(rows) == len(listed)
        for index in (0, len(listed) // 2, len(listed) - 1):
            assert rows.index_of_id(listed[index], far=True) == index
        unread = [i for i, row in enumerate(rows) if row.unread]
        if len(unread) >= 2:
            assert rows.next_unread(unread[0]) == unread[1]
