"""One account's local inbox in SQLite: what is written, and the queries that read it.

No ``textual`` import. :class:`InboxDatabase` has two connections: one for reads on the
caller's thread (the event loop: a screen of rows is a few hundred microseconds), and one
for writes, used from worker threads under a lock (a page is one short transaction).
Another process (a second app, ``lemlist-tui sync``) may write the same file at the same
time: :meth:`InboxDatabase.changed` tells a reader when anyone committed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, ParamSpec, TypeVar

import orjson

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    ConversationMessage,
    Label,
    Opportunity,
    Pagination,
    Participant,
    Team,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.db.connection import StorageError, connect, storage_error, transaction
from lemlist_tui.db.query import Facets
from lemlist_tui.db.records import RecordError, team_from_record, team_to_record
from lemlist_tui.db.schema import MISSING, TEAM
from lemlist_tui.db.search import search_text
from lemlist_tui.text import html_to_text

__all__ = [
    "ExportRecord",
    "InboxDatabase",
    "ListRow",
    "PageWrite",
    "SortKey",
    "SyncState",
    "from_micros",
    "json_strings",
    "to_micros",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


SCAN_CACHE_KIB = 256
"""SQLite's page cache on a worker's connection (:meth:`InboxDatabase.reader`)."""


def to_micros(when: datetime | None) -> int | None:
    if when is None:
        return None
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int | None) -> datetime | None:
    if value is None or value == MISSING:
        return None
    try:
        return _EPOCH + timedelta(microseconds=value)
    except OverflowError:
        return None


def _key(when: datetime | None) -> int:
    micros = to_micros(when)
    return MISSING if micros is None else micros


class SortKey(enum.Enum):
    """What the inbox is sorted by, newest first."""

    LAST_ACTIVITY = "last activity"
    LAST_REPLY = "last reply"
    CREATED = "created"

    def next(self) -> SortKey:
        """The key after this one, wrapping round (the ``s`` key cycles through them)."""
        members = list(SortKey)
        return members[(members.index(self) + 1) % len(members)]

    @property
    def column(self) -> str:
        """The ``inbox`` column holding this key."""
        return _SORT_COLUMNS[self]


_SORT_COLUMNS = {
    SortKey.LAST_ACTIVITY: "activity",
    SortKey.LAST_REPLY: "replied",
    SortKey.CREATED: "created",
}
_SORT_INDEXES = {
    SortKey.LAST_ACTIVITY: "inbox_by_activity",
    SortKey.LAST_REPLY: "inbox_by_replied",
    SortKey.CREATED: "inbox_by_created",
}


@dataclass(frozen=True, slots=True)
class ListRow:
    """What the conversation list draws for one conversation: no more is read."""

    local_id: int
    sort_value: int
    """This row's value of the sort it was read under (where the next screen starts)."""
    id: str
    name: str | None
    email: str | None
    channels: tuple[str, ...]
    unread: bool
    last_activity_at: datetime | None
    last_replied_at: datetime | None
    created_at: datetime | None
    have_replies: bool
    opportunities: int
    labels: tuple[str, ...] = ()
    """Label ids (names: :meth:`InboxDatabase.labels`)."""
    owner: str | None = None
    """The teammate who writes to this contact (the read matrix's sender), if known."""

    @property
    def display_name(self) -> str:
        return self.name or self.email or "(unknown contact)"


class ExportRecord(NamedTuple):
    """One conversation as ``export`` reads it (times in microseconds, lists as JSON)."""

    id: str
    contact_id: str | None
    name: str | None
    email: str | None
    channels: str
    last_activity_at: int | None
    created_at: int | None
    last_replied_at: int | None
    unread: int
    have_replies: int
    opportunities: int | None
    labels: str
    last_activity_iso: str | None
    """``2024-12-03T10:12:20.620Z`` (ms, truncated), or None: missing or before 1970."""
    created_iso: str | None
    last_replied_iso: str | None


_OUTBOX_READS = (
    "o.user_id, c.local_id FROM outbox o JOIN conversations c ON c.id = o.conversation_id "
    "WHERE o.kind = 'read' AND o.undone = 0"
)
"""The (user, conversation) pairs the outbox marked read (see :mod:`lemlist_tui.db.outbox`)."""


def _stream_sql(columns: str, unread_only: bool) -> str:
    """``columns`` of every conversation of a user (the one parameter), newest activity
    first, from the activity index: a stream for ``export`` and its kin."""
    return (
        f"SELECT {columns} FROM inbox AS i INDEXED BY inbox_by_activity "
        "JOIN conversations AS c ON c.local_id = i.conversation WHERE i.user_id = ?"
        + (" AND i.unread = 1" if unread_only else "")
        + " ORDER BY i.activity DESC, i.conversation DESC"
    )


