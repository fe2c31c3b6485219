"""The inbox as a person uses it, end to end, against the demo lemlist API in-process.

Each test settles on a real condition (no worker left running) rather than on sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings
from lemlist_tui.demo import DemoConfig, DemoLemlist
from lemlist_tui.screens import InboxScreen, PickerScreen
from lemlist_tui.session import Session, open_session
from lemlist_tui.view import search_text

FIXED = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def app_settings(tmp_path: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {
        "demo": True,
        "demo_size": 300,
        "cache_dir": tmp_path / "cache",
        "state_path": tmp_path / "state" / "state.json",
        "config_path": tmp_path / "config.toml",
    }
    return Settings(**(base | changes))


async def settle(pilot: Pilot[None]) -> None:
    """Wait until no worker is left: a finished one may start the next (team → inbox)."""
    app = pilot.app
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers):
            return
    raise AssertionError("the app's workers never settled")


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


async def test_pick_browse_filter_read_mark_and_reopen_offline(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, session):
        # No remembered user and a team of three: the picker comes first.
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        assert len(picker.shown) == 3
        user = picker.users[1]
        assert user.name is not None
        await pilot.press(*user.name.split()[0].lower())
        assert [u.id for u in picker.shown] == [user.id]
        await pilot.press("enter")
        await settle(pilot)

        screen = inbox(app)
        assert screen.user_id == user.id
        rows = list(screen.conversation_list.rows)
        assert len(rows) >= 100
        activity = [c.last_activity_at for c in rows]
        assert all(a is not None for a in activity)
        assert activity == sorted(activity, reverse=True)  # type: ignore[type-var]

        # u: only what is unread for this user (a short list may fetch the next pages).
        await pilot.press("u")
        await settle(pilot)
        unread = list(screen.conversation_list.rows)
        assert unread
        assert all(c.is_unread_for(user.id) for c in unread)
        assert len(unread) == screen.view.unread_count < len(screen.store.conversations)
        await pilot.press("u")
        rows = list(screen.conversation_list.rows)
        assert len(rows) == len(screen.store.conversations)

        # /: narrows by name or email as you type.
        # An unread one, so that "viewing never marks read" is put to the test.
        target = next(c for c in rows[5:] if c.is_unread_for(user.id) and c.contact.email)
        assert target.contact.email is not None
        term = "".join(ch for ch in target.contact.email.split("@")[0] if ch.isalnum())[:6]
        await pilot.press("slash", *term)
        narrowed = list(screen.conversation_list.rows)
        assert target in narrowed
        assert 0 < len(narrowed) < len(rows)
        assert all(term in search_text(c) for c in narrowed)
        await pilot.press("enter")  # back to the list, the filter kept
        assert app.focused is screen.conversation_list
        while screen.conversation_list.highlighted is not target:
            await pilot.press("down")

        # enter: the detail, with contact, channels, every participant's read state, the thread.
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is screen.detail
        text = screen.detail.plain
        assert target.contact.email in text
        assert str(target.contact.id) in text
        for channel in target.channels:
            assert channel in text
        assert app.team is not None
        lines = text.splitlines()
        for participant in target.participants:
            member = app.team.user(participant.user_id)
            assert member is not None and member.name is not None
            mark = "✓ read" if participant.read else "● unread"
            assert any(mark in line and member.name in line for line in lines)
        thread = screen.store.cached_thread(target)
        assert thread is not None and thread.messages
        assert "Thread · " in text
        subjects = [m.subject for m in thread.messages if m.subject]
        assert subjects and subjects[0] in text
        # Reading never marks read.
        assert not demo_of(session).is_read(target.id, user.id)

        # esc back to the list, esc clears the filter; then m on an unread conversation.
        await pilot.press("escape", "escape", "u")
        assert screen.query_text == "" and screen.unread_only
        conversation = screen.conversation_list.highlighted
        assert conversation is not None and conversation.is_unread_for(user.id)
        assert not demo_of(session).is_read(conversation.id, user.id)
        await pilot.press("m")
        await settle(pilot)
        assert demo_of(session).is_read(conversation.id, user.id)
        assert conversation.id not in {c.id for c in screen.conversation_list.rows}
        held = {c.id: c for c in screen.store.conversations}
        assert not held[conversation.id].is_unread_for(user.id)
        await pilot.press("u")
        first_ids = [c.id for c in screen.conversation_list.rows[:30]]

    # A restart with --offline: the remembered user, the cached list, no request.
    async with running(tmp_path, offline=True) as (app, pilot, session):
        screen = inbox(app)
        assert screen.user_id == user.id
        assert session.offline
        assert [c.id for c in screen.conversation_list.rows[:30]] == first_ids
        held = {c.id: c for c in screen.store.conversations}
        assert not held[conversation.id].is_unread_for(user.id)
        status = screen.query_one("#status")
        assert "offline" in str(status.render())


async def test_sort_cycles_and_copy_email(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=300, now=FIXED, users=1)) as (
        app,
        pilot,
        _session,
    ):
        screen = inbox(app)  # a team of one skips the picker
        await pilot.press("s")
        assert screen.sort.value == "last reply"
        replied = [c.last_replied_at for c in screen.conversation_list.rows]
        known = [r for r in replied if r is not None]
        assert known == sorted(known, reverse=True)
        assert replied[: len(known)] == known  # no reply yet: last
        await pilot.press("s", "s")
        assert screen.sort.value == "last activity"

        conversation = screen.conversation_list.highlighted
        assert conversation is not None and conversation.contact.email
        await pilot.press("y")
        assert app.clipboard == conversation.contact.email


async def test_pages_arrive_near_the_end_and_a_loads_them_all(tmp_path: Path) -> None:
    async with running(tmp_path, size=(80, 24), user_id=None) as (app, pilot, _session):
        await pilot.press("enter")  # the first user
        await settle(pilot)
        screen = inbox(app)
        assert screen.has_class("-narrow")
        first = len(screen.conversation_list.rows)
        assert first == 100
        await pilot.press("G")
        await settle(pilot)
        assert len(screen.conversation_list.rows) > first
        await pilot.press("a")
        await settle(pilot)
        assert screen.store.complete
        assert len(screen.conversation_list.rows) == 300
        assert "300 conversations" in str(screen.query_one("#status").render())


async def test_a_network_error_keeps_the_list_and_says_so(tmp_path: Path) -> None:
    from lemlist_tui.demo import Fault

    async with running(tmp_path, config=DemoConfig(size=300, now=FIXED, users=1)) as (
        app,
        pilot,
        session,
    ):
        screen = inbox(app)
        before = list(screen.conversation_list.rows)
        demo_of(session).faults.append(Fault(status=400, body=b"Bad team", times=None))
        await pilot.press("r")
        await settle(pilot)
        assert list(screen.conversation_list.rows) == before
        errors = [n for n in app._notifications if n.severity == "error"]
        assert errors and "Bad team" in errors[-1].message
        assert "Bad team" in str(screen.query_one("#status").render())


async def test_keys_typed_right_behind_slash_go_to_the_filter(tmp_path: Path) -> None:
    from textual import events

    async with running(tmp_path, config=DemoConfig(size=300, now=FIXED, users=1)) as (
        app,
        pilot,
        session,
    ):
        screen = inbox(app)
        first = screen.conversation_list.highlighted
        assert first is not None
        was_read = demo_of(session).is_read(first.id, screen.user_id)
        # As a fast typist or a busy loop delivers them: queued before "/" is handled.
        for key in ("slash", "m", "a", "r"):
            app.post_message(events.Key(key, "/" if key == "slash" else key))
        await settle(pilot)
        assert screen.query_text == "mar"
        assert demo_of(session).is_read(first.id, screen.user_id) == was_read  # no "m"
