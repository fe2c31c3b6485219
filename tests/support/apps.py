"""The app under Pilot against the demo in-process: settings in a private folder, a
running app with its session, and the wait that replaces every sleep (no worker left,
the detail caught up with the cursor)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app_waits import all_done, wait_finite
from textual.pilot import Pilot

from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings
from lemlist_tui.demo import DemoConfig, DemoLemlist
from lemlist_tui.screens import InboxScreen
from lemlist_tui.session import Session, open_session

__all__ = ["FIXED", "app_settings", "demo_of", "inbox", "running", "settle"]

FIXED = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def app_settings(tmp_path: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "demo": True,
        "demo_size": 300,
        "cache_dir": tmp_path / "cache",
        "state_path": tmp_path / "state" / "state.json",
        "config_path": tmp_path / "config.toml",
        # Changes go out at once here (no undo time), unless a test asks for one.
        "undo_for": 0.0,
    }
    return Settings(**(base | changes))


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker is left (a finished one may start the next: team → inbox)
    and the detail shows the highlighted conversation (it follows a pause in typing)."""
    app = pilot.app
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        await wait_finite(app)
        await pilot.pause()
        if all_done(app) and _detail_caught_up(app):
            return
        await pilot.pause(0.01)  # a timer's turn (the detail's), polled against a deadline
    raise AssertionError("the app's workers never settled")


def _detail_caught_up(app: Any) -> bool:
    screen = app.screen
    if not isinstance(screen, InboxScreen):
        return True
    row = screen.conversation_list.highlighted
    shown = screen.detail.conversation
    return (row.id if row else None) == (shown.id if shown else None)


@asynccontextmanager
async def running(
    tmp_path: Path,
    *,
    size: tuple[int, int] = (120, 40),
    config: DemoConfig | None = None,
    **changes: Any,
) -> AsyncIterator[tuple[LemlistApp, Pilot[None], Session]]:
    settings = app_settings(tmp_path, **changes)
    session = open_session(settings, demo_config=config or DemoConfig(size=300, now=FIXED))
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            yield app, pilot, session
    finally:
        await session.aclose()


def inbox(app: LemlistApp) -> InboxScreen:
    screen = app.screen
    assert isinstance(screen, InboxScreen), f"expected the inbox, not {screen!r}"
    return screen


def demo_of(session: Session) -> DemoLemlist:
    assert session.demo is not None
    return session.demo
