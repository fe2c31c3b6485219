"""Leads found by their id or email, without a table made up front.

Lead ids and emails are drawn at random, so unlike ``ibx_``/``ctc_`` ids they do not decode
to an index. The directory reads contacts in index order (:meth:`DemoData.contact`, cheaper
than whole conversations) only as far as a lookup needs, and remembers what it read: over a
run, each contact is read at most once. An email is looked up in every contact, so its first
lookup reads them all, on the event loop: fine for a demo of thousands, slow for millions.
"""

from __future__ import annotations

import threading

from lemlist_tui.demo.data import DemoData


class ContactDirectory:
    """Lead id → index and email → indices, over indices below the ``end`` of each call
    (the conversations made so far, deleted ones included: callers check existence)."""

    def __init__(self, data: DemoData) -> None:
        self._data = data
        self._by_lead: dict[str, int] = {}
        self._by_email: dict[str, list[int]] = {}
        self._read = 0
        """Indices below this one are in the maps."""
        self._lock = threading.Lock()

    def lead(self, lead_id: str, end: int) -> int | None:
        """The index of the conversation whose lead is ``lead_id``."""
        with self._lock:
            found = self._by_lead.get(lead_id)
            while found is None and self._read < end:
                if self._read_one() == lead_id:
                    found = self._read - 1
            return found

    def email(self, email: str, end: int) -> list[int]:
        """Every index whose contact has ``email`` (without case), ascending."""
        with self._lock:
            while self._read < end:  # the last one may be anywhere: read them all
                self._read_one()
            return list(self._by_email.get(email.casefold(), ()))

    def _read_one(self) -> str:
        """Put the next contact in the maps; its lead id."""
        index = self._read
        contact = self._data.contact(index)
        self._by_lead[contact.lead_id] = index
        self._by_email.setdefault(contact.email.casefold(), []).append(index)
        self._read += 1
        return contact.lead_id
