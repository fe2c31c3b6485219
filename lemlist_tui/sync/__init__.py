"""Keeping the local database in step with lemlist: the page-walk policy, the sync.

Nothing under this package imports ``textual``: the app, ``sync``, ``export`` and the
benchmarks share it. ``lemlist_tui.sync.export`` is not imported here (it pulls in the
text helpers, which the app's start-up path does not need yet).
"""

from lemlist_tui.sync.engine import CrawlResult, InboxSync, Progress, RefreshResult

__all__ = ["CrawlResult", "InboxSync", "Progress", "RefreshResult"]
