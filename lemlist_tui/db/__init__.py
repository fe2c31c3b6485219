"""The local database: one SQLite file per account. No ``textual`` import."""

from __future__ import annotations

from lemlist_tui.db.connection import DB_NAME, StorageError, private_folder
from lemlist_tui.db.schema import TEAM
from lemlist_tui.db.search import fold, query_terms, search_text
from lemlist_tui.db.store import InboxDatabase, ListRow, PageWrite, SortKey, SyncState

__all__ = [
    "DB_NAME",
    "TEAM",
    "InboxDatabase",
    "ListRow",
    "PageWrite",
    "SortKey",
    "StorageError",
    "SyncState",
    "fold",
    "private_folder",
    "query_terms",
    "search_text",
]
