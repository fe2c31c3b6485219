"""Waiting for an app's work to be done, without sleeping: every worker finished, except
the outbox's sender, which runs for the app's life and is waited for until it is idle."""

from __future__ import annotations

import contextlib
from typing import Any

from textual.screen import ModalScreen
from textual.worker import Worker, WorkerCancelled, WorkerFailed

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


async def wait_finite(app: Any) -> None:
    """Wait for every worker but the sender (``wait_for_complete([])`` would wait for all).

    A worker that failed makes the waiter raise; the app handles that failure itself
    (a problem screen, a sentence), and the tests look at what it shows."""
    workers = finite_workers(app)
    if workers:
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete(workers)
