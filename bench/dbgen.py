"""Build an account database with N conversations directly: ``python -m bench.dbgen N``.

A crawl of a million conversations takes 1,000 s at lemlist's ceiling, so the screen,
memory and export figures start from a database written straight into the app's schema
(:mod:`lemlist_tui.db.schema`), filled as :meth:`InboxDatabase._merge` fills it after a
complete crawl of one user's inbox: ``conversations`` (every column, lists as JSON text),
``participants`` (the read matrix of every teammate), ``contacts``, ``inbox`` (sort keys
in microseconds, :data:`~lemlist_tui.db.schema.MISSING` for a missing one, the search text
from :func:`lemlist_tui.db.search.search_text`, seen by crawl 1), ``inbox_counts`` (by the
schema's own triggers), ``sync_state`` (complete), ``team`` and ``labels``. The file is
created and migrated by :class:`InboxDatabase` itself; only the bulk rows bypass it.
``tests/test_bench_quick.py`` checks that a small generated database is, table by table,
the one the app's own ``store_page`` makes from the same conversations as API JSON.

The data: the demo's word lists (names from many countries, accents and CJK included;
companies; labels; the demo's team), drawn from one seeded stream, so a size and seed
always give the same file. Activity spans about two years whatever the size; a third of
the email addresses carry digits, as real ones do (so rare filter terms exist).

Generated files are cached per size under :func:`cache_root` (``$LEMLIST_BENCH_CACHE``,
else the platform's cache folder, ``~/.cache/lemlist-tui-bench`` on Linux), keyed by the
generator's version and the schema's text, so reruns are instant. A 1M file takes
about a minute to build and about 0.8 GB of disk.

The benchmark runs the app as a user with a real account would, offline
(``LEMLIST_API_KEY=<bench key> lemlist-tui --offline --user USR``): :func:`install` copies
a cached file into a scratch ``XDG_CACHE_HOME`` under that account's folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from bench.common import ANCHOR_TIME

__all__ = [
    "BENCH_API_KEY",
    "BENCH_BASE_URL",
    "Draft",
    "Generated",
    "Team",
    "account_env",
    "build",
    "cache_root",
    "conversation_json",
    "drafts",
    "generated",
    "install",
    "sync_state",
    "team_for",
]

GENERATOR = 1
"""Bump when the generated data changes: cached files of another version are rebuilt."""
BENCH_API_KEY = "lemlist-tui-bench-key"
"""The bench account's key: never sent anywhere (the app runs ``--offline``)."""
BENCH_BASE_URL = "http://127.0.0.1:9/api"
SEED = 7
USERS = 3
CHUNK = 20_000
"""Conversations generated and inserted at a time."""

_MINUTE = 60_000
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
_SPAN_MS = 730 * _DAY
"""The inbox's newest to oldest activity, at any size above ~90k (smaller: 8 min apart)."""
_UNREAD_RATE = (0.25, 0.40, 0.12, 0.30, 0.18)
"""Per teammate (cycled), the share of conversations unread for them (as the demo)."""
_CHANNELS = (
    (("email",), 68),
    (("email", "linkedin"), 12),
    (("linkedin",), 10),
    (("email", "whatsapp"), 4),
    (("email", "sms"), 3),
    (("email", "call"), 3),
)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEXES = ("inbox_by_activity", "inbox_by_replied", "inbox_by_created", "inbox_by_conversation")
"""Built after the bulk rows (one sort each instead of a million random inserts)."""


class Draft(NamedTuple):
    """One conversation of the generated inbox, as plain values (times in ms)."""

    id: str
    contact_id: str
    name: str | None
    email: str
    created_ms: int
    activity_ms: int
    replied_ms: int | None
    replied_channel: str | None
    channels: tuple[str, ...]
    read: tuple[bool, ...]
    """Per teammate, in the team's order."""
    sender: int
    opportunities: tuple[tuple[str, str, bool], ...]
    labels: tuple[str, ...]
    created_by: str


