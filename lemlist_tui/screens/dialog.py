"""The look every modal box shares: centred, bordered, a muted hint line."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

__all__ = ["Dialog"]

_R = TypeVar("_R")


class Dialog(ModalScreen[_R]):
    """A box in the middle of the screen: one ``Vertical`` (80 wide unless a subclass
    says otherwise), its ``.hint`` line muted, an ``OptionList`` in it without a frame."""

    DEFAULT_CSS = """
    Dialog {
        align: center middle;
        & > Vertical {
            width: 80;
            max-width: 100%;
            height: auto;
            max-height: 100%;
            border: round $accent;
            background: $surface;
            padding: 0 1;
        }
        & OptionList { height: auto; max-height: 14; border: none; }
        & .hint { color: $text-muted; }
    }
    """
