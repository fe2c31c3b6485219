"""The inbox list: one line per conversation, drawn on Textual's Line API.

Only the rows on screen are ever rendered, so the cost of showing, scrolling and
re-filtering the list does not grow with the inbox (100k conversations included):
no widget, option or table row is built per conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter, indexOf
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from lemlist_tui.db import ListRow, SortKey, StorageError
from lemlist_tui.db.search import match_spans
from lemlist_tui.inbox import InboxRows
from lemlist_tui.text import clean_line, relative_time

__all__ = ["ConversationList", "ListHeader", "channel_tags"]

UNREAD_GLYPH = "●"
SELECTED_GLYPH = "+"
CURSOR_GLYPH = "▌"
REPLIED_GLYPH = "↩"

_CHANNEL_TAGS = {
    "email": "mail",
    "linkedin": "in",
    "whatsapp": "wa",
    "sms": "sms",
    "call": "call",
    "aircall": "call",
    "phone": "call",
}

# Cursor states in the strip cache's key, and the bit of a selected row.
_PLAIN, _CURSOR_BLURRED, _CURSOR_FOCUSED = 0, 1, 2
_SELECTED = 4

# Relative times ("5m") age: cached rows are redrawn this often (seconds).
_TIME_REFRESH = 30.0

# Below this many cells for name + email, the email column goes first.
_EMAIL_MIN_FLEX = 44
# Below this widget width the channel tags go too: the name needs the room.
_CHANNELS_MIN_WIDTH = 46

_SORT_HEADERS = {
    SortKey.LAST_ACTIVITY: "▼ activity",
    SortKey.LAST_REPLY: "▼ last reply",
    SortKey.CREATED: "▼ created",
}

_SHOWN_TIMES = {
    SortKey.LAST_ACTIVITY: "last_activity_at",
    SortKey.LAST_REPLY: "last_replied_at",
    SortKey.CREATED: "created_at",
}


OWNER_CELLS = 10
"""The team view's owner column: a teammate's first name."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def channel_tags(channels: Sequence[str]) -> str:
    """Short tags for a conversation's channels: ``("email", "linkedin")`` → ``mail·in``."""
    return "·".join(_CHANNEL_TAGS.get(channel.lower(), channel.lower()) for channel in channels)


def _fit(value: str, width: int, *, right: bool = False) -> str:
    """``value`` made safe (``clean_line``), then cut or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    text = clean_line(value, width)
    pad = " " * max(0, width - cell_len(text))
    return pad + text if right else text + pad


def _marked(text: str, style: Style, mark: Style, terms: tuple[str, ...]) -> list[Segment]:
    """``text`` (already fitted) as segments, the matches of ``terms`` in ``mark``."""
    spans = match_spans(text, terms) if terms else []
    if not spans:
        return [Segment(text, style)]
    segments = []
    at = 0
    for start, end in spans:
        if start > at:
            segments.append(Segment(text[at:start], style))
        segments.append(Segment(text[start:end], style + mark))
        at = end
    if at < len(text):
        segments.append(Segment(text[at:], style))
    return segments


class _Columns:
    """Column widths for one widget width; narrow widths drop the email, then channels.
    ``owner``: the team view's column of whose conversation it is, before the contact."""

    __slots__ = ("channels", "email", "name", "opportunities", "owner", "time", "width")

    def __init__(self, width: int, *, owner: bool = False) -> None:
        self.width = width
        self.time = 8  # the longest relative time: "Mar 2023"
        self.opportunities = 3
        # cursor + unread glyph + space, then " time replied opportunities" on the right.
        fixed = 3 + 1 + self.time + 1 + 1 + self.opportunities
        self.owner = OWNER_CELLS if owner else 0
        fixed += self.owner + bool(owner)
        self.channels = 0
        if width >= _CHANNELS_MIN_WIDTH:
            self.channels = 12 if width >= 110 else 9
            fixed += self.channels + 1
        flex = max(0, width - fixed)
        if flex >= _EMAIL_MIN_FLEX:
            self.name = max(18, min(40, int(flex * 0.45)))
            self.email = flex - self.name - 1
        else:
            self.name = flex
            self.email = 0