@dataclass(frozen=True, slots=True)
class Team:
    """The demo's team for ``seed``: its JSON (as ``/team?version=v2``), labels, user ids."""

    team_id: str
    user_ids: tuple[str, ...]
    team_json: dict[str, Any]
    labels_json: list[dict[str, Any]]
    label_ids: tuple[str, ...]


def team_for(seed: int = SEED, users: int = USERS, anchor: datetime = ANCHOR_TIME) -> Team:
    """The demo's team for ``seed`` (ids, names, labels): the generated inbox's team."""
    from lemlist_tui.demo.data import DemoData

    data = DemoData(seed=seed, users=users, anchor_ms=anchor_ms(anchor))
    return Team(
        data.team_id,
        tuple(m.id for m in data.members),
        data.team_json(with_users=True),
        data.labels_json(),
        tuple(label.id for label in data.labels),
    )


def anchor_ms(anchor: datetime) -> int:
    """``anchor`` in epoch milliseconds (the demo's time unit)."""
    from lemlist_tui.demo.data import to_ms

    return to_ms(anchor)


def _name_pool() -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(full name, first ascii, last ascii): the demo's groups crossed out, and its notables."""
    from lemlist_tui.demo.texts import NAME_GROUPS, NOTABLE_NAMES

    crossed = []
    for givens, families, order in NAME_GROUPS:
        for given, given_ascii in givens:
            for family, family_ascii in families:
                if order == "western":
                    full = f"{given} {family}"
                elif order == "eastern":
                    full = f"{family} {given}"
                else:
                    full = f"{family}{given}"
                crossed.append((full, given_ascii, family_ascii))
    notable = [(n.full, n.first_ascii, n.last_ascii) for n in NOTABLE_NAMES]
    return crossed, notable


