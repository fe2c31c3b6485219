"""The client against the demo API over a real loopback socket and in-process."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from demo_fixtures import running_demo
from support.clients import FOUR_QUICK_TRIES

from lemlist_tui.api import (
    AuthError,
    BadRequestError,
    LemlistClient,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)
from lemlist_tui.api.client import NO_RETRY
from lemlist_tui.api.errors import RequestTimeoutError
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist, Fault


def unlimited() -> SlidingWindowLimiter:
    """A limiter that never waits, so tests can drive the server past its limit."""
    return SlidingWindowLimiter(limit=10_000, window=1.0, margin=0.0)


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(DemoConfig(size=250, seed=11))


@pytest.fixture
async def client(demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.ASGITransport(app=demo),
        limiter=unlimited(),
        retry=FOUR_QUICK_TRIES,
    ) as client:
        yield client


async def test_walks_every_page_of_2345_over_loopback(
    serve_demo: Callable[[DemoConfig], tuple[str, DemoLemlist]],
) -> None:
    base_url, demo = serve_demo(DemoConfig(size=2345, seed=3))
    seen: list[str] = []
    async with LemlistClient(DEMO_API_KEY, base_url=base_url) as client:
        team = await client.team()
        user = team.user_ids[0]
        page_number: int | None = 1
        while page_number is not None:
            page = await client.inbox_page(user, page_number, limit=100)
            assert page.skipped == ()
            seen.extend(c.id for c in page.conversations)
            page_number = page.pagination.next_page
        assert page.pagination.total_items == 2345
    assert len(seen) == 2345
    assert len(set(seen)) == 2345
    assert seen == demo.conversation_ids()
    assert demo.count(status=429) == 0


async def test_wrong_key_is_the_auth_error(demo: DemoLemlist) -> None:
    async with LemlistClient(
        "not-the-key", base_url=DEMO_BASE_URL, transport=httpx.ASGITransport(app=demo)
    ) as client:
        with pytest.raises(AuthError) as caught:
            await client.team()
    assert "not-the-key" not in str(caught.value)
    assert "401" in str(caught.value)


async def test_unknown_user_carries_the_server_text(client: LemlistClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.inbox_page("usr_nobody", 1)
    assert caught.value.status == 400
    assert caught.value.text == "User not in team"
    assert "User not in team" in str(caught.value)


async def test_missing_user_id_is_the_400_text(client: LemlistClient) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.inbox_page("", 1)
    assert caught.value.text == "User ID is required"


async def test_burst_past_the_limit_is_rate_limited_with_retry_after(
    serve_demo: Callable[[DemoConfig], tuple[str, DemoLemlist]],
) -> None:
    base_url, demo = serve_demo(DemoConfig(size=50))
    async with LemlistClient(
        DEMO_API_KEY, base_url=base_url, limiter=unlimited(), retry=NO_RETRY
    ) as client:
        user = (await client.team()).user_ids[0]
        results = await asyncio.gather(
            *(client.inbox_page(user, 1, limit=5) for _ in range(24)), return_exceptions=True
        )
    refused = [r for r in results if isinstance(r, RateLimitedError)]
    assert len(refused) == 5  # 25 requests (team + 24) against 20 per window
    assert all(r.retry_after is not None and r.retry_after >= 1 for r in refused)
    assert "wait for" in str(refused[0])
    assert demo.count(status=429) == 5


async def test_retries_a_failing_page_then_succeeds(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    demo.faults.append(Fault(page=2, times=2, status=500))
    user = demo.team_user_ids[0]
    page = await client.inbox_page(user, 2, limit=10)
    assert len(page.conversations) == 10
    assert demo.count(status=500) == 2


async def test_gives_up_after_bounded_attempts(demo: DemoLemlist, client: LemlistClient) -> None:
    demo.faults.append(Fault(times=None, status=503))
    with pytest.raises(ServerError):
        await client.inbox_page(demo.team_user_ids[0], 1)
    assert demo.count(status=503) == FOUR_QUICK_TRIES.attempts


async def test_cut_json_is_a_protocol_error(demo: DemoLemlist, client: LemlistClient) -> None:
    demo.faults.append(Fault(times=None, cut_at=100))
    with pytest.raises(ProtocolError) as caught:
        await client.inbox_page(demo.team_user_ids[0], 1)
    assert "cut short" in str(caught.value)


async def test_400_is_never_retried(demo: DemoLemlist, client: LemlistClient) -> None:
    with pytest.raises(BadRequestError):
        await client.inbox_page("usr_nobody", 1)
    assert demo.count(status=400) == 1


async def test_unknown_conversation_is_not_found(client: LemlistClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.thread("ctc_missing", (await client.team()).user_ids[0])
    assert "Inbox not found" in str(caught.value)


async def test_thread_does_not_mark_read_unless_asked(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    user = demo.team_user_ids[0]
    page = await client.inbox_page(user, 1, limit=100)
    unread = next(c for c in page.conversations if c.is_unread_for(user))
    assert unread.contact_id is not None
    thread = await client.thread(unread.contact_id, user)
    assert thread.messages
    assert not demo.is_read(unread.id, user)
    await client.mark_read(unread.contact_id, user)
    assert demo.is_read(unread.id, user)


async def test_team_names_users_from_users_route_when_v2_omits_them() -> None:
    demo = DemoLemlist(DemoConfig(size=10, team_users_in_v2=False))
    async with LemlistClient(
        DEMO_API_KEY, base_url=DEMO_BASE_URL, transport=httpx.ASGITransport(app=demo)
    ) as client:
        team = await client.team()
    assert [u.id for u in team.users] == demo.team_user_ids
    assert all(u.email for u in team.users)
    assert demo.count(path_prefix="/api/users/") == len(demo.team_user_ids)


async def test_unreachable_server_is_a_network_error() -> None:
    async with LemlistClient(
        "secret-key-123", base_url="http://127.0.0.1:9/api", retry=NO_RETRY, timeout=2
    ) as client:
        with pytest.raises(NetworkError) as caught:
            await client.team()
    assert "secret-key-123" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)


def test_the_key_is_not_in_the_repr() -> None:
    client = LemlistClient("secret-key-123")
    assert "secret-key-123" not in repr(client)
    assert "secret-key-123" not in str(client)


@pytest.fixture(autouse=True)
def _no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    for record in caplog.records:
        assert "secret-key-123" not in record.getMessage()


async def _trickle(scope: Any, receive: Any, send: Any) -> None:
    """A server that answers at once, then sends its body one byte every 0.2 s."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    for _ in range(600):
        await send({"type": "http.response.body", "body": b" ", "more_body": True})
        await asyncio.sleep(0.2)
    await send({"type": "http.response.body", "body": b"{}"})


