"""One run's connection to an account: the client, its cache, and the stores.

``open_session`` is the one place that decides between a real lemlist account and
the built-in demo API, so every other module runs the same code for both.
No ``textual`` import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lemlist_tui import config
from lemlist_tui.api.base import account_fingerprint
from lemlist_tui.api.errors import LemlistError, NetworkError
from lemlist_tui.api.models import Team
from lemlist_tui.config import Settings
from lemlist_tui.sync.cache import AccountCache, DiskCache
from lemlist_tui.sync.store import InboxStore

if TYPE_CHECKING:
    # httpx (with the client) and the demo load only when a run needs them: an offline
    # start shows the cache without httpx.
    from lemlist_tui.api.client import LemlistClient
    from lemlist_tui.demo import DemoConfig, DemoLemlist

__all__ = ["MissingKeyError", "Session", "open_session"]


class MissingKeyError(LemlistError):
    def __init__(self) -> None:
        super().__init__(
            "No lemlist API key: set LEMLIST_API_KEY or put api_key in the config file."
        )


@dataclass(eq=False)
class Session:
    settings: Settings
    fingerprint: str
    client: LemlistClient | None
    """None when offline: stores then serve the cache only."""
    cache: AccountCache | None
    demo: DemoLemlist | None = None
    team: Team | None = None
    _stores: dict[str, InboxStore] = field(default_factory=dict)

    @property
    def offline(self) -> bool:
        return self.client is None

    def cached_team(self) -> Team | None:
        """The team as the cache last saw it, for a first frame that waits for nothing."""
        return self.cache.load_team() if self.cache else None

    async def load_team(self) -> Team:
        """The team from lemlist (then cached); the cached one when offline or unreachable."""
        cached = self.cached_team()
        if self.client is None:
            if cached is None:
                raise NetworkError("offline, and nothing is cached for this account yet")
            self.team = cached
            return cached
        try:
            team = await self.client.team()
        except NetworkError:
            if cached is None:
                raise
            team = cached
        else:
            if self.cache:
                self.cache.save_team(team)
        self.team = team
        return team

    def inbox(self, user_id: str) -> InboxStore:
        """The store of ``user_id``'s inbox, one per user for the whole run."""
        store = self._stores.get(user_id)
        if store is None:
            store = InboxStore(
                self.client,
                self.cache,
                user_id,
                page_size=self.settings.page_size,
                fresh_for=self.settings.fresh_for,
            )
            self._stores[user_id] = store
        return store

    def last_user(self) -> str | None:
        return config.last_user(self.settings.state_path, self.fingerprint)

    def remember_user(self, user_id: str) -> None:
        config.remember_user(self.settings.state_path, self.fingerprint, user_id)

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def open_session(settings: Settings, *, demo_config: DemoConfig | None = None) -> Session:
    """Connect to lemlist, or to the in-process demo API with ``settings.demo``."""
    demo: DemoLemlist | None = None
    if settings.demo:
        from lemlist_tui.demo import DEMO_API_KEY, DEMO_BASE_URL, DemoConfig, DemoLemlist

        if demo_config is None:
            # Anchored at the start of the day, so a demo's cache stays valid all day
            # while its newest conversations still look recent.
            today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            demo_config = DemoConfig(size=settings.demo_size, now=today)
        demo = DemoLemlist(demo_config)
        api_key = DEMO_API_KEY
        anchor = demo_config.now.isoformat() if demo_config.now else "now"
        # One cache namespace per demo data set: another size or day is another inbox.
        base_url = f"{DEMO_BASE_URL}#size={demo_config.size}&seed={demo_config.seed}&at={anchor}"
    elif settings.api_key:
        api_key, base_url = settings.api_key, settings.base_url
    else:
        raise MissingKeyError()
    fingerprint = account_fingerprint(api_key, base_url)
    cache = DiskCache(settings.cache_dir).account(fingerprint)
    client = None if settings.offline else _client(api_key, base_url.partition("#")[0], demo)
    return Session(settings, fingerprint, client, cache, demo)


def _client(api_key: str, base_url: str, demo: DemoLemlist | None) -> LemlistClient:
    import httpx

    from lemlist_tui.api.client import LemlistClient

    transport = httpx.ASGITransport(app=demo) if demo is not None else None
    return LemlistClient(api_key, base_url=base_url, transport=transport)
