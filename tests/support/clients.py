"""Clients of the demo lemlist API for tests: in-process (``httpx.ASGITransport``) or
over a base URL, each with a limiter of its own and retries that do not wait."""

from __future__ import annotations

import httpx
from demo_fixtures import FIXED_NOW

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist

__all__ = [
    "FAR",
    "FAST_RETRY",
    "FOUR_QUICK_TRIES",
    "PAGE",
    "PAGES",
    "SIZE",
    "make_client",
    "quick_config",
]

PAGE = 20
UNREACHABLE = "http://127.0.0.1:9/api"
"""The discard port: nothing listens, a connection is refused at once."""
SIZE = 200
PAGES = SIZE // PAGE
FAR = 100_000
"""A rate limit no test reaches: the limit is not what most tests are about."""
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_wait=5.0)


def quick_config(**changes: object) -> DemoConfig:
    settings: dict[str, object] = {
        "size": SIZE,
        "seed": 21,
        "now": FIXED_NOW,
        "rate_limit": FAR,
        "rate_window": 1.0,
        **changes,
    }
    return DemoConfig(**settings)  # type: ignore[arg-type]


def make_client(
    demo: DemoLemlist | None,
    *,
    base_url: str = DEMO_BASE_URL,
    key: str = DEMO_API_KEY,
    limit: int = FAR,
    window: float = 1.0,
    **options: object,
) -> LemlistClient:
    """As ``session._client`` makes it (the demo in-process unless ``demo`` is None), with
    a limiter of its own: the process-wide one may hold starts from an earlier test."""
    transport = httpx.ASGITransport(app=demo) if demo is not None else None
    options.setdefault("retry", FAST_RETRY)
    return LemlistClient(
        key,
        base_url=base_url,
        transport=transport,
        limiter=SlidingWindowLimiter(limit, window),
        **options,  # type: ignore[arg-type]
    )


FOUR_QUICK_TRIES = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
"""The retries of the client tests, which count the attempts a failure costs."""
