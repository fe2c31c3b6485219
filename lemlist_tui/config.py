"""Settings and paths: the config file, the environment, the command line.

No ``textual`` import: the CLI's ``export`` reads settings without loading the UI.
The API key comes from ``LEMLIST_API_KEY``, the config file's ``api_key``, or the output
of its ``api_key_command``; never from the command line (a process's arguments are
visible to every user of the machine).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
import stat
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import platformdirs

from lemlist_tui.api.base import DEFAULT_BASE_URL

__all__ = [
    "APP_NAME",
    "KEY_COMMAND_TIMEOUT",
    "ConfigError",
    "ConfigFile",
    "KeyChoice",
    "KeyCommandError",
    "Settings",
    "cache_dir",
    "config_path",
    "last_user",
    "load_config",
    "remember_theme",
    "remember_user",
    "run_key_command",
    "saved_theme",
    "state_path",
]

APP_NAME = "lemlist-tui"
KEY_ENV = "LEMLIST_API_KEY"
BASE_URL_ENV = "LEMLIST_BASE_URL"
PROFILE_ENV = "LEMLIST_PROFILE"
SYNC_MODES = ("background", "on-demand")
KEY_COMMAND_TIMEOUT = 30.0
"""Seconds ``api_key_command`` may take: long enough to type a passphrase into the
prompt ``pass`` (gpg) may show, short enough that a hung command is said."""


def config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def cache_dir() -> Path:
    """Honours ``XDG_CACHE_HOME`` on Linux (platformdirs reads it)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def state_path() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME)) / "state.json"


class ConfigError(Exception):
    """The config file cannot be used; ``str()`` is one sentence."""


class KeyCommandError(ConfigError):
    """``api_key_command`` gave no key; ``str()`` is one sentence, never its output."""


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """One line of the ``[keys]`` table: an action given other keys."""

    action: str
    """A binding id (``inbox.mark_read``) or its last part (``mark_read``: every screen's)."""
    keys: str
    """Textual key names, comma-separated (``M`` or ``ctrl+n,down``)."""
    where: str
    """Where it was written, for a sentence: ``config.toml line 12``."""


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """What ``config.toml`` may hold: settings at the top, the same settings in each
    ``[profiles.NAME]`` table, and a ``[keys]`` table. Unknown keys are ignored."""

    api_key: str | None = field(default=None, repr=False)
    """The lemlist API key (Settings → Integrations in lemlist)."""
    api_key_command: tuple[str, ...] | None = None
    """A command whose first line of output is the API key (``pass show lemlist/work``),
    run without a shell: the key then never sits in a file."""
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
    profiles: Mapping[str, ConfigFile] = field(default_factory=dict)
    """``[profiles.NAME]``: another account, or other settings, chosen with ``--profile``."""
    keys: tuple[KeyChoice, ...] = ()
    """``[keys]``: actions given other keys (checked by the app, which knows the actions)."""
    writable_by_others: bool = False
    """Another user could write the file: its ``api_key_command`` is not run."""
    warnings: tuple[str, ...] = ()
    """Sentences to show the user (e.g. a key readable by others)."""

    def profile(self, name: str) -> ConfigFile:
        """The ``[profiles.NAME]`` table; a ConfigError naming the known ones if none."""
        if not _PROFILE_NAME.fullmatch(name):
            raise ConfigError(
                "A profile name is 1 to 64 letters, digits, _ or - (--profile, LEMLIST_PROFILE)."
            )
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise ConfigError(
                f"No profile {name!r} in the config file (its profiles: {known})."
            ) from None

    @property
    def names_key(self) -> bool:
        return self.api_key is not None or self.api_key_command is not None

    def under(self, profile: ConfigFile) -> ConfigFile:
        """These settings with ``profile``'s over them; the key and its command go
        together (a profile's command is not outranked by the top's ``api_key``)."""
        values = {
            spec.name: getattr(profile, spec.name)
            if getattr(profile, spec.name) is not None
            else getattr(self, spec.name)
            for spec in fields(self)
            if spec.name in _SETTINGS
        }
        if profile.names_key:
            values["api_key"] = profile.api_key
            values["api_key_command"] = profile.api_key_command
        return replace(self, **values, warnings=self.warnings + profile.warnings)


