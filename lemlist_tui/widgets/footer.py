"""The keys in force, on one line at the bottom of a screen, drawn by one widget.

Textual's ``Footer`` composes a widget per key and composes them all again each time the
bindings change (a screen shown, the focus moved): at start that was 160 widgets styled
one by one, 50 ms before the first row of the inbox. This footer draws the same line
(each key, then what it does; the command palette's key on the right) from
``screen.active_bindings`` and only repaints when they change. A click on a key presses
it, as in Textual's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

__all__ = ["KeyFooter", "ShownKey"]


@dataclass(frozen=True, slots=True)
class ShownKey:
    """One key as the footer shows it."""

    key: str
    """The key as Textual names it (what a click presses)."""
    display: str
    """The key as shown (``q``, ``^p``, a remapped key)."""
    description: str
    action: str
    enabled: bool


class KeyFooter(Widget, can_focus=False):
    """The screen's keys in force that are marked ``show``, one per action."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-footer--key",
        "key-footer--description",
        "key-footer--palette",
    }
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-footer--palette {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._hits: list[tuple[int, int, ShownKey]] = []
        """Where each key is drawn: (first cell, cell after the last, key)."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        self.refresh()

    def keys(self) -> tuple[list[ShownKey], ShownKey | None]:
        """The keys shown from the left, and the command palette's (on the right)."""
        app = self.app
        active = self.screen.active_bindings
        shown: list[ShownKey] = []
        actions: set[str] = set()
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in actions:
                continue  # one key per action, the first in force (as Textual's footer)
            actions.add(binding.action)
            display = app.get_key_display(binding)
            shown.append(
                ShownKey(binding.key, display, binding.description, binding.action, enabled)
            )
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = ShownKey(
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
            )
            shown = [key for key in shown if key.action != binding.action]
        return shown, palette

    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        shown, palette = self.keys()
        hits: list[tuple[int, int, ShownKey]] = []
        right = Text()
        if palette is not None:
            # As Textual's footer draws it: ``▏^p palette``, compact, against the edge.
            dim = Style(dim=True) if not palette.enabled else Style()
            right.append("▏", self.get_component_rich_style("key-footer--palette"))
            right.append(palette.display, key_style + dim)
            right.append(f" {palette.description} ", description_style + dim)
        room = max(0, width - right.cell_len)
        line = Text(no_wrap=True, overflow="crop", end="")
        for key in shown:
            text = self._key_text(key, key_style, description_style)
            start = line.cell_len
            if start + text.cell_len > room:
                break  # cut at a key, never in its middle
            line.append_text(text)
            hits.append((start, line.cell_len, key))
        if palette is not None and room < width:
            line.append(" " * (room - line.cell_len))
            hits.append((room + 1, width, palette))
            line.append_text(right)
        self._hits = hits
        return line

    @staticmethod
    def _key_text(key: ShownKey, key_style: Style, description_style: Style) -> Text:
        """`` q Quit ``: the key padded, then its description (dim when disabled)."""
        dim = Style(dim=True) if not key.enabled else Style()
        text = Text()
        text.append(f" {key.display} ", key_style + dim)
        if key.description:
            text.append(f"{key.description} ", description_style + dim)
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._hits:
            if start <= event.x < end:
                event.stop()
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
