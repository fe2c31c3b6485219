"""The built-in demo lemlist API: an ASGI app with lazily generated, deterministic data.

``lemlist-tui --demo`` runs the app against it in-process; the tests and benchmarks serve it
with uvicorn. It has no dependency on the rest of the package.
"""

from __future__ import annotations

from lemlist_tui.demo.faults import Fault
from lemlist_tui.demo.server import (
    DEMO_API_KEY,
    DEMO_BASE_URL,
    DemoConfig,
    DemoLemlist,
    RequestRecord,
)

__all__ = [
    "DEMO_API_KEY",
    "DEMO_BASE_URL",
    "DemoConfig",
    "DemoLemlist",
    "Fault",
    "RequestRecord",
]
