"""The on-disk cache: one private folder per account, crash-safe snapshots, an LRU size cap.

Layout under the root (``platformdirs.user_cache_dir("lemlist-tui")`` in the app)::

    <fingerprint>/                  one account (SHA-256 of key + base URL; the key is never
      team.json                     written anywhere), folders 0700, files 0600
      users/<user>/
        inbox.json                  the manifest: state, the newest HEAD_ROWS conversations,
                                    and the list of chunk files holding the rest
        chunk-<generation>-<n>.json the rest, in order, a few thousand conversations each
        threads/<contact>.json      one conversation's messages

Every file is orjson with a ``schema`` number; a file that cannot be read, is cut short,
is not ours or has another schema is ignored (and replaced on the next save), never a
crash. Writes are atomic (temporary file in the same folder, fsync, ``os.replace``, fsync
of the folder). A snapshot is consistent at every instant: new chunk files are written
first under a new generation name, then the manifest is replaced, and only then are the
files no manifest references deleted. A crash at any point leaves the previous manifest
and every chunk it names in place.

Chunk boundaries are content-defined (a hash of the conversation id), not positional:
new conversations on top, one conversation marked read, a crawl appending at the end each
change only the chunks they touch, and a save rewrites only those (the other files are
kept and referenced again). That bounds the write cost of a save at 100k conversations.

The size cap is enforced by least-recently-used eviction of whole accounts (an account's
folder is "used" when it is opened or saved to); when the account in use is over the cap
on its own, its least recently used threads go, then nothing more: the current inbox
snapshot is never evicted.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
import secrets
import shutil
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from lemlist_tui.api.models import Conversation, Team, ThreadPage
from lemlist_tui.sync.records import (
    SCHEMA,
    RecordError,
    conversations_from_block,
    conversations_to_block,
    team_from_record,
    team_to_record,
    thread_from_record,
    thread_to_record,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HEAD_ROWS",
    "AccountCache",
    "CachedInbox",
    "CachedInboxRest",
    "DiskCache",
    "InboxState",
]

DEFAULT_MAX_BYTES = 512 * 2**20
HEAD_ROWS = 500
"""Conversations stored in the manifest itself: a first screen and more, in one small read."""
CHUNK_MIN, CHUNK_AVERAGE, CHUNK_MAX = 1024, 4096, 16384
"""Rows per chunk file: a boundary after a row whose id hashes to 0 mod the average."""

_FREEZE_AT = 5_000
"""Conversations read at once from which the collector is told to leave them alone."""

_FINGERPRINT = re.compile(r"[0-9a-f]{16,128}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
_CHUNK_FILE = re.compile(r"chunk-[0-9a-f]+-\d+\.json")
_DUMP = orjson.OPT_UTC_Z


def _safe_name(value: str) -> str:
    """A file name for an id from the server: itself when plainly safe, else a hash."""
    if _SAFE_NAME.fullmatch(value):
        return value
    return "h-" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:40]


# --- atomic files ------------------------------------------------------------------------


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)  # made earlier by someone else, or under a lax umask


def _fsync_dir(path: Path) -> None:
    # Makes a rename durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write ``path`` atomically: a reader sees the old content or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        _fsync_dir(path.parent)


def _read_file(path: Path, kind: str) -> dict[str, Any] | None:
    """The payload of one of our files, or None when missing, unreadable or not ours."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("kind") != kind:
        return None
    return data


def _dump(kind: str, **payload: Any) -> bytes:
    return orjson.dumps({"schema": SCHEMA, "kind": kind, **payload}, option=_DUMP)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while 100k acyclic objects are built: it would walk them over and over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tree_size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


# --- what a snapshot holds -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxState:
    """What the store knows about an inbox besides its conversations."""

    total: int | None = None
    """The server's ``totalItems`` as last seen."""
    complete: bool = False
    fetched_at: float | None = None
    """``time.time()`` of the last successful sync."""
    next_page: int | None = 1
    """The first page a crawl has not walked yet (with ``page_size``); None when complete."""
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class _Chunk:
    name: str
    rows: int
    first_id: str


