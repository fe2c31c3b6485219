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
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, TextIO

import orjson

from lemlist_tui.api.models import Conversation
from lemlist_tui.sync.store import InboxStore
from lemlist_tui.text import clean_line

__all__ = ["COLUMNS", "ProgressBar", "conversation_row", "export_inbox"]

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
    return clean_line(value) if value is not None else None


def conversation_row(conversation: Conversation, user_id: str) -> dict[str, object]:
    """The exported object of one conversation (see the module doc for the fields)."""
    c = conversation
    return {
        "id": _token(c.id),
        "contactId": _token(c.contact_id),
        "name": _text(c.contact.full_name),
        "email": _text(c.contact.email),
        "channels": [_token(x) for x in c.channels],
        "lastActivityAt": _iso(c.last_activity_at),
        "createdAt": _iso(c.created_at),
        "lastRepliedAt": _iso(c.last_replied_at),
        "unread": c.is_unread_for(user_id),
        "replied": c.have_replies,
        "opportunities": len(c.opportunities),
        "labels": [_token(x) for x in c.labels],
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

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = False

    def message(self, text: str) -> None:
        self._stream.write(f"\r{text}\x1b[K")
        self._stream.flush()
        self._shown = True

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = min(self.WIDTH, self.WIDTH * done // total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.message(f"Fetching inbox [{bar}] {done}/{total} pages")
        else:
            self.message(f"Fetching inbox: {done} pages")

    def close(self, text: str | None = None) -> None:
        if text is not None:
            self.message(text)
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


async def _sync(store: InboxStore, bar: ProgressBar | None) -> None:
    """Make ``store`` complete: a refresh when it already was, else a crawl."""
    if store.offline:
        if not store.conversations:
            store.load_cached()
        await store.load_cached_rest()
        return
    if store.complete:
        if bar is not None:
            bar.message("Refreshing inbox…")
        await store.refresh()
    else:
        await store.crawl(bar)


def _write_rows(
    rows: Sequence[Conversation], user_id: str, fmt: Literal["jsonl", "csv"], out: TextIO
) -> None:
    if fmt == "jsonl":
        for conversation in rows:
            out.write(orjson.dumps(conversation_row(conversation, user_id)).decode())
            out.write("\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for conversation in rows:
        row = conversation_row(conversation, user_id)
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])


async def export_inbox(
    store: InboxStore,
    *,
    unread_only: bool,
    fmt: Literal["jsonl", "csv"],
    out: TextIO,
    progress: TextIO | None,
) -> int:
    """Sync ``store`` to completeness, then write it newest first; returns rows written.

    Offline, the cache is exported as it is. ``progress`` (a terminal, or None) gets a
    one-line bar while pages are fetched. Errors are the store's typed errors.
    """
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format: {fmt!r}")
    bar = ProgressBar(progress) if progress is not None else None
    try:
        await _sync(store, bar)
    finally:
        if bar is not None:
            bar.close()
    rows = store.conversations
    if unread_only:
        rows = [c for c in rows if c.is_unread_for(store.user_id)]
    _write_rows(rows, store.user_id, fmt, out)
    out.flush()
    return len(rows)
