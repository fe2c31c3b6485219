"""The Textual application: start-up, screen switching, app-wide keys. Thin on purpose.

The screens do the work; :func:`make_app` is the one way the CLI, the tests, the
snapshots and the screenshot script build it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult, InvalidThemeError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from lemlist_tui.api.errors import AuthError, LemlistError
from lemlist_tui.api.models import Team, TeamUser
from lemlist_tui.config import Settings
from lemlist_tui.messages import UserChosen
from lemlist_tui.screens import HelpScreen, InboxScreen, PickerScreen, ProblemScreen
from lemlist_tui.session import MissingKeyError, Session, open_session

if TYPE_CHECKING:
    from lemlist_tui.demo import DemoConfig

__all__ = ["LemlistApp", "make_app"]

Clock = Callable[[], datetime]


def _stylesheet() -> Path:
    """``styles.tcss`` inside an installed wheel, else at the top of the source tree."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "styles.tcss", package.parent / "styles.tcss"):
        if candidate.is_file():
            return candidate
    return package / "styles.tcss"


def _now() -> datetime:
    return datetime.now(UTC)


class LemlistApp(App[None]):
    TITLE = "lemlist"
    CSS_PATH = _stylesheet()
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("U", "switch_user", "User"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        session: Session | None = None,
        demo_config: DemoConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.session = session
        self.demo_config = demo_config
        self.clock: Clock = clock or _now
        self.team: Team | None = None
        self._owns_session = session is None

    def compose(self) -> ComposeResult:
        yield Static("Connecting to lemlist…", id="starting")
        yield LoadingIndicator()

    def on_mount(self) -> None:
        if self.settings.theme:
            try:
                self.theme = self.settings.theme
            except InvalidThemeError:
                message = f"Unknown theme {self.settings.theme!r}: using the default."
                self.notify(message, severity="warning", markup=False)
        for warning in self.settings.warnings:
            self.notify(warning, severity="warning", markup=False)
        if self.session is None:
            try:
                self.session = open_session(self.settings, demo_config=self.demo_config)
            except MissingKeyError:
                self._show(ProblemScreen.missing_key(self.settings.config_path))
                return
        # A cached team opens the inbox from the cache at once: the first frame with rows
        # waits for no request. The team still comes from lemlist right after, which is
        # also where a key that stopped working shows.
        cached = self.session.cached_team()
        if cached is not None:
            self.team = cached
            self._choose_first_user()
        self.run_worker(self.session.load_team(), group="team", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self._owns_session and self.session is not None:
            await self.session.aclose()

    # --- start-up: the team, then whose inbox ----------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or worker.group != "team":
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, Team):
            first = self.team is None
            self.team = worker.result
            if first:
                self._choose_first_user()
        elif event.state is WorkerState.ERROR:
            error = worker.error
            if self.team is not None and not isinstance(error, AuthError):
                # Started from the cached team: the inbox reports its own network trouble.
                self.log.warning("cannot refresh the team", error)
                return
            if isinstance(error, AuthError):
                screen = ProblemScreen.key_refused(str(error), self.settings.config_path)
            elif isinstance(error, LemlistError):
                screen = ProblemScreen.failure(str(error))
            else:
                self.log.error("cannot load the team", error)
                screen = ProblemScreen.failure(
                    f"Something unexpected went wrong ({type(error).__name__})."
                )
            self._show(screen)

    @property
    def users(self) -> tuple[TeamUser, ...]:
        if self.team is None:
            return ()
        return self.team.users or tuple(TeamUser(user_id) for user_id in self.team.user_ids)

    def _choose_first_user(self) -> None:
        assert self.session is not None
        known = {user.id for user in self.users}
        wanted = self.settings.user_id
        if wanted and wanted in known:
            self._open_inbox(wanted)
            return
        note = None
        if wanted:
            note = f"{wanted} is not a user of this team: choose one below."
        else:
            last = self.session.last_user()
            if last in known and last is not None:
                self._open_inbox(last)
                return
            if len(known) == 1:
                self._open_inbox(next(iter(known)))
                return
        if not known:
            self._show(ProblemScreen.failure("This lemlist team has no users."))
            return
        self._show(self._picker(note=note, can_cancel=False))

    def _picker(self, *, note: str | None = None, can_cancel: bool = True) -> PickerScreen:
        current = self.screen.user_id if isinstance(self.screen, InboxScreen) else None
        return PickerScreen(
            self.users,
            team_name=self.team.name if self.team else None,
            current=current,
            can_cancel=can_cancel,
            note=note,
        )

    async def on_user_chosen(self, message: UserChosen) -> None:
        if isinstance(self.screen, PickerScreen) and self.screen.can_cancel:
            await self.pop_screen()
        if isinstance(self.screen, InboxScreen) and self.screen.user_id == message.user_id:
            return
        self._open_inbox(message.user_id)

    def _open_inbox(self, user_id: str) -> None:
        """Replace the current screen with ``user_id``'s inbox (its workers stop with it)."""
        assert self.session is not None and self.team is not None
        self.session.remember_user(user_id)
        self._show(InboxScreen(self.session, self.team, user_id, clock=self.clock))

    def _show(self, screen: Screen[None]) -> None:
        """Make ``screen`` the one in front, above the start-up screen at the bottom."""
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            # Hidden under every other screen, the indicator would still animate at 16
            # frames a second and redraw the screen in front: 100 KB/s of output, idle.
            self.query(LoadingIndicator).remove()
            self.push_screen(screen)

    # --- app-wide keys -----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("switch_user", "help"):
            # Inbox keys only: hidden from the footer elsewhere (start-up, problem, picker).
            return isinstance(self.screen, InboxScreen)
        return True

    def action_switch_user(self) -> None:
        if self.team is not None and isinstance(self.screen, InboxScreen):
            self.push_screen(self._picker())

    def action_help(self) -> None:
        if isinstance(self.screen, InboxScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key on one screen", self.action_help)
        if isinstance(screen, InboxScreen):
            yield SystemCommand("Switch user", "Open another user's inbox", self.action_switch_user)
            yield from screen.commands()


def make_app(
    settings: Settings,
    *,
    session: Session | None = None,
    demo_config: DemoConfig | None = None,
    clock: Clock | None = None,
) -> LemlistApp:
    """The app for ``settings``: opens its own session on mount unless given one."""
    return LemlistApp(settings, session=session, demo_config=demo_config, clock=clock)
