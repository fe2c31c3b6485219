"""The highlighted conversation in full: contact, read state, dates, deals, then its thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.cells import get_character_cell_size
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual, visualize

from lemlist_tui.api.models import Conversation, Draft, Team, ThreadMessage, ThreadPage
from lemlist_tui.text import clean_line, html_to_text, literal, local_time, relative_time

__all__ = ["DetailPane"]

LABEL_WIDTH = 8
VALUE_CELLS = 120
"""Longest single value shown (names, emails, subjects); longer ones end in "…"."""

MESSAGE_CHARS = 3_000
"""Most characters of one message's text the detail shows; the reader (enter) shows all."""
THREAD_CHARS = 6_000
"""Most characters of message text the detail shows in all, newest messages first: Rich
lays the pane out whole on the event loop (30 messages of 20,000 characters took 1.5 s
each time the cursor came back)."""

READ_GLYPH = "✓"
UNREAD_GLYPH = "●"
SENT_GLYPH = "→"
RECEIVED_GLYPH = "←"


THREAD_GAP = 1
"""Blank lines between the conversation's facts and its thread."""
_BLANK = Strip([], 0)


class DetailPane(ScrollView, can_focus=True):
    """Shows one conversation; the thread arrives later through :meth:`show_thread`.

    It only displays: loading the thread is the inbox screen's job, and nothing here
    marks a conversation read.

    Drawn on the Line API: the facts and the thread are rendered once to lines of the
    pane's width, and a change repaints only the cells that differ, up to the last one,
    without laying the screen out (a layout of the whole screen cost more than the rest
    of a cursor move together).
    """

    DEFAULT_CSS = """
    DetailPane {
        overflow-x: hidden;
        overflow-y: auto;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="detail.down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="detail.up"),
        Binding("g", "scroll_home", "Top", show=False, id="detail.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="detail.bottom"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "detail--title",
        "detail--label",
        "detail--muted",
        "detail--read",
        "detail--unread",
        "detail--sent",
        "detail--received",
        "detail--subject",
        "detail--error",
        "detail--rule",
    }

    # The content's height changes with every conversation; the pane's own size does not,
    # so a new height is no reason to lay the screen out (the scrollbars are updated here,
    # and one that appears or goes still lays it out).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    def __init__(
        self,
        team: Team,
        user_id: str,
        *,
        clock: Callable[[], datetime],
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.team = team
        self.user_id = user_id
        self.clock = clock
        self.conversation: Conversation | None = None
        self.thread: ThreadPage | None = None
        self.interest: bool | None = None
        self.thread_error: str | None = None
        self.drafts: tuple[Draft, ...] | None = None
        """lemlist's drafts on the conversation for this user (None: not known yet)."""
        self.reply_note: str | None = None
        """Where this user's reply written here stands, when there is one."""
        self._meta_lines: list[Strip] = []
        self._thread_lines: list[Strip] = []
        self.lines: list[Strip] = []
        """What the pane shows, a line each, at :attr:`_width` cells at most."""
        self._width = 0
        """The width the lines were rendered at (0: not rendered since the last change
        of style or size)."""
        self._on_screen: list[Strip] = []
        """The lines as last repainted: what a change is compared with."""
        self._repaint_pending = False

    # --- what the inbox screen calls -------------------------------------------------

    def show(
        self,
        conversation: Conversation | None,
        thread: ThreadPage | None = None,
        *,
        interest: bool | None = None,
        drafts: tuple[Draft, ...] | None = None,
        reply_note: str | None = None,
    ) -> None:
        """Show ``conversation`` (None: nothing selected); its thread if already at hand;
        ``interest``: the lead marked interested (True) or not (False) by this app;
        ``drafts``: its lemlist drafts, if known; ``reply_note``: a reply written here.

        Showing a newer copy of the same conversation (after mark-read) keeps its thread.
        """
        self.interest = interest
        self.reply_note = reply_note
        same = (
            conversation is not None
            and self.conversation is not None
            and conversation.id == self.conversation.id
        )
        if drafts is not None or not same:
            self.drafts = drafts
        self.conversation = conversation
        if not same:
            self.thread = thread
            self.thread_error = None
            self.scroll_home(animate=False)
        elif thread is not None:
            self.thread = thread
        self._redraw(meta=True, thread=True)

    def show_thread(self, conversation_id: str, thread: ThreadPage) -> None:
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.thread = thread
            self.thread_error = None
            self._redraw(thread=True)

    def show_drafts(self, conversation_id: str, drafts: tuple[Draft, ...]) -> None:
        shown = self.conversation is not None and self.conversation.id == conversation_id
        if shown and drafts != self.drafts:
            self.drafts = drafts
            self._redraw(meta=True)

    def show_thread_error(self, conversation_id: str, message: str) -> None:
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.thread_error = message
            self._redraw(thread=True)

    @property
    def thread_loading(self) -> bool:
        return self.conversation is not None and self.thread is None and not self.thread_error

    # --- rendering -------------------------------------------------------------------

    def _style(self, name: str) -> str:
        return str(self.get_component_rich_style(f"detail--{name}"))

    def _meta_renderable(self) -> RenderableType:
        title, rows = self._meta()
        if not rows:
            return title
        table = Table.grid(padding=(0, 1))
        table.add_column(width=LABEL_WIDTH, style=self._style("label"), no_wrap=True)
        table.add_column(overflow="fold")  # wrapped values stay in their column
        for label, value in rows:
            table.add_row(label, value)
        return Group(title, table)

    def _thread_renderable(self) -> RenderableType:
        return Group(
            *(
                Padding(text, (0, 0, 0, indent)) if indent else text
                for indent, text in self._thread()
            )
        )

    def _strips(self, renderable: RenderableType, width: int) -> list[Strip]:
        """``renderable`` as a Static of ``width`` cells in this pane would draw it."""
        strips = Visual.to_strips(self, visualize(self, renderable), width, None, self.visual_style)
        return [strip.simplify() for strip in strips]  # fewer runs: fewer bytes to write

    def _sizes(self) -> tuple[int, int, int]:
        """The width without a scrollbar, the scrollbar's width, the visible height."""
        width, height = self.container_size
        return width, self.styles.scrollbar_size_vertical, height

    def _join(self) -> list[Strip]:
        return [*self._meta_lines, *[_BLANK] * THREAD_GAP, *self._thread_lines]

    def _render_lines_at(self, width: int, *, meta: bool = True, thread: bool = True) -> None:
        if meta:
            self._meta_lines = self._strips(self._meta_renderable(), width)
        if thread:
            self._thread_lines = self._strips(self._thread_renderable(), width)
        self._width = width
        self.lines = self._join()

    def _redraw(self, *, meta: bool = False, thread: bool = False) -> None:
        """Render what changed; repaint the cells that differ from what is on screen."""
        full, bar, height = self._sizes()
        if not self.is_mounted or full <= 0:
            self._width = 0  # rendered when the pane first gets a size
            return
        shown_at = self._width
        width = shown_at
        if width not in (full, full - bar):  # a change of style or size since
            meta = thread = True
            width = full - bar if self.show_vertical_scrollbar else full
        if bar and width == full and (meta or thread) and self._surely_overflows(full, height):
            # A long thread: rendered once, at the width its scrollbar leaves (rendering
            # first without it, then again, cost a heavy thread twice its 60 ms).
            meta = thread = True
            width = full - bar
        self._render_lines_at(width, meta=meta, thread=thread)
        # Whether the content overflows decides the scrollbar, which decides the width.
        overflows = len(self.lines) > height
        if bar and overflows and width == full:
            self._render_lines_at(full - bar)
        elif bar and not overflows and width == full - bar:
            self._render_lines_at(full)
        self._set_size()
        if self._width != shown_at:
            self._repaint_all()
        elif not self._repaint_pending:
            # Once, after the caller is done: several changes in a row (a conversation,
            # then its thread's error) repaint only what differs from the screen.
            self._repaint_pending = True
            self.call_next(self._repaint_changes)

    def _surely_overflows(self, width: int, height: int) -> bool:
        """A cheap lower bound of the lines the thread takes exceeds the pane's height."""
        thread = self.thread
        if thread is None or width <= 0:
            return False
        # The text's length (made at store time), else the HTML's: no text is made here.
        sizes = (len(m.text if m.text is not None else m.html or "") for m in thread.messages)
        chars = min(THREAD_CHARS, sum(min(size, MESSAGE_CHARS) for size in sizes))
        return chars // width + 3 * len(thread.messages) > height

    def _set_size(self) -> None:
        size = Size(self._width, len(self.lines))
        if size != self.virtual_size:
            self.virtual_size = size
            # Scrollbars shown or hidden, their thumb, the scroll offset kept in range.
            self._scroll_update(size)

    def _repaint_all(self) -> None:
        self._on_screen = self.lines
        self.refresh()

    def _repaint_changes(self) -> None:
        self._repaint_pending = False
        before, after = self._on_screen, self.lines
        self._on_screen = after
        top = round(self.scroll_y)
        regions = []
        for row in range(self.scrollable_content_region.height):
            index = top + row
            old = before[index] if index < len(before) else None
            new = after[index] if index < len(after) else None
            if old == new:
                continue
            end = self._width if old is None or new is None else _changed_up_to(old, new)
            # Cells after ``end`` are the same; those before it are written anyway (a
            # terminal update starts at the pane's edge).
            regions.append(Region(0, row, max(end, 1), 1))
        if regions:
            self.refresh(*regions)

    def notify_style_update(self) -> None:
        # A theme, or focus (it tints the background): every line is drawn anew.
        super().notify_style_update()
        self._width = 0
        self._repaint_all()

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        if width > 0 and width != self._width and self.is_mounted:
            # A new size or style: the lines again, at the width the layout gave.
            self._render_lines_at(width)
            self._on_screen = self.lines  # every line is drawn now
            self._set_size()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_y) + y
        lines = self.lines
        return lines[index] if 0 <= index < len(lines) else _BLANK

    @property
    def plain(self) -> str:
        """What the pane says, as plain text (for tests and screen readers' sake)."""
        title, rows = self._meta()
        lines = [title.plain.rstrip("\n")]
        lines += [f"{label:<{LABEL_WIDTH}} {value.plain}" for label, value in rows]
        lines += [" " * indent + text.plain for indent, text in self._thread()]
        return "\n".join(lines)

    def _when(self, when: datetime | None, missing: str) -> Text:
        if when is None:
            return Text(missing, self._style("muted"))
        text = Text(local_time(when))
        text.append(f" ({_age(when, self.clock())})", self._style("muted"))
        return text

    def _user_name(self, user_id: str) -> str:
        user = self.team.user(user_id)
        return user.display_name if user is not None else user_id

    def _meta(self) -> tuple[Text, list[tuple[str, Text]]]:
        """The title line, then (label, value) rows."""
        conversation = self.conversation
        if conversation is None:
            return Text("No conversation selected.", self._style("muted")), []
        contact = conversation.contact
        title = literal(contact.display_name, VALUE_CELLS, self._style("title"))
        title.append("\n")
        channels = ", ".join(clean_line(c) for c in conversation.channels) or "—"
        rows = [
            ("Email", literal(contact.email or "—", VALUE_CELLS)),
            ("Contact", literal(contact.id or "—", VALUE_CELLS)),
            ("Channels", literal(channels, VALUE_CELLS)),
            *self._read_state(conversation),
            ("Created", self._when(conversation.created_at, "unknown")),
            ("Activity", self._when(conversation.last_activity_at, "unknown")),
            ("Replied", self._when(conversation.last_replied_at, "no reply yet")),
            ("Deals", self._opportunities(conversation)),
        ]
        if conversation.labels:
            labels = ", ".join(clean_line(label) for label in conversation.labels)
            rows.append(("Labels", literal(labels, VALUE_CELLS)))
        interest = self.interest
        if interest is not None:
            said = "interested" if interest else "not interested"
            rows.append(("Interest", Text(said, self._style("read" if interest else "muted"))))
        if self.reply_note:
            rows.append(("Reply", literal(self.reply_note, VALUE_CELLS)))
        if self.drafts:
            rows.append(("Drafts", self._drafts(self.drafts)))
        return title, rows

    def _drafts(self, drafts: tuple[Draft, ...]) -> Text:
        """``2 in lemlist (D opens them): “Re: Pricing” email 2h ago; …``"""
        text = Text(f"{len(drafts)} in lemlist (D opens them)", self._style("muted"))
        for draft in drafts[:3]:
            what = clean_line(draft.subject or draft.preview or "(empty)", 50)
            text.append("\n“")
            text.append_text(literal(what, 50))
            text.append("”")
            details = [clean_line(draft.channel or "", 12)]
            if draft.updated_at is not None:
                details.append(_age(draft.updated_at, self.clock()))
            text.append(" " + " ".join(d for d in details if d), self._style("muted"))
        if len(drafts) > 3:
            text.append(f"\nand {len(drafts) - 3} more", self._style("muted"))
        return text

    def _read_state(self, conversation: Conversation) -> list[tuple[str, Text]]:
        if not conversation.participants:
            return [("Read by", Text("no read state from lemlist", self._style("muted")))]
        rows = []
        for index, participant in enumerate(conversation.participants):
            line = Text()
            if participant.read:
                line.append(f"{READ_GLYPH} read   ", self._style("read"))
            else:
                line.append(f"{UNREAD_GLYPH} unread ", self._style("unread"))
            line.append_text(literal(self._user_name(participant.user_id), 60))
            notes = []
            if participant.user_id == self.user_id:
                notes.append("you")
            if participant.sender:
                notes.append("sender")
            if notes:
                line.append(f" ({', '.join(notes)})", self._style("muted"))
            rows.append(("Read by" if index == 0 else "", line))
        return rows

    def _opportunities(self, conversation: Conversation) -> Text:
        if not conversation.opportunities:
            return Text("none", self._style("muted"))
        text = Text()
        for index, opportunity in enumerate(conversation.opportunities):
            if index:
                text.append(", ")
            text.append_text(literal(opportunity.type or "opportunity", 40))
            text.append(" (done)" if opportunity.done else " (open)", self._style("muted"))
        return text

    def _thread(self) -> list[tuple[int, Text]]:
        """The thread as (indent, text) blocks: wrapped lines keep their indent."""
        conversation = self.conversation
        if conversation is None:
            return []
        if self.thread_error is not None:
            error = f"Could not load the thread: {clean_line(self.thread_error)}"
            return [
                (0, Text("Thread", self._style("rule"))),
                (0, Text(error, self._style("error"))),
            ]
        if self.thread is None:
            return [
                (0, Text("Thread", self._style("rule"))),
                (0, Text("Loading thread…", self._style("muted"))),
            ]
        messages = sorted(
            self.thread.messages,
            key=lambda m: m.created_at.timestamp() if m.created_at else float("-inf"),
        )
        count = len(messages)
        blocks = [
            (0, Text(f"Thread · {count} message{'s' if count != 1 else ''}", self._style("rule")))
        ]
        total = self.thread.pagination.total_items
        if total is not None and total > count:
            blocks.append((0, Text(f"({total - count} older not loaded)", self._style("muted"))))
        if not messages:
            blocks.append((0, Text("No messages in this conversation yet.", self._style("muted"))))
        room = _budgets([self._body(m) for m in messages])
        for message, budget in zip(messages, room, strict=True):
            blocks.append((0, Text("")))
            blocks.extend(self._message(message, conversation, budget))
        return blocks

    @staticmethod
    def _body(message: ThreadMessage) -> str:
        # html_to_text drops styles and tracking pixels, and returns cleaned, bounded text.
        return message.text if message.text is not None else html_to_text(message.html)

    def _message(
        self, message: ThreadMessage, conversation: Conversation, budget: int
    ) -> list[tuple[int, Text]]:
        header = Text()
        if message.inbound:
            header.append(f"{RECEIVED_GLYPH} received from ", self._style("received"))
            sender = message.lead_email or conversation.contact.display_name
        else:
            header.append(f"{SENT_GLYPH} sent by ", self._style("sent"))
            sender = (
                message.sender_name
                or message.sender_email
                or (self._user_name(message.sender_user_id) if message.sender_user_id else "")
                or "your team"
            )
        header.append_text(literal(sender, 60))
        header.append(f" · {clean_line(message.channel)}", self._style("muted"))
        blocks = [(0, header)]
        if message.created_at is not None:
            blocks.append((2, self._when(message.created_at, "")))
        if message.subject:
            blocks.append((2, literal(message.subject, VALUE_CELLS, self._style("subject"))))
        body = self._body(message)
        if not body:
            blocks.append((2, Text("(no text)", self._style("muted"))))
        elif len(body) <= budget:
            blocks.append((2, Text(body)))
        else:
            if budget:
                text = Text(body[:budget].rstrip())
                text.append(
                    f"\n… {len(body) - budget:,} more characters: enter reads it all",
                    self._style("muted"),
                )
            else:
                text = Text(f"{len(body):,} characters: enter reads it", self._style("muted"))
            blocks.append((2, text))
        return blocks


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    """Each cell of ``strip`` as (character, style); a wide character fills two."""
    cells: list[tuple[str, Style | None]] = []
    for text, style, _ in strip:
        for character in text:
            size = get_character_cell_size(character)
            if size == 0 and cells:  # a combining mark: part of the cell before it
                last, last_style = cells[-1]
                cells[-1] = (last + character, last_style)
            cells.extend([(character, style)] * size)
    return cells


def _changed_up_to(old: Strip, new: Strip) -> int:
    """The cell after the last that differs between two lines (0: none differs)."""
    before, after = _cells(old), _cells(new)
    missing = ("", None)
    for x in range(max(len(before), len(after)) - 1, -1, -1):
        if (before[x] if x < len(before) else missing) != (after[x] if x < len(after) else missing):
            return x + 1
    return 0


def _budgets(bodies: list[str]) -> list[int]:
    """Characters shown of each body (oldest first): the newest get theirs first, each
    at most :data:`MESSAGE_CHARS`, all together at most :data:`THREAD_CHARS`."""
    left = THREAD_CHARS
    budgets = [0] * len(bodies)
    for index in range(len(bodies) - 1, -1, -1):
        budgets[index] = min(len(bodies[index]), MESSAGE_CHARS, left)
        left -= budgets[index]
    return budgets


def _age(when: datetime, now: datetime) -> str:
    """``3h ago`` for recent times; older ones read as a date (``Mar 3``) already."""
    short = relative_time(when, now)
    return f"{short} ago" if short[:-1].isdigit() and short[-1] in "mhd" else short
