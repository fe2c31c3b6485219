"""The lemlist API: a typed async client, its models and its errors.

Nothing under this package imports ``textual``: the app, ``export`` and the
benchmarks share it (``tests/test_layering.py`` holds that line).

The client (and with it httpx, ~25 ms of imports) loads on first use, so code
that only needs the models, such as the database reads on the way to the first
frame, does not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lemlist_tui.api.base import DEFAULT_BASE_URL, account_fingerprint
from lemlist_tui.api.errors import (
    AuthError,
    BadRequestError,
    LemlistError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from lemlist_tui.api.models import (
    Contact,
    Conversation,
    InboxPage,
    Label,
    Opportunity,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)

if TYPE_CHECKING:
    from lemlist_tui.api.client import LemlistClient, RetryPolicy

_LAZY = {"LemlistClient", "RetryPolicy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from lemlist_tui.api import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URL",
    "AuthError",
    "BadRequestError",
    "Contact",
    "Conversation",
    "InboxPage",
    "Label",
    "LemlistClient",
    "LemlistError",
    "NetworkError",
    "NotFoundError",
    "Opportunity",
    "Pagination",
    "Participant",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "Team",
    "TeamUser",
    "ThreadMessage",
    "ThreadPage",
    "account_fingerprint",
]
