"""Typed errors, each with one sentence a person can act on.

``str(error)`` is that sentence. It never holds the API key: the client passes every
server text through :func:`scrub`, which removes the key and control characters.
"""

from __future__ import annotations

import base64
import re

__all__ = [
    "AuthError",
    "BadRequestError",
    "LemlistError",
    "NetworkError",
    "NotFoundError",
    "OutcomeUnknownError",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "scrub",
]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")


def scrub(text: str, secret: str | None = None, limit: int = 200) -> str:
    """Server text made safe for one line of a message: no key, no controls, bounded.

    A proxy's error page may echo the request's ``Authorization: Basic …`` header: the
    key's base64 forms go too.
    """
    if secret:
        for form in _forms(secret):
            text = text.replace(form, "•••")
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _forms(secret: str) -> tuple[str, ...]:
    basic = base64.b64encode(f":{secret}".encode()).decode()
    bare = base64.b64encode(secret.encode()).decode()
    return (secret, basic, basic.rstrip("="), bare, bare.rstrip("="))


class LemlistError(Exception):
    """Base of every failure the client reports; ``str()`` is one sentence."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class AuthError(LemlistError):
    def __init__(self) -> None:
        super().__init__(
            "lemlist refused the API key (401): check LEMLIST_API_KEY or the config file."
        )


class BadRequestError(LemlistError):
    """A 4xx whose text/plain body is lemlist's own explanation (``User not in team``)."""

    def __init__(self, status: int, text: str) -> None:
        self.status = status
        self.text = text
        super().__init__(f"lemlist said: {text or 'bad request'} ({status}).")


class NotFoundError(LemlistError):
    def __init__(self, what: str, text: str = "") -> None:
        self.text = text
        detail = f" ({text})" if text and text.lower() != "not found" else ""
        super().__init__(f"lemlist has no {what}{detail}.")


class RateLimitedError(LemlistError):
    retryable = True

    def __init__(self, retry_after: float | None) -> None:
        self.retry_after = retry_after
        wait = f" for {retry_after:g} s" if retry_after is not None else ""
        super().__init__(f"lemlist's rate limit was reached: it asked to wait{wait}.")


class ServerError(LemlistError):
    retryable = True

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"lemlist's server failed ({status}); try again in a moment.")


class NetworkError(LemlistError):
    retryable = True

    def __init__(self, detail: str, *, unsent: bool = False) -> None:
        self.unsent = unsent
        """The request never left (the connection could not be made): safe to send again."""
        super().__init__(f"Cannot reach lemlist: {detail}.")


class RequestTimeoutError(LemlistError):
    retryable = True

    def __init__(self, seconds: float | None = None) -> None:
        after = f" after {seconds:g} s" if seconds else ""
        super().__init__(f"lemlist did not answer in time{after}.")


class ProtocolError(LemlistError):
    """The answer arrived but is not what lemlist documents (cut, wrong shape, not JSON).

    A cut or undecodable body is worth another try; a well-formed answer of the wrong
    shape is not.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class OutcomeUnknownError(LemlistError):
    """A request that is not safe to repeat (a POST that sends a message) went out, and
    what became of it is unknown: the connection dropped, the answer did not come in time,
    or lemlist failed (5xx) after reading it. Never retried: lemlist may have acted.

    ``cause`` is the failure as a retryable request would have reported it.
    """

    def __init__(self, cause: LemlistError) -> None:
        self.cause = cause
        detail = cause.message.rstrip(".")
        detail = detail[:1].lower() + detail[1:]
        super().__init__(f"It may have been sent ({detail}): check the thread before trying again.")
