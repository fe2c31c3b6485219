"""One user's inbox: the conversation list, the detail pane, the status line.

Every sync call runs in a worker; their outcomes are handled by group in
:meth:`InboxScreen.on_worker_state_changed`, the one place that turns a failure into a
notification and a status-line sentence while the screen keeps what it shows. What the
list shows is always read from the local database, so counts, the unread view and the
filter cover every conversation held, and say so while pages are still coming.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.notifications import SeverityLevel
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from lemlist_tui.api.errors import LemlistError, NetworkError
from lemlist_tui.api.models import Conversation, Draft, Team, ThreadPage
from lemlist_tui.db import TEAM, ListRow, SortKey, StorageError
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.db.replies import Replies
from lemlist_tui.inbox import InboxRows, InboxView
from lemlist_tui.inbox.search_index import SearchIndex
from lemlist_tui.inbox.selection import Selection, preview
from lemlist_tui.messages import CrawlProgress, InboxChanged
from lemlist_tui.presenter import PresentedThreads, Presenter, Threads
from lemlist_tui.screens.confirm import ConfirmScreen
from lemlist_tui.screens.labels import LabelChange, LabelPicker
from lemlist_tui.screens.reader import ReaderScreen
from lemlist_tui.session import Session
from lemlist_tui.sync.engine import OFFLINE, CrawlResult, RefreshResult
from lemlist_tui.sync.sender import OutboxSender
from lemlist_tui.sync.team import TeamCrawl, TeamSync
from lemlist_tui.text import clean_line
from lemlist_tui.widgets.conversation_list import ConversationList, ListHeader
from lemlist_tui.widgets.detail import DetailPane
from lemlist_tui.widgets.footer import KeyFooter
from lemlist_tui.widgets.status import Connection, InboxStatus, StatusLine

__all__ = ["InboxScreen"]

THREAD_DEBOUNCE = 0.15
"""Seconds a conversation stays highlighted before its thread is fetched (holding ↓)."""
BUDGET_EVERY = 1.0
"""Seconds between looks at the API budget while it refills."""
REAPPLY_EVERY = 0.25
"""Seconds between re-reads of the list while a crawl commits pages."""
STATUS_EVERY = 5.0
"""Seconds between status refreshes ("updated 2m ago", the rate-limit budget) and looks
for commits by another process (a second app, ``lemlist-tui sync``)."""
DETAIL_WHILE_TYPING = 0.12
"""Seconds the keys that change the rows (a filter, a sort) must pause before the detail
shows the conversation that came under the cursor."""
BULK_LIMIT = 5000
"""Conversations one bulk change may take: 5,000 requests are over eight minutes of
lemlist's rate limit; a larger view is narrowed with the filter first."""
RECRAWL_AFTER = 600.0
"""Seconds before a full crawl that could not reconcile (pages shifted under it) is tried
again."""

FILTER_HINT = "Filter: name, email, is:unread, is:awaiting, label:NAME, channel:NAME, has:deal"

PALETTE: tuple[tuple[str, str, str], ...] = (
    ("Read", "Open the highlighted conversation full screen", "read"),
    ("Filter", "Filter conversations by name or email", "filter"),
    ("Unread only", "Show only unread conversations, or all again", "toggle_unread"),
    (
        "Awaiting an answer",
        "Show only conversations where the contact wrote last, or all again",
        "toggle_awaiting",
    ),
    ("Cycle sort", "Last activity → last reply → created", "cycle_sort"),
    (
        "Mark read",
        "Mark the highlighted conversation read, then go to the next unread",
        "mark_read",
    ),
    ("Next unread", "Go to the next unread conversation", "next_unread"),
    ("Previous unread", "Go to the previous unread conversation", "previous_unread"),
    ("Undo", "Take back the last change not yet sent to lemlist", "undo"),
    ("Labels", "Attach or remove labels, or create one", "labels"),
    ("Interested", "Mark the lead interested in lemlist (all campaigns)", "interested"),
    ("Not interested", "Mark the lead not interested in lemlist (all campaigns)", "not_interested"),
    ("Reply", "Answer the highlighted conversation: your editor, a review, then send", "reply"),
    ("lemlist drafts", "Open or delete this conversation's drafts kept in lemlist", "drafts"),
    ("Select", "Select or unselect the highlighted conversation", "select"),
    ("Select the view", "Select every conversation of the view, or none again", "select_view"),
    ("Retry refused changes", "Send again the changes lemlist refused", "retry_outbox"),
    ("Team view", "Every teammate's inbox merged, or this user's again", "toggle_team"),
    ("Refresh", "Fetch what changed since the last sync", "refresh"),
    ("Sync everything", "Fetch every page of the inbox again", "load_all"),
    ("Copy email", "Copy the contact's email to the clipboard", "copy_email"),
    ("Clear filter", "Clear the filter and the unread-only view", "clear"),
)
"""Command palette entries: title, help, action of this screen."""

SYNC, THREAD, COUNT, INDEX, OUTBOX, LABELS, REPLY, DRAFTS = (
    "sync", "thread", "count", "index", "outbox", "labels", "reply", "drafts"
)  # fmt: skip
"""Worker groups: one sync operation at a time; the newest thread request and the newest
filter count win; one search index is built at a time; one sender empties the outbox;
one reply is written at a time."""
DRAFTS_FRESH_FOR = 60.0
"""Seconds a conversation's lemlist drafts, once fetched, are shown without asking again."""
READ_ONLY = "Read-only: nothing is changed in lemlist (--read-only or read_only = true)."


