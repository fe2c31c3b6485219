"""``[keys]``: the config file's keys for the app's actions, checked, then applied by id.

Every binding has an id (``inbox.mark_read``). A ``[keys]`` line names one, or only its
last part for every screen that has it (``mark_read``: the inbox's and the reader's).
What cannot be used — an unknown action, a name Textual has no key for, a key another
action of the same screen already has — is one sentence naming the line, shown at start;
that line is left out and the app starts with the rest (a typo in the keys should not
lock anyone out of their inbox).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, key_to_character

from lemlist_tui.config import KeyChoice
from lemlist_tui.screens.confirm import ConfirmScreen
from lemlist_tui.screens.help import HelpScreen, key_label
from lemlist_tui.screens.inbox import InboxScreen
from lemlist_tui.screens.labels import LabelPicker
from lemlist_tui.screens.picker import PickerScreen
from lemlist_tui.screens.problem import ProblemScreen
from lemlist_tui.screens.reader import ReaderScreen
from lemlist_tui.screens.reply import ComposeScreen, DraftPicker, ReviewScreen
from lemlist_tui.widgets.conversation_list import ConversationList
from lemlist_tui.widgets.detail import DetailPane

__all__ = ["KeyChoice", "KeysInForce", "Scope", "app_scopes", "key_label", "resolve_keys"]

RESERVED = {"ctrl+q": "quit", "ctrl+p": "the command palette"}
"""Textual's own priority keys: an action given one would never run."""
_MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
_NAMED = frozenset(key.value.rsplit("+", 1)[-1] for key in Keys if not key.value.startswith("<"))


@dataclass(frozen=True, slots=True)
class Scope:
    """Bindings in force together (one screen, its focused widget, the app's): no key
    may do two things in one scope."""

    name: str
    """As a sentence says it: ``the inbox``."""
    owners: tuple[type[DOMNode], ...]
    only: Mapping[type[DOMNode], frozenset[str]] = field(default_factory=dict)
    """Owners of which only these binding ids are in force here (the app's ``?`` and
    ``U`` are the inbox's alone)."""

    def bindings(self) -> Iterable[Binding]:
        for owner in self.owners:
            allowed = self.only.get(owner)
            for binding in _bindings(owner):
                if allowed is None or binding.id in allowed:
                    yield binding


def app_scopes(app: type[App[Any]]) -> tuple[Scope, ...]:
    """Where each binding is in force. A modal screen's keys stand alone (Textual stops
    the binding chain at a modal screen); the app's ``q`` is in force over every other."""
    quit_only: dict[type[DOMNode], frozenset[str]] = {app: frozenset({"app.quit"})}
    return (
        Scope("the inbox", (app, InboxScreen, ConversationList)),
        Scope("the inbox", (app, InboxScreen, DetailPane)),
        Scope("the reader", (app, ReaderScreen), quit_only),
        Scope("the user picker", (app, PickerScreen), quit_only),
        Scope("the problem screen", (app, ProblemScreen), quit_only),
        Scope("the help", (HelpScreen,)),
        Scope("the confirmation", (ConfirmScreen,)),
        Scope("the label picker", (LabelPicker,)),
        Scope("the drafts", (DraftPicker,)),
        Scope("the reply editor", (ComposeScreen,)),
        Scope("the reply review", (ReviewScreen,)),
    )


@dataclass(frozen=True, slots=True)
class KeysInForce:
    """The outcome of ``[keys]``: what to give Textual, what each action's keys now are,
    and what could not be used."""

    keymap: dict[str, str]
    """For ``App.set_keymap``."""
    in_force: dict[str, str]
    """Every binding id → its keys now, normalised and comma-separated."""
    warnings: tuple[str, ...] = ()
    remapped: frozenset[str] = frozenset()
    """Binding ids given other keys."""

    def label(self, binding_id: str, *, sentence: bool = False) -> str:
        """The keys of ``binding_id`` as the help and the palette show them: ``esc q``,
        or in a ``sentence`` ``esc or q``."""
        labels = [key_label(key) for key in self.in_force[binding_id].split(",")]
        if not sentence or len(labels) == 1:
            return " ".join(labels)
        return f"{', '.join(labels[:-1])} or {labels[-1]}"


