"""One conversation full screen: the reader, which pages through a thread like mutt's pager.

It opens on the newest message. ``space`` pages on and, at the end of a thread, goes to
the next unread conversation; the triage keys act on the inbox behind it, whose cursor it
follows. Reading never marks a conversation read. ``q`` and ``esc`` go back to the list:
here ``q`` never quits the app.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from typing import ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from lemlist_tui.api.errors import LemlistError
from lemlist_tui.api.models import Conversation, Team, ThreadPage
from lemlist_tui.db import ListRow
from lemlist_tui.reading import (
    Role,
    ThreadLayout,
    ThreadStopped,
    body_size,
    layout_notice,
    layout_thread,
)
from lemlist_tui.text import clean_line, literal
from lemlist_tui.widgets.footer import KeyFooter

__all__ = ["ReaderOwner", "ReaderScreen", "ThreadView"]

HEAVY_CHARS = 100_000
"""Threads with more text than this are laid out in a worker thread, off the event loop."""
NAME_CELLS = 80
LAYOUT, THREAD = "reader-layout", "reader-thread"
"""Worker groups: the newest layout wins; the newest thread request wins."""

Layouter = Callable[[int, Callable[[], bool] | None], ThreadLayout]
"""Lays a thread out at a width, asking ``stop`` (when given) whether to go on."""


# --- what the reader needs from the inbox behind it -----------------------------------------


class _Cursor(Protocol):
    @property
    def highlighted(self) -> ListRow | None: ...


class _Conversations(Protocol):
    def conversation(self, conversation_id: str) -> Conversation | None: ...


class _Session(Protocol):
    @property
    def db(self) -> _Conversations: ...


class _Threads(Protocol):
    def cached_thread(self, conversation: Conversation) -> ThreadPage | None: ...

    async def thread(self, conversation: Conversation) -> ThreadPage: ...


class ReaderOwner(Protocol):
    """The inbox screen, as the reader uses it: its cursor, its store, its sync, and its
    triage actions (each of which may move the cursor)."""

    @property
    def conversation_list(self) -> _Cursor: ...

    @property
    def session(self) -> _Session: ...

    @property
    def threads(self) -> _Threads: ...

    @property
    def team(self) -> Team: ...

    @property
    def user_id(self) -> str: ...

    def action_next_unread(self) -> None: ...

    def action_previous_unread(self) -> None: ...

    def action_mark_read(self) -> None: ...

    def action_undo(self) -> None: ...

    def action_labels(self) -> None: ...

    def conversation_shown(self, conversation_id: str) -> Conversation | None: ...

    def action_interested(self) -> None: ...

    def action_not_interested(self) -> None: ...

    def action_reply(self) -> None: ...


# --- the thread, drawn line by line ------------------------------------------------------


class ThreadView(ScrollView, can_focus=True):
    """A thread laid out by :mod:`lemlist_tui.reading`, drawn a visible line at a time.

    It is laid out again whenever its width changes, keeping the reader's place; a big
    thread is laid out in a worker thread while the previous layout stays on screen.
    """

    ALLOW_SELECT = True
    COMPONENT_CLASSES: ClassVar[set[str]] = {f"reader--{role.value}" for role in Role}
    DEFAULT_CSS = """
    ThreadView {
        height: 1fr;
        padding: 0 1;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
        & > .reader--rule { color: $text-muted; }
        & > .reader--received { color: $text-primary; text-style: bold; }
        & > .reader--sent { color: $text-accent; text-style: bold; }
        & > .reader--meta { color: $text-muted; }
        & > .reader--subject { text-style: bold; }
        & > .reader--body { }
        & > .reader--quote { color: $text-secondary; }
        & > .reader--muted { color: $text-muted; }
        & > .reader--error { color: $text-error; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.layout_now = ThreadLayout(())
        """What is on screen."""
        self._make: Layouter | None = None
        self._heavy = False
        self._generation = 0  # a layout made for older content is dropped when it arrives
        self._laid_out_at = 0  # the width of the layout on screen, or being made
        self._to_newest = False  # the next layout of this content opens on its newest message
        self._styles: dict[Role, Style] = {}

    # --- what the screen calls -------------------------------------------------------

    def show(self, make: Layouter, *, heavy: bool = False) -> None:
        """Show new content, laid out by ``make``, from its newest message.

        ``heavy``: lay it out in a worker thread (until then, the screen says so).
        """
        self._make = make
        self._heavy = heavy
        self._generation += 1
        self._to_newest = True
        self._laid_out_at = 0
        self.workers.cancel_group(self, LAYOUT)
        self._lay_out()

    @property
    def width_for_text(self) -> int:
        return self.scrollable_content_region.width

    @property
    def laying_out(self) -> bool:
        """Whether a layout is being made in a worker thread."""
        return any(w.node is self and w.group == LAYOUT and not w.is_finished for w in self.workers)

    @property
    def at_end(self) -> bool:
        return self.scroll_y >= self.max_scroll_y

    # --- layout ----------------------------------------------------------------------

    def on_resize(self) -> None:
        if self.width_for_text != self._laid_out_at:
            self._lay_out()

    def _lay_out(self) -> None:
        width = self.width_for_text
        if self._make is None or width <= 0:
            return  # laid out when it first gets a size
        self._laid_out_at = width
        if not self._heavy:
            self._apply(self._make(width, None))
            return
        if self._to_newest:  # nothing of this content on screen yet
            self._apply(layout_notice("Laying out the thread…", width), keep_newest=True)
        self._lay_out_in_thread(self._make, width, self._generation)

    def _lay_out_in_thread(self, make: Layouter, width: int, generation: int) -> None:
        def work() -> tuple[int, int, ThreadLayout] | None:
            worker = get_current_worker()
            try:
                return generation, width, make(width, lambda: worker.is_cancelled)
            except ThreadStopped:
                return None

        self.run_worker(work, group=LAYOUT, exclusive=True, thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or worker.group != LAYOUT:
            return
        if event.state is WorkerState.SUCCESS and worker.result is not None:
            generation, width, layout = worker.result
            if generation == self._generation and width == self._laid_out_at:
                self._apply(layout)
        elif event.state is WorkerState.ERROR:
            self.log.error("cannot lay out the thread", worker.error)
            sentence = f"This thread could not be laid out ({type(worker.error).__name__})."
            self._apply(layout_notice(sentence, self.width_for_text, Role.ERROR))

    def _apply(self, layout: ThreadLayout, *, keep_newest: bool = False) -> None:
        before, y = self.layout_now, round(self.scroll_y)
        self.layout_now = layout
        self.virtual_size = Size(layout.width, len(layout.lines))
        if self._to_newest:
            y = layout.newest
            self._to_newest = keep_newest
            self.scroll_to(0, y, animate=False, force=True)
        else:
            y = _same_place(before, layout, y)
            self.scroll_to(None, y, animate=False, force=True)
        # Forced: the scrollbars that allow scrolling come with the next layout, and
        # change how far it can go (a horizontal one takes a line); so again after it.
        self.call_after_refresh(self.scroll_to, None, y, animate=False, force=True)
        self.refresh()

    # --- drawing ---------------------------------------------------------------------

    def notify_style_update(self) -> None:
        self._styles.clear()
        super().notify_style_update()

    def _style(self, role: Role) -> Style:
        style = self._styles.get(role)
        if style is None:
            style = self.rich_style + self.get_component_rich_style(
                f"reader--{role.value}", partial=True
            )
            self._styles[role] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.width_for_text
        base = self.rich_style
        lines = self.layout_now.lines
        if not 0 <= index < len(lines):
            return Strip.blank(width, base)
        text, role = lines[index]
        style = self._style(role)
        segments = [Segment(text, style)]
        selection = self.text_selection
        span = selection.get_span(index) if selection is not None else None
        if span is not None:
            start, end = span
            end = len(text) if end == -1 else end
            chosen = style + self.screen.get_component_rich_style("screen--selection")
            segments = [
                Segment(text[:start], style),
                Segment(text[start:end], chosen),
                Segment(text[end:], style),
            ]
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
        return strip.apply_offsets(scroll_x, index)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(line.text for line in self.layout_now.lines)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def _same_place(before: ThreadLayout, after: ThreadLayout, y: int) -> int:
    """Where line ``y`` of ``before`` is in ``after``, the same thread laid out anew: the
    same message, as far into it proportionally."""
    message = bisect.bisect_right(before.starts, y) - 1
    if message < 0 or len(before.starts) != len(after.starts):
        return min(y, after.newest) if after.starts else y
    into = y - before.starts[message]
    old_size = _message_end(before, message) - before.starts[message]
    new_size = _message_end(after, message) - after.starts[message]
    return after.starts[message] + round(into * new_size / max(old_size, 1))


def _message_end(layout: ThreadLayout, message: int) -> int:
    following = message + 1
    return layout.starts[following] if following < len(layout.starts) else len(layout.lines)


# --- the screen ------------------------------------------------------------------------------


class ReaderScreen(Screen[None]):
    """The owner's highlighted conversation, full screen; pushed by the owner."""

    DEFAULT_CSS = """
    ReaderScreen {
        layout: vertical;
    }
    ReaderScreen #reader-header {
        height: auto;
        padding: 0 1;
        border-bottom: hkey $foreground 20%;
    }
    ReaderScreen #reader-title {
        text-style: bold;
        color: $text-primary;
    }
    ReaderScreen #reader-meta {
        color: $text-muted;
    }
    ReaderScreen #reader-meta.-unread {
        color: $text-warning;
    }
    """
    # Screen bindings come before the app's: this ``q`` goes back instead of quitting.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape", "close", "Back", id="reader.close"),
        Binding("space", "page_down", "Page", id="reader.page_down"),
        Binding("b", "page_up", "Page back", show=False, id="reader.page_up"),
        Binding("j", "line_down", "Line down", show=False, id="reader.line_down"),
        Binding("k", "line_up", "Line up", show=False, id="reader.line_up"),
        Binding("g", "top", "Top", show=False, id="reader.top"),
        Binding("G", "bottom", "Bottom", show=False, id="reader.bottom"),
        Binding("n", "next_unread", "Next", id="reader.next_unread"),
        Binding("N", "previous_unread", "Previous unread", show=False, id="reader.previous_unread"),
        Binding("m", "mark_read", "Read+next", id="reader.mark_read"),
        Binding("z", "undo", "Undo", id="reader.undo"),
        Binding("l", "labels", "Label", id="reader.labels"),
        Binding("i", "interested", "Interested", show=False, id="reader.interested"),
        Binding("x", "not_interested", "Not interested", show=False, id="reader.not_interested"),
        Binding("R", "reply", "Reply", id="reader.reply"),
    ]

    def __init__(self, owner: ReaderOwner) -> None:
        super().__init__()
        self.owner = owner
        self.conversation: Conversation | None = None
        self.thread: ThreadPage | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="reader-header"):
            yield Static(id="reader-title")
            yield Static(id="reader-meta")
        yield ThreadView(id="reader-thread")
        yield KeyFooter()

    @property
    def view(self) -> ThreadView:
        return self.query_one(ThreadView)

    def on_mount(self) -> None:
        self.set_focus(self.view)
        self._show_highlighted()

    # --- what is shown -----------------------------------------------------------------

    def _show_highlighted(self) -> None:
        """Show the owner's highlighted conversation; the one shown stays where it was."""
        row = self.owner.conversation_list.highlighted
        problem = None
        try:
            conversation = self.owner.conversation_shown(row.id) if row else None
        except LemlistError as error:  # the local database: its sentence says what is wrong
            conversation, problem = None, str(error)
        same = (
            conversation is not None
            and self.conversation is not None
            and conversation.id == self.conversation.id
        )
        self.conversation = conversation
        self._show_header()
        if same:
            return
        self.workers.cancel_group(self, THREAD)
        self.thread = None
        if conversation is None:
            if problem is None:
                gone = "This conversation is no longer in the inbox."
                problem = gone if row else "No conversation is highlighted in the list."
            self.view.show(_notice(problem, Role.ERROR if row else Role.MUTED))
            return
        try:
            self.thread = self.owner.threads.cached_thread(conversation)
        except LemlistError as error:
            self.log.warning("cannot read the kept thread", error)
        if self.thread is not None:
            self._show_thread()
        else:
            self.view.show(_notice("Loading thread…"))
            self.run_worker(
                self._fetch(conversation), group=THREAD, exclusive=True, exit_on_error=False
            )

    async def _fetch(self, conversation: Conversation) -> tuple[str, ThreadPage]:
        return conversation.id, await self.owner.threads.thread(conversation)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or worker.group != THREAD:
            return
        conversation = self.conversation
        if event.state is WorkerState.SUCCESS and worker.result is not None:
            conversation_id, thread = worker.result
            if conversation is not None and conversation_id == conversation.id:
                self.thread = thread
                self._show_thread()
        elif event.state is WorkerState.ERROR and conversation is not None:
            error = worker.error
            if isinstance(error, LemlistError):
                sentence = str(error)
            else:
                self.log.error("cannot load the thread", error)
                sentence = f"Something unexpected went wrong ({type(error).__name__})."
            self.view.show(_notice(f"Could not load the thread: {sentence}", Role.ERROR))

    def _show_thread(self) -> None:
        thread, conversation = self.thread, self.conversation
        if thread is None or conversation is None:
            return
        self._show_header()  # with its count of messages
        make = functools.partial(
            _layout, thread, conversation.contact.display_name, self._user_name
        )
        self.view.show(make, heavy=body_size(thread) > HEAVY_CHARS)

    def _user_name(self, user_id: str) -> str:
        # Called from the layout's worker thread too: it only reads the immutable team.
        user = self.owner.team.user(user_id)
        return user.display_name if user is not None else user_id

    def _show_header(self) -> None:
        title = self.query_one("#reader-title", Static)
        meta = self.query_one("#reader-meta", Static)
        conversation = self.conversation
        if conversation is None:
            title.update(Text("No conversation"))
            meta.update("")
            meta.remove_class("-unread")
            return
        contact = conversation.contact
        line = literal(contact.display_name, NAME_CELLS)
        if contact.email and clean_line(contact.email) != clean_line(contact.display_name):
            line.append("  ")
            line.append_text(literal(f"<{clean_line(contact.email)}>", NAME_CELLS))
        title.update(line)
        parts = [", ".join(clean_line(c) for c in conversation.channels) or "no channel"]
        participant = conversation.participant(self.owner.user_id)
        if participant is None:
            parts.append("no read state from lemlist")
        else:
            parts.append("✓ read" if participant.read else "● unread")
        if conversation.labels:
            parts.append(" ".join(f"#{clean_line(label, 30)}" for label in conversation.labels))
        if self.thread is not None:
            count = len(self.thread.messages)
            parts.append(f"{count:,} message{'s' if count != 1 else ''}")
        meta.update(Text(" · ".join(parts)))
        meta.set_class(participant is not None and not participant.read, "-unread")

    # --- keys --------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss()

    def action_page_down(self) -> None:
        """Page on; at the end of the thread, on to the next unread conversation."""
        view = self.view
        if view.at_end and not view.laying_out:
            self._after(self.owner.action_next_unread)
        else:
            view.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.view.scroll_page_up(animate=False)

    def action_line_down(self) -> None:
        self.view.scroll_down(animate=False)

    def action_line_up(self) -> None:
        self.view.scroll_up(animate=False)

    def action_top(self) -> None:
        self.view.scroll_home(animate=False, immediate=True)

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False, immediate=True)

    def action_next_unread(self) -> None:
        self._after(self.owner.action_next_unread)

    def action_previous_unread(self) -> None:
        self._after(self.owner.action_previous_unread)

    def action_mark_read(self) -> None:
        self._after(self.owner.action_mark_read)

    def action_undo(self) -> None:
        self._after(self.owner.action_undo)

    def action_labels(self) -> None:
        self.owner.action_labels()  # a picker over this screen; its change shows on return

    def action_interested(self) -> None:
        self._after(self.owner.action_interested)

    def action_not_interested(self) -> None:
        self._after(self.owner.action_not_interested)

    def action_reply(self) -> None:
        self.owner.action_reply()  # its screens go over this one; the thread shows on return

    def on_screen_resume(self) -> None:
        self._after(lambda: None)  # back from the label picker: its labels may have changed

    def _after(self, action: Callable[[], None]) -> None:
        """Run the owner's ``action``, then show whatever its cursor is on now."""
        action()
        self._show_highlighted()


def _notice(sentence: str, role: Role = Role.MUTED) -> Layouter:
    return lambda width, _stop: layout_notice(sentence, width, role)


def _layout(
    thread: ThreadPage,
    contact_name: str,
    user_name: Callable[[str], str],
    width: int,
    stop: Callable[[], bool] | None,
) -> ThreadLayout:
    return layout_thread(thread, width, contact_name=contact_name, user_name=user_name, stop=stop)