def _iso_sql(column: str) -> str:
    """SQL for ``column`` (µs) as ISO-8601 UTC with milliseconds, in integer arithmetic
    (exact, and off the GIL); NULL before 1970, where the caller formats it."""
    return (
        f"CASE WHEN {column} >= 0 THEN strftime('%Y-%m-%dT%H:%M:%S', {column} / 1000000, "
        f"'unixepoch') || printf('.%03dZ', {column} / 1000 % 1000) END"
    )


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where one user's sync stands, as last committed."""

    total_items: int | None = None
    """lemlist's ``totalItems`` as last seen."""
    page_size: int = 100
    pages_seen: int = 0
    """Pages walked by the current full crawl (or the last, when complete)."""
    complete: bool = False
    """A full crawl has walked every page (the held inbox is the whole inbox)."""
    next_page: int | None = 1
    """Where an unfinished crawl resumes."""
    crawl: int = 0
    """The number of the current (or last) full crawl; rows it saw carry it."""
    crawl_total: int | None = None
    """``totalItems`` when the current crawl started."""
    crawl_steady: bool = True
    """Every page of the current crawl reported ``crawl_total``: nothing shifted pages."""
    full_crawl_at: float | None = None
    """Wall-clock time the last full crawl completed."""
    refreshed_at: float | None = None
    """Wall-clock time page 1 was last fetched (any sync)."""


@dataclass(frozen=True, slots=True)
class PageWrite:
    """What storing one page changed for its user."""

    new: int
    """Conversations not in this user's inbox before."""
    updated: int
    """Conversations held before that came back different."""
    new_to_crawl: int
    """Conversations this crawl had not seen yet (0 when not crawling)."""


_CONVERSATION_COLUMNS = (
    "id, contact_id, lead_id, team_id, created_by, name, email, created_at, "
    "last_activity_at, last_replied_at, have_replies, last_replied_channel, channels, "
    "opportunities, labels, messages"
)
_COLUMN_NAMES = [name.strip() for name in _CONVERSATION_COLUMNS.split(",")]
_PREFIXED_COLUMNS = ", ".join(f"c.{name}" for name in _COLUMN_NAMES)
_UPDATE_COLUMNS = ", ".join(f"{name} = ?" for name in _COLUMN_NAMES)
_ROW_COLUMNS = (
    "i.conversation, i.{sort}, c.id, c.name, c.email, c.channels, i.unread, "
    "c.last_activity_at, c.last_replied_at, c.created_at, c.have_replies, "
    "json_array_length(c.opportunities), c.labels, "
    "(SELECT json_group_array(label_id) FROM contact_labels WHERE contact_id = c.contact_id), "
    "(SELECT user_id FROM participants WHERE conversation = i.conversation AND sender = 1 "
    "ORDER BY user_id LIMIT 1)"
)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def _conversation_record(c: Conversation) -> tuple[Any, ...]:
    return (
        c.id,
        c.contact.id,
        c.lead_id,
        c.team_id,
        c.created_by,
        c.contact.full_name,
        c.contact.email,
        to_micros(c.created_at),
        to_micros(c.last_activity_at),
        to_micros(c.last_replied_at),
        int(c.have_replies),
        c.last_replied_channel,
        _dumps(list(c.channels)),
        _dumps([[o.id, o.type, o.done] for o in c.opportunities]),
        _dumps(list(c.labels)),
        _dumps([[m.id, m.sender, m.recipient, m.body, to_micros(m.sent_at)] for m in c.messages]),
    )


def _participants_record(c: Conversation) -> list[tuple[str, int, int]]:
    # One row per user, the first listed (what ``Conversation.is_unread_for`` reads): a
    # user listed twice would otherwise look changed at every store.
    first: dict[str, tuple[str, int, int]] = {}
    for p in c.participants:
        first.setdefault(p.user_id, (p.user_id, int(p.sender), int(p.read)))
    return list(first.values())


def json_strings(text: str) -> tuple[str, ...]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ()
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _list_row(row: Sequence[Any]) -> ListRow:
    return ListRow(
        local_id=row[0],
        sort_value=row[1],
        id=row[2],
        name=row[3],
        email=row[4],
        channels=json_strings(row[5]),
        unread=bool(row[6]),
        last_activity_at=from_micros(row[7]),
        last_replied_at=from_micros(row[8]),
        created_at=from_micros(row[9]),
        have_replies=bool(row[10]),
        opportunities=row[11] or 0,
        labels=_labels(row[12], row[13]),
        owner=row[14],
    )


def _labels(listed: str | None, applied: str | None) -> tuple[str, ...]:
    """Label ids: those lemlist lists on the conversation, then those the app applied."""
    if (not listed or listed == "[]") and (not applied or applied == "[]"):
        return ()
    return tuple(dict.fromkeys((*json_strings(listed or "[]"), *json_strings(applied or "[]"))))