_SETTINGS = frozenset(
    {
        "api_key",
        "api_key_command",
        "base_url",
        "fresh_for",
        "theme",
        "refresh_every",
        "full_sync_every",
        "sync",
        "undo_for",
        "request_deadline",
        "allow_insecure",
        "read_only",
        "ascii",
    }
)
"""What a ``[profiles.NAME]`` table may set: every setting of the top of the file."""
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}.") from None

    top = _settings_table(data, path, "")
    profiles: dict[str, ConfigFile] = {}
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: `profiles` must be tables, [profiles.NAME].")
    for name, table in tables.items():
        if not _PROFILE_NAME.fullmatch(name):
            raise ConfigError(
                f"{path}: the profile name {clean_url(name, 40)!r} is not 1 to 64 letters, "
                "digits, _ or -."
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `profiles.{name}` must be a table, [profiles.{name}].")
        for nested in ("profiles", "keys"):
            if nested in table:
                raise ConfigError(
                    f"{path}: [profiles.{name}] cannot hold `{nested}` (one for every profile)."
                )
        profiles[name] = _settings_table(table, path, f" in [profiles.{name}]")
    keys = _key_choices(data.get("keys", {}), text, path)

    warnings: list[str] = []
    holds_key = [top, *profiles.values()]
    mode = _mode(path)
    if any(table.api_key for table in holds_key) and mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.append(
            f"{path} holds your API key and other users can read it: run chmod 600 on it."
        )
    return replace(
        top,
        profiles=profiles,
        keys=keys,
        writable_by_others=bool(mode & (stat.S_IWGRP | stat.S_IWOTH)),
        warnings=tuple(warnings),
    )


def _settings_table(data: dict[str, Any], path: Path, where: str) -> ConfigFile:
    """The settings of the top of the file (``where`` empty) or of one profile."""

    def typed(key: str, kind: type | tuple[type, ...]) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{path}: `{key}`{where} has the wrong type.")
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
            raise ConfigError(f"{path}: `{key}`{where} must be a number of seconds, 0 or more.")
        return float(value)

    def flag(key: str) -> bool | None:
        value = data.get(key)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{path}: `{key}`{where} must be true or false.")
        return value

    api_key = typed("api_key", str)
    command = _key_command(data.get("api_key_command"), path, where)
    if api_key is not None and command is not None:
        raise ConfigError(f"{path}: set `api_key` or `api_key_command`{where}, not both.")
    sync = typed("sync", str)
    if sync is not None and sync not in SYNC_MODES:
        raise ConfigError(f"{path}: `sync`{where} must be one of: {', '.join(SYNC_MODES)}.")
    return ConfigFile(
        api_key=api_key.strip() or None if api_key else None,
        api_key_command=command,
        base_url=typed("base_url", str),
        fresh_for=seconds("fresh_for"),
        theme=typed("theme", str),
        refresh_every=seconds("refresh_every"),
        full_sync_every=seconds("full_sync_every"),
        sync=sync,
        undo_for=seconds("undo_for"),
        allow_insecure=flag("allow_insecure"),
        read_only=flag("read_only"),
        ascii=flag("ascii"),
        request_deadline=seconds("request_deadline"),
    )


def _key_command(value: object, path: Path, where: str) -> tuple[str, ...] | None:
    """``api_key_command`` as an argument list: a string is split as a shell would
    (quotes, no variables, no pipes: it never runs in a shell), a list taken as it is."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as error:  # an unclosed quote
            raise ConfigError(
                f"{path}: `api_key_command`{where} cannot be split into words: {error}."
            ) from None
    elif isinstance(value, list) and all(isinstance(word, str) for word in value):
        argv = list(value)
    else:
        raise ConfigError(
            f"{path}: `api_key_command`{where} must be a command line or a list of words."
        )
    if not argv or not argv[0]:
        raise ConfigError(f"{path}: `api_key_command`{where} is empty.")
    if any("\x00" in word for word in argv):
        raise ConfigError(f"{path}: `api_key_command`{where} holds a NUL character.")
    return tuple(argv)


def _key_choices(table: object, text: str, path: Path) -> tuple[KeyChoice, ...]:
    """``[keys]``: ``mark_read = "M"``, or ``inbox.mark_read = "M"`` (a dotted key, or a
    ``[keys.inbox]`` table) for one screen only. Whether the actions and the key names
    exist is the app's to say: it knows them."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `keys` must be a table, [keys].")
    lines = _key_lines(text)
    choices: list[KeyChoice] = []

    def walk(node: dict[str, Any], trail: tuple[str, ...]) -> None:
        for name, value in node.items():
            here = (*trail, name)
            number = next(
                (lines[here[:n]] for n in range(len(here), 0, -1) if here[:n] in lines), None
            )
            where = f"{path.name} line {number}" if number else path.name
            if isinstance(value, dict) and len(here) == 2:
                walk(value, here)
                continue
            if not isinstance(value, str):
                raise ConfigError(
                    f"{where}: `[keys]` `{'.'.join(here[1:])}` must be key names in "
                    'quotes, e.g. "M" or "ctrl+n,down".'
                )
            choices.append(KeyChoice(".".join(here[1:]), value, where))

    walk(table, ("keys",))
    return tuple(choices)


_BARE_KEY = r"(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED_KEY = re.compile(rf"\s*({_BARE_KEY}(?:\s*\.\s*{_BARE_KEY})*)\s*")
_KEY_PART = re.compile(_BARE_KEY)


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Each key's line in a TOML text (tomllib keeps none), by its full dotted path; the
    first line wins. A scan, not a parser: a multi-line string could mislead it, and the
    sentence then names the file without a line."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith("["):
            inner = stripped.lstrip("[")
            match = _DOTTED_KEY.match(inner)
            if match and inner[match.end() :].startswith("]"):
                table = _key_path(match.group(1))
                lines.setdefault(table, number)
            continue
        match = _DOTTED_KEY.match(line)
        if match and line[match.end() :].startswith("="):
            lines.setdefault((*table, *_key_path(match.group(1))), number)
    return lines


def _key_path(dotted: str) -> tuple[str, ...]:
    parts = []
    for part in _KEY_PART.findall(dotted):
        if part.startswith('"'):
            with contextlib.suppress(tomllib.TOMLDecodeError):
                part = tomllib.loads(f"k = {part}")["k"]
        elif part.startswith("'"):
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode
    except OSError:
        return 0


def run_key_command(
    argv: Sequence[str], *, timeout: float = KEY_COMMAND_TIMEOUT, profile: str | None = None
) -> str:
    """The API key ``argv`` prints: the first line of its output, stripped. Run without a
    shell, stdin closed; its output and its errors are never shown, logged or kept."""
    program = clean_url(Path(argv[0]).name, 40)
    said = f"The api_key_command of profile {profile}" if profile else "The api_key_command"
    said += f" ({program})"
    try:
        done = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise KeyCommandError(f"{said} was not found: no API key.") from None
    except subprocess.TimeoutExpired:
        raise KeyCommandError(f"{said} did not finish within {timeout:g} s: no API key.") from None
    except OSError as error:
        raise KeyCommandError(
            f"{said} could not be run ({error.strerror or type(error).__name__}): no API key."
        ) from None
    if done.returncode < 0:
        raise KeyCommandError(f"{said} was killed by signal {-done.returncode}: no API key.")
    if done.returncode:
        raise KeyCommandError(f"{said} exited with status {done.returncode}: no API key.")
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise KeyCommandError(f"{said} printed nothing: no API key.")
    return key


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
    presenter: bool = False
    """Every person on screen invented, subjects and bodies stand-ins (``--presenter``)."""
    theme: str | None = None
    cache_dir: Path = field(default_factory=cache_dir)
    state_path: Path = field(default_factory=state_path)
    config_path: Path = field(default_factory=config_path)
    profile: str | None = None
    """The ``[profiles.NAME]`` in use (``--profile``, ``LEMLIST_PROFILE``): its own
    database, and its name in the status line."""
    profiles: tuple[str, ...] = ()
    """Every profile the config file names (for a hint when no key is found)."""
    keys: tuple[KeyChoice, ...] = ()
    """The ``[keys]`` table, checked by the app against its actions."""
    warnings: tuple[str, ...] = ()

    @classmethod
    def resolve(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        config: ConfigFile | None = None,
        profile: str | None = None,
        **overrides: Any,
    ) -> Settings:
        """The top of the file < the environment < the profile named (``profile``, else
        ``LEMLIST_PROFILE``) < explicit overrides (the command line).

        A profile is asked for by name, so it outranks ``LEMLIST_API_KEY`` and
        ``LEMLIST_BASE_URL`` (set once in a shell's startup file, they would otherwise
        make every profile the same account); what it leaves out comes from the
        environment, then the top of the file. ``api_key_command`` runs only when its
        key is the one in force, and not for the demo."""
        env = os.environ if env is None else env
        config = config if config is not None else load_config(overrides.get("config_path"))
        name = profile if profile is not None else env.get(PROFILE_ENV, "").strip() or None
        chosen = config.profile(name) if name is not None else None
        table = config.under(chosen) if chosen is not None else config
        env_key = env.get(KEY_ENV, "").strip() or None
        # Where the key comes from: the named profile, else the environment, else the top.
        source: ConfigFile | None = config
        if chosen is not None and chosen.names_key:
            source = chosen
        elif env_key is not None:
            source = None
        base_url = (
            (chosen.base_url if chosen is not None else None)
            or env.get(BASE_URL_ENV)
            or config.base_url
            or DEFAULT_BASE_URL
        )
        settings = cls(
            api_key=env_key if source is None else source.api_key,
            base_url=base_url,
            fresh_for=table.fresh_for if table.fresh_for is not None else 300.0,
            refresh_every=table.refresh_every if table.refresh_every is not None else 60.0,
            full_sync_every=(
                table.full_sync_every if table.full_sync_every is not None else 86_400.0
            ),
            sync=table.sync or "background",
            undo_for=table.undo_for if table.undo_for is not None else 4.0,
            request_deadline=table.request_deadline or 30.0,
            read_only=bool(table.read_only),
            ascii=bool(table.ascii),
            theme=table.theme,
            profile=name,
            profiles=tuple(sorted(config.profiles)),
            keys=config.keys,
            warnings=table.warnings,
        )
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        allow_insecure = bool(table.allow_insecure)
        settings = _checked(settings, allow_insecure=allow_insecure)
        command = source.api_key_command if source is not None else None
        if command is None or settings.demo:
            return settings
        if config.writable_by_others:
            # Whoever can write the file could make it run anything, as this user.
            raise KeyCommandError(
                f"{settings.config_path} can be changed by other users, so its "
                "api_key_command is not run: run chmod 600 on it."
            )
        key = run_key_command(command, profile=name if source is chosen else None)
        return _checked(replace(settings, api_key=key), allow_insecure=allow_insecure)


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
            "non-ASCII byte): check LEMLIST_API_KEY, or api_key or what api_key_command "
            "prints."
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
