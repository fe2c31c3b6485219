"""A folded copy of every contact's name and email in one ``bytes``, for rare filter terms.

No ``textual`` import. The database answers a filter by walking a sort index and stopping
after a screen of matches: instant for a common term, a scan of the whole index for a rare
one (hundreds of ms at a million rows). This index answers the rare ones: each row's
search text (as :func:`lemlist_tui.db.search_text` folds it: name, newline, email)
followed by its local id in five capital letters (base 26) and ``\\x01``, joined; a
search runs through a million rows in tens of ms.
It holds no Python object per conversation, and is built in a worker thread from the
database when the filter is first used, then again when the database has changed.

Folded text and terms hold no capital letter and no control character, so a term only
ever matches inside a row's text: never in an id, never across two rows.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

__all__ = ["RARE", "SearchIndex"]

_Memmem = Callable[[int, int, bytes, int], int | None]

_SLICE = 5_000
"""Rows read at once while building: about 250 KB at a time above the index itself."""
_ID_LETTERS = 5
"""A row's local id in capitals, base 26: ids below 26**5 (11,881,376); a database with
larger ones gets no index (the database answers every term). Seven bytes a row with the
``\\x01``, against nine for ``\\x00``, the id's digits and ``\\x01``: 2 MB less at 1M."""
_ID_SQL = (
    "char("
    + ", ".join(f"65 + (conversation / {26**k}) % 26" for k in reversed(range(_ID_LETTERS)))
    + ")"
)
RARE = 2048
"""Rows at most for a term to be rare: its matches are then listed here and the database
sorts them; a commoner term is left to the database's index walk."""


_CAPITALS = frozenset(range(ord("A"), ord("Z") + 1))


class SearchIndex:
    """The search texts of one user's inbox as of database version ``version``."""

    __slots__ = ("_address", "_view", "blob", "rows", "usable", "user_id", "version")

    def __init__(
        self, user_id: str, blob: bytearray, rows: int, version: object, *, usable: bool = True
    ) -> None:
        self.user_id = user_id
        self.blob = blob
        self.rows = rows
        self.version = version
        self.usable = usable
        """False: ids too large to write here; :meth:`matches` leaves every term to the
        database."""
        self._view: ctypes.Array[ctypes.c_char] | None = None
        """The blob as C sees it, made at the first search (it then cannot be resized)."""
        self._address = 0

    @classmethod
    def build(cls, connection: sqlite3.Connection, user_id: str, version: object) -> SearchIndex:
        """Read ``user_id``'s search texts (a table scan: run it in a worker thread).

        SQLite joins each slice of rows into one string, with the GIL released, so the
        event loop keeps running; the index grows in place, a slice at a time, so memory
        peaks at the index and one slice.
        """
        # Sized first (SQLite measures, without the GIL): the index then takes exactly
        # its bytes, with no growth slack and no copy on the way.
        size, largest = connection.execute(
            f"SELECT coalesce(sum(length(CAST(search AS BLOB)) + {_ID_LETTERS + 1}), 0), "
            "coalesce(max(conversation), 0) FROM inbox WHERE user_id = ?",
            (user_id,),
        ).fetchone()
        if largest >= 26**_ID_LETTERS:
            return cls(user_id, bytearray(), 0, version, usable=False)
        blob = bytearray(size)
        filled = rows = 0
        after = -1
        while True:
            # As a BLOB: SQLite's own UTF-8 bytes, with no Python string on the way (one
            # of a slice's CJK names would make that string four bytes a character).
            part = connection.execute(
                "SELECT CAST(group_concat(line, '') AS BLOB), count(*), max(conversation) "
                # A \x01 in a hostile name becomes \x02 (as long, still never in a
                # term): only a row's end is \x01. Rows stored meanwhile with ids too
                # large for the capitals are left out.
                f"FROM (SELECT replace(search, char(1), char(2)) || {_ID_SQL} || char(1) "
                "AS line, conversation FROM inbox WHERE user_id = ? AND conversation > ? "
                "AND conversation < ? ORDER BY conversation LIMIT ?)",
                (user_id, after, 26**_ID_LETTERS, _SLICE),
            ).fetchone()
            if not part or not part[1]:
                break
            data: bytes = part[0]
            blob[filled : filled + len(data)] = data  # grows only if rows came meanwhile
            filled += len(data)
            rows += part[1]
            after = part[2]
        del blob[filled:]  # rows gone meanwhile
        return cls(user_id, blob, rows, version)

    def matches(self, term: str, limit: int = RARE) -> list[int] | None:
        """Local ids of the rows whose text holds ``term`` (folded already), each once; None
        when there are more than ``limit`` (a common term)."""
        needle = term.encode("utf-8", "surrogatepass")
        if not self.usable or not needle or min(needle) < 0x20 or _CAPITALS & set(needle):
            return None  # a control byte or a capital: never in a folded term of ours
        blob = self.blob
        find = self._finder(needle)
        found: list[int] = []
        position = find(0)
        while position != -1:
            end = blob.index(b"\x01", position)
            if len(found) == limit:
                return None
            local_id = 0
            for letter in blob[end - _ID_LETTERS : end]:
                local_id = local_id * 26 + letter - 65
            found.append(local_id)
            position = find(end + 1)
        return found

    def _finder(self, needle: bytes) -> Callable[[int], int]:
        """Where ``needle`` next occurs from a position on (-1: nowhere).

        The C library's ``memmem`` where there is one, for terms of two bytes or more:
        through the 51 MB of a million rows it takes a rare term about half the time
        ``bytes.find`` does (30 against 55 ms for a rare pair of letters), and lets the
        other threads (the count of the query before) run meanwhile. ``bytes.find`` for
        one byte (``memchr`` already) and where there is no ``memmem``.
        """
        blob = self.blob
        memmem = _memmem() if len(needle) > 1 else None
        if memmem is None or not blob:
            return functools.partial(blob.find, needle)
        if self._view is None:
            import ctypes  # here: not at start, and only where a search wants it

            self._view = (ctypes.c_char * len(blob)).from_buffer(blob)
            self._address = ctypes.addressof(self._view)
        base, size, width = self._address, len(blob), len(needle)

        def find(start: int) -> int:
            if start >= size:
                return -1
            at = memmem(base + start, size - start, needle, width)
            return at - base if at else -1

        return find

    def __repr__(self) -> str:
        return f"<SearchIndex {self.rows:,} rows of {self.user_id}, {len(self.blob):,} bytes>"


@functools.cache
def _memmem() -> _Memmem | None:
    """The C library's ``memmem`` (looked up in the process, as the C library is already
    loaded: no search for it on disk), or None where there is none."""
    import ctypes

    try:
        memmem = ctypes.CDLL(None).memmem
    except (OSError, AttributeError, TypeError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    function: _Memmem = memmem
    return function
