"""Parsing at the edge: both documented shapes, tolerance, and nothing but ProtocolError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemlist_tui.api.errors import ProtocolError
from lemlist_tui.api.models import (
    parse_inbox_page,
    parse_labels,
    parse_team,
    parse_thread_page,
    parse_user,
)

# The reference page's example, verbatim in the parts that matter.
EXAMPLE_PAGE: dict[str, Any] = {
    "data": [
        {
            "_id": "ibx_RsROKFC3gmowgc74P",
            "opportunities": [],
            "lastActivityAt": "2024-12-17T09:42:32.971Z",
            "createdBy": "act_gKmkJOLCfUl4TkhIl",
            "channels": ["email"],
            "teamId": "tea_8QvkOiBfPdb2ZRhHi",
            "contactId": "ctc_Ds0IaxECSACsbLMzA",
            "users": [
                {"userId": "usr_xtJHBMYJSOHzI3ZFb", "sender": True, "read": True},
                {"userId": "usr_bcPQCObkKptmHw2Rp", "sender": True, "read": True},
            ],
            "createdAt": "2024-12-03T09:52:55.466Z",
            "haveReplies": True,
            "lastRepliedAt": "2024-12-03T10:12:20.620Z",
            "lastRepliedChannel": "email",
            "contact": {
                "_id": "ctc_Ds0IaxECSACsbLMzA",
                "fullName": "Alex",
                "email": "alex@example.com",
            },
        },
        {
            "_id": "ibx_M1qunaOcugoqSEnNY",
            "opportunities": [{"id": "opp_1", "type": "interested", "done": False}],
            "lastActivityAt": "2024-12-17T09:42:30.430Z",
            "channels": ["email", "linkedin"],
            "contactId": "ctc_p66lDxuCdb9ZUMSN2",
            "users": [
                {"userId": "usr_xtJHBMYJSOHzI3ZFb", "sender": True, "read": False},
                {"userId": "usr_bcPQCObkKptmHw2Rp", "sender": True, "read": True},
            ],
            "createdAt": "2024-12-03T14:01:15.873Z",
            "haveReplies": False,
            "contact": {"_id": "ctc_p66lDxuCdb9ZUMSN2", "email": "casey@example.com"},
        },
    ],
    "pagination": {
        "totalItems": 4,
        "currentPage": 1,
        "nextPage": 2,
        "previousPage": None,
        "perPage": 2,
        "totalPages": 2,
    },
}


def test_example_shape_parses_to_typed_objects() -> None:
    page = parse_inbox_page(EXAMPLE_PAGE)
    first, second = page.conversations
    assert first.id == "ibx_RsROKFC3gmowgc74P"
    assert first.contact.display_name == "Alex"
    assert first.last_activity_at == datetime(2024, 12, 17, 9, 42, 32, 971000, tzinfo=UTC)
    assert first.last_replied_at is not None and first.last_replied_at.tzinfo is not None
    assert first.channels == ("email",)
    assert first.have_replies and first.last_replied_channel == "email"
    # fullName is often missing: the email stands in.
    assert second.contact.full_name is None
    assert second.contact.display_name == "casey@example.com"
    assert second.is_unread_for("usr_xtJHBMYJSOHzI3ZFb")
    assert not second.is_unread_for("usr_bcPQCObkKptmHw2Rp")
    assert second.opportunities[0].type == "interested"
    assert page.pagination.next_page == 2 and page.pagination.total_items == 4
    assert page.skipped == ()


def test_schema_shape_parses_too() -> None:
    """The declared InboxConversation schema: _id, leadId, messages, createdAt."""
    page = parse_inbox_page(
        {
            "data": [
                {
                    "_id": "ibx_schema",
                    "leadId": "lea_1",
                    "createdAt": "2024-01-01T00:00:00.000Z",
                    "messages": [
                        {
                            "_id": "msg_1",
                            "conversationId": "ibx_schema",
                            "sender": "me@example.com",
                            "recipient": "you@example.com",
                            "body": "<p>Hi</p>",
                            "sentAt": "2024-01-02T00:00:00.000Z",
                        },
                        {"_id": "msg_2", "sentAt": "2024-01-03T00:00:00Z"},
                    ],
                }
            ],
            "pagination": None,
        }
    )
    (conversation,) = page.conversations
    assert conversation.lead_id == "lea_1"
    assert conversation.contact.id == "lea_1"
    assert len(conversation.messages) == 2
    # No lastActivityAt in this shape: the newest message stands in.
    assert conversation.last_activity_at == datetime(2024, 1, 3, tzinfo=UTC)
    assert page.pagination.next_page is None


def test_malformed_items_are_skipped_and_reported() -> None:
    page = parse_inbox_page(
        {
            "data": [
                42,
                {"no": "id"},
                {"_id": "ibx_ok", "users": [None, {"userId": 3}], "channels": [1, "sms"]},
                {"_id": "ibx_nulls", "contact": None, "lastActivityAt": "yesterday"},
            ]
        }
    )
    assert [c.id for c in page.conversations] == ["ibx_ok", "ibx_nulls"]
    assert len(page.skipped) == 2
    ok, nulls = page.conversations
    assert ok.participants == () and ok.channels == ("sms",)
    assert nulls.last_activity_at is None
    assert nulls.contact.display_name == "(unknown contact)"


@pytest.mark.parametrize(
    "payload", [None, 3, "text", [], {}, {"data": None}, {"data": {"a": 1}}, {"pagination": {}}]
)
def test_wrong_frames_raise_protocol_error(payload: object) -> None:
    if isinstance(payload, list):
        assert parse_inbox_page(payload).conversations == ()
        return
    with pytest.raises(ProtocolError):
        parse_inbox_page(payload)


def test_team_with_and_without_named_users() -> None:
    team = parse_team(
        {
            "_id": "tea_1",
            "name": "Acme",
            "userIds": ["usr_a", "usr_b"],
            "users": [{"userId": "usr_a", "name": "Ann", "email": "a@x.test", "role": "admin"}],
        }
    )
    assert team.user_ids == ("usr_a", "usr_b")
    assert [u.display_name for u in team.users] == ["Ann", "usr_b"]
    bare = parse_team({"_id": "tea_1", "userIds": ["usr_a"], "hooks": []})
    assert bare.users == () and bare.user_ids == ("usr_a",)
    assert parse_user({"_id": "usr_a", "email": "a@x.test"}).display_name == "a@x.test"


def test_thread_and_labels() -> None:
    thread = parse_thread_page(
        {
            "data": [
                {"_id": "act_1", "type": "emailsSent", "message": "<p>Hello</p>", "subject": "Hi"},
                {"_id": "act_2", "type": "linkedinReplied", "createdAt": "2024-01-01T00:00:00Z"},
                "junk",
            ],
            "pagination": {"totalItems": 2, "currentPage": 1, "nextPage": None},
        }
    )
    sent, replied = thread.messages
    assert not sent.inbound and sent.channel == "email" and sent.html == "<p>Hello</p>"
    assert replied.inbound and replied.channel == "linkedin"
    call = parse_thread_page({"data": [{"_id": "act_3", "type": "aircallDone"}]}).messages[0]
    assert call.channel == "call"
    assert thread.skipped == ("message 2: not an object",)
    labels = parse_labels([{"_id": "lbl_1", "name": "Hot", "color": "#ff0000"}, {"x": 1}])
    assert [label.name for label in labels] == ["Hot"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=40,
)
conversation_like = st.fixed_dictionaries(
    {},
    optional={
        key: json_values
        for key in (
            "_id",
            "contactId",
            "users",
            "channels",
            "contact",
            "lastActivityAt",
            "createdAt",
            "opportunities",
            "messages",
            "haveReplies",
        )
    },
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"data": st.lists(conversation_like | json_values)},
            optional={"pagination": json_values},
        ),
    )
)
def test_parsers_raise_nothing_but_protocol_error(payload: object) -> None:
    for parse in (parse_inbox_page, parse_thread_page, parse_team, parse_user, parse_labels):
        with contextlib.suppress(ProtocolError):
            parse(payload)
