"""The full-screen reader, driven through the real app against the demo lemlist API.

The reader is pushed from the inbox here (``app.push_screen(ReaderScreen(inbox))``), as
the inbox's ``enter`` does. Every wait is on a real condition: workers done, a refresh.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from app_waits import all_done, wait_finite
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.worker import WorkerFailed

from lemlist_tui.api.errors import NetworkError
from lemlist_tui.api.models import Conversation, Pagination, ThreadMessage, ThreadPage
from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings
from lemlist_tui.demo import DemoConfig
from lemlist_tui.reading import Role
from lemlist_tui.screens import InboxScreen
from lemlist_tui.screens.reader import HEAVY_CHARS, ReaderScreen, ThreadView
from lemlist_tui.session import Session, open_session

FIXED = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


async def settle(pilot: Pilot[None]) -> None:
    """Until no worker but the outbox's sender is left, and the inbox is open."""
    app = pilot.app
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(WorkerFailed):  # a failure the screen shows, tested for
            await wait_finite(app)
        await pilot.pause()
        if all_done(app) and len(app.screen_stack) > 1:
            return
        await pilot.pause(0.01)  # a timer's turn, polled against a deadline
    raise AssertionError("the app's workers never settled")


@asynccontextmanager
async def running(
    tmp_path: Path, size: tuple[int, int] = (80, 24), **changes: Any
) -> AsyncIterator[tuple[LemlistApp, Pilot[None], Session]]:
    settings = Settings(
        demo=True,
        demo_size=300,
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state" / "state.json",
        config_path=tmp_path / "config.toml",
        **changes,
    )
    # One user: no picker.
    session = open_session(settings, demo_config=DemoConfig(size=300, now=FIXED, users=1))
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            yield app, pilot, session
    finally:
        await session.aclose()


def inbox_of(app: LemlistApp) -> InboxScreen:
    """The inbox, in front or under the reader."""
    return next(s for s in reversed(app.screen_stack) if isinstance(s, InboxScreen))


def reader_of(app: LemlistApp) -> ReaderScreen:
    assert isinstance(app.screen, ReaderScreen), f"expected the reader, not {app.screen!r}"
    return app.screen


async def open_reader(app: LemlistApp, pilot: Pilot[None]) -> ReaderScreen:
    await app.push_screen(ReaderScreen(inbox_of(app)))
    await settle(pilot)
    return reader_of(app)


def on_screen(view: ThreadView) -> list[str]:
    """The thread's lines as drawn now."""
    height = view.scrollable_content_region.height
    return [view.render_line(y).text.rstrip() for y in range(height)]


def highlighted(inbox: InboxScreen) -> Conversation:
    row = inbox.conversation_list.highlighted
    assert row is not None
    conversation = inbox.session.db.conversation(row.id)
    assert conversation is not None
    return conversation


def keep_thread(session: Session, inbox: InboxScreen, *texts: str) -> Conversation:
    """Keep a thread of ``texts`` (oldest first) for the highlighted conversation."""
    conversation = highlighted(inbox)
    assert conversation.contact_id is not None
    messages = tuple(
        ThreadMessage(
            id=f"m{n}",
            type="emailsReplied" if n % 2 else "emailsSent",
            created_at=FIXED - timedelta(days=len(texts) - n),
            subject=f"Message {n}",
            html=None,
            text=text,
        )
        for n, text in enumerate(texts)
    )
    count = len(messages)
    page = ThreadPage(messages, Pagination(count, 1, None, None, count, 1))
    session.db.save_thread(conversation.contact_id, inbox.user_id, page, time.time())
    return conversation


def assert_newest_in_view(view: ThreadView) -> None:
    layout = view.layout_now
    assert layout.starts, "no thread laid out"
    top, height = round(view.scroll_y), view.scrollable_content_region.height
    newest = layout.newest
    if len(layout.lines) - newest >= height:
        assert top == newest  # its header at the top of the viewport
    else:
        assert top == view.max_scroll_y  # a short last message: the end of the thread
    assert top <= newest < top + height
    assert on_screen(view)[newest - top] == layout.lines[newest].text.rstrip()
    assert "newest" in layout.lines[newest].text


