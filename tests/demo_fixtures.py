"""Pytest fixtures around the demo lemlist API (loaded by conftest's ``pytest_plugins``).

- ``demo_config`` / ``demo_app`` / ``demo_client``: the app in-process, through
  ``httpx.ASGITransport`` (no socket, no timeouts).
- ``serve_demo(config) -> (base_url, app)``: the app behind uvicorn on 127.0.0.1, for real
  sockets; every server it starts is stopped at the end of the test.
- ``live_demo``: one such server; parametrize it indirectly with a ``DemoConfig``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn

from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist

FIXED_NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
"""An anchor for tests that compare timestamps or JSON across runs."""

ServeDemo = Callable[..., tuple[str, DemoLemlist]]


@contextmanager
def running_demo(app: DemoLemlist) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields its base URL."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
    # and accepted sockets inherit proto 0 otherwise; uvicorn writes headers and body
    # apart, so without it every answer waits out a 40 ms delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    # Listening before uvicorn starts: early connections wait in the backlog, not fail.
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,  # leave logging to pytest's capture
        access_log=False,
        lifespan="on",
        loop="asyncio",
        http="h11",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"demo-uvicorn-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # startup is quick; a dead thread means it failed
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the demo server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def demo_config() -> DemoConfig:
    return DemoConfig(now=FIXED_NOW)


@pytest.fixture
def demo_app(demo_config: DemoConfig) -> DemoLemlist:
    return DemoLemlist(demo_config)


@pytest.fixture
async def demo_client(demo_app: DemoLemlist) -> AsyncIterator[httpx.AsyncClient]:
    """A plain httpx client authenticated with the demo key, talking to ``demo_app``."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=demo_app),
        base_url=DEMO_BASE_URL,
        auth=("", DEMO_API_KEY),
    ) as client:
        yield client


@pytest.fixture
def serve_demo() -> Iterator[ServeDemo]:
    with ExitStack() as servers:

        def start(config: DemoConfig | None = None) -> tuple[str, DemoLemlist]:
            app = DemoLemlist(config)
            return servers.enter_context(running_demo(app)), app

        yield start


@pytest.fixture
def live_demo(request: pytest.FixtureRequest, serve_demo: ServeDemo) -> tuple[str, DemoLemlist]:
    config: DemoConfig | None = getattr(request, "param", None)
    return serve_demo(config)
