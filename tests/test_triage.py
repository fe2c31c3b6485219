"""Triage with the keyboard, against the demo API: n / N through unread, m marks and moves
on, z takes back what lemlist has not heard of, and the outbox outlives the app."""

from __future__ import annotations

from pathlib import Path

from support.apps import FIXED, demo_of, inbox, running, settle

from lemlist_tui.db.outbox import Outbox
from lemlist_tui.demo import DemoConfig
from lemlist_tui.widgets.status import StatusLine

ONE_USER = DemoConfig(size=300, now=FIXED, users=1)
"""A team of one: the inbox opens without the picker."""


def mark_requests(session: object) -> list[str]:
    demo = demo_of(session)  # type: ignore[arg-type]
    return [r.path for r in demo.log if r.query.get("markAsRead") == "true"]


async def test_n_and_shift_n_visit_only_unread_conversations_and_wrap(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        rows = screen.conversation_list.rows
        unread = [i for i in range(len(rows)) if rows[i].unread]
        assert 3 < len(unread) < len(rows)
        visited = []
        for _ in range(len(unread)):
            await pilot.press("n")
            visited.append(screen.conversation_list.cursor)
        # From the top: every unread one in order, the last press wrapping to the first.
        expected = [i for i in unread if i > 0] + ([unread[0]] if unread[0] == 0 else [])
        assert visited[: len(expected)] == expected[: len(visited)]
        assert all(rows[i].unread for i in visited)
        screen.conversation_list.cursor = unread[-1]
        await pilot.press("n")
        assert screen.conversation_list.cursor == unread[0]
        await pilot.press("N")
        assert screen.conversation_list.cursor == unread[-1]
        await pilot.press("N")
        assert screen.conversation_list.cursor == unread[-2]
        assert not mark_requests(session)  # moving never marks read


async def test_m_marks_moves_on_and_sends_once_per_conversation(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        user = screen.user_id
        held, unread_before = screen.view.counts()
        await pilot.press("n")
        rows = screen.conversation_list.rows
        first = screen.conversation_list.cursor
        expected = [rows[first].id]
        index = first
        while len(expected) < 5:
            following = rows.next_unread(index)  # type: ignore[attr-defined]
            assert following is not None
            expected.append(rows[following].id)
            index = following
        await pilot.press(*"mmmmm")  # as fast as the keys come
        cursor_row = screen.conversation_list.highlighted
        assert cursor_row is not None and cursor_row.unread  # on the sixth unread one
        assert screen.view.counts() == (held, unread_before - 5)
        await settle(pilot)
        demo = demo_of(session)
        assert all(demo.is_read(c, user) for c in expected)
        assert len(mark_requests(session)) == 5  # one request per conversation
        assert Outbox(session.db).summary().empty


async def test_offline_marks_wait_undo_withdraws_and_the_rest_go_out_after_a_restart(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):  # the inbox is stored
        user = inbox(app).user_id

    async with running(tmp_path, config=ONE_USER, offline=True) as (app, pilot, session):
        screen = inbox(app)
        await pilot.press("n")
        kept = screen.conversation_list.highlighted
        await pilot.press("m")
        undone = screen.conversation_list.highlighted
        assert kept is not None and undone is not None and kept.id != undone.id
        await pilot.press("m", "z")
        # The cursor is back on the conversation taken back, which is unread again.
        row = screen.conversation_list.highlighted
        assert row is not None and row.id == undone.id and row.unread
        await pilot.pause()
        status = str(screen.query_one(StatusLine).render())
        assert "1 waiting to go out (offline)" in status

    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        await settle(pilot)
        demo = demo_of(session)
        assert demo.is_read(kept.id, user)
        assert not demo.is_read(undone.id, user)  # lemlist never heard of it
        assert len(mark_requests(session)) == 1
        assert Outbox(session.db).summary().empty


async def test_a_label_created_and_attached_from_l_is_on_the_server(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        row = screen.conversation_list.highlighted
        assert row is not None
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*"Hot leads", "enter")  # no label has that name: the create line
        await settle(pilot)
        demo = demo_of(session)
        label_id = demo.label_id("Hot leads")
        assert label_id is not None
        assert label_id in demo.labels_of(row.id)
        shown = screen.conversation_list.highlighted
        assert shown is not None and label_id in shown.labels
        assert "#Hot leads" in screen.conversation_list.label_tags(shown.labels)
        assert screen.detail.conversation is not None
        assert "Hot leads" in screen.detail.conversation.labels

        # An existing label, picked by typing part of its name, then taken back with z.
        other = next(label for label in session.db.labels() if label.id != label_id)
        assert other.name
        await pilot.press("l")
        await pilot.pause()
        await pilot.press(*other.name[:4], "enter")
        await settle(pilot)
        assert other.id in demo.labels_of(row.id)
        await pilot.press("z")
        await settle(pilot)
        assert other.id not in demo.labels_of(row.id)  # its removal was sent
        assert label_id in demo.labels_of(row.id)


async def test_the_label_picker_leaves_with_esc_and_changes_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        await pilot.press("l")
        await pilot.pause()
        await pilot.press("tab", "escape")
        await pilot.pause()
        assert app.screen is screen
        assert Outbox(session.db).summary().empty
        assert not [r for r in demo_of(session).log if "/labels/" in r.path]


async def test_select_a_view_preview_then_mark_every_one_at_the_rate_limit(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        user = screen.user_id
        await pilot.press("u")  # the unread view: a few dozen conversations
        await settle(pilot)
        rows = screen.conversation_list.rows
        assert 20 <= len(rows) <= 150
        wanted = [row.id for row in screen.conversation_list.rows]
        assert len(wanted) == len(rows)
        await pilot.press("V")
        assert "selected" in str(screen.query_one(StatusLine).render())
        await pilot.press("m")
        await pilot.pause()
        question = str(app.screen.query_one("#question").render())
        count = len(wanted)
        assert f"{count} conversations: mark read, {count} requests, about" in question
        assert not mark_requests(session)  # nothing before enter
        await pilot.press("enter")
        await settle(pilot)
        demo = demo_of(session)
        assert all(demo.is_read(c, user) for c in wanted)
        assert len(mark_requests(session)) == count
        assert demo.count(status=429) == 0
        assert demo.max_in_window(2.0) <= 20
        assert not screen.selection


async def test_a_bulk_preview_cancelled_changes_nothing(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        _, unread = screen.view.counts()
        await pilot.press("u", "v", "v", "v", "m")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert screen.view.counts()[1] == unread
        assert len(screen.selection) == 3
        await pilot.press("escape")
        assert not screen.selection
        assert Outbox(session.db).summary().empty


async def test_i_and_x_reach_lemlist_with_the_leads_id(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        demo = demo_of(session)
        row = screen.conversation_list.highlighted
        assert row is not None and screen.detail.thread is not None  # the thread is held
        lead = demo.lead_id_of(row.id)
        assert demo.interest_of(lead) is None
        await pilot.press("i")
        await settle(pilot)
        assert demo.interest_of(lead) == "interested"
        assert "Interest" in screen.detail.plain and "interested" in screen.detail.plain
        await pilot.press("x")
        await settle(pilot)
        assert demo.interest_of(lead) == "notinterested"
        assert "not interested" in screen.detail.plain
        requests = [r.path for r in demo.log if r.path.startswith("/api/leads/")]
        assert requests == [f"/api/leads/interested/{lead}", f"/api/leads/notinterested/{lead}"]


async def test_after_a_filter_the_cursor_is_on_the_first_match(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _session):
        screen = inbox(app)
        rows = screen.conversation_list.rows
        # A conversation some way down whose email domain other conversations above share.
        index, domain = next(
            (i, rows[i].email.split("@")[1])
            for i in range(10, len(rows))
            if rows[i].email
            and any(r.email and r.email.endswith(rows[i].email.split("@")[1]) for r in rows[:i])
        )
        screen.conversation_list.cursor = index
        await pilot.press("slash", *domain)
        await settle(pilot)
        assert screen.conversation_list.cursor == 0
        first = screen.conversation_list.highlighted
        assert first is not None and first.email is not None and domain in first.email
        assert screen.detail.conversation is not None and screen.detail.conversation.id == first.id


async def test_the_filters_matches_are_marked_in_the_rows(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _session):
        screen = inbox(app)
        await pilot.press("slash", *"mar")
        await settle(pilot)
        conversations = screen.conversation_list
        assert len(conversations.rows) > 0
        for y in range(min(5, len(conversations.rows))):
            strip = conversations.render_line(y)
            marked = [seg.text for seg in strip if seg.style is not None and seg.style.underline]
            assert marked, f"row {y} has no marked match"
            assert all(text.lower() == "mar" for text in marked)


async def test_space_pages_the_thread_then_goes_to_the_next_unread(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER, size=(80, 24)) as (app, pilot, _session):
        screen = inbox(app)
        detail = screen.detail
        assert detail.max_scroll_y > 0  # at 80x24 the thread is longer than its pane
        start = screen.conversation_list.cursor
        pages = 0
        while detail.scroll_y < detail.max_scroll_y:
            await pilot.press("space")
            await pilot.pause()
            pages += 1
            assert screen.conversation_list.cursor == start
            assert pages < 100
        await pilot.press("space")
        await settle(pilot)
        row = screen.conversation_list.highlighted
        assert row is not None and row.unread
        assert screen.conversation_list.cursor == screen.rows.next_unread(start)  # type: ignore[union-attr]


async def test_z_right_after_m_takes_it_back_before_lemlist_hears(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER, undo_for=30.0) as (app, pilot, session):
        screen = inbox(app)
        await pilot.press("n")
        marked = screen.conversation_list.highlighted
        assert marked is not None and marked.unread
        await pilot.press("m")
        await pilot.pause()
        assert "1 to send" in str(screen.query_one(StatusLine).render())
        await pilot.press("z")
        await settle(pilot)
        row = screen.conversation_list.highlighted
        assert row is not None and row.id == marked.id and row.unread
        assert not mark_requests(session)  # online, and lemlist never heard of it
        assert Outbox(session.db).summary().empty


async def test_n_m_and_z_move_the_detail_with_the_cursor_in_one_step(tmp_path: Path) -> None:
    """The detail follows the cursor within the key's own action, not a message later:
    the list and the detail go to the terminal in the same frame."""
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _session):
        screen = inbox(app)
        conversations = screen.conversation_list

        def shown() -> str | None:
            return screen.detail.conversation.id if screen.detail.conversation else None

        screen.action_next_unread()  # no await: nothing else has run yet
        assert shown() == conversations.cursor_id
        await settle(pilot)
        marked = conversations.cursor_id
        screen.action_mark_read()
        assert conversations.cursor_id != marked
        assert shown() == conversations.cursor_id
        screen.action_undo()  # before the sender sends it
        assert conversations.cursor_id == marked
        assert shown() == marked
        await settle(pilot)


async def test_u_and_s_show_the_conversation_now_under_the_cursor_in_one_step(
    tmp_path: Path,
) -> None:
    """A view key's answer is whole at once: the detail does not wait for a pause in the
    keys, as it does while the filter is typed."""
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _session):
        screen = inbox(app)
        conversations = screen.conversation_list

        def shown() -> str | None:
            return screen.detail.conversation.id if screen.detail.conversation else None

        read_first = next(i for i, row in enumerate(conversations.rows) if not row.unread)
        conversations.cursor = read_first  # a read one: gone from the unread view
        await settle(pilot)
        before = shown()
        screen.action_toggle_unread()  # no await: nothing else has run yet
        assert conversations.cursor_id != before
        assert shown() == conversations.cursor_id
        await settle(pilot)
        screen.action_cycle_sort()
        assert shown() == conversations.cursor_id
        await settle(pilot)