PARAGRAPH = " ".join(["A sentence about the proposal and what it would cost us."] * 12)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_newest_message_is_in_view_first(tmp_path: Path, size: tuple[int, int]) -> None:
    async with running(tmp_path, size) as (app, pilot, session):
        inbox = inbox_of(app)
        keep_thread(session, inbox, *[PARAGRAPH] * 6)
        reader = await open_reader(app, pilot)
        assert reader.conversation is not None
        assert reader.conversation.id == highlighted(inbox).id
        assert_newest_in_view(reader.view)
        # The thread above it is there to page back to.
        assert reader.view.scroll_y > 0
        assert reader.view.virtual_size.width <= reader.view.scrollable_content_region.width

        # Laid out again at the new width, the newest message is still the one in view.
        await pilot.resize_terminal(size[0] + 37, size[1] + 5)
        await settle(pilot)
        assert reader.view.layout_now.width == reader.view.scrollable_content_region.width
        assert_newest_in_view(reader.view)


async def test_a_thread_from_lemlist_loads_and_opens_on_its_newest_message(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as (app, pilot, _):
        inbox = inbox_of(app)
        inbox.conversation_list.cursor = 7  # not shown in the detail yet: not kept
        conversation = highlighted(inbox)
        assert inbox.sync.cached_thread(conversation) is None
        await app.push_screen(ReaderScreen(inbox))
        reader = reader_of(app)
        assert reader.view.layout_now.lines[0].text == "Loading thread…"
        await settle(pilot)
        assert reader.thread is not None and reader.thread.messages
        assert_newest_in_view(reader.view)
        title = str(reader.query_one("#reader-title").render())
        assert conversation.contact.display_name in title


async def test_q_and_escape_go_back_to_the_list_and_never_quit(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, _):
        for key in ("q", "escape"):
            await open_reader(app, pilot)
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, InboxScreen)
            assert app.is_running and app.return_code is None
        # In the list, q still quits.
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code is not None


async def test_space_pages_and_at_the_end_goes_to_the_next_unread(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, session):
        inbox = inbox_of(app)
        first = keep_thread(session, inbox, *[PARAGRAPH] * 6)
        reader = await open_reader(app, pilot)
        view = reader.view
        await pilot.press("g")
        assert view.scroll_y == 0
        await pilot.press("space")
        assert view.scroll_y == view.scrollable_content_region.height
        await pilot.press("b")
        assert view.scroll_y == 0
        await pilot.press("j", "j", "k")
        assert view.scroll_y == 1

        await pilot.press("G")
        assert view.at_end
        await pilot.press("space")
        row = inbox.conversation_list.highlighted
        assert row is not None and row.unread and row.id != first.id
        assert reader.conversation is not None and reader.conversation.id == row.id
        assert isinstance(app.screen, ReaderScreen)  # still reading, the next one
        await settle(pilot)
        assert_newest_in_view(view)


