"""One question before a bulk change: what will happen, and what it costs."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Static

from lemlist_tui.screens.dialog import Dialog

__all__ = ["ConfirmScreen"]


class ConfirmScreen(Dialog[bool]):
    """``enter`` goes on (True), ``esc`` (or ``n``, ``q``) does not (False)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "answer(True)", "Go on", id="confirm.yes"),
        Binding("escape,n,q", "answer(False)", "Cancel", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen > Vertical { width: 64; border: round $warning; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="question")
            yield Static("enter goes on · esc cancels", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