class _FilterInput(Input):
    """The filter field, which hands each new value to the screen as it is set.

    ``Input.Changed`` reaches the screen a few message hops later, after the echo of
    the key has gone out in a frame of its own; the list's answer then waits for the
    next frame (a 60 fps tick) and costs a second full repaint. Applied here, the echo,
    the list and the status line go out in one frame.
    """

    # The field keeps its size as its text grows: its virtual size (how far the text
    # scrolls) is no reason to lay the whole screen out again on every key.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

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
        Binding("slash", "filter", "Filter", priority=True, id="inbox.filter"),
        Binding("n", "next_unread", "Next", id="inbox.next_unread"),
        Binding("N", "previous_unread", "Previous unread", show=False, id="inbox.previous_unread"),
        Binding("m", "mark_read", "Read", id="inbox.mark_read"),
        Binding("space", "page_thread", "Page", show=False, id="inbox.page_thread"),
        Binding("z", "undo", "Undo", id="inbox.undo"),
        Binding("l", "labels", "Label", id="inbox.labels"),
        Binding("i", "interested", "Interested", show=False, id="inbox.interested"),
        Binding("x", "not_interested", "Not interested", show=False, id="inbox.not_interested"),
        Binding("R", "reply", "Reply", id="inbox.reply"),
        Binding("D", "drafts", "Drafts", show=False, id="inbox.drafts"),
        Binding("v", "select", "Select", show=False, id="inbox.select"),
        Binding("V", "select_view", "Select all", show=False, id="inbox.select_view"),
        Binding("u", "toggle_unread", "Unread", show=False, id="inbox.toggle_unread"),
        Binding("w", "toggle_awaiting", "Awaiting", show=False, id="inbox.toggle_awaiting"),
        Binding("t", "toggle_team", "Team", show=False, id="inbox.toggle_team"),
        Binding("s", "cycle_sort", "Sort", show=False, id="inbox.cycle_sort"),
        Binding("r", "refresh", "Refresh", show=False, id="inbox.refresh"),
        Binding("a", "load_all", "Sync all", show=False, id="inbox.load_all"),
        Binding("y", "copy_email", "Copy email", show=False, id="inbox.copy_email"),
        Binding("tab", "switch_pane", "Switch pane", show=False, id="inbox.switch_pane"),
        Binding("escape", "clear", "Clear", show=False, id="inbox.clear"),
    ]

    def __init__(
        self,
        session: Session,
        team: Team,
        user_id: str,
        *,
        clock: Callable[[], datetime],
        presenter: Presenter | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.real_team = team
        self.presenter = presenter
        """Presenter mode: every person shown is invented (see :meth:`set_presenter`)."""
        self.team = presenter.team(team) if presenter is not None else team
        self.user_id = user_id
        self.clock = clock
        self.sync = session.inbox(user_id)
        self.view = InboxView(session.db, user_id)
        self.outbox = Outbox(session.db)
        self.selection = Selection()
        self.sender: OutboxSender | None = None
        self.query_text = ""
        self.unread_only = False
        self.awaiting_only = False
        self.sort = SortKey.LAST_ACTIVITY
        self.rows: InboxRows | None = None
        self._busy: str | None = None
        self._error: str | None = None
        self._thread_for: str | None = None
        self._applied_at = 0.0
        self._pages: tuple[int, int | None] | None = None
        self._next_crawl_at = 0.0
        self._counting: sqlite3.Connection | None = None
        self._detail_timer: Timer | None = None
        self._arrived: tuple[int, float] | None = None
        self._drafts: dict[str, tuple[float, tuple[Draft, ...]]] = {}
        """lemlist's drafts per contact, with when they were fetched."""
        self.replies = Replies(session.db)
        self._drafts_for: str | None = None
        self.team_view = False
        """The list shows every teammate's inbox merged (``t``); actions stay this user's."""
        self._team_sync: TeamSync | None = None

    @property
    def user_name(self) -> str:
        user = self.team.user(self.user_id)
        return clean_line(user.display_name if user else self.user_id, 40)

    @property
    def threads(self) -> Threads:
        """Threads as shown: presented in presenter mode."""
        if self.presenter is not None:
            return PresentedThreads(self.sync, self.presenter)
        return self.sync

    def set_presenter(self, presenter: Presenter | None) -> None:
        """Presenter mode on (every person shown invented) or off; the screen redraws."""
        self.presenter = presenter
        self.team = presenter.team(self.real_team) if presenter is not None else self.real_team
        self.detail.team = self.team
        self.conversation_list.present = presenter.row if presenter is not None else None
        self.detail.show(None)  # whatever was shown was the other mode's
        self._show_highlighted()
        self._update_status()

    def _presenting(self, what: str) -> bool:
        """Refuse, in a sentence, what would show or copy real data in presenter mode."""
        if self.presenter is not None:
            self._say(f"Presenter mode: {what} would show real data.", severity="warning")
        return self.presenter is not None

    @property
    def list_user(self) -> str:
        """Whose rows the list shows: this user's, or the team's (:data:`TEAM`)."""
        return TEAM if self.team_view else self.user_id

    @property
    def team_sync(self) -> TeamSync:
        """Every teammate's sync (this user's among them, shared with the run)."""
        if self._team_sync is None:
            ids = dict.fromkeys([self.user_id, *self.team.user_ids])
            self._team_sync = TeamSync([self.session.inbox(uid) for uid in ids])
        return self._team_sync

    def _owner_names(self) -> dict[str, str]:
        """Teammate id → first name, for the team view's owner column."""
        names = {}
        for user_id in self.team.user_ids:
            user = self.team.user(user_id)
            shown = user.display_name if user else user_id
            names[user_id] = clean_line(shown.split(" ")[0] if " " in shown else shown, 20)
        return names

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="panes"):
            with Vertical(id="list-pane"):
                yield _FilterInput(self._filter_to, placeholder=FILTER_HINT, id="filter")
                conversations = ConversationList(clock=self.clock, id="conversations")
                if self.presenter is not None:
                    conversations.present = self.presenter.row
                yield ListHeader(conversations, id="list-header")
                yield conversations
            yield DetailPane(self.team, self.user_id, clock=self.clock, id="detail")
        yield ProgressBar(id="crawl-progress", show_eta=False)
        yield StatusLine(id="status")
        yield KeyFooter()

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
        # What the database holds is on screen at once; the network follows.
        self._apply()
        self.set_focus(self.conversation_list)
        if self.session.notice:
            self._say(self.session.notice, severity="warning", timeout=10)
        if self.session.client is not None:
            self._start(SYNC, self._open(), busy="loading…")
        if self.session.client is not None and not self.read_only:
            self.sender = OutboxSender(
                self.outbox,
                self.session.client,
                changed=self._update_status,
                delivered=self._delivered,
                held_for=self.session.settings.undo_for,
            )
            self.run_worker(self.sender.run(), group=OUTBOX, exit_on_error=False)
        self.set_interval(STATUS_EVERY, self._tick)
        self.set_interval(BUDGET_EVERY, self._budget_tick)
        refresh_every = self.session.settings.refresh_every
        if refresh_every > 0 and not self.session.offline:
            self.set_interval(refresh_every, self._refresh_on_timer)

    # --- what is shown -----------------------------------------------------------------

    def _apply(
        self, *, far: bool = True, top: bool = False, show: bool = True, follow: bool = False
    ) -> None:
        """Read the current view from the database again (cheap: one screen of rows).

        The cursor stays on its conversation; ``far=False`` looks for it only in the
        first screen of the new rows (a re-sort: finding it deep in a million rows is a
        count over half of them), and starts at the top when it is not there. ``top``:
        the cursor goes to the first row (a new filter: its first match). ``show=False``:
        the detail is left as it is (the caller moves the cursor next). ``follow``: the
        detail shows the conversation now under the cursor, whichever it is, in the same
        frame as the list (a key's whole answer); otherwise another conversation under
        the cursor shows when the keys pause (typing in the filter).
        """
        try:
            self._read_view(far, top, show, follow)
        except StorageError as error:  # the screen keeps what it shows, and says why
            self._report(error)

    def _read_view(
        self, far: bool, top: bool = False, show: bool = True, follow: bool = False
    ) -> None:
        self._applied_at = time.monotonic()
        conversations = self.conversation_list
        current = conversations.highlighted
        self.rows = self.view.apply(
            self.query_text,
            unread_only=self.unread_only,
            awaiting_only=self.awaiting_only,
            sort=self.sort,
        )
        if not self.rows.exact:
            self._count(self.rows)
        if (
            self.query_text
            and not self._group_busy(SYNC)
            and not self._group_busy(INDEX)
            and self.view.wants_search_index()
        ):
            self._index(self.session.db.version)
        conversations.empty_text = self._empty_text()
        conversations.label_names = self._label_names()
        conversations.owner_names = self._owner_names() if self.team_view else None
        keep = current.id if current else None
        if top:
            first = self.rows.get(0)
            keep, far = (first.id if first else None), False
        conversations.set_rows(self.rows, user_id=self.user_id, keep_id=keep, far=far)
        if show and (follow or (current is not None and conversations.cursor_id == current.id)):
            # A newer copy of the same conversation shows at once; with ``follow``, so
            # does another one now under the cursor.
            self._show_highlighted()
        self._update_status()

    def _show_highlighted(self) -> None:
        highlighted = self.conversation_list.highlighted
        shown = self.detail.conversation
        if highlighted is None:
            if shown is not None:
                self.detail.show(None)
            return
        if shown is None or highlighted.id != shown.id:
            self._show_row(highlighted)
            return
        try:
            fresh = self._stored(highlighted.id)
            interest = self._interest_shown(fresh) if fresh is not None else None
        except StorageError as error:  # the detail keeps what it shows, and says why
            if self._error != str(error):
                self._report(error)
            return
        if fresh is None:
            return
        drafts, note = self._extras(fresh)
        if fresh != shown or interest != self.detail.interest or note != self.detail.reply_note:
            self.detail.show(fresh, interest=interest, drafts=drafts, reply_note=note)
        self._want_drafts(fresh)

    def _count(self, rows: InboxRows) -> None:
        """Count ``rows`` in a worker; a count still running for an older query stops."""
        if self._counting is not None:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed: it had finished
                self._counting.interrupt()  # thread-safe: its scan ends at the next step
        self._counting = self.session.db.reader()
        self._count_in_thread(rows, self._counting)

    @work(group=COUNT, exclusive=True, thread=True, exit_on_error=False)
    def _count_in_thread(self, rows: InboxRows, connection: sqlite3.Connection) -> None:
        """The exact match count of a filter on a large inbox, off the event loop."""
        try:
            count = self.view.count(rows, connection)
        except (StorageError, sqlite3.OperationalError):
            if get_current_worker().is_cancelled:
                return  # interrupted by a newer query: nothing to say
            raise
        finally:
            connection.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._counted, rows, count)

    @work(group=INDEX, thread=True, exit_on_error=False)
    def _index(self, version: int) -> None:
        """The search index for rare filter terms, built off the event loop."""
        connection = self.session.db.reader()
        try:
            index = self.view.build_search_index(connection, version)
        finally:
            connection.close()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._indexed, index)

    def _indexed(self, index: SearchIndex) -> None:
        self.view.search_index = index
        if self.query_text:
            self._apply()  # a rare term's answer is now exact at once

    def _counted(self, rows: InboxRows, count: int) -> None:
        if rows is not self.rows:
            return  # the view moved on meanwhile
        current = self.conversation_list.highlighted
        self.rows = rows.with_count(count)
        self.conversation_list.set_rows(
            self.rows, user_id=self.user_id, keep_id=current.id if current else None
        )
        self._update_status()

    def _empty_text(self) -> str:
        held, _ = self.view.counts()
        if held == 0:
            if self._busy:
                return "Loading the inbox…"
            if self._error:
                return f"{self._error} Press r to try again."
            if self.session.offline:
                return "Nothing is stored for this user yet: go online to load the inbox."
            return "This inbox is empty."
        if self.view.problems:
            return " ".join(self.view.problems)
        if self.query_text:
            return "No conversation matches the filter (esc clears it)."
        if self.awaiting_only:
            return "No conversation awaits an answer (w shows all)."
        if self.unread_only:
            return "No unread conversation (u shows all)."
        return "Nothing to show."

    def _update_status(self) -> None:
        try:
            self._read_status()
        except StorageError as error:
            line = self.query_one(StatusLine)
            if line.status is not None:  # what it said, and why it cannot say more
                line.show(dataclasses.replace(line.status, error=str(error)))
            if self._error != str(error):
                self._report(error)

    def _read_status(self) -> None:
        state = self.sync.state
        connection: Connection = "online"
        if self.session.offline:
            connection = "offline"
        elif self.sync.stale(state):
            connection = "stale"
        client = self.session.client
        budget = client.limiter.budget() if client is not None else None
        outbox = self.outbox.summary()
        held, unread = self.view.counts()
        rows = self.rows
        self.query_one(StatusLine).show(
            InboxStatus(
                user=f"Team · {self.user_name}" if self.team_view else self.user_name,
                loaded=held,
                total=state.total_items,
                unread=unread,
                shown=len(rows) if rows is not None else 0,
                shown_exact=rows.exact if rows is not None else True,
                complete=state.complete,
                pages=self._pages,
                connection=connection,
                updated=_ago(state.refreshed_at),
                rate_remaining=budget[0] if budget is not None else None,
                rate_limit=client.limiter.limit if client is not None else None,
                rate_hold=budget[1] if budget is not None else 0.0,
                query=clean_line(self.query_text, 24),
                unread_only=self.unread_only,
                awaiting_only=self.awaiting_only,
                hint=" ".join(self.view.problems) or None,
                sort=self.sort.value,
                busy=self._busy,
                arrived=(
                    f"{self._arrived[0]:,} new {_ago(self._arrived[1])}"
                    if self._arrived is not None
                    else None
                ),
                error=self._error,
                selected=len(self.selection),
                outbox=outbox.sentence(offline=self.session.offline),
                outbox_failed=bool(outbox.failed),
                read_only=self.read_only,
                profile=self.session.settings.profile,
                team=self.team_sync.whole() if self.team_view else None,
            )
        )

    def _budget_tick(self) -> None:
        """The API budget as it is now: it refills as the window slides."""
        client = self.session.client
        if client is None:
            return
        left, hold = client.limiter.budget()
        status = self.query_one(StatusLine).status
        if status is not None and (status.rate_remaining != left or status.rate_hold or hold):
            self._update_status()

    def _tick(self) -> None:
        """Every few seconds: another process may have committed; the times age."""
        try:
            changed = self.session.db.changed()
        except sqlite3.Error:  # unreadable now: the next read that matters says why
            changed = False
        if changed and not self._group_busy(SYNC):
            self._apply()
        else:
            self._update_status()

    # --- the list and the detail -----------------------------------------------------

    @on(ConversationList.Highlighted)
    def _highlighted(self, event: ConversationList.Highlighted) -> None:
        if not event.moved or self.focused is self.filter_input:
            # New rows (a filter key, a sort) put another conversation under the cursor:
            # the list answers at once, the detail (a layout of the whole screen) follows
            # when the keys pause.
            if self._detail_timer is not None:
                self._detail_timer.stop()
            self._detail_timer = self.set_timer(DETAIL_WHILE_TYPING, self._show_highlighted)
        elif event.row is None:
            self.detail.show(None)
        elif self.detail.conversation is None or event.row.id != self.detail.conversation.id:
            self._show_row(event.row)

    def _show_row(self, row: ListRow) -> None:
        """Show it at once; fetch its thread only if it stays highlighted a moment."""
        try:
            self._show_stored(row)
        except StorageError as error:
            self.detail.show(None)
            self._report(error)

    def conversation_shown(self, conversation_id: str) -> Conversation | None:
        """The held conversation as it is shown (labels by name); for the reader."""
        return self._stored(conversation_id)

    def _stored(self, conversation_id: str) -> Conversation | None:
        """The held conversation as the detail shows it: its labels by name, those the
        app applied included."""
        conversation = self.session.db.conversation(conversation_id)
        if conversation is None:
            return None
        if self.presenter is not None:
            conversation = self.presenter.conversation(conversation)
        if conversation.contact_id is None:
            return conversation
        ids = self.outbox.labels_of(conversation.contact_id)
        if not ids and not conversation.labels:
            return conversation
        names = self._label_names()
        shown = tuple(names.get(i, i) for i in dict.fromkeys((*conversation.labels, *ids)))
        return dataclasses.replace(conversation, labels=shown)

    def _interest_shown(self, conversation: Conversation) -> bool | None:
        lead = conversation.lead_id  # the conversation is at hand: not read again
        contact_id = conversation.contact_id
        if lead is None and contact_id is not None:
            lead = self.session.db.thread_lead(contact_id, self.user_id)
        return self.outbox.interest_of(lead) if lead else None

    def _show_stored(self, row: ListRow) -> None:
        conversation = self._stored(row.id)
        if conversation is None:  # removed since the row was read
            self.detail.show(None)
            return
        cached = self.threads.cached_thread(conversation)
        drafts, note = self._extras(conversation)
        self.detail.show(
            conversation,
            cached,
            interest=self._interest_shown(conversation),
            drafts=drafts,
            reply_note=note,
        )
        self._want_drafts(conversation)
        if cached is None and self.session.offline:
            # Nothing to wait for: say so in the same frame, rather than "Loading thread…"
            # now and a second repaint of the pane when the fetch fails.
            self.workers.cancel_group(self, THREAD)
            self.detail.show_thread_error(conversation.id, _sentence(NetworkError(OFFLINE)))
        elif cached is None and self.app.screen is not self:
            self.workers.cancel_group(self, THREAD)  # the reader on top fetches it
        elif cached is None:
            self._thread_for = conversation.id
            # Made when the worker runs: a worker cancelled by the next key before
            # it ran would leave its coroutine never awaited.
            self._start(THREAD, partial(self._fetch_thread, conversation), exclusive=True)
        else:
            self.workers.cancel_group(self, THREAD)

    def _extras(self, conversation: Conversation) -> tuple[tuple[Draft, ...] | None, str | None]:
        """The lemlist drafts known for ``conversation``, and where a reply written here
        stands."""
        contact_id = conversation.contact_id
        if contact_id is None:
            return None, None
        drafts = self._drafts.get(contact_id)
        reply = self.replies.open_for(contact_id, self.user_id)
        note = reply.note if reply is not None else None
        return (self._shown_drafts(drafts[1]) if drafts else None), note

    def _shown_drafts(self, drafts: tuple[Draft, ...]) -> tuple[Draft, ...]:
        """lemlist's drafts as the detail shows them: stand-ins in presenter mode."""
        return self.presenter.drafts(drafts) if self.presenter is not None else drafts

    def _want_drafts(self, conversation: Conversation) -> None:
        """Ask lemlist for the conversation's drafts, unless known from a moment ago."""
        contact_id = conversation.contact_id
        if contact_id is None or self.session.client is None:
            return
        known = self._drafts.get(contact_id)
        if known is not None and time.monotonic() - known[0] < DRAFTS_FRESH_FOR:
            return
        if self._drafts_for == contact_id and self._group_busy(DRAFTS):
            return  # on its way already
        self._drafts_for = contact_id
        fetch = partial(self._fetch_drafts, conversation.id, contact_id)
        self._start(DRAFTS, fetch, exclusive=True)

    @on(ConversationList.Resorted)
    def _resorted(self) -> None:
        self.query_one(ListHeader).refresh()

    @on(ConversationList.Selected)
    def _selected(self, event: ConversationList.Selected) -> None:
        self.action_read()

    def action_read(self) -> None:
        """The highlighted conversation full screen (``enter``)."""
        if self.conversation_list.highlighted is not None:
            self.app.push_screen(ReaderScreen(self))

    def on_screen_resume(self) -> None:
        # Back from the reader (or a picker): the cursor may have moved under it, and the
        # thread was the reader's to fetch while it was on top.
        row = self.conversation_list.highlighted
        if row is not None:
            self._show_row(row)

    @on(ConversationList.NearEnd)
    def _near_end(self) -> None:
        state = self.sync.state
        if (
            self.session.settings.sync == "on-demand"
            and not state.complete
            and not self.session.offline
            and not self._group_busy(SYNC)
        ):
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
            self._apply(top=True)  # on the first match

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        if not self.query_text:
            self.filter_input.display = False
        self.set_focus(self.conversation_list)

    def action_clear(self) -> None:
        if self.selection and self.focused is not self.filter_input:
            self._select_none()
            return
        if self.focused is self.filter_input or self.query_text:
            self.filter_input.value = ""  # posts Input.Changed, which re-applies
            self.query_text = ""
            self.filter_input.display = False
        elif self.focused is not self.detail:
            self.unread_only = False
            self.awaiting_only = False
        self.set_focus(self.conversation_list)
        self._apply()

    def action_toggle_unread(self) -> None:
        self.unread_only = not self.unread_only
        self._apply(follow=True)

    def action_toggle_awaiting(self) -> None:
        self.awaiting_only = not self.awaiting_only
        self._apply(follow=True)

    def action_cycle_sort(self) -> None:
        self.sort = self.sort.next()
        self.conversation_list.shown_time = self.sort
        self.query_one(ListHeader).refresh()  # in this frame, not after its message
        # No notification: the status line names the sort, and a toast costs the
        # keystroke two or three more frames.
        self._apply(far=False, follow=True)

    def action_switch_pane(self) -> None:
        if self.focused is self.detail:
            self.set_focus(self.conversation_list)
        else:
            self.set_focus(self.detail)

    # --- triage ----------------------------------------------------------------------

    @property
    def read_only(self) -> bool:
        return self.session.settings.read_only

    def _writes(self) -> bool:
        """Whether a key that changes lemlist may go on; says why not when it may not."""
        if self.read_only:
            self._say(READ_ONLY, severity="warning")
            return False
        return True

    def say(
        self, text: str, *, severity: SeverityLevel = "information", timeout: float = 3
    ) -> None:
        """One notice (for the screens and flows this one starts)."""
        self._say(text, severity=severity, timeout=timeout)

    def outbox_changed(self) -> None:
        """Something was queued from elsewhere (a reply): send it, show it."""
        if self.sender is not None:
            self.sender.wake()
        self._apply()

    def _delivered(self, action: Action) -> None:
        """The sender got ``action`` through; a reply shows in its thread, and its
        conversation at the top of the list; lemlist's drafts are asked for again."""
        if action.kind in (Kind.REPLY, Kind.DRAFT, Kind.DRAFT_DELETE):
            self._drafts.pop(action.contact_id, None)
            shown = self.detail.conversation
            if shown is not None and shown.contact_id == action.contact_id:
                self._show_highlighted()
        if action.kind is not Kind.REPLY or action.conversation_id is None:
            return
        conversation = self.session.db.conversation(action.conversation_id)
        if conversation is not None:
            self._start(THREAD, self._fetch_sent(conversation))
        if not self._group_busy(SYNC):
            self._start(SYNC, self._refresh(quiet=True))

    async def _fetch_sent(self, conversation: Conversation) -> tuple[str, ThreadPage]:
        return conversation.id, await self.threads.thread(conversation)

    def action_reply(self) -> None:
        """``R``: answer the highlighted conversation (see :mod:`screens.reply`)."""
        if self._presenting("a reply (its quote, its addresses)") or not self._writes():
            return
        row = self.conversation_list.highlighted
        if row is None:
            self._say("No conversation to answer.")
            return
        if self._group_busy(REPLY):
            self._say("A reply is being written already.")
            return
        try:
            conversation = self.session.db.conversation(row.id)
        except StorageError as error:
            self._report(error)
            return
        if conversation is None:
            return
        # Here, not at the top: the editor's screens (TextArea) cost ~15 ms of start-up.
        from lemlist_tui.screens.reply import ReplyFlow

        self._start(REPLY, ReplyFlow(self, conversation).run())

    def action_drafts(self) -> None:
        """``D``: this conversation's lemlist drafts: open one (review, update, send) or
        delete one."""
        if self._presenting("lemlist's drafts"):
            return
        row = self.conversation_list.highlighted
        conversation = self.session.db.conversation(row.id) if row else None
        contact_id = conversation.contact_id if conversation else None
        if conversation is None or contact_id is None:
            return
        if self.session.offline:
            self._say("Offline: lemlist's drafts are in lemlist.", severity="warning")
            return
        if self._group_busy(REPLY):
            self._say("A reply is being written already.")
            return
        self._start(REPLY, self._pick_draft(conversation, contact_id))

    async def _pick_draft(self, conversation: Conversation, contact_id: str) -> None:
        from lemlist_tui.screens.reply import DraftPicker, ReplyFlow  # see action_reply

        drafts = await self._ask_drafts(conversation.id, contact_id)
        if not drafts:
            self._say("No lemlist draft of yours on this conversation.")
            return
        target = clean_line(conversation.contact.display_name, 40)
        picked = await self.app.push_screen_wait(DraftPicker(drafts, target))
        if picked is None:
            return
        what, draft = picked
        if not self._writes():
            return
        if what == "open":
            await ReplyFlow(self, conversation).run(draft)
            return
        action = Action(
            Kind.DRAFT_DELETE, contact_id, conversation.id, user_id=self.user_id, target=draft.id
        )
        left = tuple(d for d in drafts if d.id != draft.id)
        self._drafts[contact_id] = (time.monotonic(), left)
        self.detail.show_drafts(conversation.id, left)
        self._queue([action], "lemlist draft deleted")

    def action_mark_read(self) -> None:
        """Mark the highlighted conversation read (through the outbox: at once here, in
        lemlist as soon as the sender can), then go to the next unread one."""
        if not self._writes():
            return
        if self.selection:
            self._bulk_mark_read()
            return
        row = self.conversation_list.highlighted
        if row is None:
            return
        try:
            self._mark_read(row)
        except StorageError as error:
            self._report(error)

    # --- the bulk selection ------------------------------------------------------------

    def action_select(self) -> None:
        row = self.conversation_list.highlighted
        if row is None:
            return
        if self.selection.view is not None and len(self.selection.view) > BULK_LIMIT:
            self.selection.clear()
        self.selection.toggle(row.id)
        self._marks_changed()
        self.conversation_list.action_cursor_down()

    def action_select_view(self) -> None:
        rows = self.rows
        if self.selection.view is not None or rows is None or not len(rows):
            self._select_none()
            return
        if not rows.exact or len(rows) > BULK_LIMIT:
            self._say(
                f"A bulk change takes at most {BULK_LIMIT:,} conversations: narrow the view "
                "with the filter first.",
                severity="warning",
            )
            return
        self.selection.select_view(rows)
        self._marks_changed()

    def _select_none(self) -> None:
        self.selection.clear()
        self._marks_changed()

    def _marks_changed(self) -> None:
        selection = self.selection
        self.conversation_list.is_selected = selection.__contains__ if selection else None
        self._update_status()

    def _selected_targets(self) -> list[tuple[str, str, bool]]:
        """(conversation, contact, unread) of each selected conversation."""
        ids = list(self.selection.ids())
        return self.session.db.targets(self.user_id, ids)

    def _confirm(self, question: str, then: Callable[[], None]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(question), answered)

    def _bulk_mark_read(self) -> None:
        try:
            targets = self._selected_targets()
        except StorageError as error:
            self._report(error)
            return
        unread = [t for t in targets if t[2]]
        actions = [
            Action(Kind.READ, contact, cid, user_id=self.user_id) for cid, contact, _ in unread
        ]

        def go() -> None:
            self._queue(actions, f"{len(actions):,} marked read")
            self._select_none()

        self._confirm(preview("mark read", len(targets), len(actions)), go)

    def _queue(self, actions: list[Action], done: str) -> None:
        """Apply ``actions`` here and queue them for lemlist, as one undoable change."""
        try:
            queued = self.outbox.add(actions)
        except StorageError as error:
            self._report(error)
            return
        if queued.queued and self.sender is not None:
            self.sender.wake()
        self._apply()
        self._say(f"{done} (z undoes).")

    def _mark_read(self, row: ListRow) -> None:
        rows = self.rows
        cursor = self.conversation_list.cursor
        following = rows.next_unread(cursor) if rows is not None else None
        next_id = rows[following].id if rows is not None and following is not None else None
        if row.unread:
            conversation = self.session.db.conversation(row.id)
            contact_id = conversation.contact_id or conversation.lead_id if conversation else None
            if contact_id is None:
                self._say("lemlist gave no contact for this conversation: it cannot be marked.")
                return
            action = Action(Kind.READ, contact_id, row.id, user_id=self.user_id)
            if self.outbox.add([action]).queued and self.sender is not None:
                self.sender.wake()
            # The detail moves on with the cursor: no need to redraw the one left first.
            self._apply(show=next_id is None)
        rows = self.rows
        if next_id is not None and rows is not None:
            index = rows.index_of_id(next_id, near=cursor)
            if index is not None:
                self._move_to(index)
                return
        self._to_unread(None, backwards=False)
        self._show_highlighted()  # wherever the cursor is now, shown as it is now

    def action_page_thread(self) -> None:
        """mutt's space: the next page of the thread; at its end, the next unread."""
        detail = self.detail
        if detail.scroll_y < detail.max_scroll_y:
            detail.scroll_page_down(animate=False)
        else:
            self._step_unread(backwards=False)

    def action_next_unread(self) -> None:
        self._step_unread(backwards=False)

    def action_previous_unread(self) -> None:
        self._step_unread(backwards=True)

    def _step_unread(self, *, backwards: bool) -> None:
        rows = self.rows
        if rows is None or not len(rows):
            return
        try:
            self._to_unread(
                rows.next_unread(self.conversation_list.cursor, backwards=backwards),
                backwards=backwards,
            )
        except StorageError as error:
            self._report(error)

    def _to_unread(self, index: int | None, *, backwards: bool) -> None:
        """Go to ``index``; when None, wrap to the other end of the view, and say so."""
        rows = self.rows
        if rows is None:
            return
        if index is None:
            index = rows.first_unread(last=backwards)
            here = self.conversation_list.cursor
            if index is None or index == here:
                still = rows.get(here)
                self._say(
                    "This is the last unread conversation of this view."
                    if still is not None and still.unread and index == here
                    else "No unread conversation left in this view."
                )
                return
            self._say(f"Wrapped to the {'last' if backwards else 'first'} unread conversation.")
        self._move_to(index)

    def _move_to(self, index: int) -> None:
        """The cursor to ``index``, and the detail with it in the same frame.

        Left to the list's Highlighted message, the detail would reach the screen a
        frame after the list (the message bubbles through the containers while the
        screen already draws what changed): two frames, the second a tick (1/60 s)
        later. The message that follows finds the conversation shown and does nothing.
        """
        self.conversation_list.cursor = index
        self._show_highlighted()

    def action_undo(self) -> None:
        try:
            undone = self.outbox.undo()
        except StorageError as error:
            self._report(error)
            return
        self._say(undone.sentence())
        if undone.nothing:
            return
        if undone.reversed and self.sender is not None:
            self.sender.wake()
        self._apply()
        rows = self.rows
        if undone.conversation_id is not None and rows is not None:
            index = rows.index_of_id(undone.conversation_id, near=self.conversation_list.cursor)
            if index is not None:
                self._move_to(index)

    def action_labels(self) -> None:
        if not self._writes():
            return
        row = self.conversation_list.highlighted
        if row is None:
            return
        try:
            if self.selection:
                contacts = [contact for _, contact, _ in self._selected_targets()]
                target = f"{len(contacts):,} conversations"
            else:
                conversation = self.session.db.conversation(row.id)
                contact_id = conversation.contact_id if conversation is not None else None
                if contact_id is None:
                    self._say(
                        "lemlist gave no contact for this conversation: it cannot be labelled."
                    )
                    return
                contacts = [contact_id]
                target = (self.presenter.row(row) if self.presenter else row).display_name
            labels = self.session.db.labels()
            # Shown as on when every target has it.
            on = (
                frozenset.intersection(
                    *(frozenset(self.outbox.labels_of(contact)) for contact in contacts)
                )
                if contacts
                else frozenset()
            )
        except StorageError as error:
            self._report(error)
            return
        if not contacts:
            return
        if not labels and self.session.offline:
            self._say("No labels are stored yet: go online once to fetch them.")
            return

        def chosen(change: LabelChange | None) -> None:
            if change is None or change.empty:
                return
            if change.create:
                if self.session.client is None:
                    self._say("Creating a label needs lemlist (offline).", severity="warning")
                    return
                self._start(LABELS, self._create_labels(change, contacts))
                return
            if len(contacts) > 1:
                requests = len(contacts) * (len(change.attach) + len(change.remove))
                self._confirm(
                    preview("labels", len(contacts), requests),
                    lambda: self._queue_labels(change, contacts),
                )
                return
            self._queue_labels(change, contacts)

        self.app.push_screen(LabelPicker(labels, on, target), chosen)

    async def _create_labels(self, change: LabelChange, contacts: list[str]) -> None:
        """Create the new labels in lemlist (at once: they are not a conversation's
        change), then attach them through the outbox like any other."""
        client = self.session.client
        assert client is not None
        created = [await client.create_label(name) for name in change.create]
        await self.sync.labels()
        attach = change.attach + tuple(label.id for label in created)
        self._queue_labels(LabelChange(attach, change.remove), contacts)

    def _queue_labels(self, change: LabelChange, contacts: list[str]) -> None:
        actions = [
            Action(kind, contact, target=label)
            for contact in contacts
            for kind, labels in ((Kind.LABEL, change.attach), (Kind.UNLABEL, change.remove))
            for label in labels
        ]
        names = self._label_names()
        said = [f"+{names.get(i, i)}" for i in change.attach]
        said += [f"-{names.get(i, i)}" for i in change.remove]
        self._queue(actions, f"Labels: {clean_line(' '.join(said), 60)}")
        if len(contacts) > 1:
            self._select_none()

    def _label_names(self) -> dict[str, str]:
        return {label.id: label.name or label.id for label in self.session.db.labels()}

    def action_interested(self) -> None:
        self._interest(True)

    def action_not_interested(self) -> None:
        self._interest(False)

    def _interest(self, interested: bool) -> None:
        """``i`` / ``x``: the lead's interest, on the highlighted conversation or every
        selected one (the lead ids come from the threads held)."""
        if not self._writes():
            return
        kind = Kind.INTERESTED if interested else Kind.NOT_INTERESTED
        what = "interested" if interested else "not interested"
        try:
            if self.selection:
                targets = self._selected_targets()
            else:
                row = self.conversation_list.highlighted
                targets = self.session.db.targets(self.user_id, [row.id]) if row else []
            actions = []
            unknown = 0
            for conversation_id, contact_id, _ in targets:
                lead = self._lead_of(conversation_id, contact_id)
                if lead is None:
                    unknown += 1
                else:
                    actions.append(Action(kind, contact_id, conversation_id, target=lead))
        except StorageError as error:
            self._report(error)
            return
        if not actions:
            if targets:
                self._say(
                    "The lead is known once its thread is loaded: open the conversation, "
                    "then try again."
                )
            return
        skipped = f" ({unknown:,} without a loaded thread left out)" if unknown else ""
        if self.selection:

            def go() -> None:
                self._queue(actions, f"{len(actions):,} leads marked {what}{skipped}")
                self._select_none()

            self._confirm(preview(f"mark {what}", len(targets), len(actions)), go)
            return
        self._queue(actions, f"Lead marked {what}")

    def _lead_of(self, conversation_id: str, contact_id: str) -> str | None:
        """The lead of a conversation: from the conversation, else its thread's messages."""
        conversation = self.session.db.conversation(conversation_id)
        if conversation is not None and conversation.lead_id:
            return conversation.lead_id
        return self.session.db.thread_lead(contact_id, self.user_id)

    def action_retry_outbox(self) -> None:
        if not self._writes():
            return
        try:
            retried = self.outbox.retry_failed()
        except StorageError as error:
            self._report(error)
            return
        if self.sender is not None:
            self.sender.wake()
        self._say(
            f"{retried:,} refused changes queued again." if retried else "Nothing was refused."
        )
        self._update_status()

    def _say(
        self, text: str, *, severity: SeverityLevel = "information", timeout: float = 3
    ) -> None:
        """One notice at a time: it replaces the one before instead of stacking over the
        thread."""
        self.app.clear_notifications()
        self.notify(text, severity=severity, markup=False, timeout=timeout)

    def action_copy_email(self) -> None:
        if self._presenting("copying the email"):
            return
        row = self.conversation_list.highlighted
        email = row.email if row else None
        if not email:
            self._say("This contact has no email address.", severity="warning")
            return
        self.app.copy_to_clipboard(email)
        self._say(f"Copied {clean_line(email, 60)} to the clipboard.")

    def action_toggle_team(self) -> None:
        """This user's inbox ⇄ the team's: every teammate's inbox merged, each conversation
        once, its owner shown; unread there means no teammate has read it."""
        self.team_view = not self.team_view
        self.view = InboxView(self.session.db, self.list_user)
        self._pages = None  # a walk of the other view's inboxes says nothing of this one
        self.query_one(ProgressBar).remove_class("-shown")
        self._apply()
        if self.team_view:
            self._say(
                f"Team view: {len(self.team_sync.syncs)} inboxes merged; ● = nobody has "
                f"read it; m marks it read for {self.user_name}. t: back."
            )
            if not self.session.offline and not self._group_busy(SYNC) and self._crawl_wanted():
                self._start_crawl()
        else:
            self._say(f"{self.user_name}'s inbox.")

    def action_refresh(self) -> None:
        if self._offline_says("refreshing") or self._already_syncing():
            return
        self._start(SYNC, self._refresh(), busy="refreshing…")

    def action_load_all(self) -> None:
        if self._offline_says("syncing every page") or self._already_syncing():
            return
        self._start_crawl()

    def _start_crawl(self) -> None:
        self._show_progress()
        self._start(SYNC, self._crawl(), busy="syncing…")

    def _show_progress(self) -> None:
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(ProgressBar).add_class("-shown")

    def _refresh_on_timer(self) -> None:
        if self._group_busy(SYNC):
            return
        if self._crawl_wanted():
            self._start_crawl()
        else:
            self._start(SYNC, self._refresh(quiet=True))

    def _crawl_wanted(self) -> bool:
        due = self.team_sync.crawl_due() if self.team_view else self.sync.crawl_due()
        return (
            self.session.settings.sync == "background"
            and due
            and time.monotonic() >= self._next_crawl_at
        )

    def _offline_says(self, what: str) -> bool:
        if self.session.offline:
            self._say(f"Offline: {what} needs lemlist.", severity="warning")
        return self.session.offline

    def _already_syncing(self) -> bool:
        if self._group_busy(SYNC):
            self._say(f"Busy: {self._busy or 'syncing'}", timeout=2)
            return True
        return False

    def commands(self) -> Iterator[SystemCommand]:
        """The command palette's entries for this screen (the app lists them)."""
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, getattr(self, f"action_{action}"))

    # --- workers: the sync's operations ----------------------------------------------

    def _start(
        self,
        group: str,
        work: Coroutine[Any, Any, object] | Callable[[], Coroutine[Any, Any, object]],
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

    async def _open(self) -> str | None:
        """On opening: what changed at the top, then (in the background mode) the rest."""
        state = self.sync.state
        held, _ = self.view.counts()
        if held and self.sync.stale(state):
            await self.sync.refresh()
            self.post_message(InboxChanged(self.user_id))
        elif not held and self.session.settings.sync == "on-demand":
            await self.sync.load_more()
        try:
            await self.sync.labels()  # names for label: and the rows (one request)
        except LemlistError as error:  # the inbox works without them
            self.log.warning(f"labels not fetched: {error}")
        if self._crawl_wanted():
            # In the same worker: the rest of the inbox, with its progress shown.
            self._show_progress()
            return await self._crawl()
        return None

    async def _refresh(self, *, quiet: bool = False) -> str | None:
        syncing = self.team_sync if self.team_view else self.sync
        result: RefreshResult = await syncing.refresh()
        if result.new:
            # Said in the status line until the next refresh that brings none.
            self._arrived = (result.new, time.time())
        elif quiet:
            self._arrived = None
        if not result.new and not result.updated:
            return None if quiet else "Up to date."
        if quiet and not result.new:
            return None
        return f"{result.new:,} new, {result.updated:,} updated."

    async def _load_more(self) -> None:
        await self.sync.load_more()

    async def _crawl(self) -> str | None:
        whose = self.list_user

        def progress(pages_done: int, total_pages: int | None) -> None:
            self.post_message(CrawlProgress(whose, pages_done, total_pages))

        result: CrawlResult | TeamCrawl
        if whose == TEAM:
            result = await self.team_sync.crawl(progress)
        else:
            result = await self.sync.crawl(progress)
        if not result.reconciled:
            self._next_crawl_at = time.monotonic() + RECRAWL_AFTER
        if result.removed:
            return f"{result.removed:,} conversations deleted in lemlist were removed."
        return None

    async def _fetch_drafts(self, conversation_id: str, contact_id: str) -> None:
        """This user's lemlist drafts on a conversation the cursor rests on (one request;
        kept for :data:`DRAFTS_FRESH_FOR`). The inbox works without them."""
        await asyncio.sleep(THREAD_DEBOUNCE)
        try:
            await self._ask_drafts(conversation_id, contact_id)
        except LemlistError as error:
            self.log.warning(f"drafts not fetched: {error}")

    async def _ask_drafts(self, conversation_id: str, contact_id: str) -> tuple[Draft, ...]:
        """lemlist's drafts of this user on the conversation, kept and shown."""
        client = self.session.client
        if client is None:
            return ()
        drafts = await client.drafts(contact_id, self.user_id)
        self._drafts[contact_id] = (time.monotonic(), drafts)
        self.detail.show_drafts(conversation_id, self._shown_drafts(drafts))
        return drafts

    async def _fetch_thread(self, conversation: Conversation) -> tuple[str, ThreadPage]:
        await asyncio.sleep(THREAD_DEBOUNCE)
        return conversation.id, await self.threads.thread(conversation)

    def on_inbox_changed(self, message: InboxChanged) -> None:
        if message.user_id in (self.user_id, self.list_user):
            self._apply()

    def on_crawl_progress(self, message: CrawlProgress) -> None:
        if message.user_id != self.list_user:
            return
        self.query_one(ProgressBar).update(total=message.total_pages, progress=message.pages_done)
        self._pages = (message.pages_done, message.total_pages)
        if message.total_pages:
            self._busy = f"syncing {message.pages_done:,}/{message.total_pages:,}"
        if time.monotonic() - self._applied_at >= REAPPLY_EVERY:
            self._apply()
        else:
            self._update_status()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or event.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        if worker.group == SYNC:
            self._busy = None
            self._pages = None
            self.query_one(ProgressBar).remove_class("-shown")
            if event.state is WorkerState.SUCCESS:
                self._error = None
                if isinstance(worker.result, str):
                    self._say(worker.result)
            elif event.state is WorkerState.ERROR:
                self._report(worker.error)
            self._apply()
        elif worker.group == THREAD:
            if event.state is WorkerState.SUCCESS and worker.result is not None:
                conversation_id, thread = worker.result
                self.detail.show_thread(conversation_id, thread)
                self._show_highlighted()  # the thread names the lead: its interest shows
            elif event.state is WorkerState.ERROR and self._thread_for is not None:
                # Shown in the pane itself: a thread is not worth a notification.
                self.detail.show_thread_error(self._thread_for, _sentence(worker.error))
            self._update_status()  # the rate-limit budget moved
        elif worker.group in (REPLY, DRAFTS):
            if event.state is WorkerState.ERROR:
                self._report(worker.error)  # what was written is in the database already
            if worker.group == REPLY:
                self._show_highlighted()  # where the reply stands, in the detail
        elif worker.group == OUTBOX and event.state is WorkerState.ERROR:
            self._report(worker.error)  # the sender stopped: its rows wait for the next start
        elif worker.group in (COUNT, INDEX) and event.state is WorkerState.ERROR:
            # The filter still answers (from the index walk): nothing to tell the user.
            self.log.error(f"the filter's {worker.group} failed", worker.error)

    def _report(self, error: BaseException | None) -> None:
        sentence = _sentence(error)
        if not isinstance(error, LemlistError):
            self.log.error("unexpected failure in a worker", error)
        self._error = sentence
        self._say(sentence, severity="error", timeout=8)
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
