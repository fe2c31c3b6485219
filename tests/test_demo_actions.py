"""Triage through the real client against the demo: labels, interest, contacts, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from support.clients import FOUR_QUICK_TRIES

from lemlist_tui.api import (
    BadRequestError,
    Conversation,
    LemlistClient,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from lemlist_tui.api.errors import OutcomeUnknownError
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist, Fault

UNKNOWN_LABEL = "lbl_AAAAAAAAAAAAAAAAA"
UNKNOWN_LEAD = "lea_AAAAAAAAAAAAAAAAA"
TEXT = "text/plain; charset=utf-8"


async def no_sleep(_: float) -> None:
    """Retries back off without waiting: the tests count requests, not seconds."""


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(DemoConfig(size=60, seed=11))


@pytest.fixture
async def client(demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=SlidingWindowLimiter(limit=10_000, window=1.0, margin=0.0),
        retry=FOUR_QUICK_TRIES,
        sleep=no_sleep,
    ) as client:
        yield client


@pytest.fixture
async def raw(demo: DemoLemlist) -> AsyncIterator[httpx.AsyncClient]:
    """Plain httpx on the same demo, for what the client hides (status, headers, bodies)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo), base_url=DEMO_BASE_URL, auth=("", DEMO_API_KEY)
    ) as raw:
        yield raw


async def first_page(client: LemlistClient, demo: DemoLemlist) -> tuple[Conversation, ...]:
    return (await client.inbox_page(demo.team_user_ids[0], 1, limit=30)).conversations


def contact_of(conversation: Conversation) -> str:
    assert conversation.contact_id is not None
    return conversation.contact_id


# -- labels -----------------------------------------------------------------------------------


async def test_a_created_label_is_listed_fetched_and_attachable(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    before = await client.labels()
    label = await client.create_label("  Hot lead ")
    assert label.id.startswith("lbl_")
    assert label.id not in {x.id for x in before}
    assert label.name == "Hot lead"  # surrounding blanks dropped
    assert label.color is not None and label.color.startswith("#")
    assert await client.labels() == (*before, label)
    assert await client.label(label.id) == label
    assert demo.label_id("HOT LEAD") == label.id

    target = next(c for c in await first_page(client, demo) if not c.labels)
    await client.attach_labels(contact_of(target), [label.id])
    assert demo.labels_of(target.id) == {label.id}
    assert demo.labels_of(contact_of(target)) == {label.id}
    again = next(c for c in await first_page(client, demo) if c.id == target.id)
    assert again.labels == (label.id,)

    await client.detach_labels(contact_of(target), [label.id])
    assert demo.labels_of(target.id) == set()


async def test_attach_appends_or_replaces(demo: DemoLemlist, client: LemlistClient) -> None:
    one = await client.create_label("One")
    two = await client.create_label("Two")
    target = contact_of(next(c for c in await first_page(client, demo) if not c.labels))
    await client.attach_labels(target, [one.id])
    await client.attach_labels(target, [two.id], append=True)
    assert demo.labels_of(target) == {one.id, two.id}
    await client.attach_labels(target, [two.id], append=False)
    assert demo.labels_of(target) == {two.id}
    with pytest.raises(TypeError):
        await client.attach_labels(target, one.id)


async def test_a_taken_name_is_409_whatever_its_case(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    before = await client.labels()
    taken = before[0].name
    assert taken is not None
    with pytest.raises(BadRequestError) as caught:
        await client.create_label(f" {taken.upper()} ")
    assert caught.value.status == 409
    assert caught.value.text == "Label with this name already exists"
    assert demo.count(status=409) == 1  # a 4xx is never retried
    assert await client.labels() == before


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"labelName": ""}', "labelName must be a non-empty string"),
        (b'{"labelName": "   "}', "labelName must be a non-empty string"),
        (b'{"labelName": 7}', "labelName must be a non-empty string"),
        (b'{"labelName": null}', "labelName is required"),
        (b"{}", "labelName is required"),
        (b'["labelName"]', "Invalid JSON body"),
        (b"{labelName", "Invalid JSON body"),
        (b"", "Invalid JSON body"),
    ],
)
async def test_a_bad_label_body_is_a_400_text(
    demo: DemoLemlist, raw: httpx.AsyncClient, body: bytes, text: str
) -> None:
    response = await raw.post("/inbox/labels", content=body)
    assert (response.status_code, response.text) == (400, text)
    assert response.headers["content-type"] == TEXT
    assert demo.label_id("labelName") is None


