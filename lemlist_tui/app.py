"""The Textual application: start-up, screen switching, app-wide keys. Thin on purpose.

The screens do the work; :func:`make_app` is the one way the CLI, the tests, the
snapshots and the screenshot script build it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import os
import signal
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, ComposeResult, InvalidThemeError, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from lemlist_tui.api.errors import AuthError, LemlistError
from lemlist_tui.api.models import Team, TeamUser
from lemlist_tui.ascii import ascii_driver, wants_ascii
from lemlist_tui.config import Settings, remember_theme, saved_theme
from lemlist_tui.crash import crash_sentence, write_report
from lemlist_tui.db import StorageError
from lemlist_tui.exit_codes import ExitCode, failure_code
from lemlist_tui.keymap import KeysInForce, app_scopes, resolve_keys
from lemlist_tui.messages import UserChosen
from lemlist_tui.presenter import Presenter
from lemlist_tui.screens import HelpScreen, InboxScreen, PickerScreen, ProblemScreen
from lemlist_tui.screens.picker import HeldCounts
from lemlist_tui.session import MissingKeyError, Session, open_session

if TYPE_CHECKING:
    from lemlist_tui.demo import DemoConfig

__all__ = ["LemlistApp", "make_app"]

Clock = Callable[[], datetime]

SignalHandler = Callable[[int, FrameType | None], Any] | int | None

SHUTDOWN_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that close the app the way ``q`` does (SIGHUP: the SSH connection dropped).
(Windows has no SIGHUP.)"""


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
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("U", "switch_user", "User", id="app.switch_user"),
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
        if wants_ascii(settings.ascii):
            self.driver_class = ascii_driver(self.driver_class)
        self.session = session
        self.demo_config = demo_config
        self.clock: Clock = clock or _now
        self.team: Team | None = None
        self._owns_session = session is None
        self._signals_before: dict[signal.Signals, SignalHandler] = {}
        self.exit_status: int = ExitCode.OK
        """What quitting returns: once a problem screen is shown, its code from ``--help``
        (3 no key or key refused, 4 unreachable or rate limited, 1 anything else)."""
        self._theme_restored = False
        self.crash_message: str | None = None
        """After an unexpected failure: the sentence to print (see ``_fatal_error``)."""
        self._presenter = Presenter()  # one per session: the same stand-ins each time
        self.presenter: Presenter | None = self._presenter if settings.presenter else None
        """Presenter mode (``--presenter``, the palette): every person shown invented."""
        self.keys_in_force: KeysInForce = resolve_keys(settings.keys, app_scopes(type(self)))
        """``[keys]`` of the config file, checked: the help and the palette show these."""

    def compose(self) -> ComposeResult:
        yield Static("Connecting to lemlist…", id="starting")
        yield LoadingIndicator()

    def on_mount(self) -> None:
        self._restore_theme()
        if self.keys_in_force.keymap:
            self.set_keymap(self.keys_in_force.keymap)
        for warning in (*self.settings.warnings, *self.keys_in_force.warnings):
            self.notify(warning, severity="warning", markup=False)
        if self.session is None:
            try:
                self.session = open_session(self.settings, demo_config=self.demo_config)
            except MissingKeyError as error:
                self._show_problem(ProblemScreen.missing_key(self.settings.config_path), error)
                return
            except StorageError as error:
                self._show_problem(ProblemScreen.storage(str(error)), error)
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
        try:
            if self._owns_session and self.session is not None:
                await self.session.aclose()
        finally:
            # Last, so that a signal arriving while the session closes is still ignored.
            self._remove_signal_handlers()

    # --- the theme: the one last chosen in the app, else config.toml's ------------------

    def _restore_theme(self) -> None:
        remembered = saved_theme(self.settings.state_path, self.settings.theme)
        if remembered is not None and remembered in self.available_themes:
            self.theme = remembered
        elif self.settings.theme:
            # A remembered theme that no longer exists falls back silently: the person
            # did not type it. config.toml's own value gets a warning.
            try:
                self.theme = self.settings.theme
            except InvalidThemeError:
                message = f"Unknown theme {self.settings.theme!r}: using the default."
                self.notify(message, severity="warning", markup=False)
        self._theme_restored = True

    def watch_theme(self, theme: str) -> None:
        if self._theme_restored:  # chosen now (the command palette), not restored
            remember_theme(self.settings.state_path, theme, self.settings.theme)

    # --- SIGTERM and SIGHUP: shut down as q does ---------------------------------------

    def on_load(self) -> None:
        # On Load, before the driver switches to the alternate screen: from then on, a
        # signal's default action (death on the spot) would leave the terminal in it with
        # mouse reporting on.
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()

        def handler(signum: int, frame: FrameType | None) -> None:
            # signal.signal rather than loop.add_signal_handler: this runs at once, in the
            # main thread, and before the handler of Textual's driver for the SIGCONT a
            # hangup sends right after SIGHUP (it restarts application mode, writing to
            # the dead tty). Only the detaching happens here; the loop does the rest.
            _detach_hung_up_terminal()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to exit
                loop.call_soon_threadsafe(self._exit_on_signal, signum, context=context)

        for signum in SHUTDOWN_SIGNALS:
            try:
                before = signal.signal(signum, handler)
            except ValueError:
                # Not the main thread: the signals belong to whoever runs that.
                return
            self._signals_before[signum] = before

    def _exit_on_signal(self, signum: int) -> None:
        if self.return_code is not None:
            # Already on its way out (q, an error, or an earlier signal): that exit's
            # status stands, and a second signal changes nothing.
            return
        # 128 + the signal's number: what a shell reports for a process the signal
        # killed, so scripts and supervisors see the cause.
        self.exit(return_code=ExitCode.SIGNALLED + signum)

    # --- an unexpected failure: a sentence and a scrubbed report, never the locals ----------

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)  # exit status 1; then _fatal_error, below

    def _fatal_error(self) -> None:
        """Textual prints the traceback with every frame's locals (the API key among
        them); this prints one sentence naming a report that has neither."""
        error = getattr(self, "_crash", None)
        if error is None:  # not through _handle_exception: say only that it happened
            error = RuntimeError("an unexpected failure")
        folder = self.settings.state_path.parent / "crashes"
        report = write_report(error, folder, (self.settings.api_key or "",))
        self.bell()
        # Printed by the command line once the terminal is back (Rich would fold the
        # report's path at the console's width): one line, the path copied whole.
        self.crash_message = crash_sentence(error, report)
        self._close_messages_no_wait()

    def _remove_signal_handlers(self) -> None:
        while self._signals_before:
            signum, before = self._signals_before.popitem()
            # None: the handler was not set from Python; the default is the best guess.
            signal.signal(signum, signal.SIG_DFL if before is None else before)

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
            self._show_problem(screen, error)

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
            self._show_problem(ProblemScreen.failure("This lemlist team has no users."), None)
            return
        self._show(self._picker(note=note, can_cancel=False))

    def _picker(self, *, note: str | None = None, can_cancel: bool = True) -> PickerScreen:
        current = self.screen.user_id if isinstance(self.screen, InboxScreen) else None
        team = self.team
        if team is not None and self.presenter is not None:
            team = self.presenter.team(team)
        return PickerScreen(
            team.users or tuple(TeamUser(user_id) for user_id in team.user_ids) if team else (),
            team_name=team.name if team else None,
            current=current,
            can_cancel=can_cancel,
            note=note,
            counts=self._held_counts(),
        )

    def _held_counts(self) -> dict[str, HeldCounts]:
        """Each user's inbox as held locally; none for a user never synced."""
        assert self.session is not None
        db = self.session.db
        counts: dict[str, HeldCounts] = {}
        try:
            for user in self.users:
                held, unread = db.counts(user.id)
                if held:
                    state = db.sync_state(user.id)
                    whole = state is not None and state.complete
                    counts[user.id] = HeldCounts(held, unread, whole)
        except StorageError:
            return {}  # the inbox says what is wrong with the file once it opens
        return counts

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
        self._show(
            InboxScreen(
                self.session, self.team, user_id, clock=self.clock, presenter=self.presenter
            )
        )

    def _show_problem(self, screen: ProblemScreen, error: BaseException | None) -> None:
        """Show ``screen``; quitting from here on exits with ``error``'s documented code."""
        self.exit_status = ExitCode.OTHER if error is None else failure_code(error)
        self._show(screen)

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

    async def action_quit(self) -> None:
        self.exit(return_code=self.exit_status)

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
            self.push_screen(HelpScreen(self.keys_in_force))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield self._with_key(
            SystemCommand("Help", "Every key on one screen", self.action_help), "app.help"
        )
        if isinstance(screen, InboxScreen):
            yield self._with_key(
                SystemCommand("Switch user", "Open another user's inbox", self.action_switch_user),
                "app.switch_user",
            )
            yield SystemCommand(
                "Presenter mode",
                "Invent every name, email, subject and body on screen (for a demo), or not",
                self.action_presenter,
            )
            for command in screen.commands():
                # The inbox's entries call its actions, each bound as inbox.<action>.
                action = getattr(command.callback, "__name__", "").removeprefix("action_")
                yield self._with_key(command, _PALETTE_BINDINGS.get(action, f"inbox.{action}"))

    def action_presenter(self) -> None:
        """Presenter mode on or off: the screens redraw with stand-ins or the real data."""
        self.presenter = None if self.presenter is not None else self._presenter
        if isinstance(self.screen, InboxScreen):
            self.screen.set_presenter(self.presenter)
        state = "on: every person shown is invented" if self.presenter else "off"
        self.notify(f"Presenter mode {state}.", markup=False)

    def _with_key(self, command: SystemCommand, binding_id: str) -> SystemCommand:
        """``command`` with the key in force for it said after its help (none: as it is)."""
        if binding_id not in self.keys_in_force.in_force:
            return command
        key = self.keys_in_force.label(binding_id, sentence=True)
        return command._replace(help=f"{command.help} (key: {key})")


