"""``?``: every key of the inbox on one screen, as the config file's ``[keys]`` set them."""

from __future__ import annotations

import re
from typing import ClassVar, Protocol

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["KEYS", "HelpScreen", "KeyLabels", "key_label", "key_rows", "render_keys"]


class KeyLabels(Protocol):
    """The keys in force (``lemlist_tui.keymap.KeysInForce``)."""

    @property
    def remapped(self) -> frozenset[str]: ...

    def label(self, binding_id: str, *, sentence: bool = False) -> str: ...


KEYS: tuple[tuple[str, str], ...] = (
    ("{list.up:up} {list.down:down}  {list.down:j} {list.up:k}", "move through the conversations"),
    ("{list.first:g}  {list.last:G}", "first / last conversation"),
    ("{list.page_up} {list.page_down}", "a page up / down"),
    (
        "{list.open}",
        "read the conversation full screen ({reader.page_down}/{reader.page_up} page, "
        "{reader.next_unread} {reader.previous_unread} {reader.mark_read} {reader.undo} "
        "work there; {reader.close} back)",
    ),
    (
        "{inbox.switch_pane}",
        "switch between the list and the detail (↑ ↓ {detail.down:j} {detail.up:k} "
        "{detail.top:g} {detail.bottom:G} scroll it)",
    ),
    ("{inbox.toggle_unread}", "unread only (for the selected user), again for all"),
    (
        "{inbox.filter}",
        "filter: name or email (accents and case ignored), is:unread is:read "
        "is:awaiting label:NAME channel:NAME has:deal; enter back to the list",
    ),
    ("{inbox.clear}", "clear the selection, then the filter and the unread-only view"),
    ("{inbox.cycle_sort}", "sort by last activity → last reply → created"),
    ("{inbox.refresh}", "refresh: fetch what changed since the last sync"),
    ("{inbox.load_all}", "sync every page again now (deletions too; with a progress bar)"),
    (
        "{inbox.next_unread}  {inbox.previous_unread}",
        "next / previous unread conversation of the view (wraps)",
    ),
    ("{inbox.page_thread}", "the next page of the thread; at its end, the next unread"),
    (
        "{inbox.mark_read}",
        "mark read, then go to the next unread (sent to lemlist by the outbox)",
    ),
    ("{inbox.undo}", "undo the last change not yet sent (a sent label: its removal is sent)"),
    (
        "{inbox.labels}",
        "labels: type to filter, {labels.toggle} toggles, {labels.apply} applies, a new "
        "name creates one",
    ),
    (
        "{inbox.interested}  {inbox.not_interested}",
        "the lead is interested / not interested (all its campaigns)",
    ),
    (
        "{inbox.reply}",
        "reply: your $EDITOR (or one here), then a review: {review.draft} lemlist draft, "
        "{review.send} send, {review.edit} edit, {review.channel} channel; the text is kept "
        "until it goes",
    ),
    (
        "{inbox.drafts}",
        "this conversation's lemlist drafts: {drafts.open} opens one ({review.draft} "
        "updates it, {review.send} sends it), {drafts.delete:x} deletes",
    ),
    (
        "{inbox.select}  {inbox.select_view}",
        "select the conversation / the whole view; {inbox.mark_read} {inbox.labels} "
        "{inbox.interested} {inbox.not_interested} then act on all of it",
    ),
    ("{inbox.toggle_awaiting}", "only conversations awaiting an answer (the contact wrote last)"),
    ("{inbox.toggle_team}", "the team view: every teammate's inbox merged, or this user's again"),
    ("{inbox.copy_email}", "copy the contact's email to the clipboard"),
    ("{app.switch_user}", "switch user"),
    ("ctrl+p", "command palette (every action, and the theme)"),
    ("{app.help}", "this help"),
    ("{app.quit}", "quit"),
)
"""Keys and what they do; ``{id}`` is a binding's keys in force, ``{id:key}`` one of its
default keys (all its keys in force, once, when ``[keys]`` gave it others)."""

_LABELS = {
    "up": "↑",
    "down": "↓",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "enter": "enter",
    "delete": "delete",
}
_PLACE = re.compile(r"\{([a-z_]+\.[a-z_]+)(?::([^}]+))?\}")
_GONE = "\x00"


def key_label(key: str) -> str:
    """One key as a person reads it: ``↑``, ``?``, ``PgDn``, ``ctrl+n``."""
    return _LABELS.get(key) or format_key(key)


def render_keys(template: str, keys: KeyLabels, *, sentence: bool = False) -> str:
    """``template`` with the keys in force in its places (see :data:`KEYS`); in a
    ``sentence`` an action's several keys read as a list ("esc, q or ?")."""
    said: set[str] = set()

    def place(match: re.Match[str]) -> str:
        binding_id, default = match.group(1), match.group(2)
        if default is not None and binding_id not in keys.remapped:
            return key_label(default)
        if binding_id in said:
            return _GONE
        said.add(binding_id)
        return keys.label(binding_id, sentence=sentence)

    text = _PLACE.sub(place, template)
    return text.replace(f" {_GONE}", "").replace(f"{_GONE} ", "").replace(_GONE, "")


def key_rows(keys: KeyLabels) -> tuple[tuple[str, str], ...]:
    """:data:`KEYS` as shown: keys in the first column, sentences in the second."""
    return tuple(
        (render_keys(shown, keys), render_keys(what, keys, sentence=True)) for shown, what in KEYS
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

    def __init__(self, keys: KeyLabels) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys"), id="help-title")
            yield Static(_table(key_rows(self.keys)), id="help-keys")
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
            closes = render_keys("{help.close} closes this help.", self.keys, sentence=True)
            yield Static(Text(closes), id="help-close")


def _table(rows: tuple[tuple[str, str], ...]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table