def resolve_keys(choices: Sequence[KeyChoice], scopes: Sequence[Scope]) -> KeysInForce:
    bindings: dict[str, Binding] = {}
    owner_of: dict[str, type[DOMNode]] = {}
    for scope in scopes:
        for owner in scope.owners:
            for binding in _bindings(owner):
                assert binding.id is not None
                bindings.setdefault(binding.id, binding)
                owner_of.setdefault(binding.id, owner)
    defaults = {binding_id: _normalised(b.key) for binding_id, b in bindings.items()}
    by_name: dict[str, list[str]] = {}
    for binding_id in bindings:
        by_name.setdefault(binding_id.rpartition(".")[2], []).append(binding_id)

    warnings: list[str] = []
    wanted: dict[str, tuple[str, int]] = {}  # binding id → (its keys, its choice's index)
    # A dotted name (one screen's) wins over a plain one (every screen's), whatever the order.
    order = sorted(range(len(choices)), key=lambda index: "." in choices[index].action)
    for index in order:
        choice = choices[index]
        ids = [choice.action] if choice.action in bindings else by_name.get(choice.action, [])
        if not ids:
            warnings.append(_unknown(choice, [*by_name, *bindings]))
            continue
        problem = _key_problem(choice)
        if problem is not None:
            warnings.append(problem)
            continue
        for binding_id in ids:
            wanted[binding_id] = (_normalised(choice.keys), index)

    said: set[tuple[int, str]] = set()
    while clash := _first_clash(scopes, defaults, wanted):
        dropped, other, key, where = clash
        if (wanted[dropped][1], key) not in said:  # once per line, not once per screen
            said.add((wanted[dropped][1], key))
            warnings.append(_clash_sentence(choices, wanted, dropped, other, key, where))
        del wanted[dropped]

    in_force = {**defaults, **{binding_id: keys for binding_id, (keys, _) in wanted.items()}}
    # Textual drops every binding of a key when one of them is remapped (the picker's
    # three esc bindings): every binding of an owner with a remapped one is therefore
    # given its keys explicitly, which keeps the others where they were.
    touched = {owner_of[binding_id] for binding_id in wanted}
    keymap = {
        binding_id: in_force[binding_id]
        for binding_id, owner in owner_of.items()
        if owner in touched
    }
    return KeysInForce(keymap, in_force, tuple(dict.fromkeys(warnings)), frozenset(wanted))


def _bindings(owner: type[DOMNode]) -> Iterable[Binding]:
    for binding in owner.BINDINGS:
        if isinstance(binding, Binding) and binding.id:
            yield binding


def _normalised(keys: str) -> str:
    """Textual's own spelling of ``keys`` (``?`` → ``question_mark``), comma-separated."""
    return ",".join(binding.key for binding in Binding.make_bindings([Binding(keys, "")]))


def _is_key(key: str) -> bool:
    *modifiers, base = key.split("+")
    if not base or any(modifier not in _MODIFIERS for modifier in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and not base.isspace()
    return base in _NAMED or key_to_character(base) is not None


def _key_problem(choice: KeyChoice) -> str | None:
    keys = [key.strip() for key in choice.keys.split(",")]
    said = f"{choice.where}: `[keys]` `{choice.action}`"
    if not any(keys):
        return f"{said} names no key."
    for key in keys:
        if not _is_key(key):
            return (
                f"{said}: {key!r} is not a key name (e.g. M, ctrl+n, f5, pagedown, question_mark)."
            )
    for key in _normalised(choice.keys).split(","):
        if key in RESERVED:
            return f"{said}: {key} is Textual's key for {RESERVED[key]}."
    return None


def _unknown(choice: KeyChoice, names: Sequence[str]) -> str:
    near = difflib.get_close_matches(choice.action, names, n=1)
    hint = f" (did you mean `{near[0]}`?)" if near else ""
    return f"{choice.where}: `[keys]` has no action `{choice.action}`{hint}."


def _first_clash(
    scopes: Sequence[Scope], defaults: Mapping[str, str], wanted: Mapping[str, tuple[str, int]]
) -> tuple[str, str, str, str] | None:
    """(the remapped id to drop, the id it meets, the key, the scope's name), or None."""
    for scope in scopes:
        holders: dict[str, list[Binding]] = {}
        for binding in scope.bindings():
            assert binding.id is not None
            keys = wanted[binding.id][0] if binding.id in wanted else defaults[binding.id]
            for key in dict.fromkeys(keys.split(",")):
                holders.setdefault(key, []).append(binding)
        for key, holding in holders.items():
            for first in holding:
                for second in holding:
                    if first.id is None or second.id is None or first.id >= second.id:
                        continue
                    if _action(first) == _action(second):
                        continue  # one action under two ids (the picker's esc and q)
                    if first.id not in wanted and second.id not in wanted:
                        continue  # the app's own choice, gated by check_action
                    # The later line gives way; a default never does.
                    ranks = sorted(
                        (first.id, second.id), key=lambda i: wanted[i][1] if i in wanted else -1
                    )
                    return ranks[1], ranks[0], key, scope.name
    return None


def _action(binding: Binding) -> str:
    return binding.action.removeprefix("app.")


def _clash_sentence(
    choices: Sequence[KeyChoice],
    wanted: Mapping[str, tuple[str, int]],
    dropped: str,
    other: str,
    key: str,
    scope: str,
) -> str:
    choice = choices[wanted[dropped][1]]
    label = key_label(key)
    other_name = other.rpartition(".")[2]
    if other in wanted:
        first = choices[wanted[other][1]]
        return (
            f"{_lines(first.where, choice.where)}: `[keys]` gives {label} to both "
            f"{first.action} and {choice.action} in {scope}: the second is left out."
        )
    return (
        f"{choice.where}: `[keys]` gives {label} to {choice.action}, but {other_name} has "
        f"it in {scope}: the line is left out."
    )


def _lines(first: str, second: str) -> str:
    """``config.toml lines 12 and 14`` (or both places whole, if they differ in file)."""
    file, _, line = first.partition(" line ")
    other_file, _, other_line = second.partition(" line ")
    if file == other_file and line and other_line and line != other_line:
        return f"{file} lines {line} and {other_line}"
    return first if first == second else f"{first} and {second}"
