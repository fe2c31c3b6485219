"""A theme chosen in the command palette is remembered beside the last user and used at the
next start; config.toml's ``theme`` counts again once it changes; a remembered theme that no
longer exists falls back to the default without a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from support.apps import FIXED, app_settings, inbox, running
from textual.command import CommandPalette
from textual.pilot import Pilot

from lemlist_tui.app import LemlistApp, make_app
from lemlist_tui.config import Settings, remember_theme, remember_user, saved_theme
from lemlist_tui.demo import DemoConfig

DEFAULT = "textual-dark"


def no_key_settings(tmp_path: Path, **changes: Any) -> Settings:
    """The no-key screen: the app's quickest start, and no session to open."""
    return app_settings(tmp_path, demo=False, api_key=None, **changes)


async def ready(pilot: Pilot[None]) -> None:
    """The start-up done (no inbox here: every worker ends)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def searched(pilot: Pilot[None]) -> None:
    """The command palette's searches done and their results shown (only those: an
    inbox's workers may run for the app's life)."""
    searches = [w for w in pilot.app.workers if isinstance(w.node, CommandPalette)]
    if searches:
        await pilot.app.workers.wait_for_complete(searches)
    await pilot.pause()


async def choose_theme(pilot: Pilot[None], name: str) -> None:
    """As a person does: ctrl+p, the Theme command, the theme's name, enter."""
    await pilot.press("ctrl+p", *"theme")
    await searched(pilot)
    await pilot.press("enter")
    await searched(pilot)
    await pilot.press(*name)
    await searched(pilot)
    await pilot.press("enter")
    await pilot.pause()


async def theme_at_start(settings: Settings) -> tuple[str, list[str]]:
    """The theme a fresh start shows, and the warnings it notified."""
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        return app.theme, warnings(app)


def warnings(app: LemlistApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


def state(settings: Settings) -> dict[str, Any]:
    data = orjson.loads(settings.state_path.read_bytes())
    assert isinstance(data, dict)
    return data


async def test_a_theme_chosen_in_the_palette_is_used_at_the_next_start(tmp_path: Path) -> None:
    config = DemoConfig(size=20, now=FIXED, users=1)
    async with running(tmp_path, config=config) as (app, pilot, session):
        screen = inbox(app)
        assert app.theme == DEFAULT
        await choose_theme(pilot, "nord")
        assert app.theme == "nord"
        assert app.screen is screen  # the palette closed on the inbox
    settings = app_settings(tmp_path)
    written = state(settings)
    assert written["theme"] == {"name": "nord", "config": None}
    assert written["last_user"] == {session.fingerprint: screen.user_id}  # kept beside it
    assert settings.state_path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in settings.state_path.parent.iterdir()) == ["state.json"]

    async with running(tmp_path, config=config) as (app, _pilot, _session):
        assert app.theme == "nord"
        assert warnings(app) == []


async def test_the_start_theme_is_not_written_back(tmp_path: Path) -> None:
    settings = no_key_settings(tmp_path, theme="textual-light")
    assert await theme_at_start(settings) == ("textual-light", [])
    assert not settings.state_path.exists()  # restoring is not choosing


async def test_a_remembered_theme_that_no_longer_exists_is_ignored_silently(
    tmp_path: Path,
) -> None:
    settings = no_key_settings(tmp_path)
    remember_theme(settings.state_path, "removed-theme", None)
    assert await theme_at_start(settings) == (DEFAULT, [])
    # With a theme in config.toml, that one.
    remember_theme(settings.state_path, "removed-theme", "textual-light")
    lighter = no_key_settings(tmp_path, theme="textual-light")
    assert await theme_at_start(lighter) == ("textual-light", [])


async def test_config_toml_counts_again_once_its_theme_changes(tmp_path: Path) -> None:
    settings = no_key_settings(tmp_path, theme="textual-light")
    app = make_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await choose_theme(pilot, "nord")
        assert app.theme == "nord"
    # The file unchanged: the palette's choice was made later, and wins.
    assert (await theme_at_start(settings))[0] == "nord"
    # The file edited since: the person's latest word is the file's.
    edited = no_key_settings(tmp_path, theme="gruvbox")
    assert (await theme_at_start(edited))[0] == "gruvbox"
    assert (await theme_at_start(edited))[0] == "gruvbox"


async def test_an_unknown_config_theme_is_still_a_warning(tmp_path: Path) -> None:
    theme, said = await theme_at_start(no_key_settings(tmp_path, theme="no-such-theme"))
    assert theme == DEFAULT
    assert any("no-such-theme" in message for message in said)


def test_saved_theme_reads_only_what_it_wrote(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.json"
    assert saved_theme(path, None) is None
    remember_user(path, "acct", "usr_a")
    remember_theme(path, "nord", None)
    assert saved_theme(path, None) == "nord"
    assert saved_theme(path, "textual-light") is None  # chosen under another config
    assert orjson.loads(path.read_bytes())["last_user"] == {"acct": "usr_a"}
    for garbage in (b'{"theme": "nord"}', b'{"theme": {"name": 3}}', b"[1]", b"{nope"):
        path.write_bytes(garbage)
        assert saved_theme(path, None) is None
