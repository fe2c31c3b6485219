"""One run's connection to an account: the client, its local database, the syncs.

``open_session`` is the one place that decides between a real lemlist account and
the built-in demo API, so every other module runs the same code for both.
No ``textual`` import.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lemlist_tui import config
from lemlist_tui.api.base import account_fingerprint
from lemlist_tui.api.errors import LemlistError, NetworkError
from lemlist_tui.api.models import Team
from lemlist_tui.config import Settings
from lemlist_tui.db import InboxDatabase, StorageError
from lemlist_tui.sync.engine import InboxSync

if TYPE_CHECKING:
    # httpx (with the client) and the demo load only when a run needs them: an offline
    # start shows the local inbox without httpx.
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.demo import DemoConfig, DemoLemlist

__all__ = [
    "Account",
    "MissingKeyError",
    "Session",
    "clear_account",
    "open_session",
    "remove_old_cache",
    "resolve_account",
]


class MissingKeyError(LemlistError):
    def __init__(self, profiles: tuple[str, ...] = ()) -> None:
        """``profiles``: the config file's, when none was chosen (one may hold the key)."""
        hint = f", or choose a profile: --profile {'|'.join(profiles)}" if profiles else ""
        super().__init__(
            f"No lemlist API key: set LEMLIST_API_KEY or put api_key in the config file{hint}."
        )


@dataclass(eq=False)
class Session:
    settings: Settings
    fingerprint: str
    client: LemlistClient | None
    """None when offline: the inbox is then what the local database holds."""
    db: InboxDatabase
    demo: DemoLemlist | None = None
    team: Team | None = None
    _syncs: dict[str, InboxSync] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return self.client is None

    @property
    def notice(self) -> str | None:
        """A sentence about the database to show once (a damaged file moved aside)."""
        return self.db.notice

    def cached_team(self) -> Team | None:
        """The team as last stored, for a first frame that waits for nothing."""
        return self.db.team()

    async def load_team(self) -> Team:
        """The team from lemlist (then stored); the stored one when offline or unreachable."""
        cached = self.cached_team()
        if self.client is None:
            if cached is None:
                raise NetworkError("offline, and nothing is stored for this account yet")
            self.team = cached
            return cached
        try:
            team = await self.client.team()
        except NetworkError:
            if cached is None:
                raise
            team = cached
        else:
            with contextlib.suppress(StorageError):  # the inbox reports a failing disk
                await asyncio.to_thread(self.db.save_team, team)
        self.team = team
        return team

    def inbox(self, user_id: str) -> InboxSync:
        """The sync of ``user_id``'s inbox, one per user for the whole run."""
        sync = self._syncs.get(user_id)
        if sync is None:
            sync = InboxSync(
                self.client,
                self.db,
                user_id,
                page_size=self.settings.page_size,
                fresh_for=self.settings.fresh_for,
                full_crawl_every=self.settings.full_sync_every,
            )
            self._syncs[user_id] = sync
        return sync

    def last_user(self) -> str | None:
        return config.last_user(self.settings.state_path, self.fingerprint)

    def remember_user(self, user_id: str) -> None:
        config.remember_user(self.settings.state_path, self.fingerprint, user_id)

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        self.db.close()


@dataclass(frozen=True, slots=True)
class Account:
    """Which account a run talks to, and where its database lives."""

    api_key: str = field(repr=False)
    base_url: str
    """The URL the client uses (the demo's carries a data-set tag after ``#``)."""
    fingerprint: str
    folder: Path
    demo_config: DemoConfig | None = None


def resolve_account(settings: Settings, demo_config: DemoConfig | None = None) -> Account:
    """The account of ``settings`` (the demo's own with ``settings.demo``); no IO."""
    if settings.demo:
        from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig

        if demo_config is None:
            # Anchored at the start of the day, so a demo's database stays valid all day
            # while its newest conversations still look recent.
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            demo_config = DemoConfig(size=settings.demo_size, now=today)
        anchor = demo_config.now.isoformat() if demo_config.now else "now"
        # One database per demo data set: another size or day is another inbox.
        base_url = f"{DEMO_BASE_URL}#size={demo_config.size}&seed={demo_config.seed}&at={anchor}"
        api_key = DEMO_API_KEY
    elif settings.api_key:
        api_key, base_url = settings.api_key, settings.base_url
    else:
        raise MissingKeyError(settings.profiles if settings.profile is None else ())
    if settings.profile is not None:
        # Each profile its own database, even two on one account (or on the demo). The
        # tag goes after "#", which the client leaves out of the URL it calls.
        base_url += f"{'&' if '#' in base_url else '#'}profile={settings.profile}"
    fingerprint = account_fingerprint(api_key, base_url)
    return Account(api_key, base_url, fingerprint, settings.cache_dir / fingerprint, demo_config)


def open_session(settings: Settings, *, demo_config: DemoConfig | None = None) -> Session:
    """Open the account's database and connect to lemlist (or to the in-process demo API
    with ``settings.demo``). Raises ``MissingKeyError`` or ``StorageError``."""
    account = resolve_account(settings, demo_config)
    demo: DemoLemlist | None = None
    if account.demo_config is not None:
        from lemlist_tui.demo import DemoLemlist

        demo = DemoLemlist(account.demo_config)
    remove_old_cache(account.folder)
    db = InboxDatabase(account.folder)
    client = None
    if not settings.offline:
        client = _client(
            account.api_key,
            account.base_url.partition("#")[0],
            demo,
            deadline=settings.request_deadline,
        )
    return Session(settings, account.fingerprint, client, db, demo)


_OLD_CACHE = ("team.json", "users", "lock")


def remove_old_cache(folder: Path) -> None:
    """The JSON files of the cache before the database: removed, never followed."""
    for name in _OLD_CACHE:
        path = folder / name
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(mode):
                shutil.rmtree(path)  # does not follow links inside (fd-based on Linux)
            else:
                os.unlink(path)


def clear_account(folder: Path) -> None:
    """Empty the account's folder (``--clear-cache``); refuses a folder that is a link."""
    try:
        mode = folder.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise StorageError(f"{folder} cannot be read: {error.strerror or error}.") from None
    if stat.S_ISLNK(mode):
        raise StorageError(f"{folder} is a symbolic link: refusing to follow it. Remove it.")
    if not stat.S_ISDIR(mode):
        raise StorageError(f"{folder} is not a folder: remove it.")
    for entry in os.scandir(folder):
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as error:
            raise StorageError(f"{path} cannot be removed: {error.strerror or error}.") from None


def _client(
    api_key: str, base_url: str, demo: DemoLemlist | None, *, deadline: float
) -> LemlistClient:
    import httpx

    from lemlist_tui.api.client import LemlistClient

    transport = httpx.ASGITransport(app=demo) if demo is not None else None
    return LemlistClient(api_key, base_url=base_url, transport=transport, deadline=deadline)