_PALETTE_BINDINGS = {"read": "list.open"}
"""The inbox's palette entries whose binding is not ``inbox.<action>``."""


def _detach_hung_up_terminal() -> None:
    """Point stdout and stderr at /dev/null if their terminal hung up (SSH dropped).

    Textual writes the terminal's restore sequences to stderr from a thread; on a hung-up
    tty each write fails with EIO, which kills that thread with a traceback. Nobody can
    see that terminal any more, so its output goes nowhere instead. A terminal that is
    still there (``kill -HUP`` by hand) keeps its output and is restored.
    """
    try:
        import termios
    except ImportError:  # Windows: no tty to hang up
        return
    for fd in (1, 2):
        try:
            termios.tcgetattr(fd)
        except termios.error as error:
            # EIO: a hung-up tty. ENOTTY (a file, a pipe) or EBADF: left as they are.
            hung_up = bool(error.args) and error.args[0] == errno.EIO
        else:
            hung_up = False
        if hung_up:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, fd)
            finally:
                os.close(null)


def make_app(
    settings: Settings,
    *,
    session: Session | None = None,
    demo_config: DemoConfig | None = None,
    clock: Clock | None = None,
) -> LemlistApp:
    """The app for ``settings``: opens its own session on mount unless given one."""
    return LemlistApp(settings, session=session, demo_config=demo_config, clock=clock)