@dataclass(frozen=True, slots=True)
class CachedInbox:
    """A snapshot's manifest: enough to show the newest conversations at once."""

    state: InboxState
    head: list[Conversation]
    """The newest conversations, in order (up to ``HEAD_ROWS``)."""
    rows: int
    """Conversations in the whole snapshot, head included."""
    chunks: tuple[_Chunk, ...] = ()

    @property
    def has_rest(self) -> bool:
        return bool(self.chunks)


@dataclass(frozen=True, slots=True)
class CachedInboxRest:
    conversations: list[Conversation]
    """Every readable conversation after the head, in order."""
    intact: bool
    """False when a chunk was missing or unreadable (its rows are then not held)."""
    rows_before_gap: int
    """Rows of the snapshot before the first unreadable chunk (all rows when intact)."""


@dataclass(slots=True)
class _UserFiles:
    """What this process last wrote for one user, to reuse unchanged chunk files."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    saved_seq: int = -1
    chunks: dict[str, tuple[_Chunk, tuple[Conversation, ...]]] = field(default_factory=dict)
    """first id → (the chunk file, the very objects it holds)."""


# --- the cache -------------------------------------------------------------------------------


class DiskCache:
    """The cache root: hands out one :class:`AccountCache` per account fingerprint."""

    def __init__(self, root: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._accounts: dict[str, AccountCache] = {}

    def account(self, fingerprint: str) -> AccountCache:
        """This account's namespace (made 0700 on first use); marks it recently used.

        Never raises for a cache that cannot be written: the account then works without
        one (its loads find nothing, its saves fail quietly in the store).
        """
        if not _FINGERPRINT.fullmatch(fingerprint):
            raise ValueError("an account fingerprint is a hex digest")
        account = self._accounts.get(fingerprint)
        if account is None:
            account = self._accounts[fingerprint] = AccountCache(self, self.root / fingerprint)
        with contextlib.suppress(OSError):
            _make_private_dir(self.root)
            _make_private_dir(account.path)
            account.touch()
            self.evict(keep=fingerprint)
        return account

    def size(self) -> int:
        return _tree_size(self.root)

    def evict(self, keep: str | None = None) -> int:
        """Delete least recently used accounts (never ``keep``) until under the cap.

        Then, if ``keep`` alone is still over, its least recently used threads.
        Returns the bytes freed.
        """
        try:
            entries = [e for e in os.scandir(self.root) if _FINGERPRINT.fullmatch(e.name)]
        except OSError:
            return 0
        sizes = {e.name: _tree_size(Path(e.path)) for e in entries if e.is_dir()}
        total = sum(sizes.values())
        freed = 0
        used: dict[str, float] = {}
        for entry in entries:
            if entry.name in sizes:
                with contextlib.suppress(OSError):
                    used[entry.name] = entry.stat().st_mtime
        for name in sorted(used, key=used.__getitem__):
            if total <= self.max_bytes:
                break
            if name == keep:
                continue
            shutil.rmtree(self.root / name, ignore_errors=True)
            self._accounts.pop(name, None)
            total -= sizes[name]
            freed += sizes[name]
        current = self._accounts.get(keep) if keep is not None else None
        if total > self.max_bytes and current is not None:
            freed += current.evict_threads(total - self.max_bytes)
        return freed


class AccountCache:
    """One account's files. Loads never raise; saves raise ``OSError`` (the store reports).

    Saving an inbox can be slow at 100k conversations: call :meth:`save_inbox` from a
    worker thread (``asyncio.to_thread``). Saves of one user are serialised here.
    """

    def __init__(self, disk: DiskCache, path: Path) -> None:
        self._disk = disk
        self.path = path
        self._users: dict[str, _UserFiles] = {}
        self._users_lock = threading.Lock()
        self._thread_writes = 0

    def __repr__(self) -> str:
        return f"AccountCache({str(self.path)!r})"

    def touch(self) -> None:
        """Mark the account as recently used (for LRU eviction)."""
        with contextlib.suppress(OSError):
            os.utime(self.path)

    def size(self) -> int:
        return _tree_size(self.path)

    def clear(self) -> None:
        """Empty this account's namespace (``--clear-cache``); the folder stays, empty."""
        with self._users_lock:
            self._users.clear()
        if self.path.exists():
            for entry in self.path.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()

    def _user_dir(self, user_id: str) -> Path:
        return self.path / "users" / _safe_name(user_id)

    def _files(self, user_id: str) -> _UserFiles:
        with self._users_lock:
            return self._users.setdefault(user_id, _UserFiles())

    # --- team -------------------------------------------------------------------------------

    def load_team(self) -> Team | None:
        data = _read_file(self.path / "team.json", "team")
        if data is None:
            return None
        try:
            return team_from_record(data.get("team"))
        except RecordError:
            return None

    def save_team(self, team: Team) -> None:
        """Small and rare: written in place (atomically) on the calling thread."""
        with contextlib.suppress(OSError):
            _make_private_dir(self.path)
            _write_file(self.path / "team.json", _dump("team", team=team_to_record(team)))

    # --- inbox ------------------------------------------------------------------------------

    def load_inbox(self, user_id: str) -> tuple[InboxState, list[Conversation]] | None:
        """The whole snapshot at once (tests, ``export``); see ``load_inbox_head``."""
        head = self.load_inbox_head(user_id)
        if head is None:
            return None
        rest = self.load_inbox_rest(user_id, head)
        return head.state, head.head + rest.conversations

    def load_inbox_head(self, user_id: str) -> CachedInbox | None:
        """The manifest: a few milliseconds, whatever the inbox's size."""
        data = _read_file(self._user_dir(user_id) / "inbox.json", "inbox")
        if data is None or data.get("user") != user_id:
            return None
        try:
            return _parse_manifest(data)
        except (RecordError, TypeError, ValueError, KeyError):
            return None

    def load_inbox_rest(self, user_id: str, head: CachedInbox) -> CachedInboxRest:
        """The chunks a manifest names, in order. Slow at 100k: call from a thread."""
        folder = self._user_dir(user_id)
        files = self._files(user_id)
        conversations: list[Conversation] = []
        intact = True
        rows_before_gap = head.rows
        offset = len(head.head)
        loaded: dict[str, tuple[_Chunk, tuple[Conversation, ...]]] = {}
        with _gc_paused():
            for chunk in head.chunks:
                rows = _load_chunk(folder / chunk.name, chunk)
                if rows is None:
                    if intact:
                        intact, rows_before_gap = False, offset
                else:
                    conversations.extend(rows)
                    loaded[chunk.first_id] = (chunk, tuple(rows))
                offset += chunk.rows
            if len(conversations) >= _FREEZE_AT:
                # Move what was just built (and everything older: modules, widgets) out of
                # the collector's reach before it runs again. These objects are acyclic and
                # live as long as the inbox; left tracked, the next young collections would
                # walk the ~1M of them (50-140 ms each) and a full one later another
                # ~180 ms: pauses that land on a keystroke. Frozen objects are still freed
                # by reference counting when the inbox drops them.
                gc.freeze()
        with files.lock:
            # These objects are what the store will hold: a save that finds them unchanged
            # keeps the file instead of rewriting it.
            files.chunks.update(loaded)
        return CachedInboxRest(conversations, intact, rows_before_gap)

    def save_inbox(
        self,
        user_id: str,
        conversations: Sequence[Conversation],
        state: InboxState,
        *,
        seq: int | None = None,
    ) -> None:
        """Write a snapshot of ``conversations`` (newest first) and ``state``.

        ``seq`` orders saves of one user: one older than the last written is dropped, so
        a slow save finishing late never overwrites a newer snapshot. Raises OSError.
        """
        files = self._files(user_id)
        with files.lock:
            if seq is not None and seq <= files.saved_seq:
                return
            folder = self._user_dir(user_id)
            _make_private_dir(self.path)
            _make_private_dir(folder.parent)
            _make_private_dir(folder)
            with _folder_lock(folder):
                written = self._write_snapshot(folder, files, user_id, conversations, state)
            if seq is not None:
                files.saved_seq = seq
        self.touch()
        if written:
            self._disk.evict(keep=self.path.name)

    def _write_snapshot(
        self,
        folder: Path,
        files: _UserFiles,
        user_id: str,
        conversations: Sequence[Conversation],
        state: InboxState,
    ) -> int:
        """Chunks, then the manifest, then the clean-up; returns the chunk files written."""
        generation = f"{time.time_ns():x}{secrets.token_hex(2)}"
        chunks, written = self._write_chunks(folder, files, conversations[HEAD_ROWS:], generation)
        manifest = _dump(
            "inbox",
            user=user_id,
            generation=generation,
            saved_at=time.time(),
            rows=len(conversations),
            state=_state_record(state),
            head=conversations_to_block(conversations[:HEAD_ROWS]),
            chunks=[[c.name, c.rows, c.first_id] for c, _ in chunks],
        )
        if written:
            _fsync_dir(folder)  # the chunks' names are durable before anything names them
        _write_file(folder / "inbox.json", manifest)
        files.chunks = {chunk.first_id: (chunk, rows) for chunk, rows in chunks}
        _remove_unreferenced(folder, {chunk.name for chunk, _ in chunks})
        return written

    def _write_chunks(
        self,
        folder: Path,
        files: _UserFiles,
        rest: Sequence[Conversation],
        generation: str,
    ) -> tuple[list[tuple[_Chunk, tuple[Conversation, ...]]], int]:
        """Chunk files for ``rest``: the unchanged ones reused, the others written."""
        out: list[tuple[_Chunk, tuple[Conversation, ...]]] = []
        written = 0
        for rows in _split(rest):
            previous = files.chunks.get(rows[0].id)
            if (
                previous is not None
                and len(previous[1]) == len(rows)
                and all(a is b for a, b in zip(previous[1], rows, strict=True))
                and (folder / previous[0].name).exists()
            ):
                out.append(previous)
                continue
            chunk = _Chunk(f"chunk-{generation}-{len(out)}.json", len(rows), rows[0].id)
            data = _dump("chunk", rows=len(rows), block=conversations_to_block(rows))
            _write_file(folder / chunk.name, data, sync_dir=False)
            out.append((chunk, rows))
            written += 1
        return out, written

    # --- threads ----------------------------------------------------------------------------

    def _thread_path(self, user_id: str, contact_id: str) -> Path:
        return self._user_dir(user_id) / "threads" / f"{_safe_name(contact_id)}.json"

    def load_thread(self, user_id: str, contact_id: str) -> ThreadPage | None:
        path = self._thread_path(user_id, contact_id)
        data = _read_file(path, "thread")
        if data is None or data.get("contact") != contact_id:
            return None
        try:
            page = thread_from_record(data.get("thread"))
        except RecordError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used, for eviction
        return page

    def save_thread(self, user_id: str, contact_id: str, page: ThreadPage) -> None:
        """Raises OSError. Small: fine on the loop, better in a thread (fsync)."""
        path = self._thread_path(user_id, contact_id)
        _make_private_dir(self.path)
        _make_private_dir(path.parent.parent.parent)
        _make_private_dir(path.parent.parent)
        _make_private_dir(path.parent)
        _write_file(path, _dump("thread", contact=contact_id, thread=thread_to_record(page)))
        self._thread_writes += 1
        if self._thread_writes % 50 == 0:
            self._disk.evict(keep=self.path.name)

    def evict_threads(self, excess: int) -> int:
        """Delete least recently used thread files until ``excess`` bytes are freed."""
        found: list[tuple[float, int, str]] = []
        for folder, _, names in os.walk(self.path / "users"):
            if os.path.basename(folder) != "threads":
                continue
            for name in names:
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    info = os.lstat(path)
                    found.append((info.st_mtime, info.st_size, path))
        freed = 0
        for _, size, path in sorted(found):
            if freed >= excess:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                freed += size
        return freed


