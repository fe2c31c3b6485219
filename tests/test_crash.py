"""An unexpected failure in the app: one sentence, a report without the key, exit 1."""

from __future__ import annotations

import base64
import re
import stat
from pathlib import Path

import pytest
from support.apps import FIXED, app_settings

from lemlist_tui import crash
from lemlist_tui.app import make_app
from lemlist_tui.crash import crash_sentence, write_report
from lemlist_tui.demo import DemoConfig
from lemlist_tui.screens import InboxScreen
from lemlist_tui.session import open_session

KEY = "sekrit-K3Y-0123456789"


def test_the_report_holds_the_traceback_without_the_key_in_any_form(tmp_path: Path) -> None:
    basic = base64.b64encode(f":{KEY}".encode()).decode()

    def fail(api_key: str) -> None:
        raise RuntimeError(f"refused {api_key} (Authorization: Basic {basic})")

    try:
        fail(KEY)
    except RuntimeError as error:
        report = write_report(error, tmp_path / "crashes", (KEY,))
        sentence = crash_sentence(error, report)
    assert report is not None and report.parent == tmp_path / "crashes"
    text = report.read_text()
    assert "RuntimeError" in text and "in fail" in text  # the traceback is there
    assert KEY not in text and basic not in text and basic.rstrip("=") not in text
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert sentence.endswith(str(report)) and "\n" not in sentence and KEY not in sentence


def test_no_report_is_still_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    error = ValueError("x")
    assert write_report(error, blocker / "crashes") is None  # a file where the folder goes
    assert crash_sentence(error, None).endswith("no report could be written.")


async def test_a_failure_inside_the_app_is_a_sentence_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(self: InboxScreen) -> None:
        api_key = self.session.settings.api_key  # a local the crash screen would print
        raise RuntimeError(f"unexpected, with the key {api_key} in a local")

    monkeypatch.setattr(InboxScreen, "action_toggle_unread", broken)
    settings = app_settings(tmp_path, api_key=KEY)  # the demo, with a key to keep secret
    session = open_session(settings, demo_config=DemoConfig(size=30, now=FIXED, users=1))
    app = make_app(settings, session=session, clock=lambda: FIXED)

    async def drive() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert isinstance(app.screen, InboxScreen)
            await pilot.press("u")
            await pilot.pause()

    try:
        with pytest.raises(RuntimeError):  # run_test hands the app's failure to the test
            await drive()
    finally:
        await session.aclose()
    assert app.return_code == 1
    printed = capfd.readouterr()
    assert KEY not in printed.out + printed.err
    assert "Traceback" not in printed.out + printed.err  # Textual's screen, with locals: not shown
    message = app.crash_message
    assert message is not None and "\n" not in message and KEY not in message
    assert message.startswith("lemlist-tui stopped on an unexpected error (RuntimeError)")
    (report,) = (tmp_path / "state" / "crashes").iterdir()
    assert message.endswith(str(report))
    text = report.read_text()
    assert "RuntimeError" in text and KEY not in text


# --- The report itself (issue 16: mutation survivors) --------------------------------------


def _raised(message: str) -> RuntimeError:
    try:
        raise RuntimeError(message)
    except RuntimeError as error:
        return error


def test_the_report_says_where_the_key_was_and_is_named_by_its_time(tmp_path: Path) -> None:
    folder = tmp_path / "state" / "crashes"  # neither exists yet
    report = write_report(_raised(f"refused {KEY} twice: {KEY}"), folder, (KEY,))
    assert report is not None and report.parent == folder
    assert re.fullmatch(r"crash-\d{8}-\d{6}-[^/]+\.txt", report.name)
    text = report.read_text(encoding="utf-8")
    assert text.startswith("Traceback (most recent call last):\n  File ")
    assert text.endswith("RuntimeError: refused ••• twice: •••\n")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_second_report_goes_beside_the_first(tmp_path: Path) -> None:
    first = write_report(_raised("one"), tmp_path / "crashes")
    second = write_report(_raised("two"), tmp_path / "crashes")
    assert first is not None and second is not None and first != second
    assert sorted(p.name for p in (tmp_path / "crashes").iterdir()) == sorted(
        [first.name, second.name]
    )


def test_a_message_that_cannot_be_encoded_is_still_reported(tmp_path: Path) -> None:
    report = write_report(_raised("half a pair: \ud800 here"), tmp_path / "crashes")
    assert report is not None
    assert "RuntimeError: half a pair: ? here" in report.read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crash.os, "fdopen", full_disk)
    assert write_report(_raised("x"), tmp_path / "crashes") is None
    monkeypatch.undo()
    assert list((tmp_path / "crashes").iterdir()) == []
