"""The app's screens, one per file."""

from lemlist_tui.screens.help import HelpScreen
from lemlist_tui.screens.inbox import InboxScreen
from lemlist_tui.screens.picker import PickerScreen
from lemlist_tui.screens.problem import ProblemScreen
from lemlist_tui.screens.reader import ReaderScreen

__all__ = ["HelpScreen", "InboxScreen", "PickerScreen", "ProblemScreen", "ReaderScreen"]
