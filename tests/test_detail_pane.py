"""The detail pane repaints what changed, and only that: no layout of the screen, the
lines that differ up to their last different cell, the same size whatever it shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from test_app_widgets import CONVERSATION, NOW, TEAM, THREAD
from textual.app import App, ComposeResult
from textual.geometry import Region

from lemlist_tui.api.models import Contact, Pagination, ThreadMessage, ThreadPage
from lemlist_tui.widgets import DetailPane

ANN = dataclasses.replace(
    CONVERSATION,
    id="ibx_ann",
    contact=Contact("ctc_ann", full_name="Ann Example", email="ann@example.com"),
)
BOB = dataclasses.replace(
    ANN,
    id="ibx_bob",
    contact=Contact("ctc_bob", full_name="Ann Example", email="bob@example.com"),
)
"""Ann's conversation but for the contact id and the email."""

LONG = ThreadPage(
    messages=tuple(
        ThreadMessage(
            id=f"act_{n}",
            type="emailsSent",
            created_at=NOW - timedelta(days=n),
            subject=f"Message {n}",
            html="<p>" + "Some words to wrap over a few lines of the pane. " * 4 + "</p>",
            sender_name="Ann",
        )
        for n in range(12)
    ),
    pagination=Pagination(12, 1, None, None, 100, 1),
)


class Harness(App[None]):
    CSS = "DetailPane { height: 1fr; padding: 0 1; border-left: vkey $foreground 20%; }"

    def compose(self) -> ComposeResult:
        yield DetailPane(TEAM, "usr_a", clock=lambda: NOW, id="detail")


@contextmanager
def refreshes(detail: DetailPane) -> Iterator[list[tuple[tuple[Region, ...], dict[str, Any]]]]:
    """Every ``refresh`` call on the pane while inside: (regions, keyword arguments)."""
    calls: list[tuple[tuple[Region, ...], dict[str, Any]]] = []
    original = detail.refresh

    def spy(*regions: Region, **kwargs: Any) -> DetailPane:
        calls.append((regions, kwargs))
        return original(*regions, **kwargs)

    detail.refresh = spy  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        del detail.refresh


def _row(detail: DetailPane, text: str) -> int:
    """The row of the pane's first line that contains ``text``."""
    return next(y for y, line in enumerate(detail.lines) if text in line.text)


async def test_another_conversation_repaints_only_the_lines_that_differ() -> None:
    async with Harness().run_test(size=(80, 30)) as pilot:
        detail = pilot.app.query_one(DetailPane)
        detail.show(ANN, THREAD)
        await pilot.pause()
        region, lines = detail.region, len(detail.lines)
        with refreshes(detail) as calls:
            detail.show(BOB, THREAD)
            await pilot.pause()
        assert all(not kwargs.get("layout") for _, kwargs in calls)
        regions = [region for regions, _ in calls for region in regions]
        assert regions, "nothing repainted"
        assert all(r.height == 1 and r.x == 0 for r in regions)
        email, contact = _row(detail, "bob@example.com"), _row(detail, "ctc_bob")
        assert {r.y for r in regions} == {email, contact}
        # Up to the last cell that differs, not the whole line.
        width = detail.scrollable_content_region.width
        assert all(r.width < width for r in regions)
        assert detail.region == region and len(detail.lines) == lines


async def test_its_size_stays_whatever_it_shows() -> None:
    async with Harness().run_test(size=(80, 30)) as pilot:
        detail = pilot.app.query_one(DetailPane)
        detail.show(ANN, THREAD)
        await pilot.pause()
        region, short = detail.region, detail.virtual_size.height
        detail.show(BOB, LONG)  # overflows: a scrollbar appears (a layout), the text narrows
        await pilot.pause()
        assert detail.region == region
        assert detail.virtual_size.height == len(detail.lines) > short
        assert detail.max_scroll_y > 0 and detail.show_vertical_scrollbar
        assert max(line.cell_length for line in detail.lines) <= (
            detail.scrollable_content_region.width
        )
        # Back to a short one: no scrollbar, the full width again.
        detail.show(ANN, THREAD)
        await pilot.pause()
        assert not detail.show_vertical_scrollbar and detail.max_scroll_y == 0
        assert detail.region == region
        await pilot.press("tab")  # focused: tinted, every line drawn again
        with refreshes(detail) as calls:
            detail.show(BOB, THREAD)
            await pilot.pause()
        assert calls and all(not kwargs.get("layout") for _, kwargs in calls)
        assert detail.region == region


async def test_a_late_error_repaints_only_what_differs_from_the_screen() -> None:
    """show() then show_thread_error() in one go (the inbox does that offline): the
    thread's error lines, the same as on screen, are not repainted."""
    async with Harness().run_test(size=(80, 30)) as pilot:
        detail = pilot.app.query_one(DetailPane)
        detail.show(ANN)
        detail.show_thread_error(ANN.id, "Cannot reach lemlist: offline.")
        await pilot.pause()
        error = _row(detail, "Could not load the thread")
        with refreshes(detail) as calls:
            detail.show(BOB)  # "Loading thread…" for a moment, never on screen
            detail.show_thread_error(BOB.id, "Cannot reach lemlist: offline.")
            await pilot.pause()
        rows = {r.y for regions, _ in calls for r in regions}
        assert rows and error not in rows
        assert "Could not load the thread" in detail.plain


async def test_scrolling_keys_and_a_new_conversation_from_the_top() -> None:
    async with Harness().run_test(size=(60, 16)) as pilot:
        detail = pilot.app.query_one(DetailPane)
        detail.show(ANN, LONG)
        await pilot.pause()
        await pilot.press("tab", "j", "j")
        assert detail.scroll_y == 2
        await pilot.press("G")
        assert detail.scroll_y == detail.max_scroll_y > 2
        await pilot.press("g")
        assert detail.scroll_y == 0
        detail.scroll_page_down(animate=False)
        assert detail.scroll_y > 0
        detail.show(BOB, LONG)
        assert detail.scroll_y == 0


async def test_a_theme_or_a_width_draws_every_line_again() -> None:
    async with Harness().run_test(size=(80, 30)) as pilot:
        app = pilot.app
        detail = app.query_one(DetailPane)
        detail.show(ANN, THREAD)
        await pilot.pause()
        before = list(detail.lines)
        app.theme = "textual-light"
        await pilot.pause()
        assert [line.text for line in detail.lines] == [line.text for line in before]
        assert detail.lines != before  # the same text, other colours
        await pilot.resize_terminal(40, 30)
        await pilot.pause()
        width = detail.scrollable_content_region.width
        assert max(line.cell_length for line in detail.lines) <= width < 70
        assert len(detail.lines) > len(before)  # wrapped anew
        assert detail.virtual_size.height == len(detail.lines)
