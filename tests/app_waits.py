"""Waiting for an app's work to be done, without sleeping: every worker finished, except
the outbox's sender, which runs for the app's life and is waited for until it is idle."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.screen import ModalScreen
from textual.worker import Worker

SENDER_GROUP = "outbox"
USER_WAITING_GROUPS = ("reply",)
"""Workers that wait for the user on a screen of theirs (the reply's editor and review):
finished for the waits below while that screen is up."""


def finite_workers(app: Any) -> list[Worker[Any]]:
    waiting = _waiting_on_user(app)
    return [
        worker
        for worker in app.workers
        if worker.group != SENDER_GROUP and not (waiting and worker.group in USER_WAITING_GROUPS)
    ]


def _waiting_on_user(app: Any) -> bool:
    return isinstance(app.screen, ModalScreen)


def sender_idle(app: Any) -> bool:
    sender = getattr(app.screen, "sender", None)
    return sender is None or bool(sender.idle)


def all_done(app: Any) -> bool:
    return all(worker.is_finished for worker in finite_workers(app)) and sender_idle(app)


WAIT_SLICE = 0.25
"""Longest one wait lasts before the callers look again (see :func:`wait_finite`)."""
POLL = 0.005


async def wait_finite(app: Any) -> None:
    """Wait until every worker but the sender is finished, for :data:`WAIT_SLICE` at
    most: the callers loop against their deadline and ask again.

    The set of workers to wait for changes while waiting: a reply's worker counts until
    its review screen is up, then waits for the person. Awaiting it from just before that
    screen came up waited forever (a hang seen under load), and a timeout around Textual's
    ``wait_for_complete`` would cancel the workers themselves (it awaits their tasks): so
    their states are polled, against the slice's deadline. The app handles a worker's
    failure itself (a problem screen, a sentence); the tests look at what it shows."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SLICE
    # Polled (ASYNC110): no event says when the set of workers to wait for changes.
    while loop.time() < deadline and not all(w.is_finished for w in finite_workers(app)):  # noqa: ASYNC110
        await asyncio.sleep(POLL)
