"""The documented exit statuses (``lemlist-tui --help``), and which failure gets which.

No ``textual`` import: the command line and the app share it.
"""

from __future__ import annotations

__all__ = ["ExitCode", "failure_code"]


class ExitCode:
    OK = 0
    OTHER = 1
    USAGE = 2
    AUTH = 3
    NETWORK = 4
    SIGNALLED = 128
    """Plus the signal's number (SIGTERM 143, SIGHUP 129), as a shell reports a kill."""


def failure_code(error: BaseException) -> int:
    """The documented exit status of a typed failure (the app's problem screens too)."""
    from lemlist_tui.api.errors import (
        AuthError,
        NetworkError,
        RateLimitedError,
        RequestTimeoutError,
    )
    from lemlist_tui.session import MissingKeyError

    if isinstance(error, AuthError | MissingKeyError):
        return ExitCode.AUTH
    if isinstance(error, NetworkError | RateLimitedError | RequestTimeoutError):
        return ExitCode.NETWORK
    return ExitCode.OTHER
