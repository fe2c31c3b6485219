"""The demo lemlist API on a real loopback socket (uvicorn in a thread of this process).

In-process, so the benchmark can read the server's own request log (``demo.log``,
``max_in_window``, ``count``) — the server's view of the rate limit is the one that counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from lemlist_tui.demo import DemoConfig, DemoLemlist

__all__ = ["Served", "serve_demo"]


@dataclass(frozen=True, slots=True)
class Served:
    demo: DemoLemlist
    base_url: str
    """``http://127.0.0.1:PORT/api``"""


@contextmanager
def serve_demo(config: DemoConfig) -> Iterator[Served]:
    demo = DemoLemlist(config)
    server = uvicorn.Server(
        uvicorn.Config(
            demo,
            host="127.0.0.1",
            port=0,
            log_level="critical",
            access_log=False,
            lifespan="off",
            loop="asyncio",
        )
    )
    thread = threading.Thread(target=server.run, name="demo-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start the demo API")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(demo, f"http://127.0.0.1:{port}/api")
    finally:
        server.should_exit = True
        thread.join(10)
