"""Presenter mode from the command palette, with Pilot against the demo: every row, the
detail and the status line turn to stand-ins and back; copy and reply are refused."""

from __future__ import annotations

from pathlib import Path

from support.apps import FIXED, inbox, running, settle

from lemlist_tui.demo import DemoConfig
from lemlist_tui.widgets.status import StatusLine

ONE_USER = DemoConfig(size=100, now=FIXED, users=1)


def _drawn_rows(screen: object) -> str:
    listing = screen.conversation_list  # type: ignore[attr-defined]
    return "\n".join(listing.render_line(y).text for y in range(listing.size.height))


async def test_the_palette_turns_presenter_mode_on_and_off(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, _session):
        screen = inbox(app)
        row = screen.conversation_list.highlighted
        assert row is not None and row.name is not None and row.email is not None
        user = screen.user_name
        assert row.name in _drawn_rows(screen) and row.name in screen.detail.plain

        app.action_presenter()
        await settle(pilot)
        drawn = _drawn_rows(screen)
        detail = screen.detail.plain
        status = str(screen.query_one(StatusLine).render())
        assert row.name not in drawn and row.email not in drawn
        assert row.name not in detail and row.email not in detail
        assert user not in status
        stand_in = app._presenter.row(row)
        assert stand_in.name in drawn and stand_in.name in detail
        assert "unread of 100" in status  # counts kept

        await pilot.press("y")
        assert app.clipboard != row.email
        said = [n.message for n in app._notifications]
        assert said == ["Presenter mode: copying the email would show real data."]
        await pilot.press("R")
        await pilot.pause()
        assert inbox(app) is screen  # no reply screen came up
        said = [n.message for n in app._notifications]
        assert said == ["Presenter mode: a reply (its quote, its addresses) would show real data."]

        app.action_presenter()
        await settle(pilot)
        assert row.name in _drawn_rows(screen) and row.name in screen.detail.plain
        assert user in str(screen.query_one(StatusLine).render())


async def test_lemlist_drafts_in_the_detail_are_stand_ins_too(tmp_path: Path) -> None:
    async with running(tmp_path, config=ONE_USER) as (app, pilot, session):
        screen = inbox(app)
        row = screen.conversation_list.highlighted
        assert row is not None and session.client is not None and session.demo is not None
        contact = session.demo.contact_id_of(row.id)
        await session.client.create_draft(
            contact, screen.user_id, channel="email", content="<p>Hi</p>", subject="Acme renewal"
        )
        app.action_presenter()
        await pilot.press("j", "k")  # drafts are asked for when the cursor rests again
        screen._drafts.clear()
        await pilot.press("j", "k")
        await settle(pilot)
        detail = screen.detail.plain
        assert "1 in lemlist (D opens them)" in detail
        assert "Acme renewal" not in detail
        stand_in = app._presenter.text("Acme renewal")
        assert stand_in is not None and f"“{stand_in}”" in detail
