"""The sync engine: one user's inbox in memory and on disk, kept in step with lemlist.

Nothing under this package imports ``textual``: the app, ``export`` and the benchmarks
share it. ``lemlist_tui.sync.export`` is not imported here (it pulls in the text
helpers, which the app's start-up path does not need yet).
"""

from lemlist_tui.sync.cache import AccountCache, DiskCache, InboxState
from lemlist_tui.sync.store import InboxStore, Progress, RefreshResult

__all__ = ["AccountCache", "DiskCache", "InboxState", "InboxStore", "Progress", "RefreshResult"]
