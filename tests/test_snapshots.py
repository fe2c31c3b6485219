"""Snapshots of the main screens at 80x24 and 120x40, grouped by feature.

The demo is anchored at a fixed time, the app's clock is fixed and the time zone is UTC,
so every run draws the same screen. Update with ``pytest --snapshot-update`` and look at
the SVGs before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from support.apps import FIXED, app_settings, settle
from test_reply_flow import fake_editor
from textual.pilot import Pilot
from textual.widgets import Input

from lemlist_tui.api.ratelimit import SlidingWindowLimiter
from lemlist_tui.app import make_app
from lemlist_tui.config import Settings
from lemlist_tui.demo import DemoConfig, DemoLemlist

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]

Shoot = Callable[..., bool]


def demo_config(users: int = 3) -> DemoConfig:
    # A window of an hour: the budget left in the status line counts requests, not time.
    return DemoConfig(size=300, now=FIXED, users=users, rate_limit=1000, rate_window=3600.0)


@pytest.fixture
def shoot(
    tmp_path: Path, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Shoot]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    # The budget refills as real time passes: pinned full, so a shot does not depend on
    # how long ago the last request went out (tests/test_ratelimit.py checks the refill).
    monkeypatch.setattr(SlidingWindowLimiter, "budget", lambda self: (self.limit, 0.0))

    def compare(
        size: tuple[int, int],
        keys: Sequence[str] = (),
        *,
        pick_user: bool = True,
        settings: Settings | None = None,
        **changes: Any,
    ) -> bool:
        config = demo_config()
        if pick_user:
            changes["user_id"] = DemoLemlist(config).team_user_ids[0]
        app = make_app(
            settings or app_settings(tmp_path, **changes),
            demo_config=config,
            clock=lambda: FIXED,
        )

        async def run_before(pilot: Pilot[None]) -> None:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False  # a blinking cursor would make the shot flaky

        return snap_compare(app, terminal_size=size, run_before=run_before)

    yield compare
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.mark.parametrize("size", SIZES)
class TestPicker:
    def test_team_users(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, pick_user=False)

    def test_filtered(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["j", "o"], pick_user=False)


@pytest.mark.parametrize("size", SIZES)
class TestInbox:
    def test_first_page(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size)

    def test_unread_only(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["u"])

    def test_filter_by_name(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["slash", "m", "a", "r"])

    def test_light_theme(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, theme="textual-light")


@pytest.mark.parametrize("size", SIZES)
class TestDetail:
    def test_thread_focused(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["j", "j", "tab"])


@pytest.mark.parametrize("size", SIZES)
class TestTriage:
    def test_reader(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["j", "j", "enter"])

    def test_label_picker(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["l", "tab"])

    def test_bulk_preview(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["u", "V", "m"])

    def test_filter_language(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["slash", *"is:awaiting mar", "enter", "v"])


@pytest.mark.parametrize("size", SIZES)
class TestReply:
    def test_review(
        self, shoot: Shoot, size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", str(fake_editor(tmp_path / "editor")))
        assert shoot(size, ["R"])


@pytest.mark.parametrize("size", SIZES)
class TestTeam:
    def test_team_view(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["t", "n"])


@pytest.mark.parametrize("size", SIZES)
class TestHelp:
    def test_keys(self, shoot: Shoot, size: tuple[int, int]) -> None:
        assert shoot(size, ["question_mark"])


@pytest.mark.parametrize("size", SIZES)
class TestProblem:
    def test_no_key(self, shoot: Shoot, size: tuple[int, int], tmp_path: Path) -> None:
        settings = Settings(
            api_key=None,
            cache_dir=tmp_path / "cache",
            state_path=tmp_path / "state.json",
            config_path=Path("/home/you/.config/lemlist-tui/config.toml"),
        )
        assert shoot(size, pick_user=False, settings=settings)
