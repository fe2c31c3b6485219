"""The label picker (``l``): filter as you type, toggle several, create a new one.

Keys follow fzf's multi-select: type to filter, ``↑``/``↓`` move, ``tab`` toggles the
highlighted label and moves on, ``enter`` applies (with nothing toggled, it applies the
highlighted label alone: ``l hot enter``), ``esc`` leaves without a change. When the typed
name is no label's, the last line offers to create it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from lemlist_tui.api.models import Label
from lemlist_tui.db import fold
from lemlist_tui.screens.dialog import Dialog
from lemlist_tui.text import clean_line

__all__ = ["LabelChange", "LabelPicker"]

_CREATE = "\x00create"
"""The option id of the "create" line (no label id starts with a NUL)."""


@dataclass(frozen=True, slots=True)
class LabelChange:
    """What the picker asks for: label ids to attach and to remove, names to create (and
    then attach)."""

    attach: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    create: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.attach or self.remove or self.create)


class LabelPicker(Dialog[LabelChange | None]):
    """Choose labels for ``target`` (a sentence: "Ana Smith", "37 conversations")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="labels.cancel"),
        Binding("up", "move(-1)", "Up", show=False, priority=True, id="labels.up"),
        Binding("down", "move(1)", "Down", show=False, priority=True, id="labels.down"),
        Binding("tab", "toggle_label", "Toggle", priority=True, id="labels.toggle"),
        Binding("enter", "apply", "Apply", priority=True, id="labels.apply"),
    ]
    DEFAULT_CSS = """
    LabelPicker > Vertical { width: 60; max-height: 80%; }
    """

    def __init__(self, labels: Sequence[Label], on: frozenset[str], target: str) -> None:
        super().__init__()
        self.labels = sorted(labels, key=lambda label: fold(label.name or label.id))
        self.initial = on
        """Label ids already on the conversation(s)."""
        self.chosen = set(on)
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Labels of {clean_line(self.target, 40)}"), classes="title")
            yield Input(placeholder="Filter, or a new label's name", id="label-filter")
            yield OptionList(id="label-options")
            yield Static("tab toggles · enter applies · esc cancels", classes="hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    @property
    def options(self) -> OptionList:
        return self.query_one(OptionList)

    def _fill(self, typed: str) -> None:
        wanted = fold(typed.strip())
        options = self.options
        highlighted = options.highlighted
        keep = options.get_option_at_index(highlighted).id if highlighted is not None else None
        options.clear_options()
        exact = False
        for label in self.labels:
            name = label.name or label.id
            if wanted and wanted not in fold(name):
                continue
            exact |= fold(name) == wanted
            mark = "[x]" if label.id in self.chosen else "[ ]"
            options.add_option(Option(Text(f"{mark} {clean_line(name, 50)}"), id=label.id))
        if wanted and not exact:
            name = clean_line(typed.strip(), 40)
            options.add_option(Option(Text(f"[+] Create “{name}”"), id=_CREATE))
        if options.option_count:
            index = 0
            if keep is not None:
                try:
                    index = options.get_option_index(keep)
                except OptionDoesNotExist:  # filtered out
                    index = 0
            options.highlighted = index

    @on(Input.Changed, "#label-filter")
    def _typed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_move(self, step: int) -> None:
        options = self.options
        if not options.option_count:
            return
        current = options.highlighted or 0
        options.highlighted = max(0, min(options.option_count - 1, current + step))

    def _highlighted_id(self) -> str | None:
        options = self.options
        if options.highlighted is None:
            return None
        return options.get_option_at_index(options.highlighted).id

    def action_toggle_label(self) -> None:
        option = self._highlighted_id()
        if option is None:
            return
        if option == _CREATE:
            self._create()
            return
        self.chosen ^= {option}
        self._fill(self.query_one(Input).value)
        self.action_move(1)

    def _create(self) -> None:
        name = self.query_one(Input).value.strip()
        self.dismiss(self._change(create=(name,)))

    def action_apply(self) -> None:
        option = self._highlighted_id()
        if option == _CREATE:
            self._create()
            return
        if self.chosen == set(self.initial) and option is not None:
            self.chosen ^= {option}  # nothing toggled: enter means the highlighted one
        self.dismiss(self._change())

    def _change(self, create: tuple[str, ...] = ()) -> LabelChange:
        return LabelChange(
            attach=tuple(sorted(self.chosen - self.initial)),
            remove=tuple(sorted(self.initial - self.chosen)),
            create=create,
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
