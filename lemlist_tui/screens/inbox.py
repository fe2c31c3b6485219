"""One user's inbox: the conversation list, the detail pane, the status line.

Every store call runs in a worker; their outcomes are handled by group in
:meth:`InboxScreen.on_worker_state_changed`, the one place that turns a failure into a
notification and a status-line sentence while the screen keeps what it shows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, ProgressBar
from textual.worker import Worker, WorkerState

from lemlist_tui.api.errors import LemlistError, NetworkError
from lemlist_tui.api.models import Conversation, Team, ThreadPage
from lemlist_tui.messages import CrawlProgress, InboxChanged
from lemlist_tui.session import Session
from lemlist_tui.sync.store import OFFLINE, RefreshResult
from lemlist_tui.text import clean_line
from lemlist_tui.view import InboxView, SortKey
from lemlist_tui.widgets.conversation_list import ConversationList
from lemlist_tui.widgets.detail import DetailPane
from lemlist_tui.widgets.status import Connection, InboxStatus, StatusLine

__all__ = ["InboxScreen"]

THREAD_DEBOUNCE = 0.15
"""Seconds a conversation stays highlighted before its thread is fetched (holding ↓)."""
DERIVE_EVERY = 1.0
"""Seconds between re-derivations of the list while a crawl streams pages in."""
STATUS_EVERY = 5.0
"""Seconds between status refreshes ("updated 2m ago", the rate-limit budget)."""

PALETTE: tuple[tuple[str, str, str], ...] = (
    ("Filter", "Filter conversations by name or email", "filter"),
    ("Unread only", "Show only unread conversations, or all again", "toggle_unread"),
    ("Cycle sort", "Last activity → last reply → created", "cycle_sort"),
    ("Mark read", "Mark the highlighted conversation read", "mark_read"),
    ("Refresh", "Fetch what changed since the last sync", "refresh"),
    ("Load all pages", "Load every page of the inbox", "load_all"),
    ("Copy email", "Copy the contact's email to the clipboard", "copy_email"),
    ("Clear filter", "Clear the filter and the unread-only view", "clear"),
)
"""Command palette entries: title, help, action of this screen."""

SYNC, THREAD, MARK = "sync", "thread", "mark"
"""Worker groups: one sync operation at a time; the newest thread request wins."""
WARM_ORDERS_AFTER = 0.3
"""Seconds of calm after a sync before the other sort orders are prepared, one at a time."""


class _FilterInput(Input):
    """The filter field, which hands each new value to the screen as it is set.

    ``Input.Changed`` reaches the screen a few message hops later, after the echo of
    the key has gone out in a frame of its own; the list's answer then waits for the
    next frame (a 60 fps tick) and costs a second full repaint. Applied here, the echo,
    the list and the status line go out in one frame.
    """

    def __init__(self, on_value: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_value = on_value

    def watch_value(self, value: str) -> None:
        self._on_value(value)


class InboxScreen(Screen[None]):
    # Below 100 columns the detail goes under the list; from 140 the list gets more room.
    # Textual declares it as a plain class attribute, so no ClassVar here.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (100, "-wide"),
        (140, "-very-wide"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: handled as the key arrives, so keys typed right behind it (a busy
        # loop, a paste) reach the filter instead of the list's one-key actions.
        Binding("slash", "filter", "Filter", priority=True),
        Binding("u", "toggle_unread", "Unread"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("m", "mark_read", "Mark read"),
        Binding("r", "refresh", "Refresh"),
        Binding("a", "load_all", "Load all", show=False),
        Binding("y", "copy_email", "Copy email", show=False),
        Binding("tab", "switch_pane", "Switch pane", show=False),
        Binding("escape", "clear", "Clear", show=False),
    ]

    def __init__(
        self,
        session: Session,
        team: Team,
        user_id: str,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self.session = session
        self.team = team
        self.user_id = user_id
        self.clock = clock
        self.store = session.inbox(user_id)
        self.view = InboxView(user_id)
        self.query_text = ""
        self.unread_only = False
        self.sort = SortKey.LAST_ACTIVITY
        self.rows: Sequence[Conversation] = ()
        self._seen_version: int | None = None
        self._busy: str | None = None
        self._error: str | None = None
        self._thread_for: str | None = None
        self._derived_at = 0.0
        self._warm_timer: Timer | None = None

    @property
    def user_name(self) -> str:
        user = self.team.user(self.user_id)
        return clean_line(user.display_name if user else self.user_id, 40)

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="list-pane"):
                yield _FilterInput(
                    self._filter_to, placeholder="Filter by name or email", id="filter"
                )
                yield ConversationList(clock=self.clock, id="conversations")
            yield DetailPane(self.team, self.user_id, clock=self.clock, id="detail")
        yield ProgressBar(id="crawl-progress", show_eta=False)
        yield StatusLine(id="status")
        yield Footer()

    @property
    def conversation_list(self) -> ConversationList:
        return self.query_one("#conversations", ConversationList)

    @property
    def detail(self) -> DetailPane:
        return self.query_one("#detail", DetailPane)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#filter", Input)

    def on_mount(self) -> None:
        # The stale cache first (only its head: a first paint, not a 100k parse), then
        # the rest of it and the network in the background.
        held = self.store.load_cached(head_only=True)
        self._sync_view()
        self.set_focus(self.conversation_list)
        self._start(SYNC, self._open(held), busy="loading…")
        self.set_interval(STATUS_EVERY, self._update_status)

    async def on_unmount(self) -> None:
        # Pages fetched since the store's last save: the next start shows them at once.
        await self.store.save()

    # --- deriving what is shown ------------------------------------------------------

    def _sync_view(self) -> None:
        """Re-derive the rows when the store moved, then re-apply filter and sort."""
        self._derived_at = time.monotonic()
        if self.store.version != self._seen_version:
            self._seen_version = self.store.version
            self.view.update(self.store.conversations)
        self._apply()

    def _apply(self) -> None:
        conversations = self.conversation_list
        current = conversations.highlighted
        self.rows = self.view.apply(self.query_text, unread_only=self.unread_only, sort=self.sort)
        conversations.empty_text = self._empty_text()
        conversations.set_rows(
            self.rows, user_id=self.user_id, keep_id=current.id if current else None
        )
        highlighted = conversations.highlighted
        shown = self.detail.conversation
        if highlighted is None:
            if shown is not None:
                self.detail.show(None)
        elif shown is None or highlighted.id != shown.id:
            self._show_conversation(highlighted)
        elif highlighted is not shown:
            self.detail.show(highlighted)  # a newer copy, e.g. after mark-read
        self._update_status()

    def _schedule_warm_orders(self) -> None:
        """Prepare the sort orders not built yet while the user reads (see ``_warm_orders``)."""
        if self._warm_timer is not None:
            self._warm_timer.stop()
        self._warm_timer = self.set_timer(WARM_ORDERS_AFTER, self._warm_orders)

    def _warm_orders(self) -> None:
        """One sort order per call (~70 ms at 100k), so that ``s`` never sorts on a key.

        Between calls the loop runs: keys typed meanwhile wait for one sort at most.
        Skipped while a sync may still change the inbox (its end schedules this again).
        """
        self._warm_timer = None
        if self._group_busy(SYNC) or not self.view.total:
            return
        for sort in SortKey:
            if not self.view.has_order(sort):
                self.view.prepare(sort)
                self._warm_timer = self.set_timer(0.05, self._warm_orders)
                return

    def _empty_text(self) -> str:
        if self.view.total == 0:
            if self._busy:
                return "Loading the inbox…"
            if self._error:
                return f"{self._error} Press r to try again."
            if self.session.offline:
                return "Nothing is cached for this user yet: go online to load the inbox."
            return "This inbox is empty."
        if self.query_text:
            return "No conversation matches the filter (esc clears it)."
        if self.unread_only:
            return "No unread conversation loaded (u shows all)."
        return "Nothing to show."

    def _update_status(self) -> None:
        store = self.store
        connection: Connection = "online"
        if self.session.offline:
            connection = "offline"
        elif store.stale:
            connection = "stale"
        rate = self.session.client.rate_limit if self.session.client is not None else None
        self.query_one(StatusLine).show(
            InboxStatus(
                user=self.user_name,
                loaded=self.view.total,
                total=store.total,
                unread=self.view.unread_count,
                shown=len(self.rows),
                connection=connection,
                updated=_ago(store.fetched_at),
                rate_remaining=rate.remaining if rate is not None else None,
                rate_limit=rate.limit if rate is not None else None,
                query=clean_line(self.query_text, 24),
                unread_only=self.unread_only,
                sort=self.sort.value,
                busy=self._busy,
                error=self._error,
            )
        )

    # --- the list and the detail -----------------------------------------------------

    @on(ConversationList.Highlighted)
    def _highlighted(self, event: ConversationList.Highlighted) -> None:
        if event.conversation is None:
            self.detail.show(None)
        elif (
            self.detail.conversation is None or event.conversation.id != self.detail.conversation.id
        ):
            self._show_conversation(event.conversation)

    def _show_conversation(self, conversation: Conversation) -> None:
        """Show it at once; fetch its thread only if it stays highlighted a moment."""
        cached = self.store.cached_thread(conversation)
        self.detail.show(conversation, cached)
        if cached is None and self.session.offline:
            # Nothing to wait for: say so in the same frame, rather than "Loading thread…"
            # now and a second repaint of the pane when the fetch fails.
            self.workers.cancel_group(self, THREAD)
            self.detail.show_thread_error(conversation.id, _sentence(NetworkError(OFFLINE)))
        elif cached is None:
            self._thread_for = conversation.id
            self._start(THREAD, self._fetch_thread(conversation), exclusive=True)
        else:
            self.workers.cancel_group(self, THREAD)

    @on(ConversationList.Selected)
    def _selected(self, event: ConversationList.Selected) -> None:
        self.set_focus(self.detail)

    @on(ConversationList.NearEnd)
    def _near_end(self) -> None:
        if not self.store.complete and not self.session.offline and not self._group_busy(SYNC):
            self._start(SYNC, self._load_more(), busy="loading more…")

    # --- the filter ------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.filter_input
        field.display = True
        self.set_focus(field)  # at once: the very next key must reach the filter

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        # Normally applied already (``_FilterInput``); the field's current value, not the
        # event's: a message queued behind newer keys must not bring an old query back.
        self._filter_to(self.filter_input.value)

    def _filter_to(self, value: str) -> None:
        if value != self.query_text:
            self.query_text = value
            self._apply()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        if not self.query_text:
            self.filter_input.display = False
        self.set_focus(self.conversation_list)

    def action_clear(self) -> None:
        if self.focused is self.filter_input or self.query_text:
            self.filter_input.value = ""  # posts Input.Changed, which re-applies
            self.query_text = ""
            self.filter_input.display = False
        elif self.focused is not self.detail:
            self.unread_only = False
        self.set_focus(self.conversation_list)
        self._apply()

    def action_toggle_unread(self) -> None:
        self.unread_only = not self.unread_only
        self._apply()

    def action_cycle_sort(self) -> None:
        self.sort = self.sort.next()
        self.conversation_list.shown_time = self.sort
        # No notification: the status line names the sort, and a toast costs the
        # keystroke two or three more frames (the 's' p95 went 60 ms over its 50 ms).
        self._apply()

    def action_switch_pane(self) -> None:
        if self.focused is self.detail:
            self.set_focus(self.conversation_list)
        else:
            self.set_focus(self.detail)

    # --- triage ----------------------------------------------------------------------

    def action_mark_read(self) -> None:
        conversation = self.conversation_list.highlighted
        if conversation is None:
            return
        if not conversation.is_unread_for(self.user_id):
            self.notify("Already read.", timeout=2)
            return
        if self.session.offline:
            self.notify("Offline: marking read needs lemlist.", severity="warning")
            return
        self._start(MARK, self._mark_read(conversation))

    def action_copy_email(self) -> None:
        conversation = self.conversation_list.highlighted
        email = conversation.contact.email if conversation else None
        if not email:
            self.notify("This contact has no email address.", severity="warning")
            return
        self.app.copy_to_clipboard(email)
        self.notify(f"Copied {clean_line(email, 60)} to the clipboard.", markup=False)

    def action_refresh(self) -> None:
        if self._offline_says("refreshing") or self._already_syncing():
            return
        self._start(SYNC, self._refresh(), busy="refreshing…")

    def action_load_all(self) -> None:
        if self.store.complete:
            self.notify("Every page is loaded already.", timeout=2)
            return
        if self._offline_says("loading every page") or self._already_syncing():
            return
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(ProgressBar).add_class("-shown")
        self._start(SYNC, self._crawl(), busy="loading every page…")

    def _offline_says(self, what: str) -> bool:
        if self.session.offline:
            self.notify(f"Offline: {what} needs lemlist.", severity="warning")
        return self.session.offline

    def _already_syncing(self) -> bool:
        if self._group_busy(SYNC):
            self.notify(f"Busy: {self._busy or 'loading'}", timeout=2)
            return True
        return False

    def commands(self) -> Iterator[SystemCommand]:
        """The command palette's entries for this screen (the app lists them)."""
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # --- workers: the store's operations ---------------------------------------------

    def _start(
        self,
        group: str,
        work: Coroutine[Any, Any, object],
        *,
        exclusive: bool = False,
        busy: str | None = None,
    ) -> None:
        if busy is not None:
            self._busy = busy
            self._update_status()
        self.run_worker(work, group=group, exclusive=exclusive, exit_on_error=False)

    def _group_busy(self, group: str) -> bool:
        return any(
            worker.node is self and worker.group == group and not worker.is_finished
            for worker in self.workers
        )

    async def _open(self, held: bool) -> str | None:
        if held:
            await self.store.load_cached_rest()
            self.post_message(InboxChanged(self.user_id))
        if self.session.offline:
            return None
        if not held:
            await self.store.load_first_page()
        elif self.store.stale:
            await self.store.refresh()
        return None

    async def _refresh(self) -> str:
        result: RefreshResult = await self.store.refresh()
        if not result.new and not result.updated:
            return "Up to date."
        return f"{result.new:,} new, {result.updated:,} updated."

    async def _load_more(self) -> None:
        await self.store.load_more()

    async def _crawl(self) -> str:
        def progress(pages_done: int, total_pages: int | None) -> None:
            self.post_message(CrawlProgress(self.user_id, pages_done, total_pages))

        await self.store.crawl(progress)
        return f"All {len(self.store.conversations):,} conversations loaded."

    async def _fetch_thread(self, conversation: Conversation) -> tuple[str, ThreadPage]:
        await asyncio.sleep(THREAD_DEBOUNCE)
        return conversation.id, await self.store.thread(conversation)

    async def _mark_read(self, conversation: Conversation) -> Conversation:
        return await self.store.mark_read(conversation)

    def on_inbox_changed(self, message: InboxChanged) -> None:
        if message.user_id == self.user_id:
            self._sync_view()

    def on_crawl_progress(self, message: CrawlProgress) -> None:
        if message.user_id != self.user_id:
            return
        self.query_one(ProgressBar).update(total=message.total_pages, progress=message.pages_done)
        if message.total_pages:
            self._busy = f"loading page {message.pages_done:,} of {message.total_pages:,}…"
        # Re-deriving costs ~0.1 s at 100k: pages show up once a second, keys stay instant.
        if time.monotonic() - self._derived_at >= DERIVE_EVERY:
            self._sync_view()
        else:
            self._update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        if worker.group == SYNC:
            self._busy = None
            self.query_one(ProgressBar).remove_class("-shown")
            if event.state is WorkerState.SUCCESS:
                self._error = None
                if isinstance(worker.result, str):
                    self.notify(worker.result, timeout=3)
            elif event.state is WorkerState.ERROR:
                self._report(worker.error)
            self._sync_view()
            self._schedule_warm_orders()
        elif worker.group == THREAD:
            if event.state is WorkerState.SUCCESS and worker.result is not None:
                conversation_id, thread = worker.result
                self.detail.show_thread(conversation_id, thread)
            elif event.state is WorkerState.ERROR and self._thread_for is not None:
                # Shown in the pane itself: a thread is not worth a notification.
                self.detail.show_thread_error(self._thread_for, _sentence(worker.error))
            self._update_status()  # the rate-limit budget moved
        elif worker.group == MARK:
            if event.state is WorkerState.SUCCESS and isinstance(worker.result, Conversation):
                name = clean_line(worker.result.contact.display_name, 40)
                self.notify(f"Marked {name} read.", markup=False, timeout=3)
            elif event.state is WorkerState.ERROR:
                self._report(worker.error)
            self._sync_view()

    def _report(self, error: BaseException | None) -> None:
        sentence = _sentence(error)
        if not isinstance(error, LemlistError):
            self.log.error("unexpected failure in a worker", error)
        self._error = sentence
        self.notify(sentence, severity="error", markup=False)
        self._update_status()


def _sentence(error: BaseException | None) -> str:
    if isinstance(error, LemlistError):
        return str(error)
    return f"Something unexpected went wrong ({type(error).__name__}); the inbox shows what it had."


def _ago(fetched_at: float | None) -> str | None:
    if fetched_at is None:
        return None
    seconds = time.time() - fetched_at
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    return f"{int(seconds // 86400)}d ago"
