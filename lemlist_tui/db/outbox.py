"""The outbox: every change the app makes in lemlist, applied locally at once, sent later.

No ``textual`` import. An action (mark read, label, unlabel, interested, not interested)
is one row of the ``outbox`` table, written in the same transaction as its local effect,
so a crash leaves both or neither. One user action is one *group* (a bulk mark-read of 37
conversations is one group of 37 rows); :meth:`Outbox.undo` takes back the newest group.

States: ``pending`` (waiting to be sent), ``sending`` (a request is out), ``sent``,
``failed`` (lemlist refused it: kept with the reason until retried or undone),
``unknown`` (a reply or a draft whose request went out and whose fate is unknown),
``settled`` (an unknown one the user dealt with). Every triage action is idempotent in
lemlist, so a triage row found ``sending`` at start (the process died while its request
was out) goes back to ``pending``; a reply or a draft found so becomes ``unknown``: it is
never sent twice without the user saying so.

A reply (and a lemlist draft to save) is a row of the ``replies`` table (see
:mod:`lemlist_tui.db.replies`); its outbox row names it in ``target``, and its local
effect is the reply's state (``draft`` → ``queued`` or ``saving``).
"""

from __future__ import annotations

import enum
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lemlist_tui.db.store import InboxDatabase, reads

__all__ = [
    "Action",
    "Kind",
    "Outbox",
    "OutboxSummary",
    "Queued",
    "Sendable",
    "Undone",
    "settle_unknown",
]

KEEP_SENT = 1000
"""Sent rows kept (newest first): the undo of a sent label, the read overlay of a page
fetched before its mark-read went out."""


class Kind(enum.StrEnum):
    READ = "read"
    LABEL = "label"
    UNLABEL = "unlabel"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    REPLY = "reply"
    DRAFT = "draft"
    DRAFT_DELETE = "draft_delete"

    @property
    def inverse(self) -> Kind | None:
        """The action that takes this one back in lemlist; None for a mark-read, which
        lemlist cannot take back (there is no "mark unread")."""
        return _INVERSE.get(self)

    @property
    def undoable_after_send(self) -> bool:
        return self in (Kind.LABEL, Kind.UNLABEL)

    @property
    def idempotent(self) -> bool:
        """Safe to send again when its first try's fate is unknown."""
        return self not in (Kind.REPLY, Kind.DRAFT)

    @property
    def writes_reply(self) -> bool:
        """Its target is a row of the ``replies`` table."""
        return self in (Kind.REPLY, Kind.DRAFT)


_WORDS = {
    Kind.READ: "mark read",
    Kind.LABEL: "label",
    Kind.UNLABEL: "label removal",
    Kind.INTERESTED: "interested",
    Kind.NOT_INTERESTED: "not interested",
    Kind.REPLY: "reply",
    Kind.DRAFT: "draft saved in lemlist",
    Kind.DRAFT_DELETE: "lemlist draft deletion",
}

_INVERSE = {
    Kind.LABEL: Kind.UNLABEL,
    Kind.UNLABEL: Kind.LABEL,
    Kind.INTERESTED: Kind.NOT_INTERESTED,
    Kind.NOT_INTERESTED: Kind.INTERESTED,
}


@dataclass(frozen=True, slots=True)
class Action:
    """One change to make in lemlist.

    ``user_id`` is who reads (a mark-read); ``target`` the label id (labels) or the lead
    id (interest); ``conversation_id`` the conversation a mark-read applies to locally.
    """

    kind: Kind
    contact_id: str
    conversation_id: str | None = None
    user_id: str | None = None
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Sendable:
    """An outbox row the sender may send now."""

    id: int
    action: Action
    attempts: int


