"""Every binding has an id (the keys issue remaps them by id), unique in the app."""

from __future__ import annotations

from textual.binding import Binding

from lemlist_tui.app import LemlistApp
from lemlist_tui.screens import HelpScreen, InboxScreen, PickerScreen, ProblemScreen, ReaderScreen
from lemlist_tui.screens.confirm import ConfirmScreen
from lemlist_tui.screens.labels import LabelPicker
from lemlist_tui.widgets.conversation_list import ConversationList
from lemlist_tui.widgets.detail import DetailPane

OWNERS = [
    LemlistApp,
    InboxScreen,
    ReaderScreen,
    PickerScreen,
    HelpScreen,
    ProblemScreen,
    ConfirmScreen,
    LabelPicker,
    ConversationList,
    DetailPane,
]


def test_every_binding_has_an_id_and_no_two_share_one() -> None:
    seen: dict[str, str] = {}
    for owner in OWNERS:
        for binding in owner.BINDINGS:
            assert isinstance(binding, Binding), f"{owner.__name__}: {binding!r} is not a Binding"
            assert binding.id, f"{owner.__name__}: {binding.key} → {binding.action} has no id"
            assert binding.id not in seen, (
                f"{binding.id} in {owner.__name__} and {seen[binding.id]}"
            )
            seen[binding.id] = owner.__name__
