"""Faults the demo API can be told to inject, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Fault:
    """One misbehaviour, applied to the next ``times`` matching requests.

    Faults act after authentication and the rate limiter: a 429 from the limiter wins, and a
    refused request does not use up a fault. ``status=429`` (with ``Retry-After`` in
    ``headers``) simulates a storm the limiter did not cause.
    """

    path_prefix: str = "/api/inbox"
    """Matches requests whose path starts with this."""
    page: int | None = None
    """Match only this ``?page=`` (a request without ``page`` is page 1); None = any."""
    times: int | None = 1
    """How many matching requests it hits; None = forever. Decremented on use."""
    status: int | None = None
    """Answer with this status and ``body`` instead of the real answer."""
    body: bytes = b"Internal Server Error"
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. ``{"Retry-After": "3"}``; they override the server's."""
    delay: float = 0.0
    """Seconds to wait before answering (client timeouts)."""
    cut_at: int | None = None
    """Send the real body truncated to this many bytes, without Content-Length, then end."""
    drop: bool = False
    """Send the headers and part of the body, then abort the connection."""
    hang_up: bool = False
    """Read the request and act on it, then end the connection with no answer at all: a
    send whose fate the client cannot know. (In-process the client sees the connection
    closed; uvicorn answers a 500 for an app that ends so, which is unknown all the same.)"""
    method: str | None = None
    """Match only this HTTP method; None = any."""

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if not path.startswith(self.path_prefix):
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.page is not None:
            raw = query.get("page", "1")
            return raw.isdecimal() and int(raw) == self.page
        return True

    def use(self) -> None:
        if self.times is not None:
            self.times -= 1
