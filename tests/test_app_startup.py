"""Start-up: no key, a refused key, whose inbox opens first, switching user, help."""

from __future__ import annotations

from pathlib import Path

from support.apps import FIXED, app_settings, inbox, running, settle
from textual.binding import Binding
from textual.widgets import Static

from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings
from lemlist_tui.demo import DemoConfig, Fault
from lemlist_tui.keymap import app_scopes, resolve_keys
from lemlist_tui.screens import HelpScreen, InboxScreen, PickerScreen, ProblemScreen
from lemlist_tui.screens.help import key_rows
from lemlist_tui.session import open_session
from lemlist_tui.widgets import ConversationList


def screen_text(screen: object) -> str:
    assert isinstance(screen, ProblemScreen | PickerScreen)
    return "\n".join(str(static.content) for static in screen.query(Static))


async def test_no_key_says_where_to_put_one(tmp_path: Path) -> None:
    settings = Settings(
        api_key=None,
        cache_dir=tmp_path / "cache",
        state_path=tmp_path / "state.json",
        config_path=tmp_path / "somewhere" / "config.toml",
    )
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ProblemScreen)
        text = screen_text(app.screen)
        assert "LEMLIST_API_KEY" in text
        assert str(tmp_path / "somewhere" / "config.toml") in text
        assert "lemlist-tui --demo" in text
        assert "Traceback" not in text
        await pilot.press("q")
    assert app.return_code == 3  # "no key", as --help documents


async def test_a_refused_key_is_one_clear_sentence(tmp_path: Path) -> None:
    # The demo accepts only another key: the app's demo key is refused with a 401.
    config = DemoConfig(size=10, now=FIXED, api_keys=("other",))
    async with running(tmp_path, config=config) as (app, _pilot, _session):
        assert isinstance(app.screen, ProblemScreen)
        text = screen_text(app.screen)
        assert "lemlist refused the API key (401)" in text
        assert "LEMLIST_API_KEY" in text
        assert "lemlist-tui --demo" in text


async def test_a_cached_team_opens_the_inbox_before_any_request(tmp_path: Path) -> None:
    config = DemoConfig(size=50, now=FIXED)
    async with running(tmp_path, config=config) as (app, _pilot, session):
        assert session.demo is not None
        wanted = session.demo.team_user_ids[1]
    settings = app_settings(tmp_path, user_id=wanted)
    session = open_session(settings, demo_config=config)
    assert session.demo is not None
    # lemlist takes its time with the team: the inbox must not wait for it.
    session.demo.faults.append(Fault(path_prefix="/api/team", delay=30.0))
    app = make_app(settings, session=session, clock=lambda: FIXED)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(100):  # a condition, not a settle: the team never answers here
                if isinstance(app.screen, InboxScreen) and app.screen.conversation_list.row_count:
                    break
                await pilot.pause()
            assert any(w.group == "team" and not w.is_finished for w in app.workers)
            screen = inbox(app)
            assert screen.user_id == wanted
            assert screen.conversation_list.row_count > 0
    finally:
        await session.aclose()


async def test_a_key_refused_after_a_cached_start_still_says_so(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=10, now=FIXED)) as (app, _pilot, _s):
        assert isinstance(app.screen, PickerScreen | InboxScreen)
    refused = DemoConfig(size=10, now=FIXED, api_keys=("other",))
    async with running(tmp_path, config=refused) as (app, _pilot, _session):
        assert isinstance(app.screen, ProblemScreen)
        assert "lemlist refused the API key (401)" in screen_text(app.screen)


async def test_user_option_opens_that_inbox_and_is_remembered(tmp_path: Path) -> None:
    config = DemoConfig(size=50, now=FIXED)
    async with running(tmp_path, config=config) as (app, _pilot, session):
        assert session.demo is not None
        wanted = session.demo.team_user_ids[2]
    async with running(tmp_path, config=config, user_id=wanted) as (app, _pilot, session):
        assert inbox(app).user_id == wanted
    async with running(tmp_path, config=config) as (app, _pilot, session):
        assert inbox(app).user_id == wanted  # the last one chosen


async def test_an_unknown_user_gets_a_sentence_and_the_picker(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=20, now=FIXED), user_id="usr_nobody") as (
        app,
        _pilot,
        _session,
    ):
        assert isinstance(app.screen, PickerScreen)
        assert "usr_nobody is not a user of this team" in screen_text(app.screen)


async def test_switch_user_and_back(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=50, now=FIXED)) as (app, pilot, _session):
        await pilot.press("enter")
        await settle(pilot)
        first = inbox(app)
        await pilot.press("U")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("escape")
        assert app.screen is first

        await pilot.press("U", "down", "enter")
        await settle(pilot)
        second = inbox(app)
        assert second is not first and second.user_id != first.user_id
        assert not first.is_attached  # its workers went with it
        assert len(app.screen_stack) == 2  # the start-up screen and the inbox


def test_help_lists_every_key() -> None:
    defaults = resolve_keys((), app_scopes(LemlistApp))
    shown = {token for keys, _what in key_rows(defaults) for token in keys.split()}
    names = {"slash": "/", "question_mark": "?", "escape": "esc", "pageup": "PgUp"}
    names |= {"pagedown": "PgDn", "up": "↑", "down": "↓", "home": "g", "end": "G"}
    bindings = [*InboxScreen.BINDINGS, *LemlistApp.BINDINGS, *ConversationList.BINDINGS]
    for binding in bindings:
        assert isinstance(binding, Binding)
        for key in binding.key.split(","):
            assert names.get(key, key) in shown, f"{key} ({binding.description}) not in help"


async def test_help_opens_and_closes(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=20, now=FIXED, users=1)) as (
        app,
        pilot,
        _session,
    ):
        screen = app.screen
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("question_mark", "q")
        assert app.screen is screen
        assert app.is_running


async def test_palette_lists_the_inbox_commands(tmp_path: Path) -> None:
    async with running(tmp_path, config=DemoConfig(size=20, now=FIXED, users=1)) as (
        app,
        _pilot,
        _session,
    ):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        wanted = {"Mark read", "Refresh", "Sync everything", "Switch user", "Copy email", "Help"}
        assert wanted <= titles


async def test_light_theme_and_narrow_terminal(tmp_path: Path) -> None:
    config = DemoConfig(size=50, now=FIXED, users=1)
    async with running(tmp_path, config=config, theme="textual-light", size=(80, 24)) as (
        app,
        _pilot,
        _session,
    ):
        assert app.theme == "textual-light"
        screen = inbox(app)
        assert isinstance(screen, InboxScreen)
        assert screen.has_class("-narrow")
        assert screen.detail.region.y > screen.conversation_list.region.y  # stacked


async def test_an_unknown_theme_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    config = DemoConfig(size=20, now=FIXED, users=1)
    async with running(tmp_path, config=config, theme="no-such-theme") as (app, _pilot, _s):
        assert isinstance(app.screen, InboxScreen)
        assert any("no-such-theme" in n.message for n in app._notifications)