def _conversation(row: Sequence[Any], participants: Iterable[Sequence[Any]]) -> Conversation:
    (
        cid,
        contact_id,
        lead_id,
        team_id,
        created_by,
        name,
        email,
        created_at,
        last_activity_at,
        last_replied_at,
        have_replies,
        last_replied_channel,
        channels,
        opportunities,
        labels,
        messages,
    ) = row
    raw_opportunities = orjson.loads(opportunities)
    raw_messages = orjson.loads(messages)
    return Conversation(
        id=cid,
        contact=Contact(contact_id, name, email),
        last_activity_at=from_micros(last_activity_at),
        created_at=from_micros(created_at),
        last_replied_at=from_micros(last_replied_at),
        channels=json_strings(channels),
        participants=tuple(Participant(u, bool(s), bool(r)) for u, s, r in participants),
        have_replies=bool(have_replies),
        last_replied_channel=last_replied_channel,
        opportunities=tuple(Opportunity(o[0], o[1], bool(o[2])) for o in raw_opportunities),
        labels=json_strings(labels),
        team_id=team_id,
        created_by=created_by,
        lead_id=lead_id,
        messages=tuple(
            ConversationMessage(m[0], m[1], m[2], m[3], from_micros(m[4])) for m in raw_messages
        ),
    )


def _unread_for(conversation: Conversation, user_id: str) -> int:
    return int(conversation.is_unread_for(user_id))


def _filters(
    unread_only: bool,
    terms: Sequence[str],
    within: Sequence[int] | None,
    facets: Facets | None = None,
    *,
    counting: bool = False,
) -> tuple[str, list[Any]]:
    """The ``WHERE`` conditions (each starting with `` AND``) of a view, and their values
    (``counting``: for a count, see :meth:`Facets.sql`)."""
    sql = " AND i.unread = 1" if unread_only else ""
    sql += "".join(" AND instr(i.search, ?) > 0" for _ in terms)
    params: list[Any] = list(terms)
    if within is not None:
        sql += " AND i.conversation IN (SELECT value FROM json_each(?))"
        params.append(_dumps(list(within)))
    if facets is not None:
        more, values = facets.sql(counting=counting)
        sql += more
        params += values
    return sql, params


def _joined(facets: Facets | None) -> str:
    """The join a count needs for ``facets`` on the conversation (labels, channels…)."""
    if facets is not None and facets.needs_conversation:
        return " JOIN conversations AS c ON c.local_id = i.conversation "
    return " "


_P = ParamSpec("_P")
_R = TypeVar("_R")


def read_error(error: sqlite3.Error | UnicodeDecodeError) -> StorageError:
    """One sentence for a read that failed: a busy or unreadable file, or damage."""
    if isinstance(error, sqlite3.OperationalError) and not _damage(error):
        return storage_error(error, "read")
    return StorageError(
        "The local inbox is damaged and cannot be read: run lemlist-tui --clear-cache, "
        "then let it sync again."
    )


def _damage(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("malformed", "not a database", "corrupt", "decode"))