# --- helpers -------------------------------------------------------------------------------


def _state_record(state: InboxState) -> dict[str, Any]:
    return {
        "total": state.total,
        "complete": state.complete,
        "fetched_at": state.fetched_at,
        "next_page": state.next_page,
        "page_size": state.page_size,
    }


def _opt_number(value: object, kind: type) -> Any:
    if value is None or (type(value) is kind) or (kind is float and type(value) is int):
        return value
    raise RecordError("a state field has the wrong type")


def _parse_manifest(data: dict[str, Any]) -> CachedInbox:
    raw = data["state"]
    if not isinstance(raw, dict):
        raise RecordError("the inbox state is malformed")
    page_size = raw.get("page_size")
    if type(page_size) is not int or page_size < 1:
        raise RecordError("the inbox state has no page size")
    state = InboxState(
        total=_opt_number(raw.get("total"), int),
        complete=raw.get("complete") is True,
        fetched_at=_opt_number(raw.get("fetched_at"), float),
        next_page=_opt_number(raw.get("next_page"), int),
        page_size=page_size,
    )
    with _gc_paused():
        head = conversations_from_block(data["head"])
    chunks = []
    for item in data["chunks"]:
        if not (isinstance(item, list) and len(item) == 3):
            raise RecordError("a chunk entry is malformed")
        name, rows, first_id = item
        if not (isinstance(name, str) and _CHUNK_FILE.fullmatch(name)):
            raise RecordError("a chunk entry names no chunk file")
        if type(rows) is not int or rows < 1 or type(first_id) is not str:
            raise RecordError("a chunk entry is malformed")
        chunks.append(_Chunk(name, rows, first_id))
    rows = data["rows"]
    if type(rows) is not int or rows != len(head) + sum(c.rows for c in chunks):
        raise RecordError("the manifest's row count does not add up")
    return CachedInbox(state, head, rows, tuple(chunks))