def drafts(size: int, *, seed: int = SEED, team: Team, anchor: datetime) -> Iterator[Draft]:
    """The ``size`` conversations of the inbox, newest activity first (strictly)."""
    from lemlist_tui.demo.draws import Draws
    from lemlist_tui.demo.texts import COMPANIES, OPPORTUNITY_TYPES

    draws = Draws(f"bench-dbgen:{seed}")
    random, below, text = draws.random, draws.below, draws.text
    crossed, notable = _name_pool()
    domains = [domain for _, domain in COMPANIES]
    profiles = [p for p, _ in _CHANNELS]
    weights = [w for _, w in _CHANNELS]
    cumulative = [sum(weights[: k + 1]) for k in range(len(weights))]
    rates = tuple(_UNREAD_RATE[u % len(_UNREAD_RATE)] for u in range(len(team.user_ids)))
    users = len(team.user_ids)
    labels = team.label_ids[:4]
    step = min(8 * _MINUTE, max(1, _SPAN_MS // max(size, 1)))
    activity = anchor_ms(anchor) - 45_000
    for _ in range(size):
        activity -= max(1, int(step * (0.5 + random())))
        ids = text(_BASE62, 51)
        if random() < 0.08:
            full, first, last = notable[below(len(notable))]
        else:
            full, first, last = crossed[below(len(crossed))]
        pattern = below(5)
        if pattern <= 1:
            local = f"{first}.{last}"
        elif pattern == 2:
            local = first
        elif pattern == 3:
            local = f"{first[0]}{last}"
        else:
            local = f"{first}_{last}"
        if random() < 0.33:
            local += str(below(10_000))
        email = f"{local}@{domains[below(len(domains))]}"
        name = full if random() >= 0.15 else None
        pick = random() * cumulative[-1]
        profile = profiles[next(k for k, total in enumerate(cumulative) if pick < total)]
        channels = profile if len(profile) == 1 or random() < 0.7 else profile[:1]
        replied = random() < 0.6
        steps = 2 + below(7) if replied else 1 + below(4)
        created = activity - int(random() * (steps - 1) * 3 * _DAY)
        replied_ms: int | None = None
        replied_channel: str | None = None
        if replied:
            replied_ms = activity if steps % 2 == 0 else activity - 5 * _MINUTE - below(6 * _HOUR)
            replied_ms = max(replied_ms, created)
            replied_channel = "email" if channels[-1] == "call" else channels[-1]
        read = tuple(random() >= rate for rate in rates)
        opportunities: tuple[tuple[str, str, bool], ...] = ()
        if random() < 0.10:
            opportunities = tuple(
                (
                    "opp_" + text(_BASE62, 17),
                    OPPORTUNITY_TYPES[below(len(OPPORTUNITY_TYPES))],
                    random() < 0.4,
                )
                for _ in range(1 + (below(3) == 2))
            )
        chosen = (labels[below(len(labels))],) if labels and random() < 0.08 else ()
        yield Draft(
            id="ibx_" + ids[:17],
            contact_id="ctc_" + ids[17:34],
            name=name,
            email=email,
            created_ms=created,
            activity_ms=activity,
            replied_ms=replied_ms,
            replied_channel=replied_channel,
            channels=channels,
            read=read,
            sender=below(users),
            opportunities=opportunities,
            labels=chosen,
            created_by="act_" + ids[34:51],
        )


def conversation_json(draft: Draft, team: Team) -> dict[str, Any]:
    """``draft`` as lemlist's ``/inbox`` answers it (the demo's shape): for the test that
    compares a generated database with the one the app's own code stores."""
    from lemlist_tui.demo.data import iso_ms

    contact: dict[str, Any] = {"_id": draft.contact_id}
    if draft.name is not None:
        contact["fullName"] = draft.name
    contact["email"] = draft.email
    body: dict[str, Any] = {
        "_id": draft.id,
        "opportunities": [{"id": i, "type": t, "done": d} for i, t, d in draft.opportunities],
        "lastActivityAt": iso_ms(draft.activity_ms),
        "createdBy": draft.created_by,
        "channels": list(draft.channels),
        "teamId": team.team_id,
        "contactId": draft.contact_id,
        "users": [
            {"userId": user, "sender": k == draft.sender, "read": draft.read[k]}
            for k, user in enumerate(team.user_ids)
        ],
        "createdAt": iso_ms(draft.created_ms),
        "haveReplies": draft.replied_ms is not None,
        "contact": contact,
    }
    if draft.replied_ms is not None:
        body["lastRepliedAt"] = iso_ms(draft.replied_ms)
        body["lastRepliedChannel"] = draft.replied_channel
    if draft.labels:
        body["labels"] = list(draft.labels)
    return body


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class _Rows:
    """Turns drafts into the rows of each table, as ``InboxDatabase._merge`` writes them."""

    def __init__(self, team: Team, user_index: int) -> None:
        from lemlist_tui.db.schema import MISSING
        from lemlist_tui.db.search import fold, search_text

        self.team = team
        self.user = team.user_ids[user_index]
        self.user_index = user_index
        self.missing = MISSING
        self.search_text = search_text
        self.fold = fold
        self._folded: dict[str | None, str] = {}
        self._channels: dict[tuple[str, ...], str] = {}
        self.local_id = 0
        self.unread = 0

    def search(self, name: str | None, email: str) -> str:
        # search_text(name, email) folds "name\nemail"; folding works character by
        # character, so the name's part is folded once per distinct name (checked below).
        head = self._folded.get(name)
        if head is None:
            head = self._folded[name] = self.search_text(name, None)
        return head + (email.lower() if email.isascii() else self.fold(email))

    def add(
        self,
        chunk: list[Draft],
        conversations: list[tuple[Any, ...]],
        participants: list[tuple[Any, ...]],
        contacts: list[tuple[Any, ...]],
        inbox: list[tuple[Any, ...]],
    ) -> None:
        team_id, user, me, missing = self.team.team_id, self.user, self.user_index, self.missing
        user_ids = self.team.user_ids
        for d in chunk:
            self.local_id += 1
            local_id = self.local_id
            channels = self._channels.get(d.channels)
            if channels is None:
                channels = self._channels[d.channels] = _dumps(list(d.channels))
            replied = None if d.replied_ms is None else d.replied_ms * 1000
            conversations.append(
                (
                    local_id,
                    d.id,
                    d.contact_id,
                    None,  # lead_id: the inbox answer has none
                    team_id,
                    d.created_by,
                    d.name,
                    d.email,
                    d.created_ms * 1000,
                    d.activity_ms * 1000,
                    replied,
                    int(d.replied_ms is not None),
                    d.replied_channel,
                    channels,
                    _dumps([list(o) for o in d.opportunities]) if d.opportunities else "[]",
                    _dumps(list(d.labels)) if d.labels else "[]",
                    "[]",
                )
            )
            for k, uid in enumerate(user_ids):
                participants.append((local_id, uid, int(k == d.sender), int(d.read[k])))
            contacts.append((d.contact_id, d.name, d.email))
            unread = int(not d.read[me])
            self.unread += unread
            inbox.append(
                (
                    user,
                    local_id,
                    d.activity_ms * 1000,
                    missing if replied is None else replied,
                    d.created_ms * 1000,
                    unread,
                    self.search(d.name, d.email),
                    1,
                )
            )


_CONVERSATIONS_SQL = (
    "INSERT INTO conversations (local_id, id, contact_id, lead_id, team_id, created_by, name, "
    "email, created_at, last_activity_at, last_replied_at, have_replies, last_replied_channel, "
    "channels, opportunities, labels, messages) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_PARTICIPANTS_SQL = (
    "INSERT INTO participants (conversation, user_id, sender, read) VALUES (?, ?, ?, ?)"
)
_CONTACTS_SQL = "INSERT OR REPLACE INTO contacts (id, full_name, email) VALUES (?, ?, ?)"
_INBOX_SQL = (
    "INSERT INTO inbox (user_id, conversation, activity, replied, created, unread, search, "
    "seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def build(
    folder: Path,
    size: int,
    *,
    seed: int = SEED,
    users: int = USERS,
    anchor: datetime = ANCHOR_TIME,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write ``folder/inbox.sqlite3`` with ``size`` conversations in the inbox of the
    team's first user; returns what the benchmarks need to know about it (``meta``)."""
    from lemlist_tui.api.models import parse_labels, parse_team
    from lemlist_tui.db import DB_NAME, InboxDatabase

    started = time.perf_counter()
    team = team_for(seed, users, anchor)
    db = InboxDatabase(folder)  # makes the file 0600 and migrates it: the app's own schema
    try:
        db.save_team(parse_team(team.team_json))
        db.save_labels(parse_labels(team.labels_json))
    finally:
        db.close()

    rows = _Rows(team, 0)
    names: list[str] = []
    emails: list[str] = []
    path = folder / DB_NAME
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = OFF")  # a scratch file until it is whole
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -1000000")
        indexes = [
            (name, sql)
            for name, sql in connection.execute(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
            )
            if name in _INDEXES
        ]
        for name, _ in indexes:
            connection.execute(f"DROP INDEX {name}")
        chunk: list[Draft] = []
        done = 0

        def flush() -> None:
            nonlocal done
            conversations: list[tuple[Any, ...]] = []
            participants: list[tuple[Any, ...]] = []
            contacts: list[tuple[Any, ...]] = []
            inbox: list[tuple[Any, ...]] = []
            rows.add(chunk, conversations, participants, contacts, inbox)
            connection.execute("BEGIN")
            connection.executemany(_CONVERSATIONS_SQL, conversations)
            connection.executemany(_PARTICIPANTS_SQL, participants)
            connection.executemany(_CONTACTS_SQL, contacts)
            connection.executemany(_INBOX_SQL, inbox)
            connection.execute("COMMIT")
            done += len(chunk)
            chunk.clear()
            if log is not None and done % 200_000 == 0:
                log(f"dbgen: {done:,} of {size:,} conversations")

        for draft in drafts(size, seed=seed, team=team, anchor=anchor):
            if len(names) < 40:
                names.append(draft.name or draft.email)
                emails.append(draft.email)
                assert rows.search(draft.name, draft.email) == rows.search_text(
                    draft.name, draft.email
                )
            chunk.append(draft)
            if len(chunk) >= CHUNK:
                flush()
        if chunk:
            flush()
        inserted = time.perf_counter()
        for _, sql in indexes:
            connection.execute(sql)
        indexed = time.perf_counter()
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()

    db = InboxDatabase(folder)
    try:
        db.save_sync_state(rows.user, sync_state(size, time.time()))
        held, unread = db.counts(rows.user)
        if (held, unread) != (size, rows.unread):
            raise RuntimeError(f"inbox_counts says {held}/{unread}, not {size}/{rows.unread}")
        queries = _queries(db, rows.user, size)
    finally:
        db.close()
    return {
        "generator": GENERATOR,
        "size": size,
        "seed": seed,
        "user": rows.user,
        "users": list(team.user_ids),
        "unread": rows.unread,
        "names": names,
        "emails": emails,
        "queries": queries,
        "anchor": anchor.isoformat(),
        "bytes": path.stat().st_size,
        "seconds": {
            "rows": round(inserted - started, 2),
            "indexes": round(indexed - inserted, 2),
            "total": round(time.perf_counter() - started, 2),
        },
    }


def sync_state(size: int, now: float) -> Any:
    """A user's sync state after one complete, steady crawl of ``size`` conversations."""
    from lemlist_tui.db import SyncState

    return SyncState(
        total_items=size,
        page_size=100,
        pages_seen=-(-size // 100),
        complete=True,
        next_page=None,
        crawl=1,
        crawl_total=size,
        crawl_steady=True,
        full_crawl_at=now,
        refreshed_at=now,
    )


def _queries(db: Any, user: str, size: int) -> dict[str, Any]:
    """Filter terms of this inbox, by kind, with their exact match counts.

    From a sample of the search texts: the most and the least common letter and pair of
    letters (a term matching fewer rows than a screen makes the list walk the whole
    index), a common name, and a rare fragment of an address deep in the inbox (the
    issue's ``/lead01737``).
    """
    from lemlist_tui.db import query_terms

    connection = db.reader()
    try:
        every = max(1, size // 50_000)
        letters: Counter[str] = Counter()
        pairs: Counter[str] = Counter()
        words: Counter[str] = Counter()
        sample = connection.execute(
            "SELECT search FROM inbox WHERE user_id = ? AND conversation % ? = 0",
            (user, every),
        ).fetchall()
        for (text,) in sample:
            letters.update({c for c in text if "a" <= c <= "z"})
            pairs.update(
                {text[k : k + 2] for k in range(len(text) - 1) if text[k : k + 2].isalpha()}
                & _ASCII_PAIRS
            )
            name = text.partition("\n")[0]
            words.update(w for w in name.split() if len(w) >= 5 and w.isascii() and w.isalpha())

        def count(query: str) -> int:
            return int(db.count(user, terms=query_terms(query), connection=connection))

        rare_pair = min(pairs, key=lambda p: (pairs[p], p)) if pairs else "zq"
        found: dict[str, str] = {
            "common_pair": pairs.most_common(1)[0][0] if pairs else "an",
            "rare_letter": min(letters, key=lambda c: (letters[c], c)) if letters else "q",
            "rare_pair": rare_pair,
            "name": words.most_common(1)[0][0][:6] if words else "smith",
        }
        deep = connection.execute(
            "SELECT c.email FROM inbox AS i JOIN conversations AS c ON c.local_id = "
            "i.conversation WHERE i.user_id = ? AND c.email GLOB '*[0-9]@*' "
            "AND i.conversation >= ? ORDER BY i.conversation LIMIT 1",
            (user, max(1, int(size * 0.9))),
        ).fetchone()
        if deep is not None:
            local = deep[0].partition("@")[0]
            for length in range(4, min(len(local), 8) + 1):
                if count(local[-length:]) <= 3:
                    found["unique"] = local[-length:]
                    break
        counted: dict[str, int] = {}
        for query in found.values():
            for end in range(1, len(query) + 1):
                counted.setdefault(query[:end], count(query[:end]))
        return {"terms": found, "counts": counted}
    finally:
        connection.close()


_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ASCII_PAIRS = frozenset(a + b for a in _LETTERS for b in _LETTERS)


# --- the cache -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Generated:
    size: int
    folder: Path
    """Holds ``inbox.sqlite3`` and ``meta.json``."""
    meta: dict[str, Any]
    reused: bool

    @property
    def path(self) -> Path:
        from lemlist_tui.db import DB_NAME

        return self.folder / DB_NAME

    @property
    def user(self) -> str:
        return str(self.meta["user"])


def cache_root() -> Path:
    """Where generated databases are kept between runs."""
    configured = os.environ.get("LEMLIST_BENCH_CACHE")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("lemlist-tui-bench"))


def _schema_key() -> str:
    from lemlist_tui.db.schema import MIGRATIONS

    text = repr((GENERATOR, MIGRATIONS)).encode()
    return hashlib.sha256(text).hexdigest()[:12]


def generated(
    size: int,
    *,
    seed: int = SEED,
    root: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Generated:
    """The cached database of ``size`` conversations, built first when missing."""
    root = root or cache_root()
    folder = root / f"inbox-{size}-seed{seed}-{_schema_key()}"
    meta_path = folder / "meta.json"
    if meta_path.exists():
        return Generated(size, folder, orjson.loads(meta_path.read_bytes()), reused=True)
    root.mkdir(parents=True, exist_ok=True)
    building = root / f".building-{folder.name}-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    if log is not None:
        log(f"dbgen: building {size:,} conversations in {folder}")
    meta = build(building, size, seed=seed, log=log)
    (building / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    try:
        os.replace(building, folder)
    except OSError:  # another run finished the same file first
        shutil.rmtree(building, ignore_errors=True)
        meta = orjson.loads(meta_path.read_bytes())
    if log is not None:
        log(f"dbgen: {size:,} built in {meta['seconds']['total']:.1f} s")
    return Generated(size, folder, meta, reused=False)


def account_env(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for the app as the bench account, with ``XDG_*`` under ``home``."""
    env = dict(os.environ if base is None else base)
    for name in ("XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        path = home / name.split("_")[1].lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env["LEMLIST_API_KEY"] = BENCH_API_KEY
    env["LEMLIST_BASE_URL"] = BENCH_BASE_URL
    return env


def install(source: Generated, env: dict[str, str]) -> Path:
    """Copy the generated file into the bench account's folder under ``env``'s
    ``XDG_CACHE_HOME`` (a copy: nothing the app does can touch the cached file)."""
    from lemlist_tui.api.base import account_fingerprint
    from lemlist_tui.config import APP_NAME
    from lemlist_tui.db import DB_NAME

    folder = (
        Path(env["XDG_CACHE_HOME"]) / APP_NAME / account_fingerprint(BENCH_API_KEY, BENCH_BASE_URL)
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    target = folder / DB_NAME
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source.path, target)
    os.chmod(target, 0o600)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dbgen", description=__doc__)
    parser.add_argument("size", type=int)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--folder", type=Path, default=None, help="build here (no cache)")
    parser.add_argument("--json", action="store_true", help="print the meta as one JSON line")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.folder is not None:
        meta = build(args.folder, args.size, seed=args.seed, log=log)
        folder = args.folder
    else:
        made = generated(args.size, seed=args.seed, log=log)
        meta, folder = made.meta, made.folder
    if args.json:
        print(orjson.dumps(meta | {"folder": str(folder)}).decode())
    else:
        print(f"{folder}: {meta['size']:,} conversations, {meta['bytes'] / 1e6:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