@dataclass(frozen=True, slots=True)
class Queued:
    """What :meth:`Outbox.add` did: ``queued`` rows to send (in group ``group``),
    ``cancelled`` pending opposites taken back instead, ``unchanged`` already so."""

    group: int | None
    queued: int
    cancelled: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class Undone:
    """What :meth:`Outbox.undo` did, for its one-line notice."""

    kinds: tuple[Kind, ...]
    """The kinds in the group undone (empty: nothing to undo)."""
    withdrawn: int
    """Pending or failed rows removed before lemlist heard of them."""
    reversed: int
    """Sent label changes for which the opposite was queued."""
    final: int
    """Rows already sent that lemlist cannot take back (mark-read, interest)."""
    conversation_id: str | None = None
    """The conversation the group's first action was on (where the cursor goes back)."""

    @property
    def nothing(self) -> bool:
        return not self.kinds

    def sentence(self) -> str:
        """One line for the notice."""
        if self.nothing:
            if self.final:
                return (
                    "Nothing left to undo: what lemlist has heard (a mark read, interest, "
                    "a reply) is final."
                )
            return "Nothing to undo."
        what = " and ".join(_WORDS[kind] for kind in self.kinds)
        parts = []
        if self.withdrawn:
            parts.append(f"Undone: {what} ({self.withdrawn:,}), before lemlist heard of it.")
        if self.reversed:
            parts.append(
                f"Undone: {what} ({self.reversed:,}); the reverse is on its way to lemlist."
            )
        if self.final:
            parts.append(f"{self.final:,} already sent: lemlist cannot take those back.")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    """The status line's part: rows to send, rows refused, and the newest reason."""

    pending: int = 0
    failed: int = 0
    error: str | None = None
    unknown: int = 0
    """Replies (or drafts) that may have gone out: the user checks the thread."""

    @property
    def empty(self) -> bool:
        return not self.pending and not self.failed and not self.unknown

    def sentence(self, *, offline: bool = False) -> str | None:
        """The status line's words for it: ``3 to send``, ``2 waiting to go out
        (offline)``, ``1 refused: Label not found (R retries)``; None when empty."""
        parts = []
        if self.pending:
            if offline:
                parts.append(f"{self.pending:,} waiting to go out (offline)")
            elif self.error:
                parts.append(f"{self.pending:,} to send, waiting: {self.error}")
            else:
                parts.append(f"{self.pending:,} to send")
        if self.failed:
            reason = f": {self.error}" if self.error and not self.pending else ""
            parts.append(f"{self.failed:,} refused{reason}")
        if self.unknown:
            parts.append(f"{self.unknown:,} may have been sent: check the thread (R)")
        return ", ".join(parts) or None


_OPEN = ("pending", "sending", "failed")
_WRITABLE = ("draft", "unknown")
"""Reply states from which a send or a save may be queued. ``unknown``: when the user,
having checked the thread, says so (its unknown rows are then settled)."""
_REPLY_KINDS = "('reply', 'draft')"
_LANES = {"unlabel": "label"}
"""Kinds that share a lane with another: their order matters (a label, its removal)."""
STOPPED = "the app stopped while it was going out"
_ROW = "id, kind, contact_id, conversation_id, user_id, target, attempts"


def _action(row: Sequence[Any]) -> Action:
    return Action(Kind(row[1]), row[2], row[3], row[4], row[5])