def _load_chunk(path: Path, chunk: _Chunk) -> list[Conversation] | None:
    data = _read_file(path, "chunk")
    if data is None or data.get("rows") != chunk.rows:
        return None
    try:
        rows = conversations_from_block(data.get("block"))
    except RecordError:
        return None
    if len(rows) != chunk.rows or rows[0].id != chunk.first_id:
        return None
    return rows


def _split(rest: Sequence[Conversation]) -> Iterator[tuple[Conversation, ...]]:
    """Content-defined chunks: a boundary after a row whose id hashes to 0 (mod average).

    crc32, not ``hash()``: string hashes change from one process to the next, and the
    boundaries must not, or the first save of every run would rewrite every chunk.
    """
    start = 0
    n = len(rest)
    crc, average = zlib.crc32, CHUNK_AVERAGE
    for index, conversation in enumerate(rest):
        size = index + 1 - start
        if size >= CHUNK_MAX or (
            size >= CHUNK_MIN and crc(conversation.id.encode(errors="surrogatepass")) % average == 0
        ):
            yield tuple(rest[start : index + 1])
            start = index + 1
    if start < n:
        yield tuple(rest[start:])


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    """Chunks of older generations, and temporary files a crashed writer left behind.

    Called under the folder lock: no live writer has a file in flight here.
    """
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            name = entry.name
            unreferenced = _CHUNK_FILE.fullmatch(name) is not None and name not in keep
            if unreferenced or (name.startswith(".") and name.endswith(".tmp")):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Excludes other processes saving the same user's inbox (two app windows).

    ``flock`` where the platform has it; elsewhere a single writer is assumed, and the
    loader's tolerance of a missing chunk is the safety net.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