class ConversationList(ScrollView, can_focus=True, inherit_bindings=False):
    """The inbox list on Textual's Line API: draws only the visible rows.

    Feed it with :meth:`set_rows` (a view's current result, not copied). The cursor
    row is the highlighted conversation; moving it posts :class:`Highlighted`, ``enter``
    posts :class:`Selected`, and coming near the last row posts :class:`NearEnd`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Previous conversation", show=False, id="list.up"),
        Binding("down,j", "cursor_down", "Next conversation", show=False, id="list.down"),
        Binding("home,g", "first", "First conversation", show=False, id="list.first"),
        Binding("end,G", "last", "Last conversation", show=False, id="list.last"),
        Binding("pageup", "page_up", "Page up", show=False, id="list.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("enter", "select", "Open", show=True, id="list.open"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "conversation-list--cursor",
        "conversation-list--unread",
        "conversation-list--dim",
        "conversation-list--label",
        "conversation-list--selected",
        "conversation-list--match",
    }

    # Rows come and go on every filter key: their count moves the scrollbar's thumb, and
    # is no reason to lay the whole screen out again (Widget's virtual_size would).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    DEFAULT_CSS = """
    ConversationList {
        overflow-x: hidden;
        overflow-y: auto;
        & > .conversation-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .conversation-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .conversation-list--unread {
            text-style: bold;
        }
        & > .conversation-list--dim {
            color: $text-muted;
        }
        & > .conversation-list--label {
            color: $accent;
        }
        & > .conversation-list--match {
            text-style: underline;
            color: $text-warning;
        }
        & > .conversation-list--selected {
            background: $accent 30%;
        }
    }
    """

    class Highlighted(Message):
        """The cursor's conversation changed (another one, a new version, or none).

        ``moved``: a key or a click moved the cursor; False when new rows came under it
        (a filter, a sort, a sync).
        """

        def __init__(
            self, conversation_list: ConversationList, row: ListRow | None, moved: bool = True
        ) -> None:
            super().__init__()
            self.conversation_list = conversation_list
            self.row = row
            self.moved = moved

        @property
        def control(self) -> ConversationList:
            return self.conversation_list

        def can_replace(self, message: Message) -> bool:
            # Holding a key posts one per row: only the newest needs handling.
            return (
                isinstance(message, ConversationList.Highlighted)
                and message.conversation_list is self.conversation_list
            )

    class Selected(Message):
        """``enter`` (or a double click) on a conversation."""

        def __init__(self, conversation_list: ConversationList, row: ListRow) -> None:
            super().__init__()
            self.conversation_list = conversation_list
            self.row = row

        @property
        def control(self) -> ConversationList:
            return self.conversation_list

    class Resorted(Message):
        """The sort shown or the columns changed (the header follows)."""

        def __init__(self, conversation_list: ConversationList) -> None:
            super().__init__()
            self.conversation_list = conversation_list

    class NearEnd(Message):
        """The cursor (or the view) is within about two screens of the last row.

        Posted once per row count: when more rows arrive and the cursor is still
        near the end, it is posted again.
        """

        def __init__(self, conversation_list: ConversationList) -> None:
            super().__init__()
            self.conversation_list = conversation_list

        @property
        def control(self) -> ConversationList:
            return self.conversation_list

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, ConversationList.NearEnd)
                and message.conversation_list is self.conversation_list
            )

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = utc_now,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self._rows: Sequence[ListRow] = ()
        self._user_id = ""
        self._cursor = 0
        self._posted_highlight: ListRow | None = None
        self._near_end_posted_for = -1
        self._empty_text = "No conversations yet"
        self._shown_time = SortKey.LAST_ACTIVITY
        self._columns = _Columns(0)
        self._strips: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)
        """Drawn lines by (index, width, state)."""
        self._styles: dict[str, Style] = {}
        """The component styles rows are drawn with (a lookup each walks the ancestors'
        backgrounds: a row looked up six of them), until the styles change."""
        self._drawn: dict[int, ListRow | None] = {}
        """The row each index's lines in :attr:`_strips` were drawn from (None: blank)."""
        self._label_names: dict[str, str] = {}
        self._is_selected: Callable[[str], bool] | None = None
        self._owner_names: dict[str, str] | None = None
        self._present: Callable[[ListRow], ListRow] | None = None

    # --- public state ----------------------------------------------------------------

    @property
    def rows(self) -> Sequence[ListRow]:
        """The conversations shown, in order (as given to :meth:`set_rows`)."""
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def user_id(self) -> str:
        """Whose unread state the rows show."""
        return self._user_id

    @property
    def cursor(self) -> int:
        """Index of the highlighted row (0 when there are no rows)."""
        return self._cursor

    @cursor.setter
    def cursor(self, index: int) -> None:
        self._move_cursor(index)

    @property
    def cursor_id(self) -> str | None:
        """The id of the highlighted conversation, or None."""
        row = self.highlighted
        return row.id if row is not None else None

    @property
    def highlighted(self) -> ListRow | None:
        """The row under the cursor, or None when there are no rows."""
        return self._row(self._cursor)

    def _row(self, index: int) -> ListRow | None:
        rows = self._rows
        if isinstance(rows, InboxRows):
            try:
                return rows.get(index)
            except StorageError:  # the screen says it; the list shows a blank line
                return None
        return rows[index] if 0 <= index < len(rows) else None

    @property
    def empty_text(self) -> str:
        """Shown centred, dim, when there are no rows (set by the screen)."""
        return self._empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        if text != self._empty_text:
            self._empty_text = text
            if not self._rows:
                self.refresh()

    @property
    def shown_time(self) -> SortKey:
        """Which timestamp the time column shows (the screen follows its sort)."""
        return self._shown_time

    @shown_time.setter
    def shown_time(self, key: SortKey) -> None:
        if key is not self._shown_time:
            self._shown_time = key
            self._forget_all()
            self.refresh()
            self.post_message(self.Resorted(self))

    @property
    def label_names(self) -> dict[str, str]:
        """Label id → name, for the labels shown in the rows (set by the screen)."""
        return self._label_names

    @label_names.setter
    def label_names(self, names: dict[str, str]) -> None:
        if names != self._label_names:
            self._label_names = names
            self._forget_all()
            self.refresh()

    @property
    def present(self) -> Callable[[ListRow], ListRow] | None:
        """Presenter mode's stand-in for each row drawn (None: rows as they are)."""
        return self._present

    @present.setter
    def present(self, present: Callable[[ListRow], ListRow] | None) -> None:
        self._present = present
        self._forget_all()
        self.refresh()

    @property
    def owner_names(self) -> dict[str, str] | None:
        """Teammate id → the name the owner column shows; None: no owner column (one
        user's inbox), set by the screen for the team view."""
        return self._owner_names

    @owner_names.setter
    def owner_names(self, names: dict[str, str] | None) -> None:
        if names != self._owner_names:
            self._owner_names = names
            self._columns = _Columns(self._columns.width, owner=names is not None)
            self._forget_all()
            self.refresh()
            self.post_message(self.Resorted(self))  # the header gains or loses "Owner"

    @property
    def is_selected(self) -> Callable[[str], bool] | None:
        """Whether a conversation is in the bulk selection (None: no selection)."""
        return self._is_selected

    @is_selected.setter
    def is_selected(self, predicate: Callable[[str], bool] | None) -> None:
        self._is_selected = predicate
        self.refresh_marks()

    def refresh_marks(self) -> None:
        """Redraw every row: the selection changed."""
        self._forget_all()
        self.refresh()

    def label_tags(self, label_ids: Sequence[str]) -> str:
        """``#hot #vip``: the names of ``label_ids`` (an unknown one by its id)."""
        return " ".join(f"#{self._label_names.get(i) or i}" for i in label_ids)

    def header_text(self) -> str:
        """The column headers over the rows, the sort named on its column."""
        width = self.scrollable_content_region.width if self.is_mounted else 0
        columns = _Columns(width, owner=self._owner_names is not None)
        parts = ["   "]
        if columns.owner:
            parts += [_fit("Owner", columns.owner), " "]
        parts.append(_fit("Contact", columns.name))
        if columns.email:
            parts += [" ", _fit("Email · labels", columns.email)]
        if columns.channels:
            parts += [" ", _fit("Channels", columns.channels)]
        time = columns.time + 2 + columns.opportunities
        parts += [" ", _fit(_SORT_HEADERS[self._shown_time], time, right=True)]
        return "".join(parts)[: max(0, width)]

    # --- feeding ---------------------------------------------------------------------

    def set_rows(
        self,
        rows: Sequence[ListRow],
        *,
        user_id: str,
        keep_id: str | None = None,
        far: bool = True,
    ) -> None:
        """Show ``rows``, keeping the cursor on ``keep_id`` (default: the highlighted one).

        When that conversation is gone the cursor stays at its index, clamped. The
        row under the cursor keeps its place on screen where it can. ``far=False``: it
        is looked for in the rows ``rows`` has read already, not counted for in the
        database (see :meth:`InboxRows.index_of_id`), and when it is not there the
        cursor goes to the first row.
        """
        previous = self.highlighted
        if keep_id is None and previous is not None:
            keep_id = previous.id
        old_rows, old_user = self._rows, self._user_id
        old_cursor, old_scroll = self._cursor, self.scroll_offset.y
        self._rows = rows
        self._user_id = user_id
        new_cursor = old_cursor
        if keep_id is not None:
            found = self._find(keep_id, far=far)
            if found is not None:
                new_cursor = found
            elif not far:
                new_cursor = 0  # not among the rows read: the new rows start at the top
        self._cursor = max(0, min(new_cursor, len(rows) - 1))
        self._update_virtual_size()
        if self.is_mounted and self.scrollable_content_region.height:
            # Keep the highlighted row on the same screen line when it moved.
            self.scroll_to(y=self._cursor - (old_cursor - old_scroll), animate=False, force=True)
            self._scroll_to_cursor()
        self._after_move(moved=False)
        if old_user != user_id or not self._refresh_changed(old_rows, old_scroll, old_cursor):
            self._forget_all()
            self.refresh()

    def _refresh_changed(
        self, old_rows: Sequence[ListRow], old_scroll: int, old_cursor: int
    ) -> bool:
        """Redraw only the lines on screen whose row is not the one drawn there (a mark
        read changes one row, a count arriving none); False when everything must be
        drawn again (the list scrolled, the filter's terms changed, or one side is
        empty). Fewer lines drawn: less work in the frame, fewer bytes to the terminal.
        """
        height = self.scrollable_content_region.height if self.is_mounted else 0
        top = self.scroll_offset.y
        if not height or top != old_scroll or not self._rows or not old_rows:
            return False
        if _terms(self._rows) != _terms(old_rows):
            return False
        drawn, strips = self._drawn, self._strips
        cached = strips.keys()  # an LRUCache: not iterable itself
        for key in [key for key in cached if not top <= key[0] < top + height]:
            strips.discard(key)  # off screen: drawn from these rows when scrolled to
        for index in [i for i in drawn if not top <= i < top + height]:
            del drawn[index]
        for index in range(top, top + height):
            moved = index in (old_cursor, self._cursor) and old_cursor != self._cursor
            if moved or index not in drawn or drawn[index] != self._row(index):
                self._forget(index)
                self.refresh_line(index)
        return True

    def _forget_all(self) -> None:
        self._strips.clear()
        self._drawn.clear()

    def _forget(self, index: int) -> None:
        """Drop the drawn lines of ``index`` in every state."""
        self._drawn.pop(index, None)
        width = self._columns.width
        for state in (_PLAIN, _CURSOR_BLURRED, _CURSOR_FOCUSED):
            self._strips.discard((index, width, state))
            self._strips.discard((index, width, state | _SELECTED))

    def refresh_row(self, conversation_id: str) -> None:
        """Redraw the row of ``conversation_id`` (after its object was replaced in rows)."""
        index = self._find(conversation_id)
        if index is None:
            return
        self._forget(index)
        self.refresh_line(index)
        if index == self._cursor:
            self._post_highlight()

    def _find(self, conversation_id: str, *, far: bool = True) -> int | None:
        """Index of ``conversation_id`` in rows: the cursor's row first, then a scan.

        A view's result answers from its shared id index without visiting any
        conversation; other sequences are scanned in C, stopping at the match.
        """
        rows = self._rows
        current = self._row(self._cursor)
        if current is not None and current.id == conversation_id:
            return self._cursor
        if isinstance(rows, InboxRows):
            return rows.index_of_id(conversation_id, near=self._cursor, far=far)
        try:
            return indexOf(map(attrgetter("id"), rows), conversation_id)
        except ValueError:
            return None

    # --- cursor ----------------------------------------------------------------------

    def _move_cursor(self, index: int) -> None:
        count = len(self._rows)
        index = max(0, min(index, count - 1))
        old = self._cursor
        if index != old:
            self._cursor = index
            self.refresh_line(old)
            self.refresh_line(index)
        self._scroll_to_cursor()
        self._after_move()

    def _scroll_to_cursor(self) -> None:
        if not self._rows or not self.is_mounted:
            return
        region = self.scrollable_content_region
        if not region.height:
            return
        self.scroll_to_region(
            Region(0, self._cursor, region.width, 1),
            animate=False,
            force=True,
            immediate=True,
        )

    def _after_move(self, *, moved: bool = True) -> None:
        self._post_highlight(moved=moved)
        self._check_near_end()

    def _post_highlight(self, *, moved: bool = True) -> None:
        row = self.highlighted
        if row != self._posted_highlight:
            self._posted_highlight = row
            self.post_message(self.Highlighted(self, row, moved))

    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _check_near_end(self) -> None:
        count = len(self._rows)
        if not count or self._near_end_posted_for == count:
            return
        page = self._page_height() if self.is_mounted else 1
        reach = max(self._cursor, self.scroll_offset.y + page)
        if reach >= count - 2 * page:
            self._near_end_posted_for = count
            self.post_message(self.NearEnd(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_near_end()

    def action_cursor_up(self) -> None:
        self._move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move_cursor(self._cursor + 1)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self._rows) - 1)

    def _page(self, direction: int) -> None:
        step = direction * self._page_height()
        self.scroll_to(y=self.scroll_y + step, animate=False, force=True)
        self._move_cursor(self._cursor + step)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def action_select(self) -> None:
        row = self.highlighted
        if row is not None:
            self.post_message(self.Selected(self, row))

    async def _on_click(self, event: events.Click) -> None:
        index = event.y - self.gutter.top + self.scroll_offset.y
        if 0 <= index < len(self._rows):
            self._move_cursor(index)
            if event.chain >= 2:
                self.action_select()

    # --- size ------------------------------------------------------------------------

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width if self.is_mounted else 0
        size = Size(width, len(self._rows))
        if size == self.virtual_size:
            return
        self.virtual_size = size
        if self.is_mounted:
            # The scrollbar follows (a new or gone scrollbar lays the screen out again,
            # through show_vertical_scrollbar; a longer or shorter one does not).
            self._scroll_update(size)

    def on_mount(self) -> None:
        self._update_virtual_size()
        self._after_move()
        self.set_interval(_TIME_REFRESH, self._age_times)

    def _age_times(self) -> None:
        self._forget_all()
        self.refresh()

    def on_resize(self) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()
        self._check_near_end()
        self.post_message(self.Resorted(self))  # the header's columns follow the width

    def on_focus(self) -> None:
        self._styles.clear()
        self.refresh_line(self._cursor)

    def on_blur(self) -> None:
        self._styles.clear()
        self.refresh_line(self._cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._forget_all()

    def _style(self, name: str = "", *, partial: bool = False) -> Style:
        """``conversation-list--{name}``'s style (the widget's own for ``""``), kept."""
        key = f"{name}/{partial}"
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = (
                self.get_component_rich_style(f"conversation-list--{name}", partial=partial)
                if name
                else self.rich_style
            )
        return style

    # --- drawing ---------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._columns.width:
            self._columns = _Columns(width, owner=self._owner_names is not None)
            self._forget_all()
        rows = self._rows
        if not rows:
            return self._render_empty(y, width)
        index = self.scroll_offset.y + y
        if index >= len(rows):
            self._drawn[index] = None
            return Strip.blank(width, self._style())
        state = _PLAIN
        if index == self._cursor:
            state = _CURSOR_FOCUSED if self.has_focus else _CURSOR_BLURRED
        selected = self._is_selected
        if selected is None:
            key = (index, width, state)
            strip = self._strips.get(key)
            if strip is None:
                row = self._row(index)
                if row is None:  # gone from the database since this view was read
                    self._drawn[index] = None
                    return Strip.blank(width, self._style())
                strip = self._strips[key] = self._render_row(row, state)
                self._drawn[index] = row
            return strip
        row = self._row(index)
        if row is None:
            self._drawn[index] = None
            return Strip.blank(width, self._style())
        marked = _SELECTED if selected(row.id) else 0
        key = (index, width, state | marked)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(row, state, selected=bool(marked))
            self._drawn[index] = row
        return strip

    def _render_empty(self, y: int, width: int) -> Strip:
        base = self._style()
        if y != self.scrollable_content_region.height // 2:
            return Strip.blank(width, base)
        text = clean_line(self._empty_text, width)
        left = max(0, (width - cell_len(text)) // 2)
        dim = self._style("dim")
        segments = [Segment(" " * left, base), Segment(text, dim)]
        return Strip(segments).adjust_cell_length(width, base)

    def _render_row(self, row: ListRow, state: int, *, selected: bool = False) -> Strip:
        """One conversation as one line of plain segments (never markup)."""
        if self._present is not None:
            row = self._present(row)
        columns = self._columns
        unread = row.unread
        if state == _PLAIN:
            style = self._style()
            dim = self._style("dim")
            if selected:
                mark = self._style("selected", partial=True)
                style, dim = style + mark, dim + mark
        else:
            style = dim = self._style("cursor")
        if unread:
            bold = self._style("unread", partial=True)
            style, dim = style + bold, dim + bold

        when: datetime | None = getattr(row, _SHOWN_TIMES[self._shown_time])
        # Matches are marked in what they matched: not in presenter mode's stand-ins.
        presenting = self._present is not None
        terms = self._rows.terms if isinstance(self._rows, InboxRows) and not presenting else ()
        match = self._style("match", partial=True)
        opportunities = row.opportunities
        segments = [
            Segment(
                CURSOR_GLYPH if state != _PLAIN else SELECTED_GLYPH if selected else " ", style
            ),
            Segment(UNREAD_GLYPH if unread else " ", style),
            Segment(" ", style),
        ]
        if columns.owner:
            owner = (self._owner_names or {}).get(row.owner or "", row.owner or "")
            segments += [Segment(_fit(owner, columns.owner), dim), Segment(" ", style)]
        segments += _marked(_fit(row.display_name, columns.name), style, match, terms)
        tags = self.label_tags(row.labels) if row.labels else ""
        if columns.email:
            # The name column already shows the email when there is no name. Labels come
            # first in the email's column: they are what triage looks for.
            email = row.email if row.name else None
            segments.append(Segment(" ", style))
            if tags:
                shown = clean_line(tags, columns.email)
                label = style if state != _PLAIN else self._style("label")
                segments.append(Segment(shown, label))
                rest = columns.email - cell_len(shown)
                if rest > 1:
                    segments.append(Segment(" ", dim))
                    segments += _marked(_fit(email or "", rest - 1), dim, match, terms)
                elif rest > 0:
                    segments.append(Segment(" ", dim))
            else:
                segments += _marked(_fit(email or "", columns.email), dim, match, terms)
        if columns.channels:
            tags = channel_tags(row.channels)
            segments += [Segment(" ", style), Segment(_fit(tags, columns.channels), dim)]
        time = relative_time(when, self._clock())
        replied = row.have_replies or row.last_replied_at is not None
        segments += [
            Segment(" ", style),
            Segment(_fit(time, columns.time, right=True), dim),
            Segment(" ", style),
            Segment(REPLIED_GLYPH if replied else " ", style),
            Segment(_fit(f"${opportunities}" if opportunities else "", 3, right=True), style),
        ]
        return Strip(segments).adjust_cell_length(columns.width, style)


def _terms(rows: Sequence[ListRow]) -> tuple[str, ...]:
    """The filter's free-text terms the rows mark (none for a plain sequence)."""
    return rows.terms if isinstance(rows, InboxRows) else ()


class ListHeader(Widget):
    """One line of column headers over a :class:`ConversationList`, its sort marked."""

    DEFAULT_CSS = """
    ListHeader {
        height: 1;
        color: $text-muted;
        text-style: bold;
    }
    """

    def __init__(self, target: ConversationList, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = target

    def render(self) -> Text:
        return Text(self.target.header_text(), no_wrap=True, overflow="crop", end="")