async def test_a_server_that_trickles_meets_the_requests_deadline() -> None:
    # Each read gets a byte well within its timeout: only a deadline on the whole request
    # ends it (issue 13: export still waiting after 240 s).
    with running_demo(_trickle) as base_url:  # type: ignore[arg-type]
        async with LemlistClient(
            "k", base_url=base_url, timeout=5.0, deadline=1.0, retry=RetryPolicy(attempts=1)
        ) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError, match="after 1 s"):
                await client.team()
            assert time.monotonic() - started < 4.0


async def test_one_byte_that_is_not_utf8_costs_one_name_not_the_page(
    demo: DemoLemlist, client: LemlistClient
) -> None:
    user = demo.team_user_ids[0]
    good = await client.inbox_page(user, 1, 20)
    raw = orjson.dumps(
        {
            "data": [
                {
                    "_id": c.id,
                    "contactId": c.contact.id,
                    "contact": {"fullName": "Ana", "email": "a@x.test"},
                }
                for c in good.conversations
            ],
            "pagination": {
                "totalItems": 20,
                "currentPage": 1,
                "nextPage": None,
                "perPage": 20,
                "totalPages": 1,
            },
        }
    )
    broken = raw.replace(b'"Ana"', b'"An\xffa"', 1)  # one contact's name, one bad byte
    demo.faults.append(Fault(status=200, body=broken, content_type="application/json", times=None))
    page = await client.inbox_page(user, 1, 20)
    names = [c.contact.full_name for c in page.conversations]
    assert len(names) == 20
    assert names[0] == "An\ufffda"
    assert names[1:] == ["Ana"] * 19


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """40 MB of zeros, gzipped: 40 KB on the wire."""
    return gzip.compress(bytes(40 * 2**20), compresslevel=9)


