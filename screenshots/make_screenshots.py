"""Draw the README's screenshots from the built-in demo: ``python screenshots/make_screenshots.py``.

The demo is anchored at a fixed time, the app's clock is fixed and the time zone is UTC, so
the SVGs only change when the app's look does. The app is built by ``make_app``, the same
factory ``lemlist-tui --demo`` uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from textual.pilot import Pilot  # noqa: E402
from textual.screen import ModalScreen  # noqa: E402
from textual.widgets import Input  # noqa: E402
from textual.worker import WorkerCancelled, WorkerFailed  # noqa: E402

from lemlist_tui.app import make_app  # noqa: E402
from lemlist_tui.config import Settings  # noqa: E402
from lemlist_tui.demo import DemoConfig, DemoLemlist  # noqa: E402

FIXED = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
SIZE = (120, 36)

SHOTS: tuple[tuple[str, str, bool, Sequence[str]], ...] = (
    ("picker", "lemlist-tui --demo: whose inbox?", False, ()),
    ("inbox", "lemlist-tui --demo: the inbox", True, ()),
    ("detail", "lemlist-tui --demo: a conversation and its thread", True, ("j", "j", "tab")),
    ("unread", "lemlist-tui --demo: unread only", True, ("u",)),
    ("reader", "lemlist-tui --demo: the reader (enter)", True, ("n", "enter")),
    ("labels", "lemlist-tui --demo: labels (l)", True, ("l", "tab", "tab")),
    ("bulk", "lemlist-tui --demo: a bulk change, previewed (u V m)", True, ("u", "V", "m")),
    (
        "query",
        "lemlist-tui --demo: is:awaiting, a free-text term marked",
        True,
        ("slash", *"is:awaiting ma", "enter"),
    ),
    ("reply", "lemlist-tui --demo: a reply, reviewed before it goes (R)", True, ("R",)),
    ("help", "lemlist-tui --demo: keys", True, ("question_mark",)),
)

REPLY = "Thanks João, Thursday at 3pm CET is in my calendar: the invite is on its way.\n\nCamille"
EDITOR = """\
#!{python}
import sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\\n")
lines[2] = {text!r}
open(path, "w", encoding="utf-8").write("\\n".join(lines))
"""


def fake_editor(folder: Path) -> Path:
    """An ``EDITOR`` that writes :data:`REPLY` where a person would start typing."""
    script = folder / "editor"
    script.write_text(EDITOR.format(python=sys.executable, text=REPLY), encoding="utf-8")
    script.chmod(0o700)
    return script


async def settle(pilot: Pilot[None]) -> None:
    app = pilot.app
    for _ in range(100):
        # Every worker but the outbox's sender, which runs as long as the app, and the
        # reply's, which waits for the user on the screen it put up.
        waiting = isinstance(app.screen, ModalScreen)
        finite = [
            w for w in app.workers
            if w.group != "outbox" and not (waiting and w.group == "reply")
        ]  # fmt: skip
        if finite:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await app.workers.wait_for_complete(finite)
        await pilot.pause()
        if all(worker.is_finished for worker in finite):
            return


async def shoot(name: str, title: str, pick_user: bool, keys: Sequence[str], out: Path) -> Path:
    config = DemoConfig(size=2345, now=FIXED)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        settings = Settings(
            demo=True,
            cache_dir=tmp / "cache",
            state_path=tmp / "state.json",
            config_path=tmp / "config.toml",
            user_id=DemoLemlist(config).team_user_ids[0] if pick_user else None,
        )
        app = make_app(settings, demo_config=config, clock=lambda: FIXED)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
            for field in app.screen.query(Input):
                field.cursor_blink = False
            await pilot.pause()
            svg = app.export_screenshot(title=title)
    path = out / f"{name}.svg"
    path.write_text(svg, encoding="utf-8")
    return path


async def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ.pop("VISUAL", None)
    folder = tempfile.TemporaryDirectory()
    os.environ["EDITOR"] = str(fake_editor(Path(folder.name)))
    for name, title, pick_user, keys in SHOTS:
        path = await shoot(name, title, pick_user, keys, HERE)
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    asyncio.run(main())
