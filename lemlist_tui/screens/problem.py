"""What to do when the app cannot show an inbox: no key, a refused key, or another failure.

Always a sentence and the way forward, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from lemlist_tui.text import clean_line
from lemlist_tui.widgets.footer import KeyFooter

__all__ = ["ProblemScreen"]


class ProblemScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "app.quit", "Quit", id="problem.quit")
    ]

    def __init__(self, title: str, sentence: str, hints: Text | None = None) -> None:
        super().__init__()
        self.problem_title = title
        self.sentence = sentence
        self.hints = hints

    @classmethod
    def missing_key(cls, config_path: Path) -> ProblemScreen:
        return cls(
            "No lemlist API key yet",
            "lemlist-tui needs your lemlist API key to read your inbox.",
            _key_hints(config_path),
        )

    @classmethod
    def key_refused(cls, sentence: str, config_path: Path) -> ProblemScreen:
        return cls("lemlist refused the API key", sentence, _key_hints(config_path))

    @classmethod
    def failure(cls, sentence: str) -> ProblemScreen:
        hints = Text()
        hints.append("Check your connection and start lemlist-tui again, or run ")
        hints.append("lemlist-tui --offline", "bold")
        hints.append(" to browse what is cached.")
        return cls("The inbox cannot be shown", sentence, hints)

    @classmethod
    def storage(cls, sentence: str) -> ProblemScreen:
        """The local database cannot be opened (a link in its place, a full disk, …)."""
        hints = Text()
        hints.append("Fix what the sentence says and start lemlist-tui again; ")
        hints.append("lemlist-tui --clear-cache", "bold")
        hints.append(" starts the local inbox anew.")
        return cls("The local inbox cannot be opened", sentence, hints)

    def compose(self) -> ComposeResult:
        with Vertical(id="problem"):
            yield Static(Text(self.problem_title), id="problem-title")
            yield Static(Text(clean_line(self.sentence)), id="problem-sentence")
            if self.hints is not None:
                yield Static(self.hints, id="problem-hints")
            yield Static(Text("Press q to quit."), id="problem-quit")
        yield KeyFooter()


def _key_hints(config_path: Path) -> Text:
    hints = Text()
    hints.append("Find the key in lemlist under Settings → Integrations → API, then either\n\n")
    hints.append("  • set it in the environment:\n")
    hints.append("      export LEMLIST_API_KEY=your-key\n", "bold")
    hints.append("  • or put it in the config file\n")
    hints.append(f"      {clean_line(str(config_path))}\n", "bold")
    hints.append("    as\n")
    hints.append('      api_key = "your-key"\n\n', "bold")
    hints.append("Just looking? The built-in demo needs no key and no network:\n")
    hints.append("      lemlist-tui --demo", "bold")
    return hints
