"""ConversationList: Line-API rendering, keys, messages, and flat cost at 100k rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.strip import Strip

from lemlist_tui.api.models import Contact, Conversation, Opportunity, Participant
from lemlist_tui.db import InboxDatabase, ListRow, SortKey, SyncState
from lemlist_tui.inbox import InboxView
from lemlist_tui.widgets import ConversationList
from lemlist_tui.widgets.conversation_list import (
    CURSOR_GLYPH,
    REPLIED_GLYPH,
    UNREAD_GLYPH,
    channel_tags,
)

ME = "usr_me"
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
READ = (Participant(ME, read=True),)
UNREAD = (Participant(ME, read=False),)


def row_of(conversation: Conversation, n: int = 0) -> ListRow:
    """What the database would hand the list for ``conversation`` (for ME)."""
    c = conversation
    return ListRow(
        local_id=n,
        sort_value=0,
        id=c.id,
        name=c.contact.full_name,
        email=c.contact.email,
        channels=c.channels,
        unread=c.is_unread_for(ME),
        last_activity_at=c.last_activity_at,
        last_replied_at=c.last_replied_at,
        created_at=c.created_at,
        have_replies=c.have_replies,
        opportunities=len(c.opportunities),
    )


def make_conversations(count: int, *, prefix: str = "c") -> list[Conversation]:
    """Cheap synthetic conversations, newest first, every third one unread."""
    return [
        Conversation(
            id=f"{prefix}{i}",
            contact=Contact(f"lea{i}", f"Person {i:06d}", f"person{i}@acme{i % 7}.com"),
            last_activity_at=NOW - timedelta(minutes=i),
            channels=("email", "linkedin") if i % 2 else ("email",),
            participants=UNREAD if i % 3 == 0 else READ,
            have_replies=i % 4 == 0,
            opportunities=(Opportunity("opp"),) * (i % 3),
        )
        for i in range(count)
    ]


def make_rows(count: int, *, prefix: str = "c") -> list[ListRow]:
    return [row_of(c, n) for n, c in enumerate(make_conversations(count, prefix=prefix))]


def view_of(folder: Path, conversations: Sequence[Conversation]) -> InboxView:
    """The conversations in a real database, and a view over it."""
    db = InboxDatabase(folder)
    db.store_page(ME, conversations, SyncState())
    return InboxView(db, ME)


class ListApp(App[None]):
    """Just the widget, recording the messages it posts."""

    def __init__(
        self, rows: Sequence[ListRow], clock: Callable[[], datetime] = lambda: NOW
    ) -> None:
        super().__init__()
        self.rows = rows
        self.clock = clock
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield ConversationList(clock=self.clock, id="list")

    def on_mount(self) -> None:
        self.widget.set_rows(self.rows, user_id=ME)
        self.widget.focus()

    @property
    def widget(self) -> ConversationList:
        return self.query_one(ConversationList)

    @on(ConversationList.Highlighted)
    @on(ConversationList.Selected)
    @on(ConversationList.NearEnd)
    def _record(self, message: Message) -> None:
        self.posted.append(message)

    def last(self, kind: type[Message]) -> Message:
        return [m for m in self.posted if isinstance(m, kind)][-1]

    def count(self, kind: type[Message]) -> int:
        return sum(isinstance(m, kind) for m in self.posted)


def screen_lines(widget: ConversationList) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.scrollable_content_region.height)]


def recording_rows(widget: ConversationList) -> list[str]:
    """The ids of the rows ``widget`` draws from now on (a frame draws only what changed)."""
    drawn: list[str] = []
    render_row = widget._render_row

    def recording(row: ListRow, state: int, *, selected: bool = False) -> Strip:
        drawn.append(row.id)
        return render_row(row, state, selected=selected)

    widget._render_row = recording  # type: ignore[method-assign]
    return drawn


def highlighted_id(app: ListApp) -> str | None:
    message = app.last(ConversationList.Highlighted)
    assert isinstance(message, ConversationList.Highlighted)
    return message.row.id if message.row else None


# --- rendering ----------------------------------------------------------------------


async def test_renders_the_first_rows_with_every_column() -> None:
    app = ListApp(make_rows(100))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        lines = screen_lines(app.widget)
        assert len(lines) == 30
        assert all(f"Person {i:06d}" in lines[i] for i in range(30))
        first, second = lines[0], lines[1]
        assert first.startswith(CURSOR_GLYPH + UNREAD_GLYPH)  # cursor, unread for ME
        assert second.startswith("  ")  # no cursor, read
        assert "person0@acme0.com" in first
        assert "mail" in first and "mail·in" in second
        assert "now" in first and "1m" in second
        assert REPLIED_GLYPH in first and REPLIED_GLYPH not in second
        assert "$" not in first  # no opportunities: blank
        assert lines[2].rstrip().endswith("$2")
        assert all(len(line) == app.widget.scrollable_content_region.width for line in lines)


async def test_narrow_width_drops_the_email_but_keeps_name_and_time() -> None:
    rows = make_rows(50)
    app = ListApp(rows)
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        line = screen_lines(app.widget)[1]
        assert "Person 000001" in line and "1m" in line
        assert "acme" not in line and "mail" not in line
    app = ListApp(rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        line = screen_lines(app.widget)[1]
        assert "Person 000001" in line and "person1@acme1.com" in line and "1m" in line


async def test_unread_rows_are_bold_and_the_cursor_row_is_styled() -> None:
    app = ListApp(make_rows(10))
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        widget = app.widget
        cursor, unread, read = (widget.render_line(y) for y in (0, 3, 1))
        assert all(seg.style is not None and seg.style.bold for seg in unread if seg.text.strip())
        assert not any(seg.style is not None and seg.style.bold for seg in read)
        cursor_style = widget.get_component_rich_style("conversation-list--cursor")
        first_segment = next(iter(cursor))
        assert first_segment.style is not None
        assert first_segment.style.bgcolor == cursor_style.bgcolor


async def test_untrusted_text_is_literal_and_escape_free() -> None:
    evil = [
        Conversation(
            id="m",
            contact=Contact("l1", "[bold]x[/] [link=e]y[/]", "a@b.c"),
            last_activity_at=NOW,
            participants=READ,
        ),
        Conversation(
            id="e",
            contact=Contact("l2", "Eve\x1b[31mRed\x1b]52;c;Zm9v\x07\x1b[0m", "e@\x1b[2Jx.io"),
            last_activity_at=NOW,
            channels=("email\x1b[5m",),
            participants=READ,
        ),
    ]
    app = ListApp([row_of(c) for c in evil])
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        strips = [app.widget.render_line(y) for y in range(10)]
        assert "[bold]x[/] [link=e]y[/]" in strips[0].text
        assert "EveRed" in strips[1].text
        for strip in strips:
            assert "\x1b" not in strip.text and "\x07" not in strip.text
            assert all(seg.style is None or seg.style.link is None for seg in strip)


async def test_empty_text_is_centred() -> None:
    app = ListApp([])
    async with app.run_test(size=(60, 11)) as pilot:
        app.widget.empty_text = "Nothing matches 'acme'"
        await pilot.pause()
        lines = screen_lines(app.widget)
        middle = lines[len(lines) // 2]
        assert middle.strip() == "Nothing matches 'acme'"
        left, right = len(middle) - len(middle.lstrip()), len(middle) - len(middle.rstrip())
        assert abs(left - right) <= 1
        assert all(not line.strip() for i, line in enumerate(lines) if i != len(lines) // 2)
        assert app.widget.highlighted is None


# --- keys and messages --------------------------------------------------------------


async def test_cursor_keys_post_highlighted_with_the_right_conversation() -> None:
    rows = make_rows(200)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert highlighted_id(app) == "c0"
        steps: list[tuple[str, int]] = [
            ("j", 1),
            ("down", 2),
            ("k", 1),
            ("pagedown", 31),
            ("pageup", 1),
            ("G", 199),
            ("up", 198),
            ("g", 0),
            ("end", 199),
            ("home", 0),
        ]
        for key, index in steps:
            await pilot.press(key)
            await pilot.pause()
            assert app.widget.cursor == index, key
            assert app.widget.highlighted is rows[index]
            assert highlighted_id(app) == f"c{index}", key
        # The cursor row stays on screen.
        await pilot.press("G")
        await pilot.pause()
        assert CURSOR_GLYPH in screen_lines(app.widget)[-1]


async def test_a_burst_of_moves_coalesces_highlighted() -> None:
    rows = make_rows(100)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        before = app.count(ConversationList.Highlighted)
        for _ in range(40):  # as fast as a held key can go: no handling in between
            app.widget.action_cursor_down()
        await pilot.pause()
        assert highlighted_id(app) == "c40"
        assert app.count(ConversationList.Highlighted) - before < 5


async def test_enter_posts_selected() -> None:
    rows = make_rows(20)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        selected = app.last(ConversationList.Selected)
        assert isinstance(selected, ConversationList.Selected)
        assert selected.row is rows[2]
        assert selected.control is app.widget


async def test_click_moves_the_cursor_and_double_click_selects() -> None:
    rows = make_rows(20)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click(ConversationList, offset=(10, 4))
        await pilot.pause()
        assert app.widget.cursor == 4
        assert highlighted_id(app) == "c4"
        await pilot.click(ConversationList, offset=(10, 6), times=2)
        await pilot.pause()
        selected = app.last(ConversationList.Selected)
        assert isinstance(selected, ConversationList.Selected)
        assert selected.row is rows[6]


async def test_near_end_is_posted_once_per_row_count() -> None:
    rows = make_rows(200)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.count(ConversationList.NearEnd) == 0
        await pilot.press("pagedown", "pagedown", "pagedown")  # cursor 90: far from 199
        await pilot.pause()
        assert app.count(ConversationList.NearEnd) == 0
        await pilot.press("pagedown", "pagedown")  # cursor 150: within two screens
        await pilot.pause()
        assert app.count(ConversationList.NearEnd) == 1
        await pilot.press("j", "j", "G")
        await pilot.pause()
        assert app.count(ConversationList.NearEnd) == 1
        # The next page arrives while the cursor is still near the end.
        app.widget.set_rows(rows + make_rows(30, prefix="n"), user_id=ME)
        await pilot.pause()
        assert app.count(ConversationList.NearEnd) == 2
        assert app.widget.highlighted is rows[199]


async def test_set_rows_keeps_the_cursor_on_the_same_conversation(tmp_path: Path) -> None:
    rows = make_conversations(50)
    view = view_of(tmp_path, rows)
    app = ListApp(view.apply())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*["j"] * 17)
        await pilot.pause()
        assert highlighted_id(app) == rows[17].id
        posted = app.count(ConversationList.Highlighted)

        narrowed = view.apply("person 00001")  # 1 and 10..19
        app.widget.set_rows(narrowed, user_id=ME)
        await pilot.pause()
        assert highlighted_id(app) == rows[17].id
        assert app.widget.cursor == 8 == [r.id for r in narrowed].index(rows[17].id)
        assert app.count(ConversationList.Highlighted) == posted  # same conversation

        # keep_id wins over the highlighted one.
        app.widget.set_rows(view.apply("person 0000"), user_id=ME, keep_id="c3")
        await pilot.pause()
        assert highlighted_id(app) == "c3" == rows[3].id

        # Gone: the cursor stays at its index, clamped to the rows there are.
        app.widget.set_rows(view.apply("acme1"), user_id=ME)
        await pilot.pause()
        assert app.widget.cursor == 3
        assert app.widget.highlighted is not None
        assert highlighted_id(app) == app.widget.highlighted.id
        app.widget.set_rows(view.apply("zzz"), user_id=ME)
        await pilot.pause()
        assert app.widget.highlighted is None
        assert highlighted_id(app) is None


async def test_a_new_copy_of_the_highlighted_conversation_is_announced() -> None:
    rows = make_rows(10)
    app = ListApp(rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert screen_lines(app.widget)[0][1] == UNREAD_GLYPH
        marked = [dataclasses.replace(rows[0], unread=False), *rows[1:]]
        app.widget.set_rows(marked, user_id=ME)
        await pilot.pause()
        message = app.last(ConversationList.Highlighted)
        assert isinstance(message, ConversationList.Highlighted)
        assert message.row is marked[0]
        assert screen_lines(app.widget)[0][1] == " "


async def test_new_rows_redraw_only_the_lines_that_changed() -> None:
    """A mark read re-reads the view: the one row that changed is drawn again, the
    others keep their lines (a frame of one line, not of the whole list)."""
    rows = make_rows(200)
    app = ListApp(rows)
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        widget = app.widget
        drawn = recording_rows(widget)
        assert screen_lines(widget)[3][1] == UNREAD_GLYPH
        assert rows[99].unread
        marked = list(rows)
        marked[3] = dataclasses.replace(rows[3], unread=False)
        marked[99] = dataclasses.replace(rows[99], unread=False)  # off screen
        widget.set_rows(marked, user_id=ME)
        await pilot.pause()
        assert drawn == ["c3"]
        assert screen_lines(widget)[3][1] == " "
        widget.set_rows(list(marked), user_id=ME)  # the same rows again: nothing to draw
        await pilot.pause()
        assert drawn == ["c3"]
        widget.cursor = 99  # scrolled there: drawn from the new rows, not an old line
        await pilot.pause()
        line = screen_lines(widget)[99 - widget.scroll_offset.y]
        assert "Person 000099" in line
        assert line[1] == " "


async def test_new_rows_moving_the_cursor_redraw_both_cursor_lines() -> None:
    rows = make_rows(10)  # all on screen: the list cannot scroll to follow the cursor
    app = ListApp(rows)
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        widget = app.widget
        drawn = recording_rows(widget)
        assert screen_lines(widget)[0][0] == CURSOR_GLYPH
        drawn.clear()
        widget.set_rows(rows, user_id=ME, keep_id="c4")
        await pilot.pause()
        assert sorted(drawn) == ["c0", "c4"]  # what the frame sends the terminal
        lines = screen_lines(widget)
        assert [line[0] for line in lines[:6]] == [" ", " ", " ", " ", CURSOR_GLYPH, " "]


async def test_refresh_row_redraws_a_replaced_conversation() -> None:
    rows = make_rows(10)
    app = ListApp(rows)
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        assert screen_lines(app.widget)[3][1] == UNREAD_GLYPH
        rows[3] = dataclasses.replace(rows[3], unread=False)  # the same list, changed in place
        app.widget.refresh_row("c3")
        await pilot.pause()
        assert screen_lines(app.widget)[3][1] == " "
        app.widget.refresh_row("not-there")  # no error


async def test_shown_time_follows_the_sort() -> None:
    row = Conversation(
        id="t",
        contact=Contact("l", "Tim", None),
        last_activity_at=NOW - timedelta(minutes=5),
        created_at=NOW - timedelta(days=3),
        participants=READ,
    )
    app = ListApp([row_of(row)])
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        assert "5m" in screen_lines(app.widget)[0]
        app.widget.shown_time = SortKey.CREATED
        await pilot.pause()
        assert "3d" in screen_lines(app.widget)[0]
        app.widget.shown_time = SortKey.LAST_REPLY
        await pilot.pause()
        assert "—" in screen_lines(app.widget)[0]


async def test_relative_times_age_with_the_clock() -> None:
    now = [NOW]
    app = ListApp(make_rows(3), clock=lambda: now[0])
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        assert "now" in screen_lines(app.widget)[0]
        now[0] = NOW + timedelta(hours=2)
        app.widget._age_times()  # what the widget's timer does
        await pilot.pause()
        assert "2h" in screen_lines(app.widget)[0]


def test_channel_tags_are_short() -> None:
    assert channel_tags(("email", "linkedin", "whatsapp")) == "mail·in·wa"
    assert channel_tags(("Email",)) == "mail"
    assert channel_tags(()) == ""
    assert channel_tags(("carrier-pigeon",)) == "carrier-pigeon"


# --- scale --------------------------------------------------------------------------


def cheap_inbox(count: int) -> list[Conversation]:
    """100k conversations in well under a second: shared parts, only ids differ."""
    contact_a = Contact("l", "Ana Smith", "ana@acme.com")
    contact_b = Contact("l", "Bob Jones", "bob@globex.com")
    return [
        Conversation(
            id=f"c{i}",
            contact=contact_a if i % 10 == 0 else contact_b,
            last_activity_at=NOW - timedelta(seconds=i),
            participants=UNREAD if i % 2 else READ,
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [10, 20_000])
async def test_cost_does_not_grow_with_the_inbox(
    count: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No widget or table row per conversation, and only visible rows are drawn."""
    rendered: list[str] = []
    real = ConversationList._render_row

    def counting(self: ConversationList, row: ListRow, state: int) -> object:
        rendered.append(row.id)
        return real(self, row, state)

    monkeypatch.setattr(ConversationList, "_render_row", counting)
    inbox = cheap_inbox(count)
    view = view_of(tmp_path, inbox)
    app = ListApp(view.apply())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        widget = app.widget
        nodes = len(list(app.screen.query("*")))
        assert nodes == 1  # the list itself, whatever the count
        assert widget.virtual_size.height == count
        height = widget.scrollable_content_region.height
        visible = {row.id for row in inbox[:height]}
        assert set(rendered) <= visible
        assert len(rendered) <= 2 * height

        # Filter through the view: still nothing per conversation, still only the screen.
        rendered.clear()
        result = view.apply("ana", unread_only=False, sort=SortKey.LAST_ACTIVITY)
        if not result.exact:  # a large inbox: the first screen, then the count (a worker's)
            assert len(result) == 64
            result = result.with_count(view.count(result))
        widget.set_rows(result, user_id=ME)
        await pilot.pause()
        assert len(list(app.screen.query("*"))) == nodes
        assert widget.row_count == len(result) == (count + 9) // 10
        assert set(rendered) <= {row.id for row in result[:height]}
        assert len(rendered) <= 2 * height
        assert all("Ana Smith" in line for line in screen_lines(widget)[: min(height, 1)])

        # Jumping to the end draws the last screen only.
        rendered.clear()
        await pilot.press("G")
        await pilot.pause()
        assert set(rendered) <= {row.id for row in result[-height:]}
        assert len(rendered) <= 2 * height


async def test_rows_take_a_new_theme_and_the_focus_at_once() -> None:
    """The styles rows are drawn with are kept between frames, and dropped when they
    change: a theme, or the focus (the cursor's colours)."""
    app = ListApp(make_rows(10))
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        widget = app.widget

        def styles(y: int) -> set[object]:
            return {segment.style for segment in widget.render_line(y)}

        dark_row, dark_cursor = styles(1), styles(0)
        app.theme = "textual-light"
        await pilot.pause()
        assert styles(1).isdisjoint(dark_row)
        focused = styles(0)
        assert focused.isdisjoint(dark_cursor)
        widget.blur()
        await pilot.pause()
        assert styles(0) != focused
