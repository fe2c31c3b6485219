"""KeyFooter: the keys in force on one line, repainted (not recomposed) when they change;
a click presses the key."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input

from lemlist_tui.widgets.footer import KeyFooter


class FooterApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "count('a')", "Add one"),
        Binding("b", "count('b')", "Bee"),
        Binding("x", "count('x')", "Hidden", show=False),
        Binding("c", "count('c')", "Disabled"),
        Binding("d", "count('d')", "Long description number four"),
    ]

    AUTO_FOCUS = None

    def __init__(self) -> None:
        super().__init__()
        self.counted: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(id="field")
        yield KeyFooter()

    def action_count(self, what: str) -> None:
        self.counted.append(what)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if parameters == ("c",) else True  # None: shown, disabled


def line(app: FooterApp) -> str:
    return app.query_one(KeyFooter).render().plain


async def test_shows_the_keys_in_force_with_the_palette_on_the_right() -> None:
    app = FooterApp()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        assert text.startswith(" a Add one  b Bee  c Disabled  d Long description number four ")
        assert "Hidden" not in text
        assert text.endswith("▏^p palette ")
        assert len(text) == 100
        shown, palette = app.query_one(KeyFooter).keys()
        assert [(k.key, k.enabled) for k in shown] == [
            ("a", True),
            ("b", True),
            ("c", False),
            ("d", True),
        ]
        assert palette is not None and palette.display == "^p"


async def test_a_narrow_footer_drops_whole_keys_and_keeps_the_palette() -> None:
    app = FooterApp()
    async with app.run_test(size=(50, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        assert text.startswith(" a Add one  b Bee  c Disabled ")
        assert "Long" not in text  # not cut in the middle: left out
        assert text.endswith("▏^p palette ")
        assert len(text) == 50


async def test_the_line_follows_the_bindings_without_new_widgets() -> None:
    app = FooterApp()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        footer = app.query_one(KeyFooter)
        assert not footer.children
        app.query_one(Input).focus()
        await pilot.pause()
        # Typing goes to the input: its letters are not keys any more, nor shown.
        assert "Add one" not in line(app)
        assert line(app).endswith("▏^p palette ")
        app.set_focus(None)
        await pilot.pause()
        assert line(app).startswith(" a Add one ")
        assert not footer.children


async def test_a_click_on_a_key_presses_it_and_a_disabled_one_does_nothing() -> None:
    app = FooterApp()
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        text = line(app)
        await pilot.click(KeyFooter, offset=(text.index("Bee"), 0))
        assert app.counted == ["b"]
        await pilot.click(KeyFooter, offset=(text.index("Disabled"), 0))
        assert app.counted == ["b"]
        await pilot.click(KeyFooter, offset=(text.index("▏") - 2, 0))  # between the keys
        assert app.counted == ["b"]
