"""Replies and drafts on the demo lemlist API, over HTTP: the send routes, what they leave in
the thread and the inbox, the drafts routes, and a send whose answer is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx
import pytest
from demo_fixtures import FIXED_NOW, ServeDemo

from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist, Fault

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
UNKNOWN_CONTACT = "ctc_AAAAAAAAAAAAAAAAA"
HTML = '<p>Thanks, Zoë &amp; team &mdash; <b>see you</b> on <a href="https://x.example">Tue</a></p>'
WHATSAPP_ID = "sendUserWhatsappAccountId"
NOT_THEIR_EMAIL = "sendUserEmail is not this user's email"
NO_MAILBOX = "Mailbox not found for this user"
BAD_CHANNEL = "channel must be one of email, linkedin, whatsapp, sms"
SENT_TYPES = {"email": "emailsSent", "linkedin": "linkedinSent", "whatsapp": "whatsappSent"}

Json = dict[str, Any]


def config() -> DemoConfig:
    # Seed 6 has WhatsApp threads among its first 40 conversations.
    return DemoConfig(size=40, seed=6, now=FIXED_NOW, rate_limit=100_000)


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(config())


@pytest.fixture
async def api(demo: DemoLemlist) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo), base_url=DEMO_BASE_URL, auth=("", DEMO_API_KEY)
    ) as api:
        yield api


class Sender(NamedTuple):
    user_id: str
    email: str
    mailbox_id: str
    whatsapp_id: str


class Target(NamedTuple):
    conversation_id: str
    contact_id: str
    lead_id: str


async def sender(api: httpx.AsyncClient, user_id: str) -> Sender:
    user = (await api.get(f"/users/{user_id}")).json()
    (mailbox,) = user["mailboxes"]
    (whatsapp,) = user["whatsappAccounts"]
    return Sender(user_id, user["email"], mailbox["_id"], whatsapp["_id"])


def target(demo: DemoLemlist, position: int) -> Target:
    conversation = demo.conversation_ids()[position]
    return Target(conversation, demo.contact_id_of(conversation), demo.lead_id_of(conversation))


def body_for(channel: str, who: Sender, to: Target, **changes: Any) -> Json:
    """A valid body for ``POST /inbox/{channel}``, with ``changes`` (None: left out)."""
    body: Json = {"sendUserId": who.user_id, "contactId": to.contact_id, "leadId": to.lead_id}
    if channel == "email":
        body.update(
            sendUserEmail=who.email,
            sendUserMailboxId=who.mailbox_id,
            subject="Re: our call",
            cc=["boss@acme-sales.example"],
        )
    elif channel == "whatsapp":
        body["sendUserWhatsappAccountId"] = who.whatsapp_id
    body["message"] = HTML
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


async def thread(api: httpx.AsyncClient, contact_id: str, user_id: str) -> list[Json]:
    answer = await api.get(f"/inbox/{contact_id}", params={"userId": user_id, "limit": 100})
    assert answer.status_code == 200
    activities: list[Json] = answer.json()["data"]
    return activities


async def first_page(api: httpx.AsyncClient, user_id: str) -> list[Json]:
    answer = await api.get("/inbox", params={"userId": user_id, "page": 1, "limit": 100})
    conversations: list[Json] = answer.json()["data"]
    return conversations


# -- what the team members send from ----------------------------------------------------------


async def test_every_member_has_a_whatsapp_account_and_activities_name_the_senders_accounts(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    senders = {u: await sender(api, u) for u in demo.team_user_ids}
    whatsapp_ids = [s.whatsapp_id for s in senders.values()]
    assert all(w.startswith("wha_") and len(w) == 21 for w in whatsapp_ids)
    assert len(set(whatsapp_ids)) == len(whatsapp_ids)
    again = DemoLemlist(config())  # deterministic per seed
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=again), base_url=DEMO_BASE_URL, auth=("", DEMO_API_KEY)
    ) as other:
        assert [(await sender(other, u)).whatsapp_id for u in demo.team_user_ids] == whatsapp_ids
    user = (await api.get(f"/users/{demo.team_user_ids[0]}")).json()
    assert user["whatsappAccounts"][0]["status"] == "connected"

    viewer = demo.team_user_ids[0]
    whatsapp_seen = 0
    for conversation in (await first_page(api, viewer))[:40]:
        for activity in await thread(api, conversation["contactId"], viewer):
            who = senders[activity["sendUserId"]]
            assert activity["sendUserMailboxId"] == who.mailbox_id
            if activity["type"].startswith("whatsapp"):
                assert activity["sendUserWhatsappAccountId"] == who.whatsapp_id
                whatsapp_seen += 1
            else:
                assert "sendUserWhatsappAccountId" not in activity
    assert whatsapp_seen > 0


# -- sending ----------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "linkedin", "whatsapp"])
async def test_a_sent_message_is_the_newest_activity_and_tops_the_inbox(
    demo: DemoLemlist, api: httpx.AsyncClient, channel: str
) -> None:
    viewer = demo.team_user_ids[0]
    # Far from the top, and unread by a member who is not the campaign's sender: the sender
    # of this message, whose flag the send must set.
    page = await first_page(api, viewer)
    position, user_id = next(
        (k, u["userId"])
        for k, c in enumerate(page)
        if k >= 10
        for u in c["users"]
        if not u["sender"] and not u["read"]
    )
    to = target(demo, position)
    who = await sender(api, user_id)
    before = await thread(api, to.contact_id, viewer)
    read_before = {u: demo.is_read(to.conversation_id, u) for u in demo.team_user_ids}

    body = body_for(channel, who, to)
    answer = await api.post(f"/inbox/{channel}", json=body)
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert answer.headers["content-type"] == JSON

    after = await thread(api, to.contact_id, viewer)
    assert after[:-1] == before
    sent = after[-1]
    assert sent["type"] == SENT_TYPES[channel]
    assert sent["message"] == HTML
    assert sent["subject"] == ("Re: our call" if channel == "email" else "")
    assert sent["cc"] == (["boss@acme-sales.example"] if channel == "email" else [])
    assert (sent["sendUserId"], sent["sendUserEmail"]) == (who.user_id, who.email)
    assert sent["sendUserMailboxId"] == who.mailbox_id
    assert sent.get("sendUserWhatsappAccountId") == (
        who.whatsapp_id if channel == "whatsapp" else None
    )
    assert (sent["contactId"], sent["leadId"]) == (to.contact_id, to.lead_id)
    assert sent["_id"].startswith("act_")
    assert sent["_id"] not in {a["_id"] for a in before}
    assert sent["createdAt"] > before[-1]["createdAt"]

    top = (await first_page(api, viewer))[0]
    assert top["_id"] == to.conversation_id
    assert top["lastActivityAt"] == sent["createdAt"]
    assert channel in top["channels"]
    read_after = {u["userId"]: u["read"] for u in top["users"]}
    assert read_before[who.user_id] is False
    assert read_after == {**read_before, who.user_id: True}
    assert demo.sent_messages(to.conversation_id) == [{**body, "channel": channel}]
    assert demo.sent_messages(to.contact_id) == [{**body, "channel": channel}]


async def test_sends_keep_their_order_and_their_generated_neighbours(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    viewer = demo.team_user_ids[1]
    to = target(demo, 20)
    who = await sender(api, viewer)
    generated = await thread(api, to.contact_id, viewer)
    demo.touch(to.conversation_id)
    with_reply = await thread(api, to.contact_id, viewer)

    first = body_for("linkedin", who, to, message="<p>first</p>")
    second = body_for("email", who, to, message="<p>second</p>")
    assert (await api.post("/inbox/linkedin", json=first)).status_code == 200
    assert (await api.post("/inbox/email", json=second)).status_code == 200
    demo.touch(to.conversation_id)  # the lead answers the email
    after = await thread(api, to.contact_id, viewer)

    assert after[: len(with_reply)] == with_reply
    assert with_reply[: len(generated)] == generated
    # An untouched demo of the same seed generates the same thread: nothing was consumed.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=DemoLemlist(config())),
        base_url=DEMO_BASE_URL,
        auth=("", DEMO_API_KEY),
    ) as fresh:
        assert await thread(fresh, to.contact_id, viewer) == generated
    new = after[len(with_reply) :]
    assert [a["type"] for a in new] == ["linkedinSent", "emailsSent", "emailsReplied"]
    assert [a["message"] for a in new[:2]] == ["<p>first</p>", "<p>second</p>"]
    times = [a["createdAt"] for a in after]
    assert times == sorted(times) and len(set(times)) == len(times)
    reply = new[2]["message"]
    assert "<blockquote" in reply and "<p>second</p>" in reply  # it quotes the sent email
    assert f"&lt;{who.email}&gt; wrote:" in reply
    assert [m["message"] for m in demo.sent_messages(to.contact_id)] == [
        "<p>first</p>",
        "<p>second</p>",
    ]


async def test_a_sent_message_draws_nothing_from_the_threads_stream(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    # Two replies, with and without a sent email between them: the second reply's own text
    # and messageId come from the same place in the thread's draws only if the email took none.
    viewer = demo.team_user_ids[0]
    page = await first_page(api, viewer)
    position = next(k for k, c in enumerate(page) if c["channels"] == ["email"])
    to = target(demo, position)
    plain = DemoLemlist(config())
    for app in (demo, plain):
        app.touch(to.conversation_id)
    body = body_for("email", await sender(api, viewer), to)
    assert (await api.post("/inbox/email", json=body)).status_code == 200
    for app in (demo, plain):
        app.touch(to.conversation_id)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=plain), base_url=DEMO_BASE_URL, auth=("", DEMO_API_KEY)
    ) as other:
        without = (await thread(other, to.contact_id, viewer))[-1]
    with_sent = await thread(api, to.contact_id, viewer)
    assert [a["type"] for a in with_sent[-3:]] == ["emailsReplied", "emailsSent", "emailsReplied"]
    reply = with_sent[-1]
    assert reply["messageId"] == without["messageId"]
    quote = '<br><div class="gmail_quote">'
    assert reply["message"].split(quote)[0] == without["message"].split(quote)[0]
    assert HTML in reply["message"] and HTML not in without["message"]


EMAIL_FIELDS = [
    "sendUserId",
    "sendUserEmail",
    "sendUserMailboxId",
    "contactId",
    "leadId",
    "subject",
    "message",
    "cc",
]
REQUIRED = [
    *(("email", f) for f in EMAIL_FIELDS),
    *(("linkedin", f) for f in ("sendUserId", "leadId", "contactId", "message")),
    *(
        ("whatsapp", f)
        for f in ("sendUserId", "sendUserWhatsappAccountId", "contactId", "leadId", "message")
    ),
]


@pytest.mark.parametrize(("channel", "field"), REQUIRED)
async def test_a_missing_field_is_a_400_and_sends_nothing(
    demo: DemoLemlist, api: httpx.AsyncClient, channel: str, field: str
) -> None:
    to = target(demo, 3)
    who = await sender(api, demo.team_user_ids[0])
    body = body_for(channel, who, to)
    del body[field]
    answer = await api.post(f"/inbox/{channel}", json=body)
    assert (answer.status_code, answer.text) == (400, f"{field} is required")
    assert answer.headers["content-type"] == TEXT
    nulled = await api.post(f"/inbox/{channel}", json={**body, field: None})
    assert (nulled.status_code, nulled.text) == (400, f"{field} is required")
    assert demo.sent_messages(to.contact_id) == []
    assert demo.conversation_ids()[3] == to.conversation_id  # not moved


@pytest.mark.parametrize(
    ("channel", "changes", "text"),
    [
        ("email", {"sendUserId": 7}, "sendUserId must be a string"),
        ("email", {"subject": ["Hi"]}, "subject must be a string"),
        ("email", {"cc": "boss@acme-sales.example"}, "cc must be an array of emails"),
        ("email", {"cc": ["not an email"]}, "cc must be an array of emails"),
        ("linkedin", {"message": {"html": "<p>x</p>"}}, "message must be a string"),
        ("whatsapp", {"sendUserWhatsappAccountId": 1}, f"{WHATSAPP_ID} must be a string"),
        ("linkedin", {"message": " \n\t "}, "message must not be empty"),
        ("email", {"sendUserId": "usr_AAAAAAAAAAAAAAAAA"}, "User not in team"),
        ("email", {"sendUserEmail": "someone@else.example"}, NOT_THEIR_EMAIL),
        ("email", {"sendUserMailboxId": "mbx_AAAAAAAAAAAAAAAAA"}, NO_MAILBOX),
        (
            "whatsapp",
            {"sendUserWhatsappAccountId": "wha_AAAAAAAAAAAAAAAAA"},
            "WhatsApp account not found for this user",
        ),
        ("linkedin", {"leadId": "lea_AAAAAAAAAAAAAAAAA"}, "Lead does not belong to this contact"),
    ],
)
async def test_a_bad_send_is_a_400_text(
    demo: DemoLemlist, api: httpx.AsyncClient, channel: str, changes: Json, text: str
) -> None:
    to = target(demo, 4)
    body = body_for(channel, await sender(api, demo.team_user_ids[0]), to, **changes)
    answer = await api.post(f"/inbox/{channel}", json=body)
    assert (answer.status_code, answer.text) == (400, text)
    assert answer.headers["content-type"] == TEXT
    assert demo.sent_messages(to.contact_id) == []


async def test_another_members_mailbox_or_account_or_another_contacts_lead_is_refused(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    me, other = [await sender(api, u) for u in demo.team_user_ids[:2]]
    to, elsewhere = target(demo, 5), target(demo, 6)
    cases = [
        ("email", {"sendUserMailboxId": other.mailbox_id}, "Mailbox not found for this user"),
        ("email", {"sendUserEmail": other.email}, "sendUserEmail is not this user's email"),
        (
            "whatsapp",
            {"sendUserWhatsappAccountId": other.whatsapp_id},
            "WhatsApp account not found for this user",
        ),
        ("email", {"leadId": elsewhere.lead_id}, "Lead does not belong to this contact"),
    ]
    for channel, changes, text in cases:
        answer = await api.post(f"/inbox/{channel}", json=body_for(channel, me, to, **changes))
        assert (answer.status_code, answer.text) == (400, text)
    assert demo.sent_messages(to.contact_id) == []
    upper = body_for("email", me, to, sendUserEmail=me.email.upper())  # an email has no case
    assert (await api.post("/inbox/email", json=upper)).status_code == 200


@pytest.mark.parametrize("channel", ["email", "linkedin", "whatsapp"])
async def test_an_unknown_or_deleted_contact_is_404_inbox_not_found(
    demo: DemoLemlist, api: httpx.AsyncClient, channel: str
) -> None:
    who = await sender(api, demo.team_user_ids[0])
    gone = target(demo, 0)
    unknown = body_for(channel, who, gone, contactId=UNKNOWN_CONTACT)
    answer = await api.post(f"/inbox/{channel}", json=unknown)
    assert (answer.status_code, answer.text) == (404, "Inbox not found")
    demo.delete_conversations([gone.conversation_id])
    answer = await api.post(f"/inbox/{channel}", json=body_for(channel, who, gone))
    assert (answer.status_code, answer.text) == (404, "Inbox not found")
    assert answer.headers["content-type"] == TEXT
    assert demo.sent_messages(gone.contact_id) == []


async def test_a_body_that_is_not_a_json_object_is_a_400(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    for content in (b"", b"{message", b'["message"]'):
        answer = await api.post("/inbox/linkedin", content=content)
        assert (answer.status_code, answer.text) == (400, "Invalid JSON body")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/inbox/email", "POST"),
        ("GET", "/inbox/linkedin", "POST"),
        ("DELETE", "/inbox/whatsapp", "POST"),
        ("POST", f"/inbox/{UNKNOWN_CONTACT}", "GET"),
        ("PUT", f"/inbox/{UNKNOWN_CONTACT}/drafts", "GET, POST"),
        ("POST", f"/inbox/{UNKNOWN_CONTACT}/drafts/drf_x", "GET, PATCH, DELETE"),
    ],
)
async def test_the_send_routes_win_over_the_thread_route(
    api: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    # /inbox/email is the send route's, whatever the method: a GET is its 405, not a thread.
    answer = await api.request(method, path)
    assert (answer.status_code, answer.text) == (405, "Method not allowed")
    assert answer.headers["allow"] == allow


async def test_a_wrong_key_sends_nothing(demo: DemoLemlist, api: httpx.AsyncClient) -> None:
    to = target(demo, 2)
    body = body_for("linkedin", await sender(api, demo.team_user_ids[0]), to)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo), base_url=DEMO_BASE_URL, auth=("", "wrong")
    ) as wrong:
        answer = await wrong.post("/inbox/linkedin", json=body)
    assert answer.status_code == 401
    assert demo.sent_messages(to.conversation_id) == []


# -- a send whose answer is lost ---------------------------------------------------------------


async def test_a_dropped_answer_leaves_the_message_sent(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    viewer = demo.team_user_ids[0]
    to = target(demo, 7)
    body = body_for("email", await sender(api, viewer), to)
    demo.faults.append(Fault(path_prefix="/api/inbox/email", method="POST", drop=True))
    with pytest.raises(httpx.ReadError):
        await api.post("/inbox/email", json=body)
    assert demo.sent_messages(to.contact_id) == [{**body, "channel": "email"}]
    assert demo.count(path_prefix="/api/inbox/email") == 1
    assert (await thread(api, to.contact_id, viewer))[-1]["message"] == HTML


async def test_a_dropped_answer_over_a_socket_leaves_the_message_sent(
    serve_demo: ServeDemo,
) -> None:
    base_url, demo = serve_demo(config())
    async with httpx.AsyncClient(base_url=base_url, auth=("", DEMO_API_KEY)) as api:
        to = target(demo, 7)
        body = body_for("linkedin", await sender(api, demo.team_user_ids[0]), to)
        demo.faults.append(Fault(path_prefix="/api/inbox/linkedin", method="POST", drop=True))
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await api.post("/inbox/linkedin", json=body)
    assert demo.sent_messages(to.contact_id) == [{**body, "channel": "linkedin"}]
    assert demo.conversation_ids()[0] == to.conversation_id


# -- drafts -----------------------------------------------------------------------------------


def drafts_url(contact_id: str, draft_id: str | None = None) -> str:
    base = f"/inbox/{contact_id}/drafts"
    return base if draft_id is None else f"{base}/{draft_id}"


async def create_draft(
    api: httpx.AsyncClient, contact_id: str, owner: str, **body: Any
) -> httpx.Response:
    body.setdefault("channel", "email")
    body.setdefault("content", "<p>draft</p>")
    return await api.post(drafts_url(contact_id), params={"draftOwner": owner}, json=body)


async def test_a_draft_is_created_listed_read_changed_and_deleted(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    owner = demo.team_user_ids[0]
    contact = target(demo, 1).contact_id
    mine = {"draftOwner": owner}
    content = "<div><p>Hi&nbsp;Ana,</p>\n<p>Here is   the <b>deck</b>.</p></div>" + "x" * 300
    created = await create_draft(
        api, contact, owner, channel="email", content=content, subject="Deck", cc=["a@b.example"]
    )
    assert created.status_code == 201
    assert created.headers["content-type"] == JSON
    draft_id = created.json()["draftId"]
    assert draft_id.startswith("drf_")

    (listed,) = (await api.get(drafts_url(contact), params=mine)).json()["drafts"]
    assert listed["_id"] == draft_id
    assert (listed["channel"], listed["subject"], listed["source"]) == ("email", "Deck", "api")
    preview = listed["contentPreview"]
    assert preview.startswith("Hi Ana, Here is the deck. xxx")
    assert len(preview) == 200
    assert "content" not in listed

    whole = (await api.get(drafts_url(contact, draft_id), params=mine)).json()
    assert whole["content"] == content
    assert (whole["subject"], whole["cc"], whole["channel"]) == ("Deck", ["a@b.example"], "email")
    assert whole["createdAt"] == listed["createdAt"]
    assert demo.drafts_of(contact, owner) == [whole]

    patched = await api.patch(drafts_url(contact, draft_id), params=mine, json={"content": "v2"})
    assert patched.status_code == 200
    assert patched.json()["content"] == "v2"
    assert patched.json()["subject"] == "Deck"  # left as it was
    assert patched.json()["createdAt"] == whole["createdAt"]
    assert patched.json()["updatedAt"] >= whole["updatedAt"]
    again = (await api.get(drafts_url(contact, draft_id), params=mine)).json()
    assert again == patched.json()

    deleted = await api.delete(drafts_url(contact, draft_id), params=mine)
    assert (deleted.status_code, deleted.json()) == (200, {"ok": True})
    gone = await api.get(drafts_url(contact, draft_id), params=mine)
    assert (gone.status_code, gone.text) == (404, "Draft not found")
    assert (await api.get(drafts_url(contact), params=mine)).json() == {"drafts": []}
    assert demo.drafts_of(contact, owner) == []


async def test_drafts_are_listed_newest_first_with_unique_ids(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    owner = demo.team_user_ids[2]
    contact = target(demo, 8).contact_id
    ids = []
    for channel in ("email", "linkedin", "whatsapp", "sms"):
        made = await create_draft(api, contact, owner, channel=channel, content=f"<p>{channel}</p>")
        ids.append(made.json()["draftId"])
    listed = (await api.get(drafts_url(contact), params={"draftOwner": owner})).json()["drafts"]
    assert [d["_id"] for d in listed] == ids[::-1]
    assert [d["channel"] for d in listed] == ["sms", "whatsapp", "linkedin", "email"]
    assert [d["subject"] for d in listed] == [""] * 4
    other = await create_draft(api, target(demo, 9).contact_id, owner)
    assert len({*ids, other.json()["draftId"]}) == 5


async def test_an_owner_is_a_user_id_or_a_login_email_and_sees_only_their_drafts(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    me, someone = demo.team_user_ids[:2]
    email = (await sender(api, me)).email
    contact = target(demo, 10).contact_id
    made = await create_draft(api, contact, email.upper())
    assert made.status_code == 201
    draft_id = made.json()["draftId"]
    by_id = (await api.get(drafts_url(contact), params={"draftOwner": me})).json()["drafts"]
    assert [d["_id"] for d in by_id] == [draft_id]
    assert [d["_id"] for d in demo.drafts_of(contact, email)] == [draft_id]

    theirs = {"draftOwner": someone}
    assert (await api.get(drafts_url(contact), params=theirs)).json() == {"drafts": []}
    for method in ("GET", "DELETE"):
        answer = await api.request(method, drafts_url(contact, draft_id), params=theirs)
        assert (answer.status_code, answer.text) == (404, "Draft not found")
    answer = await api.patch(drafts_url(contact, draft_id), params=theirs, json={"subject": "x"})
    assert (answer.status_code, answer.text) == (404, "Draft not found")
    assert demo.drafts_of(contact, me)[0]["subject"] == ""  # untouched


async def test_ten_drafts_per_conversation_and_owner(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    me, someone = demo.team_user_ids[:2]
    contact = target(demo, 11).contact_id
    made = [await create_draft(api, contact, me, content=f"<p>{k}</p>") for k in range(10)]
    assert [m.status_code for m in made] == [201] * 10
    refused = await create_draft(api, contact, me)
    assert (refused.status_code, refused.text) == (
        400,
        "Draft limit reached (max 10 per conversation)",
    )
    assert refused.headers["content-type"] == TEXT
    assert len(demo.drafts_of(contact, me)) == 10
    assert (await create_draft(api, contact, someone)).status_code == 201
    assert (await create_draft(api, target(demo, 12).contact_id, me)).status_code == 201
    oldest = made[0].json()["draftId"]
    await api.delete(drafts_url(contact, oldest), params={"draftOwner": me})
    assert (await create_draft(api, contact, me)).status_code == 201


async def test_content_is_capped_at_30_kb_of_utf_8(
    demo: DemoLemlist, api: httpx.AsyncClient
) -> None:
    me = demo.team_user_ids[0]
    contact = target(demo, 13).contact_id
    too_large = (400, "content is too large (max 30 KB)")
    fits = await create_draft(api, contact, me, content="a" * 30 * 1024)
    assert fits.status_code == 201
    over = await create_draft(api, contact, me, content="a" * (30 * 1024 + 1))
    assert (over.status_code, over.text) == too_large
    wide = await create_draft(api, contact, me, content="é" * (15 * 1024 + 1))  # 2 bytes each
    assert (wide.status_code, wide.text) == too_large
    draft_id = fits.json()["draftId"]
    patched = await api.patch(
        drafts_url(contact, draft_id), params={"draftOwner": me}, json={"content": "é" * 20_000}
    )
    assert (patched.status_code, patched.text) == too_large
    assert [d["content"] for d in demo.drafts_of(contact, me)] == ["a" * 30 * 1024]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"content": "<p>x</p>"}, "channel is required"),
        ({"channel": "call", "content": "<p>x</p>"}, BAD_CHANNEL),
        ({"channel": "email"}, "content is required"),
        ({"channel": "email", "content": 5}, "content must be a string"),
        ({"channel": "email", "content": "x", "subject": 5}, "subject must be a string"),
        ({"channel": "email", "content": "x", "cc": ["nobody"]}, "cc must be an array of emails"),
        ({"channel": "email", "content": "x", "attachments": "a"}, "attachments must be an array"),
    ],
)
async def test_a_bad_draft_is_a_400_text(
    demo: DemoLemlist, api: httpx.AsyncClient, body: Json, text: str
) -> None:
    me = demo.team_user_ids[0]
    contact = target(demo, 14).contact_id
    answer = await api.post(drafts_url(contact), params={"draftOwner": me}, json=body)
    assert (answer.status_code, answer.text) == (400, text)
    assert answer.headers["content-type"] == TEXT
    assert demo.drafts_of(contact, me) == []


async def test_a_patch_must_change_something(demo: DemoLemlist, api: httpx.AsyncClient) -> None:
    me = demo.team_user_ids[0]
    contact = target(demo, 15).contact_id
    draft_id = (await create_draft(api, contact, me)).json()["draftId"]
    url, mine = drafts_url(contact, draft_id), {"draftOwner": me}
    answer = await api.patch(url, params=mine, json={"channel": "sms"})
    assert (answer.status_code, answer.text) == (400, "content, subject or cc is required")
    answer = await api.patch(url, params=mine, json={"cc": ["x@y.example"], "subject": "S"})
    assert (answer.json()["cc"], answer.json()["subject"]) == (["x@y.example"], "S")
    assert answer.json()["content"] == "<p>draft</p>"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", None), ("POST", None), ("GET", "drf"), ("PATCH", "drf"), ("DELETE", "drf")],
)
async def test_every_drafts_route_needs_a_team_owner_and_a_live_conversation(
    demo: DemoLemlist, api: httpx.AsyncClient, method: str, suffix: str | None
) -> None:
    me = demo.team_user_ids[0]
    live = target(demo, 16)
    draft_id = (await create_draft(api, live.contact_id, me)).json()["draftId"]

    def url(contact_id: str) -> str:
        return drafts_url(contact_id, draft_id if suffix else None)

    body = {"channel": "email", "content": "<p>x</p>"}

    async def call(contact_id: str, params: dict[str, str]) -> tuple[int, str]:
        json = body if method in ("POST", "PATCH") else None
        answer = await api.request(method, url(contact_id), params=params, json=json)
        return answer.status_code, answer.text

    assert await call(live.contact_id, {}) == (400, "draftOwner is required")
    assert await call(live.contact_id, {"draftOwner": ""}) == (400, "draftOwner is required")
    assert await call(live.contact_id, {"draftOwner": "usr_AAAAAAAAAAAAAAAAA"}) == (
        400,
        "User not in team",
    )
    stranger = {"draftOwner": "someone@else.example"}
    assert await call(live.contact_id, stranger) == (400, "User not in team")
    assert await call(UNKNOWN_CONTACT, {"draftOwner": me}) == (404, "Inbox not found")
    demo.delete_conversations([live.conversation_id])
    assert await call(live.contact_id, {"draftOwner": me}) == (404, "Inbox not found")


async def test_an_unknown_draft_is_404(demo: DemoLemlist, api: httpx.AsyncClient) -> None:
    contact = target(demo, 17).contact_id
    mine = {"draftOwner": demo.team_user_ids[0]}
    for method in ("GET", "PATCH", "DELETE"):
        json = {"content": "x"} if method == "PATCH" else None
        answer = await api.request(
            method, drafts_url(contact, "drf_AAAAAAAAAAAAAAAAA"), params=mine, json=json
        )
        assert (answer.status_code, answer.text) == (404, "Draft not found")
        assert answer.headers["content-type"] == TEXT