async def test_n_and_N_show_other_unread_conversations_and_reading_marks_nothing(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as (app, pilot, session):
        inbox = inbox_of(app)
        reader = await open_reader(app, pilot)
        seen = [highlighted(inbox).id]
        for key in ("n", "n", "N"):
            await pilot.press(key)
            row = inbox.conversation_list.highlighted
            assert row is not None and row.unread
            assert reader.conversation is not None and reader.conversation.id == row.id
            seen.append(row.id)
            await settle(pilot)
            assert reader.thread is not None
            assert_newest_in_view(reader.view)
            meta = str(reader.query_one("#reader-meta").render())
            assert "● unread" in meta
        assert seen[1] != seen[2] and seen[3] == seen[1]
        # Read in full, and still unread: here and in lemlist.
        for conversation_id in seen[1:]:
            conversation = session.db.conversation(conversation_id)
            assert conversation is not None
            assert conversation.is_unread_for(inbox.user_id)
            assert session.demo is not None
            assert not session.demo.is_read(conversation_id, inbox.user_id)


async def test_m_marks_read_and_shows_the_next_unread_and_z_takes_it_back(
    tmp_path: Path,
) -> None:
    async with running(tmp_path):
        pass  # the inbox is stored
    # Offline, a mark waits in the outbox, where z can still take it back.
    async with running(tmp_path, offline=True) as (app, pilot, session):
        inbox = inbox_of(app)
        reader = await open_reader(app, pilot)
        await pilot.press("n")
        target = highlighted(inbox)
        assert target.is_unread_for(inbox.user_id)
        await pilot.press("m")
        after = highlighted(inbox)
        assert after.id != target.id and after.is_unread_for(inbox.user_id)
        assert reader.conversation is not None and reader.conversation.id == after.id
        marked = session.db.conversation(target.id)
        assert marked is not None and not marked.is_unread_for(inbox.user_id)

        await pilot.press("z")
        assert reader.conversation is not None and reader.conversation.id == target.id
        undone = session.db.conversation(target.id)
        assert undone is not None and undone.is_unread_for(inbox.user_id)
        await settle(pilot)
        assert "● unread" in str(reader.query_one("#reader-meta").render())


async def test_a_long_quoted_line_wraps_with_its_markers_and_a_url_stays_whole(
    tmp_path: Path,
) -> None:
    url = "https://example.com/pricing/" + "q" * 120
    quoted = "> " + " ".join(["the earlier message said this, at length"] * 8)
    async with running(tmp_path) as (app, pilot, session):
        keep_thread(session, inbox_of(app), f"Thanks.\n\n{quoted}\n\nSee {url} for more.")
        reader = await open_reader(app, pilot)
        view = reader.view
        await pilot.press("g")
        lines = on_screen(view)
        width = view.scrollable_content_region.width
        start = lines.index("Thanks.") + 2
        quote = lines[start : lines.index("", start)]
        assert len(quote) > 2
        assert all(line.startswith("> ") and cell_len(line) <= width for line in quote)
        assert " ".join(line[2:] for line in quote).split() == quoted[2:].split()
        # The URL is laid out whole on its own line; the view scrolls sideways to its end.
        assert url in [line.text for line in view.layout_now.lines]
        assert view.virtual_size.width == len(url)
        assert url[:width] in lines
        await pilot.press("right")
        assert view.scroll_x > 0


async def test_a_thread_that_cannot_load_says_why_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failure = NetworkError("lemlist cannot be reached: check the connection.")

    async def unreachable(conversation: Conversation) -> ThreadPage:
        raise failure

    async with running(tmp_path) as (app, pilot, _):
        inbox = inbox_of(app)
        inbox.conversation_list.cursor = 9
        monkeypatch.setattr(inbox.sync, "thread", unreachable)
        reader = await open_reader(app, pilot)
        lines = [line for line in reader.view.layout_now.lines if line.text]
        assert all(line.role is Role.ERROR for line in lines)
        sentence = " ".join(line.text for line in lines)
        assert sentence == f"Could not load the thread: {failure}"
        # The keys still work: on to the next unread.
        await pilot.press("space")
        assert reader.conversation is not None
        assert reader.conversation.id == highlighted(inbox).id


async def test_a_big_thread_is_laid_out_in_a_worker_and_opens_on_its_newest(
    tmp_path: Path,
) -> None:
    big = ("word " * 2_000 + "\n") * 2
    count = HEAVY_CHARS // len(big) + 2
    async with running(tmp_path) as (app, pilot, session):
        keep_thread(session, inbox_of(app), *[big] * count)
        await app.push_screen(ReaderScreen(inbox_of(app)))
        reader = reader_of(app)
        await pilot.pause()
        assert reader.view.laying_out or reader.view.layout_now.starts
        await settle(pilot)
        assert len(reader.view.layout_now.starts) == count
        assert_newest_in_view(reader.view)
