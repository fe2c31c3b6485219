"""``?``: every key of the inbox on one screen."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KEYS", "HelpScreen"]

KEYS: tuple[tuple[str, str], ...] = (
    ("↑ ↓  j k", "move through the conversations"),
    ("g  G", "first / last conversation"),
    ("PgUp PgDn", "a page up / down"),
    (
        "enter",
        "read the conversation full screen (space/b page, n N m z work there; q or esc back)",
    ),
    ("tab", "switch between the list and the detail (↑ ↓ j k g G scroll it)"),
    ("u", "unread only (for the selected user), again for all"),
    (
        "/",
        "filter: name or email (accents and case ignored), is:unread is:read "
        "is:awaiting label:NAME channel:NAME has:deal; enter back to the list",
    ),
    ("esc", "clear the selection, then the filter and the unread-only view"),
    ("s", "sort by last activity → last reply → created"),
    ("r", "refresh: fetch what changed since the last sync"),
    ("a", "sync every page again now (deletions too; with a progress bar)"),
    ("n  N", "next / previous unread conversation of the view (wraps)"),
    ("space", "the next page of the thread; at its end, the next unread"),
    ("m", "mark read, then go to the next unread (sent to lemlist by the outbox)"),
    ("z", "undo the last change not yet sent (a sent label: its removal is sent)"),
    ("l", "labels: type to filter, tab toggles, enter applies, a new name creates one"),
    ("i  x", "the lead is interested / not interested (all its campaigns)"),
    (
        "R",
        "reply: your $EDITOR (or one here), then a review: d lemlist draft, S send, "
        "e edit, c channel; the text is kept until it goes",
    ),
    (
        "D",
        "this conversation's lemlist drafts: enter opens one (d updates it, S sends it), x deletes",
    ),
    ("v  V", "select the conversation / the whole view; m l i x then act on all of it"),
    ("w", "only conversations awaiting an answer (the contact wrote last)"),
    ("y", "copy the contact's email to the clipboard"),
    ("U", "switch user"),
    ("ctrl+p", "command palette (every action, and the theme)"),
    ("?", "this help"),
    ("q", "quit"),
)

LEGEND: tuple[tuple[str, str], ...] = (
    ("●", "unread for the selected user"),
    ("✓", "read"),
    ("+", "selected (v, V)"),
    ("#name", "a label"),
    ("↩", "the contact replied"),
    ("$2", "two opportunities"),
    ("→ / ←", "a message sent by the team / received from the contact"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys"), id="help-title")
            yield Static(_table(KEYS), id="help-keys")
            yield Static(Text("Marks"), classes="help-heading")
            yield Static(_table(LEGEND), id="help-legend")
            yield Static(
                Text(
                    "Viewing a conversation never marks it read; only m does. Changes go "
                    "out through the outbox at lemlist's rate limit; the status line says "
                    "what is waiting. --read-only changes nothing in lemlist."
                ),
                id="help-note",
            )
            yield Static(Text("esc, q or ? closes this help."), id="help-close")


def _table(rows: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table
