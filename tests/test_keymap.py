"""``[keys]``: a remapped key works, and the footer, the help and the palette show it;
what cannot be used is one sentence naming the config line, and the app still starts."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from support.apps import FIXED, demo_of, inbox, running, settle
from textual.widgets import Static

from lemlist_tui.app import LemlistApp
from lemlist_tui.config import KeyChoice, load_config
from lemlist_tui.demo import DemoConfig
from lemlist_tui.keymap import app_scopes, resolve_keys
from lemlist_tui.screens import HelpScreen, InboxScreen, PickerScreen
from lemlist_tui.screens.help import KEYS, key_rows, render_keys
from lemlist_tui.widgets.footer import KeyFooter


def keys_of(tmp_path: Path, text: str) -> tuple[KeyChoice, ...]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return load_config(path).keys


def footer_keys(app: LemlistApp) -> dict[str, str]:
    """What the footer shows: each key as displayed → its action."""
    shown, _palette = app.screen.query_one(KeyFooter).keys()
    return {key.display: key.action for key in shown}


def shown_text(static: Static) -> str:
    """The text a Static shows (the help's tables are Rich renderables)."""
    console = Console(width=200, color_system=None, force_terminal=False)
    with console.capture() as captured:
        console.print(static.content)
    return captured.get()


def warnings_of(app: LemlistApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


async def test_a_remapped_key_works_and_shows_in_footer_help_and_palette(tmp_path: Path) -> None:
    keys = keys_of(tmp_path, '[keys]\nmark_read = "M"\n')
    config = DemoConfig(size=30, now=FIXED, users=1)
    async with running(tmp_path, config=config, keys=keys) as (app, pilot, session):
        screen = inbox(app)
        user = screen.user_id
        conversation = screen.conversation_list.highlighted
        assert conversation is not None and conversation.unread

        # The old key does nothing any more...
        await pilot.press("m")
        await settle(pilot)
        assert not demo_of(session).is_read(conversation.id, user)
        # ...the new one marks read (through the outbox, to lemlist).
        await pilot.press("M")
        await settle(pilot)
        assert demo_of(session).is_read(conversation.id, user)

        shown = footer_keys(app)
        assert shown.get("M") == "mark_read"
        assert "m" not in shown

        palette = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert palette["Mark read"].endswith("(key: M)")
        assert palette["Refresh"].endswith("(key: r)")

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_keys = shown_text(app.screen.query_one("#help-keys", Static))
        lines = [line.split() for line in help_keys.splitlines()]
        assert ["M", "mark", "read,"] in [line[:3] for line in lines]
        assert not any(line[:1] == ["m"] for line in lines)
        # In the sentences too: the reader's keys and the bulk actions.
        assert "space/b page, n N M z work there" in help_keys
        assert "M l i x then act on all of it" in help_keys
        await pilot.press("escape")
        assert app.screen is screen
        assert warnings_of(app) == []


async def test_unknown_actions_and_conflicts_are_one_sentence_each_and_the_app_starts(
    tmp_path: Path,
) -> None:
    keys = keys_of(
        tmp_path,
        "theme = 'textual-dark'\n"
        "\n"
        "[keys]\n"
        'mark_reed = "M"\n'  # line 4: a typo
        'mark_read = "r"\n'  # line 5: refresh has r in the inbox
        'labels = "ctrl+l"\n'  # line 6: fine
        'undo = "Ctrl-Z"\n',  # line 7: not a key name
    )
    config = DemoConfig(size=30, now=FIXED, users=1)
    async with running(tmp_path, config=config, keys=keys) as (app, pilot, session):
        assert isinstance(app.screen, InboxScreen)
        said = warnings_of(app)
        assert "config.toml line 4: `[keys]` has no action `mark_reed`" in said[0]
        assert "did you mean `mark_read`?" in said[0]
        conflict = next(s for s in said if "line 5" in s)
        assert conflict.startswith("config.toml line 5: `[keys]` gives r to mark_read")
        assert "refresh" in conflict and "left out" in conflict
        assert any(s.startswith("config.toml line 7:") and "Ctrl-Z" in s for s in said)
        assert len(said) == 3 and all("\n" not in s for s in said)

        # The conflicting line is left out: m still marks read, r still refreshes;
        # the good line applies.
        screen = inbox(app)
        conversation = screen.conversation_list.highlighted
        assert conversation is not None and conversation.unread
        await pilot.press("m")
        await settle(pilot)
        assert demo_of(session).is_read(conversation.id, screen.user_id)
        assert app.keys_in_force.in_force["inbox.refresh"] == "r"
        assert app.keys_in_force.in_force["inbox.labels"] == "ctrl+l"


async def test_remapping_one_of_the_pickers_escape_keys_keeps_the_others(tmp_path: Path) -> None:
    # Textual drops every binding of a key when one of them is remapped; the picker has
    # three on esc (clear the filter, back, quit), told apart by check_action.
    keys = keys_of(tmp_path, '[keys.picker]\nclear_filter = "ctrl+u"\n')
    config = DemoConfig(size=20, now=FIXED, users=3)
    async with running(tmp_path, config=config, keys=keys) as (app, pilot, _session):
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("enter")
        await settle(pilot)
        first = inbox(app)
        await pilot.press("U")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        wanted = picker.users[1]
        assert wanted.name is not None
        await pilot.press(*wanted.name.split()[0].lower())
        assert len(picker.shown) < len(picker.users)
        await pilot.press("ctrl+u")
        assert len(picker.shown) == len(picker.users)
        await pilot.press("escape")  # still "back", with the filter empty
        assert app.screen is first


def test_short_names_reach_every_screen_and_dotted_names_one() -> None:
    scopes = app_scopes(LemlistApp)
    keys = resolve_keys(
        (
            KeyChoice("mark_read", "M", "config.toml line 2"),
            KeyChoice("reader.mark_read", "ctrl+r", "config.toml line 3"),
        ),
        scopes,
    )
    assert keys.warnings == ()
    assert keys.in_force["inbox.mark_read"] == "M"
    assert keys.in_force["reader.mark_read"] == "ctrl+r"  # the dotted line wins
    assert keys.in_force["inbox.refresh"] == "r"  # untouched


def test_a_swap_is_no_conflict_and_two_lines_on_one_key_name_both_lines() -> None:
    scopes = app_scopes(LemlistApp)
    swap = resolve_keys(
        (
            KeyChoice("mark_read", "r", "config.toml line 2"),
            KeyChoice("refresh", "m", "config.toml line 3"),
        ),
        scopes,
    )
    assert swap.warnings == ()
    assert swap.in_force["inbox.mark_read"] == "r" and swap.in_force["inbox.refresh"] == "m"

    both = resolve_keys(
        (
            KeyChoice("inbox.labels", "f2", "config.toml line 2"),
            KeyChoice("inbox.undo", "f2", "config.toml line 5"),
        ),
        scopes,
    )
    (sentence,) = both.warnings
    assert sentence.startswith("config.toml lines 2 and 5: `[keys]` gives f2 to both")
    assert both.in_force["inbox.labels"] == "f2" and both.in_force["inbox.undo"] == "z"


def test_textuals_own_keys_are_refused() -> None:
    keys = resolve_keys(
        (KeyChoice("mark_read", "ctrl+q", "config.toml line 2"),), app_scopes(LemlistApp)
    )
    (sentence,) = keys.warnings
    assert "ctrl+q" in sentence and "quit" in sentence
    assert keys.in_force["inbox.mark_read"] == "m"


def test_the_help_names_only_bindings_that_exist_and_reads_as_before_by_default() -> None:
    defaults = resolve_keys((), app_scopes(LemlistApp))
    for shown, what in KEYS:
        render_keys(shown, defaults)  # a KeyError for an id no binding has
        render_keys(what, defaults, sentence=True)
    rows = dict(key_rows(defaults))
    assert rows["↑ ↓  j k"] == "move through the conversations"
    assert "q or esc back" in rows["enter"]
    assert render_keys("{help.close} closes", defaults, sentence=True) == "esc, q or ? closes"


def test_the_readme_names_every_action() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("The actions, by screen")[1].split("\n\n")[1]
    for binding_id in resolve_keys((), app_scopes(LemlistApp)).in_force:
        screen, _, action = binding_id.partition(".")
        row = next(line for line in table.splitlines() if f"`{screen}`" in line.split("|")[1])
        assert f"`{action}`" in row, f"{binding_id} is not in the README's table of actions"


async def test_the_pickers_hint_names_the_keys_in_force(tmp_path: Path) -> None:
    keys = keys_of(
        tmp_path, '[keys.picker]\nquit_q = "x"\nclear_filter = "ctrl+u"\nopen = "ctrl+o"\n'
    )
    config = DemoConfig(size=20, now=FIXED, users=3)
    async with running(tmp_path, config=config, keys=keys) as (app, pilot, _session):
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        hint = str(picker.query_one("#picker-count", Static).render())
        assert "↑ ↓ choose, ctrl+o opens, esc or x quits" in hint
        await pilot.press("z")
        hint = str(picker.query_one("#picker-count", Static).render())
        assert "ctrl+u clears the filter" in hint
