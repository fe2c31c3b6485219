"""``lemlist-tui export``: the whole inbox, newest first, as JSON lines or CSV.

No ``textual`` import: the command runs without the UI. One conversation per line; the
JSON object (and the CSV columns, in this order, under a header row) is flat:

============== ====================================================================
id             the conversation's ``_id`` (``ibx_…``)
contactId      the contact's id (``ctc_…``), or null
name           the contact's full name, or null (CSV: empty)
email          the contact's email, or null (CSV: empty)
channels       list of channels (``email``, ``linkedin``, …); CSV: joined with ``;``
lastActivityAt ISO-8601 UTC with milliseconds (``2024-12-03T10:12:20.620Z``), or null
createdAt      same format, or null
lastRepliedAt  same format, or null
unread         true when unread for the exported user (lemlist's per-user flag)
replied        the contact has replied (``haveReplies``)
opportunities  how many opportunities the conversation has (a number)
labels         list of label ids; CSV: joined with ``;``
============== ====================================================================

Every text comes from strangers: it passes through :func:`lemlist_tui.text.clean_line`
(no terminal escapes, no control characters), and a CSV cell that a spreadsheet would
run as a formula (starting with ``=``, ``+``, ``-`` or ``@``) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO

import orjson

from lemlist_tui.db.store import ExportRecord, from_micros, json_strings
from lemlist_tui.sync.engine import InboxSync
from lemlist_tui.text import clean_line

__all__ = [
    "COLUMNS",
    "ProgressBar",
    "bring_up_to_date",
    "export_inbox",
    "incomplete_note",
    "record_row",
]

COLUMNS = (
    "id",
    "contactId",
    "name",
    "email",
    "channels",
    "lastActivityAt",
    "createdAt",
    "lastRepliedAt",
    "unread",
    "replied",
    "opportunities",
    "labels",
)
_LINES_AT_ONCE = 512
"""JSON lines joined into one write (a write a line costs more than the line)."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    utc = when.astimezone(UTC) if when.tzinfo is not None else when
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _token(value: str | None) -> str | None:
    """An id, channel or label: kept as is when plainly printable, else cleaned."""
    if value is None or (value.isascii() and value.isprintable()):
        return value
    return clean_line(value)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    if value.isascii() and value.isprintable():
        # What clean_line leaves of plain ASCII: the same words, single-spaced.
        return " ".join(value.split())
    return clean_line(value)


def _tokens(json_list: str) -> list[str | None]:
    return [] if json_list == "[]" else [_token(x) for x in json_strings(json_list)]


def _plain_json_list(text: str) -> bool:
    """A stored JSON list whose strings need no cleaning: printable ASCII and no escape
    (orjson wrote it, so a control character would stand as an escape)."""
    return text.isascii() and text.isprintable() and "\\" not in text


def record_row(record: ExportRecord, *, json_lists: bool = False) -> dict[str, object]:
    """The exported object of one stored conversation (the fields of the module doc),
    read straight from the database's columns (the times come formatted by the
    database, see :meth:`InboxDatabase.export_records`).

    ``json_lists``: a list that needs no cleaning is passed on as the stored JSON text
    (an ``orjson.Fragment``), for JSON lines: parsing it only to write it again would
    cost more than the rest of the row.
    """
    r = record
    channels: object
    labels: object
    if json_lists and _plain_json_list(r.channels):
        channels = orjson.Fragment(r.channels)
    else:
        channels = _tokens(r.channels)
    if json_lists and _plain_json_list(r.labels):
        labels = orjson.Fragment(r.labels)
    else:
        labels = _tokens(r.labels)
    return {
        "id": _token(r.id),
        "contactId": _token(r.contact_id),
        "name": _text(r.name),
        "email": _text(r.email),
        "channels": channels,
        "lastActivityAt": r.last_activity_iso or _iso(from_micros(r.last_activity_at)),
        "createdAt": r.created_iso or _iso(from_micros(r.created_at)),
        "lastRepliedAt": r.last_replied_iso or _iso(from_micros(r.last_replied_at)),
        "unread": bool(r.unread),
        "replied": bool(r.have_replies),
        "opportunities": r.opportunities or 0,
        "labels": labels,
    }


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ";".join(str(x) for x in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class ProgressBar:
    """A one-line bar on a terminal stream: ``Fetching inbox [#####-----] 12/30 pages``."""

    WIDTH = 30

    def __init__(self, stream: TextIO, *, what: str = "inbox") -> None:
        self._stream = stream
        self._what = what
        self._shown = False

    def message(self, text: str) -> None:
        self._stream.write(f"\r{text}\x1b[K")
        self._stream.flush()
        self._shown = True

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.message(f"Fetching {self._what} [{bar}] {done}/{total} pages")
        else:
            self.message(f"Fetching {self._what}: {done} pages")

    def close(self, text: str | None = None) -> None:
        if text is not None:
            self.message(text)
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


async def bring_up_to_date(sync: InboxSync, bar: ProgressBar | None, *, full: bool) -> None:
    """Make ``sync``'s user's inbox whole and current: a refresh when it is whole and its
    last full crawl recent, else a full crawl (which resumes an unfinished one)."""
    if full or sync.crawl_due():
        await sync.crawl(bar)
    else:
        if bar is not None:
            bar.message("Refreshing inbox…")
        await sync.refresh()


def incomplete_note(sync: InboxSync) -> str | None:
    """A sentence when the local inbox of ``sync``'s user is not known to be whole."""
    state = sync.state
    if state.complete:
        return None
    held, _ = sync.db.counts(sync.user_id)
    if state.total_items is not None:
        return (
            f"the local inbox holds {held:,} of {state.total_items:,} conversations "
            "(run lemlist-tui sync to fetch the rest)"
        )
    return f"the local inbox holds {held:,} conversations and may be incomplete"


def _write_rows(records: Iterable[ExportRecord], fmt: Literal["jsonl", "csv"], out: TextIO) -> int:
    written = 0
    if fmt == "jsonl":
        dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        lines: list[bytes] = []
        for record in records:
            lines.append(dumps(record_row(record, json_lists=True), option=option))
            if len(lines) == _LINES_AT_ONCE:
                out.write(b"".join(lines).decode())
                written += len(lines)
                lines.clear()
        out.write(b"".join(lines).decode())
        return written + len(lines)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        row = record_row(record)
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])
        written += 1
    return written


async def export_inbox(
    sync: InboxSync,
    *,
    unread_only: bool,
    fmt: Literal["jsonl", "csv"],
    out: TextIO,
    progress: TextIO | None,
) -> int:
    """Bring the local inbox up to date, then stream it newest first; returns rows written.

    Offline, the local inbox is exported as it is. ``progress`` (a terminal, or None) gets
    a one-line bar while pages are fetched. Rows are read from the database a batch at a
    time: memory stays flat at any size. Errors are the typed errors of the sync and the
    database.
    """
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format: {fmt!r}")
    if not sync.offline:
        bar = ProgressBar(progress) if progress is not None else None
        try:
            await bring_up_to_date(sync, bar, full=False)
        finally:
            if bar is not None:
                bar.close()
    records = sync.db.export_records(sync.user_id, unread_only=unread_only)
    written = _write_rows(records, fmt, out)
    out.flush()
    return written
