"""Whose inbox to open: the team's users, filtered as you type, with what each one's
local inbox holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from lemlist_tui.api.models import TeamUser
from lemlist_tui.messages import UserChosen
from lemlist_tui.screens.help import KeyLabels
from lemlist_tui.text import clean_line, literal
from lemlist_tui.widgets.footer import KeyFooter

__all__ = ["HeldCounts", "PickerScreen"]


@dataclass(frozen=True, slots=True)
class HeldCounts:
    """One user's inbox as the local database holds it."""

    held: int
    unread: int
    whole: bool
    """Every page is held (else the counts cover part of the inbox, and say so)."""

    def text(self) -> Text:
        line = Text(f"{self.unread:,} unread", "bold" if self.unread else "")
        line.append(f" of {self.held:,}" + ("" if self.whole else " held"))
        return line


class _FilterField(Input):
    """The filter field. Textual ignores every binding of a key the focused field could
    type; while the filter is empty, ``q`` is not such a key, so the picker's q leaves."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if key == "q" and not self.value:
            return False
        return super().check_consume_key(key, character)


def _matches(user: TeamUser, terms: Sequence[str]) -> bool:
    haystack = f"{user.name or ''}\n{user.email or ''}\n{user.role or ''}\n{user.id}".casefold()
    return all(term in haystack for term in terms)


class PickerScreen(Screen[None]):
    """Lists the team's users; ``enter`` posts :class:`UserChosen` for the highlighted one.

    ``esc`` or ``q`` leaves: back to the inbox it was opened from (``can_cancel``), else
    out of the app. While the filter holds text, ``esc`` clears it first and ``q`` is a
    letter of the filter.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "move(1)", "Down", show=False, id="picker.down"),
        Binding("up", "move(-1)", "Up", show=False, id="picker.up"),
        Binding("pagedown", "move(10)", show=False, id="picker.page_down"),
        Binding("pageup", "move(-10)", show=False, id="picker.page_up"),
        # Priority: ahead of the focused filter's own enter, and of its typing q. The
        # footer shows one key per action (esc); the hint line names q too.
        Binding("enter", "pick", "Open inbox", priority=True, id="picker.open"),
        Binding("escape", "clear_filter", "Clear filter", id="picker.clear_filter"),
        Binding("escape", "back", "Back", id="picker.back"),
        Binding("escape", "quit", "Quit", id="picker.quit"),
        Binding("q", "back", "Back", show=False, priority=True, id="picker.back_q"),
        Binding("q", "quit", "Quit", show=False, priority=True, id="picker.quit_q"),
    ]

    def __init__(
        self,
        users: Sequence[TeamUser],
        *,
        team_name: str | None = None,
        current: str | None = None,
        can_cancel: bool = False,
        note: str | None = None,
        counts: Mapping[str, HeldCounts] | None = None,
    ) -> None:
        super().__init__()
        self.users = tuple(users)
        self.team_name = team_name
        self.current = current
        self.can_cancel = can_cancel
        self.note = note
        self.counts: Mapping[str, HeldCounts] = counts or {}
        """By user id; a user never synced has none (nothing is shown, not 0)."""
        self.shown: tuple[TeamUser, ...] = self.users
        self.query_text = ""
        """What the filter holds (spaces included: q is a letter of it then)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            title = "Whose inbox?"
            if self.team_name:
                title = f"Whose inbox? · {clean_line(self.team_name)}"
            yield Static(Text(title), id="picker-title")
            if self.note:
                yield Static(Text(clean_line(self.note)), id="picker-note")
            yield _FilterField(
                placeholder="Type to filter by name, email or role", id="picker-filter"
            )
            yield OptionList(id="picker-users")
            yield Static(id="picker-count")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#picker-filter", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.query_text)
        if action in ("back", "quit"):
            if (action == "back") != self.can_cancel:
                return False  # one way out: back to the inbox, or out of the app
            # Not while filtering: q is a letter then, and esc clears the filter first.
            return None if self.query_text else True
        return True

    # --- filtering -------------------------------------------------------------------

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def _fill(self, query: str = "") -> None:
        self.query_text = query
        terms = query.casefold().split()
        self.shown = tuple(u for u in self.users if _matches(u, terms))
        options = self.query_one("#picker-users", OptionList)
        options.set_options(Option(self._prompt(u), id=u.id) for u in self.shown)
        highlight = 0
        for index, user in enumerate(self.shown):
            if user.id == self.current and not terms:
                highlight = index
        options.highlighted = highlight if self.shown else None
        self.query_one("#picker-count", Static).update(self._hint(filtering=bool(query)))
        self.refresh_bindings()  # esc and q change meaning with the filter

    def _hint(self, *, filtering: bool) -> str:
        if filtering:
            leave = f"{self._keys('picker.clear_filter', said='esc')} clears the filter"
        elif self.can_cancel:
            leave = f"{self._keys('picker.back', 'picker.back_q', said='esc or q')} goes back"
        else:
            leave = f"{self._keys('picker.quit', 'picker.quit_q', said='esc or q')} quits"
        if not self.shown:
            return f"No user matches · {leave}"
        users = f"{len(self.shown)} of {len(self.users)} users"
        if not filtering:
            users = f"{len(self.users)} users · type to filter"
        choose = self._keys("picker.up", "picker.down", said="↑ ↓", joined=" ")
        opens = self._keys("picker.open", said="enter")
        return f"{users} · {choose} choose, {opens} opens, {leave}"

    def _keys(self, *binding_ids: str, said: str, joined: str | None = None) -> str:
        """The keys in force for ``binding_ids`` as the hint names them (``said`` when
        the config's ``[keys]`` left them as they are): ``esc or q``, or ``joined``."""
        keys: KeyLabels | None = getattr(self.app, "keys_in_force", None)
        if keys is None or not keys.remapped.intersection(binding_ids):
            return said
        labels = list(dict.fromkeys(k for b in binding_ids for k in keys.label(b).split(" ")))
        if joined is not None or len(labels) == 1:
            return (joined or " ").join(labels)
        return f"{', '.join(labels[:-1])} or {labels[-1]}"

    def _prompt(self, user: TeamUser) -> RenderableType:
        line = literal(user.display_name, 40, "bold")
        if user.email and user.email != user.display_name:
            line.append("  ")
            line.append_text(literal(user.email, 48))
        if user.role:
            line.append("  ")
            line.append_text(literal(user.role, 20, "italic"))
        if user.id == self.current:
            line.append("  (open now)", "italic")
        counts = self.counts.get(user.id)
        if counts is None:
            return line
        # The counts at the right edge, where they line up from user to user; the rest
        # is cut short rather than wrapped.
        row = Table.grid(expand=True, padding=(0, 0, 0, 2))
        row.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        row.add_column(no_wrap=True, justify="right")
        row.add_row(line, counts.text())
        return row

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

    @on(OptionList.OptionSelected, "#picker-users")
    def _option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_id is not None:
            self.post_message(UserChosen(event.option_id))

    def action_clear_filter(self) -> None:
        self.query_one("#picker-filter", Input).value = ""

    def action_back(self) -> None:
        self.dismiss()

    async def action_quit(self) -> None:
        await self.app.action_quit()
