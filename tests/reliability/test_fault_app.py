"""The app under faults (Pilot): the screen keeps its rows and says what failed in one line.

For each fault the inbox is loaded cleanly, then the fault is installed and a person
presses r (refresh), a (sync every page), moves to another conversation (its thread)
and presses m (mark read). Each action must leave the rows as they were, never crash,
and end with one one-line error: a notification (sync, mark read) or a line in the
detail pane (a thread is not worth a notification). A conversation lemlist did not
confirm read stays unread, in the list and in the database; and at the end a fresh
``InboxDatabase`` on the account's folder (the next start) is whole and holds every
page the opening sync committed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_waits import all_done, wait_finite
from demo_fixtures import running_demo
from reliability_support import (
    FIGURES,
    Switchboard,
    SwitchTransport,
    closed_port,
    fast_client,
    one_line,
    read_database,
)
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from lemlist_tui.api.client import account_fingerprint
from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings
from lemlist_tui.db import InboxDatabase
from lemlist_tui.demo import DemoConfig, DemoLemlist, Fault
from lemlist_tui.screens import InboxScreen
from lemlist_tui.session import Session
from lemlist_tui.widgets.status import StatusLine

KEY = "sk-app-faults-9c41d07be2"
FIXED = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
PAGE = 40
SIZE = 400

Install = Callable[[DemoLemlist, SwitchTransport], None]


def fault(**kwargs: Any) -> Install:
    def install(demo: DemoLemlist, transport: SwitchTransport) -> None:
        demo.faults.append(Fault(path_prefix="/api/inbox", times=None, **kwargs))

    return install


def refused(demo: DemoLemlist, transport: SwitchTransport) -> None:
    transport.refuse_port = closed_port()


APP_FAULTS: dict[str, tuple[Install, str]] = {
    "500 always": (fault(status=500), "server failed (500)"),
    "502 HTML from a proxy": (
        fault(status=502, body=b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
        "server failed (502)",
    ),
    "429, Retry-After 600": (fault(status=429, headers={"Retry-After": "600"}), "600"),
    "timeout": (fault(delay=0.4), "did not answer in time"),
    "reset mid-body": (fault(drop=True, cut_at=30), "dropped"),
    "JSON of the wrong shape": (
        fault(status=200, body=b'{"data": 42}', content_type="application/json"),
        "shape",
    ),
    "connection refused": (refused, "Cannot reach lemlist"),
    "401 key refused": (fault(status=401, body=b"nope"), "refused the API key"),
}


@pytest.fixture(scope="module")
def switchboard() -> Iterator[tuple[str, Switchboard]]:
    board = Switchboard()
    with running_demo(board) as base_url:  # type: ignore[arg-type]
        yield base_url, board


async def settle(pilot: Pilot[None]) -> None:
    """Until no worker is left running (a finished one may start the next)."""
    app = pilot.app
    for _ in range(200):
        # A failed worker makes the waiter raise; the app handles the failure itself.
        with contextlib.suppress(WorkerFailed):
            await wait_finite(app)
        await pilot.pause()
        if all_done(app):
            return
    raise AssertionError("the app's workers never settled")


def inbox(app: LemlistApp) -> InboxScreen:
    screen = app.screen
    assert isinstance(screen, InboxScreen), f"expected the inbox, not {screen!r}"
    return screen


def error_notes(app: LemlistApp) -> dict[str, str]:
    """Error notifications on screen now, by identity (old ones expire and drop out)."""
    return {n.identity: n.message for n in app._notifications if n.severity == "error"}


def since(app: LemlistApp, before: dict[str, str]) -> list[str]:
    return [message for key, message in error_notes(app).items() if key not in before]


async def test_the_app_keeps_its_rows_and_says_what_failed(
    switchboard: tuple[str, Switchboard], tmp_path: Path
) -> None:
    """One session through every fault in turn, recovering after each (as a person would)."""
    base_url, board = switchboard
    demo = DemoLemlist(
        DemoConfig(size=SIZE, seed=5, users=1, rate_window=0.1, now=FIXED, api_keys=(KEY,))
    )
    board.target = demo
    user = demo.team_user_ids[0]
    settings = Settings(
        api_key=KEY,
        base_url=base_url,
        user_id=user,
        page_size=PAGE,
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state.json",
        config_path=tmp_path / "config.toml",
    )
    transport = SwitchTransport()
    # Short enough for the timeout fault (the server waits 0.4 s), ample for loopback.
    client = fast_client(KEY, base_url, timeout=0.2, transport=transport)
    fingerprint = account_fingerprint(KEY, base_url)
    folder = settings.cache_dir / fingerprint
    session = Session(settings, fingerprint, client, InboxDatabase(folder))
    app = make_app(settings, session=session, clock=lambda: FIXED)
    failures: list[str] = []
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            screen = inbox(app)
            rows = [c.id for c in screen.conversation_list.rows]
            # The opening sync (the background mode's crawl) committed every page.
            assert sorted(rows) == sorted(demo.conversation_ids())
            for name, (install, words) in APP_FAULTS.items():
                install(demo, transport)
                marked: list[str] = []
                failures += await _actions(pilot, screen, name, words, rows, user, marked)
                demo.faults.clear()
                transport.refuse_port = None
                # Back to normal: the next refresh works and clears the error; the
                # outbox goes out (a refused action when the user says retry).
                await pilot.press("r")
                screen.action_retry_outbox()
                await settle(pilot)
                assert screen._error is None, f"{name}: still failing after the fault"
                assert [c.id for c in screen.conversation_list.rows] == rows
                assert screen.outbox.summary().empty, f"{name}: the outbox kept its action"
                assert all(demo.is_read(c, user) for c in marked), f"{name}: never sent"
    finally:
        await session.aclose()
    assert not failures, "\n".join(failures)
    held = read_database(folder, user)
    assert not held.problems, held.problems
    assert sorted(held.conversations) == sorted(rows)


async def _actions(
    pilot: Pilot[None],
    screen: InboxScreen,
    name: str,
    words: str,
    rows: list[str],
    user: str,
    pending: list[str],
) -> list[str]:
    """r, a, a thread, m under one fault; returns what went wrong (empty: survived)."""
    app = pilot.app
    assert isinstance(app, LemlistApp)
    failures: list[str] = []

    def outcome(action: str, problem: str | None) -> None:
        FIGURES.faults_tried += 1
        FIGURES.count("faults: app actions")
        kept = [c.id for c in screen.conversation_list.rows] == rows
        if problem is None and not kept:
            problem = "the list changed"
        if problem is None and app.screen is not screen:
            problem = f"the screen changed to {app.screen!r}"
        if problem is None:
            FIGURES.faults_survived += 1
        else:
            failures.append(f"{name} · {action}: {problem}")

    def said(new: list[str]) -> str | None:
        if len(new) != 1:
            return f"expected one error notification, got {new!r}"
        if not (one_line(new[0]) and words in new[0] and KEY not in new[0]):
            return f"not a clear line: {new[0]!r}"
        return None

    for key, action in (("r", "refresh"), ("a", "load all")):
        before = error_notes(app)
        await pilot.press(key)
        await settle(pilot)
        outcome(action, said(since(app, before)))

    # The next unread conversation: its thread fails in the pane, not in a notification.
    before = error_notes(app)
    conversations = screen.conversation_list
    conversations.cursor = next(
        i for i, c in enumerate(conversations.rows) if i > conversations.cursor and c.unread
    )
    await settle(pilot)
    failed = [line for line in screen.detail.plain.splitlines() if "Could not load" in line]
    if len(failed) != 1 or not one_line(failed[0]) or words not in failed[0]:
        outcome("thread", f"the pane says {failed!r}")
    elif since(app, before):
        outcome("thread", f"a notification too: {since(app, before)!r}")
    else:
        outcome("thread", None)

    # Mark read goes through the outbox: read here at once; lemlist refused, so the
    # action waits in the outbox with the reason, for the status line, not a toast.
    highlighted = screen.conversation_list.highlighted
    assert highlighted is not None
    if not highlighted.unread:
        raise AssertionError(f"{name}: the next conversation is read; pick another seed")
    before = error_notes(app)
    await pilot.press("m")
    await settle(pilot)
    held = screen.session.db.conversation(highlighted.id)
    summary = screen.outbox.summary()
    status = str(screen.query_one(StatusLine).render())
    problem = None
    if held is None or held.is_unread_for(user):
        problem = "not marked read here at once"
    elif summary.pending + summary.failed != 1:
        problem = f"the outbox holds {summary!r}"
    elif summary.error is None or words not in summary.error or KEY in summary.error:
        problem = f"the outbox's reason is {summary.error!r}"
    elif "to send" not in status and "refused" not in status:
        problem = f"the status line does not say it: {status!r}"
    elif since(app, before):
        problem = f"a notification too: {since(app, before)!r}"
    pending.append(highlighted.id)
    outcome("mark read", problem)
    return failures
