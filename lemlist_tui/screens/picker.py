"""Whose inbox to open: the team's users, filtered as you type."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from lemlist_tui.api.models import TeamUser
from lemlist_tui.messages import UserChosen
from lemlist_tui.text import clean_line, literal

__all__ = ["PickerScreen"]


def _matches(user: TeamUser, terms: Sequence[str]) -> bool:
    haystack = f"{user.name or ''}\n{user.email or ''}\n{user.role or ''}\n{user.id}".casefold()
    return all(term in haystack for term in terms)


class PickerScreen(Screen[None]):
    """Lists the team's users; ``enter`` posts :class:`UserChosen` for the highlighted one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
        Binding("enter", "pick", "Open inbox"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(
        self,
        users: Sequence[TeamUser],
        *,
        team_name: str | None = None,
        current: str | None = None,
        can_cancel: bool = False,
        note: str | None = None,
    ) -> None:
        super().__init__()
        self.users = tuple(users)
        self.team_name = team_name
        self.current = current
        self.can_cancel = can_cancel
        self.note = note
        self.shown: tuple[TeamUser, ...] = self.users

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            title = "Whose inbox?"
            if self.team_name:
                title = f"Whose inbox? · {clean_line(self.team_name)}"
            yield Static(Text(title), id="picker-title")
            if self.note:
                yield Static(Text(clean_line(self.note)), id="picker-note")
            yield Input(placeholder="Type to filter by name, email or role", id="picker-filter")
            yield OptionList(id="picker-users")
            yield Static(id="picker-count")
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#picker-filter", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.can_cancel
        return True

    # --- filtering -------------------------------------------------------------------

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str = "") -> None:
        terms = query.casefold().split()
        self.shown = tuple(u for u in self.users if _matches(u, terms))
        options = self.query_one("#picker-users", OptionList)
        options.set_options(Option(self._prompt(u), id=u.id) for u in self.shown)
        highlight = 0
        for index, user in enumerate(self.shown):
            if user.id == self.current and not terms:
                highlight = index
        options.highlighted = highlight if self.shown else None
        count = self.query_one("#picker-count", Static)
        if not self.shown:
            count.update("No user matches.")
        else:
            back = ", esc goes back" if self.can_cancel else ""
            count.update(
                f"{len(self.shown)} of {len(self.users)} users · ↑ ↓ choose, enter opens{back}"
            )

    def _prompt(self, user: TeamUser) -> Text:
        line = literal(user.display_name, 40, "bold")
        if user.email and user.email != user.display_name:
            line.append("  ")
            line.append_text(literal(user.email, 48))
        if user.role:
            line.append("  ")
            line.append_text(literal(user.role, 20, "italic"))
        if user.id == self.current:
            line.append("  (open now)", "italic")
        return line

    # --- choosing --------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        options = self.query_one("#picker-users", OptionList)
        if not self.shown:
            return
        current = options.highlighted if options.highlighted is not None else 0
        options.highlighted = max(0, min(len(self.shown) - 1, current + delta))

    def action_pick(self) -> None:
        options = self.query_one("#picker-users", OptionList)
        if options.highlighted is None or not self.shown:
            self.notify("No user matches that filter.", severity="warning")
            return
        self.post_message(UserChosen(self.shown[options.highlighted].id))

    @on(Input.Submitted, "#picker-filter")
    def _filter_submitted(self) -> None:
        self.action_pick()

    @on(OptionList.OptionSelected, "#picker-users")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(UserChosen(event.option_id))

    def action_back(self) -> None:
        if self.can_cancel:
            self.dismiss()