@pytest.mark.parametrize(
    ("encoding", "layers", "says"),
    [
        ("gzip, gzip", 2, "compressed more than once"),
        ("gzip", 1, "larger than 32 MB"),
        ("br", 1, "does not read"),
    ],
)
async def test_a_compressed_answer_is_capped_as_it_inflates(
    demo: DemoLemlist, client: LemlistClient, bomb: bytes, encoding: str, layers: int, says: str
) -> None:
    body = bomb if layers == 1 else gzip.compress(bomb)
    demo.faults.append(
        Fault(
            path_prefix="/api/team",
            status=200,
            body=body,
            headers={"Content-Encoding": encoding},
            times=None,
        )
    )
    with pytest.raises(ProtocolError, match=says):
        await client.team()


async def test_a_gzipped_answer_is_read(demo: DemoLemlist, client: LemlistClient) -> None:
    plain = orjson.dumps({"_id": "tea_1", "name": "Gz", "userIds": []})
    demo.faults.append(
        Fault(
            path_prefix="/api/team",
            status=200,
            body=gzip.compress(plain),
            headers={"Content-Encoding": "gzip"},
        )
    )
    team = await client.team()
    assert team.name == "Gz"


# --- a send is never repeated once lemlist may have acted ------------------------------


def _sender(handler: Callable[[httpx.Request], httpx.Response]) -> LemlistClient:
    return LemlistClient(
        DEMO_API_KEY,
        base_url=DEMO_BASE_URL,
        transport=httpx.MockTransport(handler),
        limiter=unlimited(),
        retry=FOUR_QUICK_TRIES,
    )


async def _send_linkedin(client: LemlistClient) -> None:
    await client.send_linkedin(
        send_user_id="usr_1", contact_id="ctc_1", lead_id="lea_1", message="Hello"
    )


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("reset by peer"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadTimeout("no answer"),
        httpx.WriteError("broken pipe"),
        503,
    ],
    ids=["read-error", "disconnected", "read-timeout", "write-error", "503"],
)
async def test_a_send_whose_fate_is_unknown_goes_once_and_says_so(
    failure: Exception | int,
) -> None:
    from lemlist_tui.api.errors import OutcomeUnknownError

    calls: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.content)
        if isinstance(failure, Exception):
            raise failure
        return httpx.Response(failure, text="Service Unavailable")

    async with _sender(handler) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await _send_linkedin(client)
    assert len(calls) == 1
    assert orjson.loads(calls[0])["message"] == "Hello"
    assert str(caught.value).startswith("It may have been sent (")
    assert caught.value.retryable is False


async def test_a_send_refused_before_any_effect_is_retried_or_said_plainly() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200)])
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return next(answers)

    async with _sender(handler) as client:
        await _send_linkedin(client)
    assert calls == 2  # a 429 was refused before any effect: sent again

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="leadId is required")

    async with _sender(refused) as client:
        with pytest.raises(BadRequestError, match="leadId is required"):
            await _send_linkedin(client)


async def test_a_send_that_could_not_connect_was_not_sent_and_may_go_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with _sender(handler) as client:
        with pytest.raises(NetworkError) as caught:
            await _send_linkedin(client)
    assert caught.value.unsent and caught.value.retryable


async def test_a_sent_message_whose_answer_is_cut_after_the_status_counts_as_sent() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        raise RuntimeError("dropped")  # uvicorn resets the connection

    with running_demo(app) as base_url:  # a real socket: the status comes before the body
        async with LemlistClient(
            DEMO_API_KEY, base_url=base_url, limiter=unlimited(), retry=FOUR_QUICK_TRIES
        ) as client:
            await _send_linkedin(client)  # no error: the 200 said it was sent
