"""The lemlist API: a typed async client, its models and its errors.

Nothing under this package imports ``textual``: the app, ``export`` and the
benchmarks share it (``tests/test_layering.py`` holds that line).
"""

from lemlist_tui.api.client import DEFAULT_BASE_URL, LemlistClient, RetryPolicy, account_fingerprint
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