async def test_an_unknown_label_is_404_not_a_thread(
    raw: httpx.AsyncClient, client: LemlistClient
) -> None:
    # /api/inbox/{contactId} would answer 400 "User ID is required": the label route won.
    response = await raw.get(f"/inbox/labels/{UNKNOWN_LABEL}")
    assert (response.status_code, response.text) == (404, "Label not found")
    assert response.headers["content-type"] == TEXT
    with pytest.raises(NotFoundError) as caught:
        await client.label(UNKNOWN_LABEL)
    assert str(caught.value) == "lemlist has no such label (Label not found)."


async def test_attaching_an_unknown_label_or_to_an_unknown_contact_is_not_found(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    target = contact_of((await first_page(client, demo))[0])
    with pytest.raises(NotFoundError, match=r"such conversation or label \(Label not found\)"):
        await client.attach_labels(target, [UNKNOWN_LABEL])
    label = (await client.labels())[0]
    with pytest.raises(NotFoundError, match=r"\(Inbox not found\)"):
        await client.detach_labels("ctc_AAAAAAAAAAAAAAAAA", [label.id])


# -- interest ---------------------------------------------------------------------------------


async def test_every_activity_of_a_thread_names_the_same_stable_lead(
    demo: DemoLemlist, raw: httpx.AsyncClient
) -> None:
    conversation = demo.conversation_ids()[3]
    contact = demo.contact_id_of(conversation)
    answer = await raw.get(f"/inbox/{contact}", params={"userId": demo.team_user_ids[0]})
    leads = {activity["leadId"] for activity in answer.json()["data"]}
    assert leads == {demo.lead_id_of(conversation)}
    assert DemoLemlist(DemoConfig(size=60, seed=11)).lead_id_of(conversation) in leads


async def test_interest_is_recorded_for_that_lead_only(
    demo: DemoLemlist, client: LemlistClient, raw: httpx.AsyncClient
) -> None:
    mine, other = demo.conversation_ids()[5], demo.conversation_ids()[6]
    lead = demo.lead_id_of(mine)
    assert demo.interest_of(lead) is None

    await client.set_interest(lead, True)
    assert demo.interest_of(lead) == "interested"
    assert demo.interest_of(demo.lead_id_of(other)) is None
    details = await client.contact(demo.contact_id_of(mine))
    assert [c.lead_state for c in details.campaigns] == ["interested"]

    await client.set_interest(lead, False)
    assert demo.interest_of(lead) == "notinterested"
    details = await client.contact(demo.contact_id_of(mine))
    assert [c.lead_state for c in details.campaigns] == ["notInterested"]

    answer = await raw.post(f"/leads/interested/{lead}")
    assert answer.status_code == 200
    assert answer.json()["_id"] == lead  # the lead, as the per-campaign routes answer
    assert answer.json()["contactId"] == demo.contact_id_of(mine)


async def test_a_lead_can_be_named_by_its_email(demo: DemoLemlist, client: LemlistClient) -> None:
    page = await first_page(client, demo)
    target = page[2]
    email = target.contact.email
    assert email is not None
    await client.set_interest(email.upper(), True)
    same_email = [c.id for c in page if c.contact.email == email]
    for conversation in same_email:  # "all campaigns": every lead of that person
        assert demo.interest_of(demo.lead_id_of(conversation)) == "interested"
    assert demo.interest_of(email) == "interested"
    others = [c.id for c in page if c.contact.email != email]
    assert all(demo.interest_of(demo.lead_id_of(c)) is None for c in others)


@pytest.mark.parametrize("key", [UNKNOWN_LEAD, "nobody@nowhere.example", "ctc_AAAAAAAAAAAAAAAAA"])
async def test_an_unknown_lead_is_not_found(client: LemlistClient, key: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.set_interest(key, True)
    assert str(caught.value) == "lemlist has no such lead (Lead not found)."


async def test_a_deleted_conversation_has_no_lead_and_no_contact(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    gone = demo.conversation_ids()[0]
    lead, contact = demo.lead_id_of(gone), demo.contact_id_of(gone)
    demo.delete_conversations([gone])
    with pytest.raises(NotFoundError, match="Lead not found"):
        await client.set_interest(lead, True)
    with pytest.raises(NotFoundError, match="Contact not found"):
        await client.contact(contact)
    with pytest.raises(KeyError):
        demo.interest_of(lead)


# -- contacts ---------------------------------------------------------------------------------


async def test_a_contact_matches_its_conversation(
    demo: DemoLemlist, client: LemlistClient, raw: httpx.AsyncClient
) -> None:
    user = demo.team_user_ids[0]
    for conversation in (await first_page(client, demo))[:8]:
        details = await client.contact(contact_of(conversation))
        assert details.id == conversation.contact_id
        assert details.email == conversation.contact.email
        assert details.full_name == conversation.contact.full_name
        senders = [p.user_id for p in conversation.participants if p.sender]
        assert [details.owner_id] == senders
        assert details.created_at == conversation.created_at
        thread = await raw.get(f"/inbox/{conversation.contact_id}", params={"userId": user})
        activities = thread.json()["data"]
        (campaign,) = details.campaigns
        assert campaign.campaign_id == activities[0]["campaignId"]
        assert campaign.campaign_state == "running"
        assert campaign.lead_state == activities[-1]["type"]  # no interest set yet

    answer = (await raw.get(f"/contacts/{conversation.contact_id}")).json()
    assert {"_id", "email", "campaigns", "ownerId"} <= set(answer)
    assert set(answer["campaigns"][0]) == {"campaignId", "campaignState", "leadState"}


async def test_a_contact_can_be_named_by_its_email(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    page = await first_page(client, demo)
    by_email: dict[str | None, list[Conversation]] = {}
    for conversation in page:
        by_email.setdefault(conversation.contact.email, []).append(conversation)
    email, (only,) = next((e, c) for e, c in by_email.items() if len(c) == 1)
    assert email is not None
    details = await client.contact(email)
    assert details.id == only.contact_id


async def test_an_unknown_contact_is_not_found(client: LemlistClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.contact("ctc_AAAAAAAAAAAAAAAAA")
    assert str(caught.value) == "lemlist has no such contact (Contact not found)."
    with pytest.raises(NotFoundError):
        await client.contact("nobody@nowhere.example")


# -- the house rules on the new routes ------------------------------------------------------

NEW_ROUTES = [
    ("POST", "/inbox/labels", {"labelName": "New"}),
    ("GET", f"/inbox/labels/{UNKNOWN_LABEL}", None),
    ("POST", f"/leads/interested/{UNKNOWN_LEAD}", None),
    ("POST", f"/leads/notinterested/{UNKNOWN_LEAD}", None),
    ("GET", "/contacts/ctc_AAAAAAAAAAAAAAAAA", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES)
async def test_a_wrong_key_is_a_401_text_with_rate_headers(
    demo: DemoLemlist, method: str, path: str, body: object
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo), base_url=DEMO_BASE_URL, auth=("", "wrong")
    ) as wrong:
        response = await wrong.request(method, path, json=body)
    assert (response.status_code, response.text) == (
        401,
        "The authentication you supplied is incorrect",
    )
    assert response.headers["content-type"] == TEXT
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
        response.headers
    )
    assert demo.label_id("New") is None


@pytest.mark.parametrize(("method", "path", "body"), NEW_ROUTES)
async def test_answers_carry_the_rate_limit_headers(
    demo: DemoLemlist, raw: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    first = await raw.request(method, path, json=body)
    second = await raw.request(method, path, json=body)
    assert first.headers["x-ratelimit-limit"] == "20"
    remaining = int(first.headers["x-ratelimit-remaining"])
    assert int(second.headers["x-ratelimit-remaining"]) == remaining - 1
    assert first.headers["x-ratelimit-reset"].endswith("(Coordinated Universal Time)")
    if first.status_code >= 400:
        assert first.headers["content-type"] == TEXT


async def test_the_new_routes_are_rate_limited(demo: DemoLemlist, raw: httpx.AsyncClient) -> None:
    demo.config.rate_limit = 3
    statuses = [(await raw.post(f"/leads/interested/{UNKNOWN_LEAD}")).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    refused = await raw.get(f"/inbox/labels/{UNKNOWN_LABEL}")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == TEXT
    assert int(refused.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/inbox/labels", "GET, POST"),
        ("DELETE", f"/inbox/labels/{UNKNOWN_LABEL}", "GET"),
        ("GET", f"/leads/interested/{UNKNOWN_LEAD}", "POST"),
        ("DELETE", f"/leads/notinterested/{UNKNOWN_LEAD}", "POST"),
        ("POST", "/contacts/ctc_AAAAAAAAAAAAAAAAA", "GET"),
    ],
)
async def test_a_wrong_method_is_405(
    raw: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await raw.request(method, path)
    assert (response.status_code, response.text) == (405, "Method not allowed")
    assert response.headers["content-type"] == TEXT
    assert response.headers["allow"] == allow


# -- faults and retries -----------------------------------------------------------------------


async def test_a_500_on_interested_is_served_and_retried(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    lead = demo.lead_id_of(demo.conversation_ids()[1])
    demo.faults.append(Fault(path_prefix="/api/leads/interested/", method="GET", status=503))
    demo.faults.append(Fault(path_prefix="/api/leads/interested/", method="POST", status=500))
    await client.set_interest(lead, True)
    assert demo.count(status=500, path_prefix="/api/leads/interested/") == 1
    assert demo.count(status=200, path_prefix="/api/leads/interested/") == 1
    assert demo.count(status=503) == 0  # a GET fault does not match a POST
    assert demo.interest_of(lead) == "interested"


async def test_a_dropped_answer_after_the_effect_is_retried_harmlessly(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    lead = demo.lead_id_of(demo.conversation_ids()[2])
    demo.faults.append(Fault(path_prefix="/api/leads/notinterested/", method="POST", drop=True))
    await client.set_interest(lead, False)
    assert demo.count(path_prefix="/api/leads/notinterested/") == 2
    assert demo.interest_of(lead) == "notinterested"


async def test_not_idempotent_a_500_is_not_retried(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    lead = demo.lead_id_of(demo.conversation_ids()[3])
    demo.faults.append(Fault(path_prefix="/api/leads/", method="POST", status=500, times=3))
    with pytest.raises(OutcomeUnknownError) as caught:  # lemlist may have acted: unknown
        await client._request(
            "POST", f"/leads/interested/{lead}", what="such lead", idempotent=False, decode=False
        )
    assert isinstance(caught.value.cause, ServerError)
    assert demo.count(path_prefix="/api/leads/") == 1
    assert demo.interest_of(lead) is None


async def test_not_idempotent_a_429_is_retried(demo: DemoLemlist, client: LemlistClient) -> None:
    lead = demo.lead_id_of(demo.conversation_ids()[3])
    storm = Fault(path_prefix="/api/leads/", status=429, headers={"Retry-After": "0"}, times=2)
    demo.faults.append(storm)
    await client._request(
        "POST", f"/leads/interested/{lead}", what="such lead", idempotent=False, decode=False
    )
    assert demo.count(status=429, path_prefix="/api/leads/") == 2
    assert demo.count(status=200, path_prefix="/api/leads/") == 1
    assert demo.interest_of(lead) == "interested"


async def test_not_idempotent_gives_up_on_429_like_the_others(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    lead = demo.lead_id_of(demo.conversation_ids()[3])
    storm = Fault(path_prefix="/api/leads/", status=429, headers={"Retry-After": "0"}, times=None)
    demo.faults.append(storm)
    with pytest.raises(RateLimitedError):
        await client._request(
            "POST", f"/leads/interested/{lead}", what="such lead", idempotent=False, decode=False
        )
    assert demo.count(status=429) == FOUR_QUICK_TRIES.attempts
