"""Replies written in the app, kept from the moment the editor closes.

No ``textual`` import. A reply is a row of the ``replies`` table: the text as written,
the channel, and the send's other fields. Until it is sent, or saved as a lemlist draft,
the text lives here and ``R`` offers it again; the outbox (``Kind.REPLY`` /
``Kind.DRAFT``) sends or saves it, and records what became of it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from lemlist_tui.db.connection import StorageError
from lemlist_tui.db.outbox import settle_unknown
from lemlist_tui.db.store import InboxDatabase, reads

__all__ = ["OPEN_STATES", "Replies", "Reply"]

OPEN_STATES = ("draft", "unknown", "queued", "saving", "saved")
"""The states ``R`` reopens: not sent, not discarded."""
_EDITABLE = ("draft", "unknown", "saved")
_COLUMNS = (
    "id, contact_id, conversation_id, user_id, channel, subject, body, fields, state, "
    "draft_id, error, updated_at"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply, as the database holds it."""

    contact_id: str
    user_id: str
    channel: str
    body: str
    subject: str | None = None
    conversation_id: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    """The send's other fields: ``sendUserEmail``, ``sendUserMailboxId``, ``leadId``, …"""
    id: int | None = None
    state: str = "draft"
    draft_id: str | None = None
    """The lemlist draft it was saved as (``d``): saving again updates that one."""
    error: str | None = None
    """Why it is unknown, or why lemlist refused it."""
    updated_at: float = 0.0

    @property
    def note(self) -> str | None:
        """The detail pane's words for where this reply stands (None: sent, gone)."""
        return _NOTES.get(self.state)


_NOTES = {
    "draft": "yours, kept here: R opens it",
    "unknown": "may have been sent: check the thread, then R",
    "queued": "on its way to lemlist (z takes it back)",
    "saving": "being saved as a lemlist draft",
    "saved": "saved as a lemlist draft: R opens it",
}


def _reply(row: Sequence[Any]) -> Reply:
    try:
        fields = orjson.loads(row[7])
    except orjson.JSONDecodeError:
        fields = {}
    if not isinstance(fields, dict):
        fields = {}
    return Reply(
        id=int(row[0]),
        contact_id=row[1],
        conversation_id=row[2],
        user_id=row[3],
        channel=row[4],
        subject=row[5],
        body=row[6],
        fields={str(k): str(v) for k, v in fields.items() if isinstance(v, str)},
        state=row[8],
        draft_id=row[9],
        error=row[10],
        updated_at=float(row[11]),
    )


class Replies:
    """The replies of one account's database (``db``); writes go through its writer."""

    def __init__(self, db: InboxDatabase, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    def save(self, reply: Reply) -> Reply:
        """Keep ``reply``'s text: a new row, or the same row updated (if it may still be
        edited: not on its way, not sent). Returns it as stored. A reply saved as a
        lemlist draft and edited again is a local draft again, its lemlist draft kept
        to be updated by the next save."""

        def work(connection: sqlite3.Connection) -> int:
            now = self._clock()
            values = (
                reply.channel,
                reply.subject,
                reply.body,
                orjson.dumps(dict(reply.fields)).decode(),
                now,
            )
            if reply.id is not None:
                cursor = connection.execute(
                    "UPDATE replies SET channel = ?, subject = ?, body = ?, fields = ?, "
                    "updated_at = ?, state = CASE state WHEN 'saved' THEN 'draft' ELSE state END "
                    f"WHERE id = ? AND state IN {_EDITABLE}",
                    (*values, reply.id),
                )
                if cursor.rowcount:
                    return reply.id
            cursor = connection.execute(
                "INSERT INTO replies (channel, subject, body, fields, updated_at, contact_id, "
                "conversation_id, user_id, created_at, draft_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *values, reply.contact_id, reply.conversation_id, reply.user_id, now,
                    reply.draft_id,
                ),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

        reply_id = self.db.write("written", work)
        stored = self.get(reply_id)
        if stored is None:  # only a database changed under us could do this
            raise StorageError("The reply could not be read back from the local database.")
        return stored

    @reads
    def get(self, reply_id: int) -> Reply | None:
        row = self.db.read_connection.execute(
            f"SELECT {_COLUMNS} FROM replies WHERE id = ?", (reply_id,)
        ).fetchone()
        return None if row is None else _reply(row)

    @reads
    def open_for(self, contact_id: str, user_id: str) -> Reply | None:
        """The newest reply to ``contact_id`` by ``user_id`` not sent nor discarded."""
        row = self.db.read_connection.execute(
            f"SELECT {_COLUMNS} FROM replies WHERE contact_id = ? AND user_id = ? "
            f"AND state IN {OPEN_STATES} ORDER BY updated_at DESC, id DESC LIMIT 1",
            (contact_id, user_id),
        ).fetchone()
        return None if row is None else _reply(row)

    @reads
    def unknown(self) -> list[Reply]:
        """Replies that may have gone out, newest first."""
        return [
            _reply(row)
            for row in self.db.read_connection.execute(
                f"SELECT {_COLUMNS} FROM replies WHERE state = 'unknown' ORDER BY id DESC"
            )
        ]

    def discard(self, reply_id: int) -> bool:
        """Forget a reply that is not on its way; False if it is (or is gone)."""

        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                f"UPDATE replies SET state = 'discarded', updated_at = ? "
                f"WHERE id = ? AND state IN {_EDITABLE}",
                (self._clock(), reply_id),
            )
            settle_unknown(connection, reply_id)
            return bool(cursor.rowcount)

        return self.db.write("written", work)
