"""The user picker: its keys (shown, and how to leave it) and each user's held counts."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from support.apps import FIXED, inbox, running, settle
from textual.widgets import OptionList, Static

from lemlist_tui.app import LemlistApp
from lemlist_tui.demo import DemoConfig
from lemlist_tui.screens import PickerScreen


def picker(app: LemlistApp) -> PickerScreen:
    screen = app.screen
    assert isinstance(screen, PickerScreen), f"expected the picker, not {screen!r}"
    return screen


def footer_keys(screen: PickerScreen) -> dict[str, str]:
    """What the footer offers: key → description (enabled ones only)."""
    return {
        key: active.binding.description
        for key, active in screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


def hint(screen: PickerScreen) -> str:
    return str(screen.query_one("#picker-count", Static).content)


def rows(screen: PickerScreen) -> dict[str, str]:
    """Each listed user's line as drawn 100 cells wide, by user id."""
    options = screen.query_one("#picker-users", OptionList)
    drawn: dict[str, str] = {}
    for index in range(options.option_count):
        option = options.get_option_at_index(index)
        assert option.id is not None
        console = Console(width=100, file=io.StringIO(), record=True)
        console.print(option.prompt)
        drawn[option.id] = console.export_text().strip()
    return drawn


# --- leaving: q / esc ---------------------------------------------------------------------


async def test_first_run_shows_its_keys_and_q_quits(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, _session):
        screen = picker(app)  # a team of three, no one chosen yet
        assert not screen.can_cancel
        keys = footer_keys(screen)
        assert keys["enter"] == "Open inbox"
        assert keys["escape"] == "Quit"
        assert "esc or q quits" in hint(screen)
        assert "type to filter" in hint(screen)
        await pilot.press("q")
        assert app.return_code == 0  # exited, and cleanly
        assert screen.query_text == ""  # q was not typed into the filter


async def test_first_run_esc_quits(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, _session):
        picker(app)
        await pilot.press("escape")
        assert app.return_code == 0


async def test_while_filtering_q_is_a_letter_and_esc_clears_first(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, _session):
        screen = picker(app)
        await pilot.press("x", "q")
        assert screen.query_text == "xq"
        assert app.return_code is None  # still running
        assert footer_keys(screen)["escape"] == "Clear filter"
        assert "esc clears the filter" in hint(screen)
        await pilot.press("escape")
        assert screen.query_text == ""
        assert len(screen.shown) == len(screen.users)
        assert app.return_code is None
        assert footer_keys(screen)["escape"] == "Quit"
        await pilot.press("escape")
        assert app.return_code == 0


async def test_from_the_inbox_q_and_esc_go_back_without_changing_user(tmp_path: Path) -> None:
    async with running(tmp_path) as (app, pilot, session):
        await pilot.press("enter")  # the first user's inbox
        await settle(pilot)
        first = inbox(app)
        for leave in ("q", "escape"):
            await pilot.press("U")
            screen = picker(app)
            assert screen.can_cancel
            assert footer_keys(screen)["escape"] == "Back"
            assert "esc or q goes back" in hint(screen)
            await pilot.press("down", leave)  # another user highlighted, not chosen
            assert app.screen is first
            assert app.return_code is None
        # A filter typed, then esc: cleared first, back on the second.
        await pilot.press("U", "z", "escape")
        assert picker(app).query_text == ""
        await pilot.press("escape")
        assert app.screen is first
        assert session.last_user() == first.user_id


# --- each user's counts ------------------------------------------------------------------


async def test_the_picker_shows_held_counts_only_for_synced_users(tmp_path: Path) -> None:
    config = DemoConfig(size=300, now=FIXED)
    async with running(tmp_path, config=config) as (app, pilot, session):
        await pilot.press("enter")
        await settle(pilot)
        synced = inbox(app).user_id
        held, unread = session.db.counts(synced)
        assert held == 300 and 0 < unread < held
        await pilot.press("U")
        drawn = rows(picker(app))
        assert drawn[synced].endswith(f"{unread:,} unread of 300")
        others = [line for user_id, line in drawn.items() if user_id != synced]
        assert len(others) == 2
        assert not any("unread" in line for line in others)  # never synced: no "0"

    # A first run on the same local inbox (nobody remembered): the counts are there too.
    state = tmp_path / "other-state" / "state.json"
    async with running(tmp_path, config=config, state_path=state) as (app, _pilot, _session):
        drawn = rows(picker(app))
        assert drawn[synced].endswith(f"{unread:,} unread of 300")
        assert sum("unread" in line for line in drawn.values()) == 1


async def test_counts_of_a_partly_held_inbox_say_held(tmp_path: Path) -> None:
    async with running(tmp_path, sync="on-demand") as (app, pilot, session):
        await pilot.press("enter")
        await settle(pilot)
        user = inbox(app).user_id
        held, unread = session.db.counts(user)
        assert 0 < held < 300  # pages come as the list nears its end
        await pilot.press("U")
        assert rows(picker(app))[user].endswith(f"{unread:,} unread of {held:,} held")