class Outbox:
    """The outbox of one account's database (``db``); writes go through its writer."""

    def __init__(self, db: InboxDatabase, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    # --- the local state an action changes ----------------------------------------------

    @staticmethod
    def _local(connection: sqlite3.Connection, action: Action) -> str | None:
        """The local value ``action`` changes, as text (None: nothing held)."""
        kind = action.kind
        if kind.writes_reply:
            reply = _reply_id(action)  # a damaged entry is not queued: a sentence
            row = connection.execute("SELECT state FROM replies WHERE id = ?", (reply,)).fetchone()
            return None if row is None else str(row[0])
        if kind is Kind.DRAFT_DELETE:
            return None  # lemlist's drafts are not held here: nothing to change locally
        if kind is Kind.READ:
            row = connection.execute(
                "SELECT i.unread FROM inbox i JOIN conversations c ON c.local_id = i.conversation "
                "WHERE c.id = ? AND i.user_id = ?",
                (action.conversation_id, action.user_id),
            ).fetchone()
            return None if row is None else str(row[0])
        if kind in (Kind.LABEL, Kind.UNLABEL):
            # Applied by the app, or listed by lemlist on the contact's conversation.
            row = connection.execute(
                "SELECT 1 FROM contact_labels WHERE contact_id = ? AND label_id = ? "
                "UNION ALL SELECT 1 FROM conversations AS c, json_each(c.labels) AS l "
                "WHERE c.contact_id = ? AND l.value = ? LIMIT 1",
                (action.contact_id, action.target, action.contact_id, action.target),
            ).fetchone()
            return "1" if row else "0"
        row = connection.execute(
            "SELECT interested FROM lead_interest WHERE lead_id = ?", (action.target,)
        ).fetchone()
        return None if row is None else str(row[0])

    @staticmethod
    def _effect(kind: Kind) -> str:
        """The local value after ``kind`` (unread "0"; label present "1"; interest)."""
        return {
            Kind.READ: "0",
            Kind.LABEL: "1",
            Kind.UNLABEL: "0",
            Kind.INTERESTED: "1",
            Kind.NOT_INTERESTED: "0",
            Kind.REPLY: "queued",
            Kind.DRAFT: "saving",
            Kind.DRAFT_DELETE: "deleted",
        }[kind]

    @staticmethod
    def _set_local(connection: sqlite3.Connection, action: Action, value: str | None) -> None:
        kind = action.kind
        if kind is Kind.DRAFT_DELETE:
            return
        if kind.writes_reply:
            # A damaged entry (no reply number) has no reply to set back: z withdraws it.
            reply = _reply_number(action)
            if value is not None and reply is not None:
                connection.execute("UPDATE replies SET state = ? WHERE id = ?", (value, reply))
            return
        if kind is Kind.READ:
            if value is None:
                return
            local = connection.execute(
                "SELECT local_id FROM conversations WHERE id = ?", (action.conversation_id,)
            ).fetchone()
            if local is None:
                return
            connection.execute(
                "UPDATE inbox SET unread = ? WHERE user_id = ? AND conversation = ?",
                (int(value), action.user_id, local[0]),
            )
            connection.execute(
                "INSERT INTO participants (conversation, user_id, sender, read) "
                "VALUES (?, ?, 0, ?) ON CONFLICT DO UPDATE SET read = excluded.read",
                (local[0], action.user_id, 1 - int(value)),
            )
        elif kind in (Kind.LABEL, Kind.UNLABEL):
            if value == "1":
                connection.execute(
                    "INSERT OR IGNORE INTO contact_labels (contact_id, label_id) VALUES (?, ?)",
                    (action.contact_id, action.target),
                )
            else:
                connection.execute(
                    "DELETE FROM contact_labels WHERE contact_id = ? AND label_id = ?",
                    (action.contact_id, action.target),
                )
                # As lemlist will list it once it has heard (the next sync rewrites it).
                connection.execute(
                    "UPDATE conversations SET labels = (SELECT json_group_array(value) "
                    "FROM json_each(labels) WHERE value != ?) "
                    "WHERE contact_id = ? AND labels != '[]'",
                    (action.target, action.contact_id),
                )
        elif value is None:
            connection.execute("DELETE FROM lead_interest WHERE lead_id = ?", (action.target,))
        else:
            connection.execute(
                "INSERT OR REPLACE INTO lead_interest (lead_id, interested) VALUES (?, ?)",
                (action.target, int(value)),
            )

    # --- adding and taking back ------------------------------------------------------------

    def add(self, actions: Sequence[Action]) -> Queued:
        """Apply ``actions`` locally and queue them, as one group, in one transaction.

        An action whose effect is already there locally is not queued (``m`` twice sends
        once); one whose opposite is still pending takes that back instead of queuing.
        """

        def work(connection: sqlite3.Connection) -> Queued:
            group = self._next_group(connection)
            queued = cancelled = unchanged = 0
            now = self._clock()
            for action in actions:
                if self._cancel_opposite(connection, action):
                    cancelled += 1
                before = self._local(connection, action)
                after = self._effect(action.kind)
                if before == after or (action.kind is Kind.READ and before is None):
                    unchanged += 1
                    continue
                if action.kind.writes_reply:
                    if before not in _WRITABLE:
                        unchanged += 1  # gone, or already on its way, sent or saved
                        continue
                    settle_unknown(connection, _reply_id(action))
                if self._open_twin(connection, action):
                    unchanged += 1
                    continue
                self._set_local(connection, action, after)
                connection.execute(
                    "INSERT INTO outbox (grp, kind, contact_id, conversation_id, user_id, "
                    "target, previous, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        group, action.kind.value, action.contact_id, action.conversation_id,
                        action.user_id, action.target, before, now,
                    ),
                )  # fmt: skip
                queued += 1
            return Queued(group if queued else None, queued, cancelled, unchanged)

        return self.db.write("written", work)

    @staticmethod
    def _next_group(connection: sqlite3.Connection) -> int:
        row = connection.execute("SELECT coalesce(max(grp), 0) + 1 FROM outbox").fetchone()
        return int(row[0])

    @staticmethod
    def _match(action: Action, kind: Kind) -> tuple[str, tuple[Any, ...]]:
        return (
            "kind = ? AND contact_id = ? AND user_id IS ? AND target IS ?",
            (kind.value, action.contact_id, action.user_id, action.target),
        )

    def _open_twin(self, connection: sqlite3.Connection, action: Action) -> bool:
        where, args = self._match(action, action.kind)
        row = connection.execute(
            f"SELECT 1 FROM outbox WHERE {where} AND state IN (?, ?, ?) AND undone = 0",
            (*args, *_OPEN),
        ).fetchone()
        return row is not None

    def _cancel_opposite(self, connection: sqlite3.Connection, action: Action) -> bool:
        """Take back a pending (not yet sent) opposite of ``action``: neither is sent."""
        inverse = action.kind.inverse
        if inverse is None:
            return False
        where, args = self._match(action, inverse)
        row = connection.execute(
            f"SELECT id, previous FROM outbox WHERE {where} AND state IN ('pending', 'failed') "
            "AND undone = 0 ORDER BY id DESC LIMIT 1",
            args,
        ).fetchone()
        if row is None:
            return False
        connection.execute("DELETE FROM outbox WHERE id = ?", (row[0],))
        self._set_local(connection, Action(inverse, *_fields(action)), row[1])
        return True

    def undo(self) -> Undone:
        """Take back the newest group that can still be taken back.

        Rows not sent yet are withdrawn and their local effect reverted; sent label
        changes get their opposite queued; a sent mark-read or interest is final (lemlist
        has no "unread"), and is said so.
        """

        def work(connection: sqlite3.Connection) -> Undone:
            row = connection.execute(
                "SELECT grp FROM outbox WHERE undone = 0 AND undoes IS NULL AND ("
                "state IN ('pending', 'failed', 'sending') "
                "OR (state = 'sent' AND kind IN ('label', 'unlabel'))"
                ") ORDER BY grp DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return self._final_only(connection)
            group = int(row[0])
            rows = connection.execute(
                f"SELECT {_ROW}, state, previous FROM outbox WHERE grp = ? ORDER BY id DESC",
                (group,),
            ).fetchall()
            withdrawn = reversed_ = final = 0
            inverse_group: int | None = None
            kinds: list[Kind] = []
            for entry in rows:
                action = _action(entry)
                state, previous = entry[7], entry[8]
                kinds.append(action.kind)
                if state in ("pending", "failed"):
                    connection.execute("DELETE FROM outbox WHERE id = ?", (entry[0],))
                    self._set_local(connection, action, previous)
                    withdrawn += 1
                    continue
                inverse = action.kind.inverse
                if inverse is None or not action.kind.undoable_after_send:
                    final += 1
                else:
                    if inverse_group is None:
                        inverse_group = self._next_group(connection)
                    undo = Action(inverse, *_fields(action))
                    self._set_local(connection, undo, self._effect(inverse))
                    connection.execute(
                        "INSERT INTO outbox (grp, kind, contact_id, conversation_id, user_id, "
                        "target, previous, created_at, undoes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            inverse_group, inverse.value, action.contact_id,
                            action.conversation_id, action.user_id, action.target,
                            self._effect(action.kind), self._clock(), group,
                        ),
                    )  # fmt: skip
                    reversed_ += 1
                connection.execute("UPDATE outbox SET undone = 1 WHERE id = ?", (entry[0],))
            first = rows[-1][3] if rows else None
            return Undone(tuple(dict.fromkeys(kinds)), withdrawn, reversed_, final, first)

        return self.db.write("written", work)

    @staticmethod
    def _final_only(connection: sqlite3.Connection) -> Undone:
        """Nothing can be taken back; say whether the newest action is a final one."""
        row = connection.execute(
            "SELECT kind FROM outbox WHERE undone = 0 AND undoes IS NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return Undone((), 0, 0, 0)
        return Undone((), 0, 0, 1)

    # --- the sender's side -------------------------------------------------------------

    def recover(self) -> int:
        """At start: triage rows left ``sending`` by a process that died go back to pending
        (every triage action is idempotent in lemlist); a reply or a draft left so is
        ``unknown`` (it may have gone out). Old sent rows are dropped."""

        def work(connection: sqlite3.Connection) -> int:
            for row in connection.execute(
                f"SELECT id FROM outbox WHERE state = 'sending' AND kind IN {_REPLY_KINDS}"
            ).fetchall():
                self._unknown(connection, int(row[0]), STOPPED)
            back = connection.execute(
                "UPDATE outbox SET state = 'pending' WHERE state = 'sending'"
            ).rowcount
            connection.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND id NOT IN "
                "(SELECT id FROM outbox WHERE state = 'sent' ORDER BY id DESC LIMIT ?)",
                (KEEP_SENT,),
            )
            return int(back)

        return self.db.write("written", work)

    @reads
    def sendable(self, limit: int, *, held_for: float = 0.0) -> list[Sendable]:
        """Up to ``limit`` pending rows to send at once, oldest first, at most one per
        contact and lane, and none behind an earlier row of that contact and lane still
        out or refused (the order of a label and its removal matters; a reply need not
        wait for a refused label). ``held_for``: rows younger than that
        many seconds wait (the time ``z`` has to take a change back)."""
        rows = self.db.read_connection.execute(
            f"SELECT {_ROW}, state FROM outbox WHERE state IN (?, ?, ?) "
            "AND (state != 'pending' OR created_at <= ?) ORDER BY id",
            (*_OPEN, self._clock() - held_for),
        ).fetchall()
        chosen: list[Sendable] = []
        blocked: set[tuple[str, str]] = set()
        for row in rows:
            lane = (row[2], _LANES.get(row[1], row[1]))
            if lane in blocked:
                continue
            blocked.add(lane)
            if row[7] == "pending":
                chosen.append(Sendable(row[0], _action(row), row[6]))
                if len(chosen) >= limit:
                    break
        return chosen

    def sending(self, ids: Sequence[int]) -> list[int]:
        """Mark ``ids`` as out; returns those still pending (an undo may have won)."""

        def work(connection: sqlite3.Connection) -> list[int]:
            taken: list[int] = []
            for row_id in ids:
                cursor = connection.execute(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1 "
                    "WHERE id = ? AND state = 'pending'",
                    (row_id,),
                )
                if cursor.rowcount:
                    taken.append(row_id)
            return taken

        return self.db.write("written", work)

    def sent(self, row_id: int, draft_id: str | None = None) -> None:
        """Done. A reply becomes ``sent``; a draft ``saved`` under ``draft_id``."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?",
                (self._clock(), row_id),
            )
            row = connection.execute(
                "SELECT kind, target FROM outbox WHERE id = ?", (row_id,)
            ).fetchone()
            if row is None or not Kind(row[0]).writes_reply:
                return
            if row[0] == Kind.REPLY.value:
                connection.execute(
                    "UPDATE replies SET state = 'sent', error = NULL, updated_at = ? WHERE id = ?",
                    (self._clock(), int(row[1])),
                )
            else:
                connection.execute(
                    "UPDATE replies SET state = 'saved', error = NULL, updated_at = ?, "
                    "draft_id = coalesce(?, draft_id) WHERE id = ?",
                    (self._clock(), draft_id, int(row[1])),
                )

        self.db.write("written", work)

    def unknown(self, row_id: int, reason: str) -> None:
        """Out, fate unknown (a reply or a draft): kept, never sent again by itself."""
        self.db.write("written", lambda c: self._unknown(c, row_id, reason))

    @staticmethod
    def _unknown(connection: sqlite3.Connection, row_id: int, reason: str) -> None:
        connection.execute(
            "UPDATE outbox SET state = 'unknown', error = ? WHERE id = ?", (reason, row_id)
        )
        connection.execute(
            "UPDATE replies SET state = 'unknown', error = ? "
            "WHERE id = (SELECT CAST(target AS INTEGER) FROM outbox WHERE id = ?)",
            (reason, row_id),
        )

    def back(self, row_id: int, reason: str) -> None:
        """Not sent, worth another try later (lemlist unreachable, busy, a 5xx)."""
        self.db.write(
            "written",
            lambda c: c.execute(
                "UPDATE outbox SET state = 'pending', error = ? WHERE id = ?", (reason, row_id)
            ),
        )

    def failed(self, row_id: int, reason: str) -> None:
        """Refused by lemlist: kept, with why, until retried or undone."""

        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE outbox SET state = 'failed', error = ? WHERE id = ?", (reason, row_id)
            )
            connection.execute(
                f"UPDATE replies SET error = ? WHERE id = (SELECT CAST(target AS INTEGER) "
                f"FROM outbox WHERE id = ? AND kind IN {_REPLY_KINDS})",
                (reason, row_id),
            )

        self.db.write("written", work)

    def retry_failed(self) -> int:
        """Every refused row goes back to pending; returns how many."""

        def work(connection: sqlite3.Connection) -> int:
            return int(
                connection.execute(
                    "UPDATE outbox SET state = 'pending' WHERE state = 'failed'"
                ).rowcount
            )

        return self.db.write("written", work)

    # --- reading -------------------------------------------------------------------------

    @reads
    def next_due(self, held_for: float) -> float | None:
        """Seconds until the oldest pending row has waited ``held_for`` (0: due now);
        None when nothing is pending."""
        row = self.db.read_connection.execute(
            "SELECT min(created_at) FROM outbox WHERE state = 'pending'"
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return max(0.0, float(row[0]) + held_for - self._clock())

    @reads
    def summary(self) -> OutboxSummary:
        pending, failed, unknown = self.db.read_connection.execute(
            "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')), "
            "count(*) FILTER (WHERE state = 'failed'), "
            "count(*) FILTER (WHERE state = 'unknown') FROM outbox"
        ).fetchone()
        error = self.db.read_connection.execute(
            "SELECT error FROM outbox WHERE state IN ('pending', 'failed') "
            "AND error IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return OutboxSummary(int(pending), int(failed), error[0] if error else None, int(unknown))

    @reads
    def rows(self) -> list[tuple[Action, str, str | None]]:
        """Every row not sent yet, oldest first, with its state and reason."""
        return [
            (_action(row), row[7], row[8])
            for row in self.db.read_connection.execute(
                f"SELECT {_ROW}, state, error FROM outbox WHERE state IN (?, ?, ?) ORDER BY id",
                _OPEN,
            )
        ]

    @reads
    def labels_of(self, contact_id: str) -> list[str]:
        """Label ids on ``contact_id`` as the app knows them: listed by lemlist on its
        conversation, and applied by the app (its pending changes included)."""
        return [
            row[0]
            for row in self.db.read_connection.execute(
                "SELECT label_id FROM contact_labels WHERE contact_id = ? "
                "UNION SELECT l.value FROM conversations AS c, json_each(c.labels) AS l "
                "WHERE c.contact_id = ? ORDER BY 1",
                (contact_id, contact_id),
            )
        ]

    @reads
    def interest_of(self, lead_id: str) -> bool | None:
        row = self.db.read_connection.execute(
            "SELECT interested FROM lead_interest WHERE lead_id = ?", (lead_id,)
        ).fetchone()
        return None if row is None else bool(row[0])


def settle_unknown(connection: sqlite3.Connection, reply_id: int) -> None:
    """The user dealt with reply ``reply_id``'s unknown fate (sent it again, or forgot
    it): its unknown rows leave the status line."""
    connection.execute(
        f"UPDATE outbox SET state = 'settled' WHERE state = 'unknown' "
        f"AND kind IN {_REPLY_KINDS} AND target = ?",
        (str(reply_id),),
    )


def _reply_number(action: Action) -> int | None:
    """The reply a reply's entry sends; None when the entry is damaged."""
    target = action.target
    return int(target) if target is not None and target.isdecimal() else None


def _reply_id(action: Action) -> int:
    reply = _reply_number(action)
    if reply is None:
        raise ValueError("An outbox entry is damaged (a field is missing); z takes it back.")
    return reply


def _fields(action: Action) -> tuple[str, str | None, str | None, str | None]:
    return (action.contact_id, action.conversation_id, action.user_id, action.target)
