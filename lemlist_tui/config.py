"""Settings and paths: the config file, the environment, the command line.

No ``textual`` import: the CLI's ``export`` reads settings without loading the UI.
The API key comes from ``LEMLIST_API_KEY`` or the config file, never from the
command line (a process's arguments are visible to every user of the machine).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import platformdirs

from lemlist_tui.api.base import DEFAULT_BASE_URL

__all__ = [
    "APP_NAME",
    "ConfigError",
    "ConfigFile",
    "Settings",
    "cache_dir",
    "config_path",
    "last_user",
    "load_config",
    "remember_theme",
    "remember_user",
    "saved_theme",
    "state_path",
]

APP_NAME = "lemlist-tui"
KEY_ENV = "LEMLIST_API_KEY"
BASE_URL_ENV = "LEMLIST_BASE_URL"
SYNC_MODES = ("background", "on-demand")


def config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def cache_dir() -> Path:
    """Honours ``XDG_CACHE_HOME`` on Linux (platformdirs reads it)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def state_path() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "state.json"


class ConfigError(Exception):
    """The config file cannot be used; ``str()`` is one sentence."""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """What ``config.toml`` may hold. Unknown keys are ignored."""

    api_key: str | None = field(default=None, repr=False)
    """The lemlist API key (Settings → Integrations in lemlist)."""
    base_url: str | None = None
    """Another API server, e.g. a proxy; defaults to lemlist's."""
    fresh_for: float | None = None
    """Seconds the local inbox counts as fresh at start before a refresh."""
    theme: str | None = None
    """A Textual theme name, e.g. ``textual-light``. A theme chosen in the app (the command
    palette) is remembered and used instead, until this value changes."""
    refresh_every: float | None = None
    """Seconds between automatic refreshes while the app is open (0: never)."""
    full_sync_every: float | None = None
    """Seconds after which the whole inbox is crawled again, to see deletions."""
    sync: str | None = None
    """``background`` (every page, fetched behind the first) or ``on-demand`` (pages as
    the list nears its end: for very large accounts)."""
    undo_for: float | None = None
    """Seconds a change waits in the outbox before it is sent: ``z`` takes it back
    before lemlist hears of it (0: sent at once)."""
    request_deadline: float | None = None
    """Seconds one request may take, its answer read to the end (a server that trickles)."""
    allow_insecure: bool | None = None
    """Allow a plain ``http://`` base URL that is not this machine (the key would cross
    the network in clear text)."""
    read_only: bool | None = None
    """Change nothing in lemlist: no mark read, label, interest, reply or draft."""
    ascii: bool | None = None
    """Draw marks, borders and bars in ASCII (as ``--ascii``; ``TERM=linux`` does too)."""
    warnings: tuple[str, ...] = ()
    """Sentences to show the user (e.g. a key readable by others)."""