def reads(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A read whose failure is a :class:`StorageError` sentence (the budget's
    interruption excepted: the filter answers it another way)."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if "interrupt" in str(error):
                raise
            raise read_error(error) from None
        except (sqlite3.Error, UnicodeDecodeError) as error:
            raise read_error(error) from None

    return read


_reads = reads


def _streams(method: Callable[_P, Iterator[_R]]) -> Callable[_P, Iterator[_R]]:
    """:func:`_reads` for a generator: a failure met while streaming is a sentence too."""

    @functools.wraps(method)
    def stream(*args: _P.args, **kwargs: _P.kwargs) -> Iterator[_R]:
        try:
            yield from method(*args, **kwargs)
        except (sqlite3.Error, UnicodeDecodeError) as error:
            raise read_error(error) from None

    return stream


def _lenient_text(value: bytes) -> str:
    """Text from the file, a byte that is not UTF-8 (damage) shown as �, not raised."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.decode("utf-8", "replace")


class InboxDatabase:
    """The local inbox of one account: ``folder/inbox.sqlite3``.

    Reads (every method not named ``store_…``/``save_…``/``mark_…``/``reconcile…``) run on
    the caller's thread on the read connection: call them from one thread (the event
    loop). Writes are safe from any thread, one at a time, each one transaction; they
    raise :class:`StorageError` with one sentence, and the file keeps its last commit.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._reader, self.notice = connect(folder)
        self._reader.text_factory = _lenient_text
        """``notice``: a sentence when a damaged file was moved aside at open, else None."""
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()
        self._seen_version = self.version

    # --- connections ---------------------------------------------------------------------

    def close(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self._reader.close()

    def reader(self) -> sqlite3.Connection:
        """Another read connection, for a worker thread (e.g. an exact filter count)."""
        connection, _ = connect(self.folder)
        # A worker's reads are scans, each page read once: a page cache of SQLite's
        # default 2 MB would only add to the process's peak (the OS caches the file).
        connection.execute(f"PRAGMA cache_size = -{SCAN_CACHE_KIB}")
        return connection

    def _read_data_version(self) -> int:
        return int(self._reader.execute("PRAGMA data_version").fetchone()[0])

    @property
    def version(self) -> int:
        """Changes whenever anyone commits: this object writes on a connection of its
        own, so the reads' connection sees those commits as it sees another process's."""
        return self._read_data_version()

    @contextlib.contextmanager
    def budget(self, over: Callable[[], bool], every: int = 2000) -> Iterator[None]:
        """Reads on this thread's connection stop with ``sqlite3.OperationalError``
        ("interrupted") once ``over()`` is true (asked every ``every`` VM steps)."""
        self._reader.set_progress_handler(lambda: int(over()), every)
        try:
            yield
        finally:
            self._reader.set_progress_handler(None, 0)

    def changed(self) -> bool:
        """Whether anyone (this process or another) committed since the last call."""
        version = self.version
        if version != self._seen_version:
            self._seen_version = version
            return True
        return False

    def _write(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer, _ = connect(self.folder)
        return self._writer

    @property
    def read_connection(self) -> sqlite3.Connection:
        """The reads' connection (the event loop's), for the modules that extend this one."""
        return self._reader

    def write(self, doing: str, work: Callable[[sqlite3.Connection], _R]) -> _R:
        """Run ``work`` in one write transaction; a failure is a :class:`StorageError`
        saying what was not ``doing`` ("written", "saved")."""
        result: _R = self._execute_write(doing, work)
        return result

    def _execute_write(self, doing: str, work: Any) -> Any:
        with self._write_lock:
            try:
                connection = self._write()
                with transaction(connection):
                    result = work(connection)
            except (OSError, sqlite3.Error) as error:
                raise storage_error(error, doing) from None
            return result

    # --- sync state ------------------------------------------------------------------------

    @_reads
    def sync_state(self, user_id: str) -> SyncState | None:
        return self._get_state(self._reader, user_id)

    @staticmethod
    def _get_state(connection: sqlite3.Connection, user_id: str) -> SyncState | None:
        row = connection.execute(
            "SELECT total_items, page_size, pages_seen, complete, next_page, crawl, "
            "crawl_total, crawl_steady, full_crawl_at, refreshed_at "
            "FROM sync_state WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        if row is None:
            return None
        return SyncState(
            row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6], bool(row[7]),
            row[8], row[9],
        )  # fmt: skip

    @classmethod
    def _update_state(
        cls,
        connection: sqlite3.Connection,
        user_id: str,
        state: SyncState,
        fields: Collection[str] | None,
    ) -> None:
        """Write ``state``, or only its ``fields`` over the state as committed now (inside
        the transaction): another process's sync of the same user keeps what it wrote."""
        if fields is not None:
            current = cls._get_state(connection, user_id) or SyncState(page_size=state.page_size)
            state = dataclasses.replace(current, **{f: getattr(state, f) for f in fields})
        cls._put_state(connection, user_id, state)

    @staticmethod
    def _put_state(connection: sqlite3.Connection, user_id: str, state: SyncState) -> None:
        connection.execute(
            "INSERT OR REPLACE INTO sync_state (user_id, total_items, page_size, pages_seen, "
            "complete, next_page, crawl, crawl_total, crawl_steady, full_crawl_at, "
            "refreshed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id, state.total_items, state.page_size, state.pages_seen,
                int(state.complete), state.next_page, state.crawl, state.crawl_total,
                int(state.crawl_steady), state.full_crawl_at, state.refreshed_at,
            ),
        )  # fmt: skip

    def save_sync_state(
        self, user_id: str, state: SyncState, *, fields: Collection[str] | None = None
    ) -> None:
        """Commit ``state`` (only its ``fields``, when given: see :meth:`store_page`)."""
        self._execute_write("saved", lambda c: self._update_state(c, user_id, state, fields))

    # --- pages -----------------------------------------------------------------------------

    def store_page(
        self,
        user_id: str,
        conversations: Sequence[Conversation],
        state: SyncState,
        *,
        crawl: int | None = None,
        fields: Collection[str] | None = None,
    ) -> PageWrite:
        """Merge one inbox page of ``user_id`` and its sync state, in one transaction.

        ``crawl`` marks every conversation of the page seen by that full crawl. A page
        repeating an id keeps the last copy. ``fields`` names the parts of ``state`` the
        caller changed: only those are written, over the state committed at that moment.
        """
        unique = list({c.id: c for c in conversations}.values())

        def work(connection: sqlite3.Connection) -> PageWrite:
            result = self._merge(connection, user_id, unique, crawl)
            self._update_state(connection, user_id, state, fields)
            return result

        result: PageWrite = self._execute_write("written", work)
        return result

    @staticmethod
    def _merge(
        connection: sqlite3.Connection,
        user_id: str,
        conversations: Sequence[Conversation],
        crawl: int | None,
    ) -> PageWrite:
        new = updated = new_to_crawl = 0
        for conversation in conversations:
            record = _conversation_record(conversation)
            participants = _participants_record(conversation)
            held = connection.execute(
                f"SELECT local_id, {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
                (conversation.id,),
            ).fetchone()
            if held is None:
                local_id = connection.execute(
                    f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) "
                    f"VALUES ({', '.join('?' * len(record))}) RETURNING local_id",
                    record,
                ).fetchone()[0]
                changed = True
            else:
                local_id = held[0]
                held_participants = connection.execute(
                    "SELECT user_id, sender, read FROM participants WHERE conversation = ?",
                    (local_id,),
                ).fetchall()
                changed = tuple(held[1:]) != record or sorted(held_participants) != sorted(
                    participants
                )
                if changed:
                    connection.execute(
                        f"UPDATE conversations SET {_UPDATE_COLUMNS} WHERE local_id = ?",
                        (*record, local_id),
                    )
            if changed:
                connection.execute("DELETE FROM participants WHERE conversation = ?", (local_id,))
                connection.executemany(
                    "INSERT OR REPLACE INTO participants (conversation, user_id, sender, read) "
                    "VALUES (?, ?, ?, ?)",
                    [(local_id, *p) for p in participants],
                )
                contact = conversation.contact
                if contact.id is not None:
                    connection.execute(
                        "INSERT OR REPLACE INTO contacts (id, full_name, email) VALUES (?, ?, ?)",
                        (contact.id, contact.full_name, contact.email),
                    )
            entry = (
                _key(conversation.last_activity_at),
                _key(conversation.last_replied_at),
                _key(conversation.created_at),
                _unread_for(conversation, user_id),
                search_text(conversation.contact.full_name, conversation.contact.email),
            )
            if changed and held is not None:
                # Every teammate's inbox row of it follows: a conversation carries every
                # teammate's read flag, whoever's page brought it.
                others = connection.execute(
                    "SELECT user_id FROM inbox WHERE conversation = ? AND user_id NOT IN (?, ?)",
                    (local_id, user_id, TEAM),
                ).fetchall()
                for (other,) in others:
                    connection.execute(
                        "UPDATE inbox SET activity = ?, replied = ?, created = ?, unread = ?, "
                        "search = ? WHERE user_id = ? AND conversation = ?",
                        (*entry[:3], _unread_for(conversation, other), entry[4], other, local_id),
                    )
            inbox = connection.execute(
                "SELECT activity, replied, created, unread, search, seen FROM inbox "
                "WHERE user_id = ? AND conversation = ?",
                (user_id, local_id),
            ).fetchone()
            if inbox is None:
                connection.execute(
                    "INSERT INTO inbox (user_id, conversation, activity, replied, created, "
                    "unread, search, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (user_id, local_id, *entry, crawl or 0),
                )
                new += 1
                new_to_crawl += crawl is not None
                continue
            unseen = crawl is not None and inbox[5] != crawl
            new_to_crawl += unseen
            if tuple(inbox[:5]) != entry:
                updated += 1
            elif changed:
                updated += 1  # what the list does not show changed (labels, channels, …)
            if unseen or tuple(inbox[:5]) != entry:
                connection.execute(
                    "UPDATE inbox SET activity = ?, replied = ?, created = ?, unread = ?, "
                    "search = ?, seen = max(seen, ?) WHERE user_id = ? AND conversation = ?",
                    (*entry, crawl or 0, user_id, local_id),
                )
        if conversations:
            # A mark-read in the outbox wins over a page fetched before lemlist heard of it.
            connection.execute(
                "UPDATE inbox SET unread = 0 WHERE unread = 1 AND (user_id, conversation) IN "
                f"(SELECT {_OUTBOX_READS})"
            )
            connection.execute(
                "UPDATE participants SET read = 1 WHERE read = 0 AND (user_id, conversation) IN "
                f"(SELECT {_OUTBOX_READS})"
            )
        return PageWrite(new, updated, new_to_crawl)

    def reconcile(self, user_id: str, crawl: int) -> int:
        """Remove from ``user_id``'s inbox what full crawl ``crawl`` never saw; returns how
        many. Conversations left in no inbox go too."""

        def work(connection: sqlite3.Connection) -> int:
            removed = connection.execute(
                "DELETE FROM inbox WHERE user_id = ? AND seen < ?", (user_id, crawl)
            ).rowcount
            if removed:
                connection.execute(
                    "DELETE FROM participants WHERE conversation NOT IN "
                    "(SELECT conversation FROM inbox)"
                )
                connection.execute(
                    "DELETE FROM conversations WHERE local_id NOT IN "
                    "(SELECT conversation FROM inbox)"
                )
                for table in ("contacts", "threads", "messages"):
                    column = "id" if table == "contacts" else "contact_id"
                    connection.execute(
                        f"DELETE FROM {table} WHERE {column} NOT IN "
                        "(SELECT contact_id FROM conversations WHERE contact_id IS NOT NULL)"
                    )
            return int(removed)

        removed: int = self._execute_write("written", work)
        return removed

    @_reads
    def seen_count(self, user_id: str, crawl: int) -> int:
        """How many of ``user_id``'s conversations full crawl ``crawl`` saw (a new read
        connection: fit for a worker thread)."""
        connection = self.reader()
        try:
            row = connection.execute(
                "SELECT count(*) FROM inbox WHERE user_id = ? AND seen >= ?", (user_id, crawl)
            ).fetchone()
        finally:
            connection.close()
        return int(row[0])

    def mark_read(self, user_id: str, conversation_id: str) -> bool:
        """``user_id`` has read it (lemlist said so); False when it is not held."""

        def work(connection: sqlite3.Connection) -> bool:
            row = connection.execute(
                "SELECT local_id FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                return False
            local_id = row[0]
            connection.execute(
                "INSERT INTO participants (conversation, user_id, sender, read) "
                "VALUES (?, ?, 0, 1) ON CONFLICT DO UPDATE SET read = 1",
                (local_id, user_id),
            )
            connection.execute(
                "UPDATE inbox SET unread = 0 WHERE user_id = ? AND conversation = ?",
                (user_id, local_id),
            )
            return True

        done: bool = self._execute_write("written", work)
        return done

    # --- reading the inbox -----------------------------------------------------------------

    @_reads
    def counts(self, user_id: str) -> tuple[int, int]:
        """(conversations, unread) held for ``user_id``."""
        row = self._reader.execute(
            "SELECT total, unread FROM inbox_counts WHERE user_id = ?", (user_id,)
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    @_reads
    def rows(
        self,
        user_id: str,
        *,
        sort: SortKey = SortKey.LAST_ACTIVITY,
        unread_only: bool = False,
        terms: Sequence[str] = (),
        within: Sequence[int] | None = None,
        offset: int = 0,
        limit: int = 64,
        after: tuple[int, int] | None = None,
        reverse: bool = False,
        connection: sqlite3.Connection | None = None,
        facets: Facets | None = None,
    ) -> list[ListRow]:
        """A screen of ``user_id``'s rows, newest first by ``sort`` (oldest first with
        ``reverse``: the end of the list, read from its end).

        ``after`` is the (sort value, local id) of the row before the first wanted, in the
        direction read: the walk starts right there in the index (a keyset), and ``offset``
        counts from it. ``within`` keeps only those local ids. Ties in the sort keep the
        newest-stored first.
        """
        column = sort.column
        sql = (
            f"SELECT {_ROW_COLUMNS.format(sort=column)} FROM inbox AS i "
            f"{'' if within is not None else f'INDEXED BY {_SORT_INDEXES[sort]} '}"
            "JOIN conversations AS c ON c.local_id = i.conversation WHERE i.user_id = ?"
        )
        params: list[Any] = [user_id]
        if after is not None:
            key = "+" if within is not None else ""
            sql += f" AND ({key}i.{column}, {key}i.conversation) {'>' if reverse else '<'} (?, ?)"
            params += after
        where, extra = _filters(unread_only, terms, within, facets)
        sql += where
        params += extra
        direction = "ASC" if reverse else "DESC"
        # A few rows (``within``) are looked up by key and sorted (the unary + keeps the
        # planner off the sort index, which it would walk whole to find them in order).
        plus = "+" if within is not None else ""
        sql += (
            f" ORDER BY {plus}i.{column} {direction}, {plus}i.conversation {direction}"
            " LIMIT ? OFFSET ?"
        )
        params += (limit, offset)
        reader = connection or self._reader
        return [_list_row(row) for row in reader.execute(sql, params)]

    @_reads
    def count(
        self,
        user_id: str,
        *,
        unread_only: bool = False,
        terms: Sequence[str] = (),
        within: Sequence[int] | None = None,
        connection: sqlite3.Connection | None = None,
        facets: Facets | None = None,
    ) -> int:
        """How many rows match (an index scan when ``terms`` are given: run it in a worker
        with its own ``connection`` on a large inbox)."""
        if not terms and within is None and (facets is None or facets.empty):
            total, unread = self.counts(user_id)
            return unread if unread_only else total
        sql = "SELECT count(*) FROM inbox AS i "
        by_people = not unread_only and not terms and facets is not None and facets.people_only
        if within is None and not by_people:
            sql += "INDEXED BY inbox_by_activity "
        # Teammates' terms alone: driven from their entries of the read matrix (through
        # its index by teammate, then the team view's key); with other conditions, the
        # walk of every row tests those first and looks the matrix up for the rest.
        where, extra = _filters(unread_only, terms, within, facets, counting=by_people)
        reader = connection or self._reader
        sql += _joined(facets) + "WHERE i.user_id = ?" + where
        return int(reader.execute(sql, (user_id, *extra)).fetchone()[0])

    @_reads
    def between(
        self,
        user_id: str,
        above: tuple[int, int],
        below: tuple[int, int],
        *,
        sort: SortKey = SortKey.LAST_ACTIVITY,
        unread_only: bool = False,
        terms: Sequence[str] = (),
        within: Sequence[int] | None = None,
        facets: Facets | None = None,
    ) -> int:
        """How many rows of that view lie strictly between two rows, given as their
        (sort value, local id): a walk of the sort index over that stretch only."""
        column = sort.column
        hint = "" if within is not None else f"INDEXED BY {_SORT_INDEXES[sort]} "
        plus = "+" if within is not None else ""
        pair = f"({plus}i.{column}, {plus}i.conversation)"
        sql = (
            f"SELECT count(*) FROM inbox AS i {hint}{_joined(facets)}"
            f"WHERE i.user_id = ? AND {pair} < (?, ?) AND {pair} > (?, ?)"
        )
        where, extra = _filters(unread_only, terms, within, facets)
        row = self._reader.execute(sql + where, (user_id, *above, *below, *extra)).fetchone()
        return int(row[0])

    @_reads
    def position(
        self,
        user_id: str,
        local_id: int,
        *,
        sort: SortKey = SortKey.LAST_ACTIVITY,
        unread_only: bool = False,
        terms: Sequence[str] = (),
        within: Sequence[int] | None = None,
        from_end: bool = False,
        facets: Facets | None = None,
    ) -> int | None:
        """Where the row of ``local_id`` is in that view (None when it is not in it), as
        the number of rows before it; ``from_end`` counts the rows after it instead (the
        cheaper walk for a row in the second half)."""
        column = sort.column
        key = self._reader.execute(
            f"SELECT {column}, unread, search FROM inbox WHERE user_id = ? AND conversation = ?",
            (user_id, local_id),
        ).fetchone()
        if key is None or (unread_only and not key[1]):
            return None
        if any(term not in key[2] for term in terms):
            return None
        if within is not None and local_id not in within:
            return None
        if facets is not None and not facets.empty:
            more, values = facets.sql()
            held = self._reader.execute(
                f"SELECT 1 FROM inbox AS i{_joined(facets)}WHERE i.user_id = ? "
                f"AND i.conversation = ?{more}",
                (user_id, local_id, *values),
            ).fetchone()
            if held is None:
                return None
        # A few rows (``within``) are counted through their keys; a view of the inbox, by
        # walking its sort index from the end chosen.
        hint = "" if within is not None else f"INDEXED BY {_SORT_INDEXES[sort]} "
        plus = "+" if within is not None else ""
        sql = (
            f"SELECT count(*) FROM inbox AS i {hint}{_joined(facets)}"
            f"WHERE i.user_id = ? AND ({plus}i.{column}, {plus}i.conversation) "
            f"{'<' if from_end else '>'} (?, ?)"
        )
        where, extra = _filters(unread_only, terms, within, facets)
        row = self._reader.execute(sql + where, (user_id, key[0], local_id, *extra)).fetchone()
        return int(row[0])

    @_reads
    def local_id(self, conversation_id: str) -> int | None:
        row = self._reader.execute(
            "SELECT local_id FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return int(row[0]) if row else None

    @_reads
    def targets(self, user_id: str, conversation_ids: Sequence[str]) -> list[tuple[str, str, bool]]:
        """(conversation id, contact id, unread for ``user_id``) of each held conversation
        of ``conversation_ids`` that has a contact, in the order given."""
        found = {
            row[0]: (row[0], row[1], bool(row[2]))
            for row in self._reader.execute(
                "SELECT c.id, coalesce(c.contact_id, c.lead_id), coalesce(i.unread, 0) "
                "FROM conversations AS c LEFT JOIN inbox AS i "
                "ON i.conversation = c.local_id AND i.user_id = ? "
                "WHERE c.id IN (SELECT value FROM json_each(?))",
                (user_id, _dumps(list(conversation_ids))),
            )
            if row[1] is not None
        }
        return [found[i] for i in conversation_ids if i in found]

    @_reads
    def conversation(self, conversation_id: str) -> Conversation | None:
        """The held conversation, whole (for the detail pane); None when not held."""
        row = self._reader.execute(
            f"SELECT local_id, {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        participants = self._reader.execute(
            "SELECT user_id, sender, read FROM participants WHERE conversation = ? "
            "ORDER BY user_id",
            (row[0],),
        ).fetchall()
        return _conversation(row[1:], participants)

    @_streams
    def iter_conversations(
        self, user_id: str, *, unread_only: bool = False, batch: int = 1000
    ) -> Iterator[Conversation]:
        """Every held conversation of ``user_id``, newest activity first, streamed.

        Uses a connection of its own (fit for a thread); holds ``batch`` rows at a time.
        """
        connection = self.reader()
        try:
            sql = _stream_sql(f"c.local_id, {_PREFIXED_COLUMNS}", unread_only)
            cursor = connection.execute(sql, (user_id,))
            while rows := cursor.fetchmany(batch):
                ids = [row[0] for row in rows]
                matrix: dict[int, list[tuple[str, int, int]]] = {}
                placeholders = ", ".join("?" * len(ids))
                for conversation, uid, sender, read in connection.execute(
                    "SELECT conversation, user_id, sender, read FROM participants "
                    f"WHERE conversation IN ({placeholders}) ORDER BY conversation, user_id",
                    ids,
                ):
                    matrix.setdefault(conversation, []).append((uid, sender, read))
                for row in rows:
                    yield _conversation(row[1:], matrix.get(row[0], ()))
        finally:
            connection.close()

    @_streams
    def export_records(
        self, user_id: str, *, unread_only: bool = False, batch: int = 2000
    ) -> Iterator[ExportRecord]:
        """What ``export`` writes of each conversation of ``user_id``, newest activity
        first, streamed ``batch`` rows at a time on a connection of its own: one query, no
        model object, so a million rows stream in seconds at a flat memory."""
        connection = self.reader()
        try:
            columns = (
                "c.id, c.contact_id, c.name, c.email, c.channels, c.last_activity_at, "
                "c.created_at, c.last_replied_at, i.unread, c.have_replies, "
                "json_array_length(c.opportunities), c.labels, "
                f"{_iso_sql('c.last_activity_at')}, {_iso_sql('c.created_at')}, "
                f"{_iso_sql('c.last_replied_at')}"
            )
            cursor = connection.execute(_stream_sql(columns, unread_only), (user_id,))
            while rows := cursor.fetchmany(batch):
                yield from map(ExportRecord._make, rows)
        finally:
            connection.close()

    # --- threads -----------------------------------------------------------------------------

    @_reads
    def thread(self, contact_id: str, viewer: str) -> ThreadPage | None:
        """The thread as last fetched for ``viewer``, with each message's text ready."""
        head = self._reader.execute(
            "SELECT total, skipped FROM threads WHERE contact_id = ? AND viewer = ?",
            (contact_id, viewer),
        ).fetchone()
        if head is None:
            return None
        messages = tuple(
            ThreadMessage(
                row[0], row[1], from_micros(row[2]), row[3], row[4], row[6], row[7], row[8],
                row[9], text=row[5], lead_id=row[10], campaign_id=row[11], mailbox_id=row[12],
            )
            for row in self._reader.execute(
                "SELECT id, type, created_at, subject, html, text, sender_user_id, "
                "sender_name, sender_email, lead_email, lead_id, campaign_id, mailbox_id "
                "FROM messages "
                "WHERE contact_id = ? AND viewer = ? ORDER BY position",
                (contact_id, viewer),
            )
        )  # fmt: skip
        count = len(messages)
        return ThreadPage(
            messages,
            Pagination(head[0] if head[0] is not None else count, 1, None, None, count, 1),
            json_strings(head[1]),
        )

    @_reads
    def thread_lead(self, contact_id: str, viewer: str) -> str | None:
        """The lead id of the newest message of the thread held that names one."""
        row = self._reader.execute(
            "SELECT lead_id FROM messages WHERE contact_id = ? AND viewer = ? "
            "AND lead_id IS NOT NULL ORDER BY position DESC LIMIT 1",
            (contact_id, viewer),
        ).fetchone()
        return str(row[0]) if row else None

    def save_thread(self, contact_id: str, viewer: str, page: ThreadPage, now: float) -> ThreadPage:
        """Keep ``page`` for ``viewer``; the text of each message is made here, once
        (call it from a worker thread: a heavy HTML message takes a while). Returns the
        page as kept, every message with its text."""
        page = dataclasses.replace(
            page,
            messages=tuple(
                m if m.text is not None else dataclasses.replace(m, text=html_to_text(m.html))
                for m in page.messages
            ),
        )

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM messages WHERE contact_id = ? AND viewer = ?", (contact_id, viewer)
            )
            connection.execute(
                "INSERT OR REPLACE INTO threads (contact_id, viewer, fetched_at, total, skipped) "
                "VALUES (?, ?, ?, ?, ?)",
                (contact_id, viewer, now, page.pagination.total_items, _dumps(page.skipped)),
            )
            connection.executemany(
                "INSERT INTO messages (contact_id, viewer, position, id, type, created_at, "
                "subject, html, text, sender_user_id, sender_name, sender_email, lead_email, "
                "lead_id, campaign_id, mailbox_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        contact_id, viewer, n, m.id, m.type, to_micros(m.created_at),
                        m.subject, m.html, m.text, m.sender_user_id, m.sender_name,
                        m.sender_email, m.lead_email, m.lead_id, m.campaign_id, m.mailbox_id,
                    )
                    for n, m in enumerate(page.messages)
                ],
            )  # fmt: skip

        self._execute_write("written", work)
        return page

    # --- team and labels -------------------------------------------------------------------

    @_reads
    def team(self) -> Team | None:
        row = self._reader.execute("SELECT record FROM team WHERE id = 1").fetchone()
        if row is None:
            return None
        try:
            return team_from_record(orjson.loads(row[0]))
        except (RecordError, orjson.JSONDecodeError):
            return None

    def save_team(self, team: Team) -> None:
        record = _dumps(team_to_record(team))
        self._execute_write(
            "written",
            lambda c: c.execute(
                "INSERT OR REPLACE INTO team (id, record) VALUES (1, ?)", (record,)
            ),
        )

    @_reads
    def labels(self) -> tuple[Label, ...]:
        return tuple(
            Label(*row) for row in self._reader.execute("SELECT id, name, color FROM labels")
        )

    def save_labels(self, labels: Sequence[Label]) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM labels")
            connection.executemany(
                "INSERT OR REPLACE INTO labels (id, name, color) VALUES (?, ?, ?)",
                [(x.id, x.name, x.color) for x in labels],
            )

        self._execute_write("written", work)
