"""The inbox as a person uses it, end to end, against the demo lemlist API in-process.

Each test settles on a real condition (no worker left running) rather than on sleeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.apps import FIXED, app_settings, demo_of, inbox, running, settle

from lemlist_tui.app import make_app
from lemlist_tui.config import Settings
from lemlist_tui.db import search_text
from lemlist_tui.demo import DemoConfig
from lemlist_tui.screens import InboxScreen, PickerScreen, ReaderScreen
from lemlist_tui.session import open_session
from lemlist_tui.widgets.status import StatusLine


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
        assert len(rows) == 300  # every page, fetched behind the first with no key pressed
        activity = [c.last_activity_at for c in rows]
        assert all(a is not None for a in activity)
        assert activity == sorted(activity, reverse=True)  # type: ignore[type-var]

        # u: only what is unread for this user (a short list may fetch the next pages).
        await pilot.press("u")
        await settle(pilot)
        unread = list(screen.conversation_list.rows)
        assert unread
        assert all(c.unread for c in unread)
        held, unread_count = screen.view.counts()
        assert len(unread) == unread_count < held == 300
        server_unread = [
            cid for cid in demo_of(session).conversation_ids()
            if not demo_of(session).is_read(cid, user.id)
        ]  # fmt: skip
        assert unread_count == len(server_unread)
        await pilot.press("u")
        rows = list(screen.conversation_list.rows)
        assert len(rows) == held

        # /: narrows by name or email as you type.
        # An unread one, so that "viewing never marks read" is put to the test.
        target = next(c for c in rows[5:] if c.unread and c.email)
        assert target.email is not None
        term = "".join(ch for ch in target.email.split("@")[0] if ch.isalnum())[:6].lower()
        await pilot.press("slash", *term)
        narrowed = list(screen.conversation_list.rows)
        assert target in narrowed
        assert 0 < len(narrowed) < len(rows)
        assert all(term in search_text(c.name, c.email) for c in narrowed)
        await pilot.press("enter")  # back to the list, the filter kept
        assert app.focused is screen.conversation_list
        while screen.conversation_list.highlighted != target:
            await pilot.press("down")

        # enter: the reader, full screen; q back. tab: the detail, with contact, channels,
        # every participant's read state, the thread.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReaderScreen)
        await pilot.press("q")
        assert app.screen is screen
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is screen.detail
        text = screen.detail.plain
        full = session.db.conversation(target.id)
        assert full is not None
        assert target.email in text
        assert str(full.contact.id) in text
        for channel in target.channels:
            assert channel in text
        assert app.team is not None
        lines = text.splitlines()
        for participant in full.participants:
            member = app.team.user(participant.user_id)
            assert member is not None and member.name is not None
            mark = "✓ read" if participant.read else "● unread"
            assert any(mark in line and member.name in line for line in lines)
        thread = screen.sync.cached_thread(full)
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
        assert conversation is not None and conversation.unread
        assert not demo_of(session).is_read(conversation.id, user.id)
        await pilot.press("m")
        await settle(pilot)
        assert demo_of(session).is_read(conversation.id, user.id)
        assert conversation.id not in {c.id for c in screen.conversation_list.rows}
        marked = session.db.conversation(conversation.id)
        assert marked is not None and not marked.is_unread_for(user.id)
        await pilot.press("u")
        first_ids = [c.id for c in screen.conversation_list.rows[:30]]

    # A restart with --offline: the remembered user, the cached list, no request.
    async with running(tmp_path, offline=True) as (app, pilot, session):
        screen = inbox(app)
        assert screen.user_id == user.id
        assert session.offline
        assert [c.id for c in screen.conversation_list.rows[:30]] == first_ids
        marked = session.db.conversation(conversation.id)
        assert marked is not None and not marked.is_unread_for(user.id)
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
        assert conversation is not None and conversation.email
        await pilot.press("y")
        assert app.clipboard == conversation.email


async def test_the_whole_inbox_is_there_with_no_key_pressed(tmp_path: Path) -> None:
    config = DemoConfig(size=1994, now=FIXED, users=1)
    async with running(tmp_path, size=(80, 24), config=config) as (app, pilot, session):
        screen = inbox(app)
        demo = demo_of(session)
        user = screen.user_id
        # The true counts of the whole inbox, and the status line says them whole.
        server = demo.conversation_ids()
        unread = sum(not demo.is_read(cid, user) for cid in server)
        assert screen.view.counts() == (1994, unread)
        status = str(screen.query_one("#status").render())
        assert f"{unread:,} unread of 1,994" in status and "held" not in status
        # The filter finds a conversation of the last page.
        last = session.db.conversation(server[-1])
        assert last is not None and last.contact.email
        await pilot.press("slash", *last.contact.email.split("@")[0])
        assert last.id in {row.id for row in screen.conversation_list.rows}


async def test_on_demand_paging_loads_pages_near_the_end(tmp_path: Path) -> None:
    async with running(tmp_path, size=(80, 24), user_id=None, sync="on-demand") as (
        app,
        pilot,
        _session,
    ):
        await pilot.press("enter")  # the first user
        await settle(pilot)
        screen = inbox(app)
        assert screen.has_class("-narrow")
        first = len(screen.conversation_list.rows)
        assert first == 100
        status = str(screen.query_one("#status").render())
        assert "of 100 held (300 in lemlist)" in status  # whole or said
        await pilot.press("G")
        await settle(pilot)
        assert len(screen.conversation_list.rows) > first
        await pilot.press("a")
        await settle(pilot)
        assert screen.sync.state.complete
        assert len(screen.conversation_list.rows) == 300
        status = str(screen.query_one("#status").render())
        assert "of 300" in status and "held" not in status


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


async def test_an_app_and_a_sync_process_write_the_same_account_at_once(
    tmp_path: Path, serve_demo: Any
) -> None:
    import asyncio
    import os
    import sys

    from lemlist_tui.demo import DEMO_API_KEY

    base_url, demo = serve_demo(DemoConfig(size=1500, now=FIXED, users=1))
    user = demo.team_user_ids[0]
    settings = Settings(
        api_key=DEMO_API_KEY,
        base_url=base_url,
        cache_dir=tmp_path / "cache" / "lemlist-tui",
        state_path=tmp_path / "state" / "state.json",
        config_path=tmp_path / "config.toml",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEMLIST_", "XDG_"))} | {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "LEMLIST_API_KEY": DEMO_API_KEY,
        "LEMLIST_BASE_URL": base_url,
    }
    session = open_session(settings)
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            # The app crawls on open while another process crawls the same account in full.
            sync = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "lemlist_tui", "sync", "--full", "--user", user,
                env=env, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            await settle(pilot)
            _, stderr = await sync.communicate()
            assert sync.returncode == 0, stderr.decode()
            assert "locked" not in stderr.decode()
            screen = inbox(app)
            demo.add_conversations(3)
            await pilot.press("r")
            await settle(pilot)
            errors = [n.message for n in app._notifications if n.severity == "error"]
            assert errors == []
            held = [row.id for row in screen.conversation_list.rows]
            assert held == demo.conversation_ids()  # nothing lost, nothing twice
            assert screen.view.counts()[0] == 1503
    finally:
        await session.aclose()


async def test_a_damaged_local_inbox_is_a_sentence_not_a_crash(tmp_path: Path) -> None:
    import sqlite3

    config = DemoConfig(size=120, now=FIXED, users=1)
    async with running(tmp_path, config=config) as (_app, _pilot, session):
        folder = session.db.folder
    raw = sqlite3.connect(folder / "inbox.sqlite3")
    # A name that is no longer UTF-8 (bit rot in a row) ...
    raw.execute(
        "UPDATE conversations SET name = CAST(X'FF' || CAST(name AS BLOB) AS TEXT) "
        "WHERE local_id = (SELECT conversation FROM inbox ORDER BY activity DESC LIMIT 1)"
    )
    raw.commit()
    raw.close()
    async with running(tmp_path, config=config, offline=True) as (app, pilot, session):
        screen = inbox(app)
        first = screen.conversation_list.highlighted
        assert first is not None and first.name is not None and first.name.startswith("\ufffd")
        assert len(screen.conversation_list.rows) == 120
        # ... and an index SQLite cannot read: the screen keeps what it had and says why.
        before = list(screen.conversation_list.rows)[:5]

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise sqlite3.DatabaseError("database disk image is malformed")

        original = session.db._reader
        session.db._reader = _Failing(original, broken)  # type: ignore[assignment]
        try:
            await pilot.press("u")
            await pilot.pause()
        finally:
            session.db._reader = original
        assert list(screen.conversation_list.rows)[:5] == before
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors and errors[-1].startswith("The local inbox is damaged")
        assert screen.query_one(StatusLine).status.error == errors[-1]  # type: ignore[union-attr]
        assert app.is_running


class _Failing:
    """A connection whose every query fails as a damaged file would."""

    def __init__(self, connection: Any, fail: Any) -> None:
        self._connection = connection
        self.execute = fail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


async def test_on_a_large_inbox_the_filter_counts_and_indexes_in_the_background(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from lemlist_tui.inbox import view as view_module

    monkeypatch.setattr(view_module, "EXACT_COUNT_BELOW", 10)  # 300 rows count as large
    async with running(tmp_path, config=DemoConfig(size=300, now=FIXED, users=1)) as (
        app,
        pilot,
        session,
    ):
        screen = inbox(app)
        # Each key starts a count in a worker and interrupts the one before (the first
        # screen, "≥ 64 shown" until then, is view.apply's: see test_inbox_view).
        await pilot.press("slash", "e", "x", "a")
        await settle(pilot)
        rows = screen.conversation_list.rows
        want = session.db.count(screen.user_id, terms=("exa",))
        assert rows.exact and len(rows) == want > 0
        assert f"{want:,} shown" in str(screen.query_one("#status").render())
        assert screen.view.fresh_index() is not None  # built for the rare terms to come
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors == []


async def test_the_status_line_says_when_new_conversations_arrived(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=150, now=FIXED, users=1)) as (
        app,
        pilot,
        session,
    ):
        screen = inbox(app)
        assert " new " not in str(screen.query_one("#status").render())
        demo_of(session).add_conversations(3)
        screen._refresh_on_timer()  # what the refresh_every timer does
        await settle(pilot)
        assert "3 new just now" in str(screen.query_one("#status").render())
        assert screen.view.counts()[0] == 153
        screen._refresh_on_timer()  # nothing new since: the note goes
        await settle(pilot)
        assert " new " not in str(screen.query_one("#status").render())


async def test_the_first_crawl_shows_its_progress_while_it_runs(tmp_path: Path) -> None:
    from textual.widgets import ProgressBar

    settings = app_settings(tmp_path, user_id=None)
    config = DemoConfig(size=1200, now=FIXED, users=1)
    session = open_session(settings, demo_config=config)
    seen: list[tuple[bool, str]] = []

    def look() -> None:  # on the app's own loop, right after the 6th page was served
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        shown = screen.query_one(ProgressBar).has_class("-shown")
        seen.append((shown, str(screen.query_one("#status").render())))

    demo_of(session).on_request(look, after=6, path="/api/inbox", exact=True)
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            ((shown, status),) = seen
            assert shown and "syncing " in status and "/12" in status  # page 1, then the rest
            assert not inbox(app).query_one(ProgressBar).has_class("-shown")  # done
            assert inbox(app).view.counts()[0] == 1200
    finally:
        await session.aclose()