def load_config(path: Path | None = None) -> ConfigFile:
    """Read ``config.toml``; a missing file is an empty config, a broken one a ConfigError."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigFile()
    except OSError as error:
        raise ConfigError(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None

    def typed(key: str, kind: type | tuple[type, ...]) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{path}: `{key}` has the wrong type.")
        return value

    def seconds(key: str) -> float | None:
        value = typed(key, (int, float))
        if value is None:
            return None
        try:
            value = float(value)
        except OverflowError:  # an integer beyond any float
            value = math.inf
        if not 0 <= value < math.inf:
            raise ConfigError(f"{path}: `{key}` must be a number of seconds, 0 or more.")
        return float(value)

    api_key = typed("api_key", str)
    fresh_for = seconds("fresh_for")
    sync = typed("sync", str)
    if sync is not None and sync not in SYNC_MODES:
        raise ConfigError(f"{path}: `sync` must be one of: {', '.join(SYNC_MODES)}.")
    warnings: list[str] = []
    if api_key and _readable_by_others(path):
        warnings.append(
            f"{path} holds your API key and other users can read it: run chmod 600 on it."
        )
    return ConfigFile(
        api_key=api_key.strip() or None if api_key else None,
        base_url=typed("base_url", str),
        fresh_for=fresh_for,
        theme=typed("theme", str),
        refresh_every=seconds("refresh_every"),
        full_sync_every=seconds("full_sync_every"),
        sync=sync,
        undo_for=seconds("undo_for"),
        allow_insecure=_flag(data, "allow_insecure", path),
        read_only=_flag(data, "read_only", path),
        ascii=_flag(data, "ascii", path),
        request_deadline=seconds("request_deadline"),
        warnings=tuple(warnings),
    )


def _flag(data: dict[str, Any], key: str, path: Path) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ConfigError(f"{path}: `{key}` must be true or false.")
    return value


def _readable_by_others(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRGRP | stat.S_IROTH))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs, resolved once from file, environment and arguments."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    demo: bool = False
    demo_size: int = 2345
    user_id: str | None = None
    offline: bool = False
    fresh_for: float = 300.0
    page_size: int = 100
    refresh_every: float = 60.0
    full_sync_every: float = 86_400.0
    sync: str = "background"
    undo_for: float = 4.0
    request_deadline: float = 30.0
    read_only: bool = False
    """Nothing the app does changes lemlist (``--read-only``, ``read_only = true``)."""
    ascii: bool = False
    """Marks and borders in ASCII (``--ascii``, ``ascii = true``; ``TERM=linux`` too)."""
    theme: str | None = None
    cache_dir: Path = field(default_factory=cache_dir)
    state_path: Path = field(default_factory=state_path)
    config_path: Path = field(default_factory=config_path)
    warnings: tuple[str, ...] = ()

    @classmethod
    def resolve(
        cls,
        *,
        env: dict[str, str] | None = None,
        config: ConfigFile | None = None,
        **overrides: Any,
    ) -> Settings:
        """File < environment < explicit overrides (the command line)."""
        env = dict(os.environ) if env is None else env
        config = config if config is not None else load_config(overrides.get("config_path"))
        settings = cls(
            api_key=env.get(KEY_ENV, "").strip() or config.api_key,
            base_url=env.get(BASE_URL_ENV) or config.base_url or DEFAULT_BASE_URL,
            fresh_for=config.fresh_for if config.fresh_for is not None else 300.0,
            refresh_every=config.refresh_every if config.refresh_every is not None else 60.0,
            full_sync_every=(
                config.full_sync_every if config.full_sync_every is not None else 86_400.0
            ),
            sync=config.sync or "background",
            undo_for=config.undo_for if config.undo_for is not None else 4.0,
            request_deadline=config.request_deadline or 30.0,
            read_only=bool(config.read_only),
            ascii=bool(config.ascii),
            theme=config.theme,
            warnings=config.warnings,
        )
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        return _checked(settings, allow_insecure=bool(config.allow_insecure))


# --- what is checked before anything is sent ---------------------------------------------

_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _checked(settings: Settings, *, allow_insecure: bool) -> Settings:
    """``settings`` with its base URL, key and user id checked, each failure one sentence
    that never quotes the key."""
    key = settings.api_key
    if key is not None and any(not 0x21 <= ord(ch) <= 0x7E for ch in key):
        raise ConfigError(
            "The API key holds a character no lemlist key has (a space, a line end or a "
            "non-ASCII byte): check LEMLIST_API_KEY or api_key in the config file."
        )
    url = settings.base_url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not host
        or any(ch.isspace() or ord(ch) < 0x20 for ch in url)
    ):
        raise ConfigError(
            f"The base URL {clean_url(url)!r} is not an http(s) URL lemlist-tui can use "
            "(LEMLIST_BASE_URL, base_url or --base-url)."
        )
    local = host in _LOOPBACK or host.startswith("127.")
    if parts.scheme == "http" and not local and not allow_insecure:
        raise ConfigError(
            f"The base URL {clean_url(url)!r} is plain http: the API key would cross the "
            "network unencrypted. Use https://, or set allow_insecure = true in the "
            "config file."
        )
    user = settings.user_id
    if user is not None and not _USER_ID.fullmatch(user):
        raise ConfigError(
            "--user takes a lemlist user id such as usr_AbC123 (letters, digits, _ and -)."
        )
    return replace(settings, base_url=url) if url != settings.base_url else settings


def clean_url(url: str, limit: int = 80) -> str:
    """A URL as a message may quote it: printable, and cut."""
    shown = "".join(ch if ch.isprintable() else "\ufffd" for ch in url)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# --- small remembered state: the last user chosen per account, the theme chosen ----------


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file whole (a reader never sees half of it), private from the
    first byte: ``mkstemp`` creates it 0600, under a name no other writer uses."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(orjson.dumps(state))
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def last_user(path: Path, fingerprint: str) -> str | None:
    users = _read_state(path).get("last_user")
    value = users.get(fingerprint) if isinstance(users, dict) else None
    return value if isinstance(value, str) else None


def remember_user(path: Path, fingerprint: str, user_id: str) -> None:
    """Best effort: failing to remember is never worth an error on screen."""
    state = _read_state(path)
    users = state.get("last_user")
    users = users if isinstance(users, dict) else {}
    users[fingerprint] = user_id
    state["last_user"] = users
    with contextlib.suppress(OSError):
        _write_state(path, state)


def saved_theme(path: Path, config_theme: str | None) -> str | None:
    """The theme last chosen in the app, unless ``config.toml``'s ``theme`` changed since
    it was chosen: whichever of the two the person set last wins. Not checked against
    the themes that exist (the app knows those)."""
    saved = _read_state(path).get("theme")
    if not isinstance(saved, dict):
        return None
    name, over = saved.get("name"), saved.get("config")
    if not isinstance(name, str) or over != config_theme:
        return None
    return name


def remember_theme(path: Path, theme: str, config_theme: str | None) -> None:
    """Remember ``theme``, chosen while ``config.toml`` said ``config_theme``; best effort."""
    state = _read_state(path)
    state["theme"] = {"name": theme, "config": config_theme}
    with contextlib.suppress(OSError):
        _write_state(path, state)
