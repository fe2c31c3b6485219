"""The team view with the keyboard, against the demo API: ``t`` merges every teammate's
inbox, each conversation once with its owner; the detail shows the read matrix; ``m``
acts for the user who opened the app; ``user:`` and ``unread-by:`` filter the team."""

from __future__ import annotations

from pathlib import Path

from support.apps import FIXED, demo_of, inbox, running, settle

from lemlist_tui.demo import DemoConfig
from lemlist_tui.screens.picker import PickerScreen
from lemlist_tui.widgets.conversation_list import ListHeader
from lemlist_tui.widgets.status import StatusLine

TEAM_OF_THREE = DemoConfig(size=300, now=FIXED, users=3)


async def test_t_merges_every_inbox_once_with_owners_and_the_read_matrix(tmp_path: Path) -> None:
    async with running(tmp_path, config=TEAM_OF_THREE) as (app, pilot, session):
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("enter")
        await settle(pilot)
        screen = inbox(app)
        demo = demo_of(session)
        me = screen.user_id
        team = demo.team_user_ids
        assert "Owner" not in screen.query_one(ListHeader).render().plain

        await pilot.press("t")
        await settle(pilot)

        rows = list(screen.conversation_list.rows)
        ids = [row.id for row in rows]
        every = {row.id for user in team for row in session.db.rows(user, limit=1000)}
        assert len(ids) == len(set(ids)) == len(every) == 300
        assert set(ids) == every
        nobody = [i for i in ids if not any(demo.is_read(i, user) for user in team)]
        assert [row.id for row in rows if row.unread] == nobody
        assert "Owner" in screen.query_one(ListHeader).render().plain
        status = str(screen.query_one(StatusLine).render())
        assert f"{len(nobody):,} read by nobody of 300" in status
        # Every user's inbox was crawled (fairly: see test_team), and is whole.
        assert all(session.inbox(user).state.complete for user in team)

        # The detail names every teammate with their read state, as lemlist has it.
        await pilot.press("n")
        await settle(pilot)
        row = screen.conversation_list.highlighted
        assert row is not None and row.unread
        detail = screen.detail.plain
        for user in team:
            teammate = screen.team.user(user)
            assert teammate is not None and teammate.name is not None
            line = next(line for line in detail.splitlines() if teammate.name in line)
            assert ("✓ read" in line) == demo.is_read(row.id, user)
        # The owner column shows the owner's first name on the row.
        owner = screen.team.user(row.owner or "")
        assert owner is not None and owner.name is not None
        listing = screen.conversation_list
        drawn = listing.render_line(listing.cursor - listing.scroll_offset.y).text
        assert owner.name.split(" ")[0] in drawn

        # m marks it read for the user who opened the app: nobody-read no longer holds.
        await pilot.press("m")
        await settle(pilot)
        assert demo.is_read(row.id, me)
        assert not any(demo.is_read(row.id, user) for user in team if user != me)
        after = screen.conversation_list.highlighted
        assert after is not None and after.id != row.id and after.unread
        assert screen.view.counts()[1] == len(nobody) - 1

        await pilot.press("t")
        await settle(pilot)
        assert "Owner" not in screen.query_one(ListHeader).render().plain
        assert "read by nobody" not in str(screen.query_one(StatusLine).render())
        assert screen.view.counts() == session.db.counts(me)


async def test_unread_by_and_user_filter_the_team_view(tmp_path: Path) -> None:
    async with running(tmp_path, config=TEAM_OF_THREE) as (app, pilot, session):
        await pilot.press("enter")
        await settle(pilot)
        screen = inbox(app)
        demo = demo_of(session)
        await pilot.press("t")
        await settle(pilot)
        other = screen.team.users[2]
        assert other.name is not None
        first_name = other.name.split(" ")[0]

        await pilot.press("slash", *f"unread-by:{first_name.lower()}", "enter")
        await settle(pilot)
        shown = [row.id for row in screen.conversation_list.rows]
        want = [
            row.id
            for row in session.db.rows(screen.list_user, limit=1000)
            if not demo.is_read(row.id, other.id)
        ]
        assert shown == want and 0 < len(shown) < 300
        assert not screen.view.problems

        await pilot.press("slash", "ctrl+u", *"user:nobody", "enter")
        await settle(pilot)
        assert "No teammate is named “nobody”." in str(screen.query_one(StatusLine).render())
