"""SIGKILL at random moments of crawls and cache writes: the next start reads a whole cache.

A child process (``reliability_crash_child.py``) syncs one inbox from the demo over
loopback into a disk cache, saving after every batch, and says each time a snapshot is
on disk. It is killed with SIGKILL after a seeded random delay, many times over, while
the inbox keeps growing. After every kill, a fresh reader must find:

- a snapshot (once one was committed), complete: no chunk missing or unreadable;
- nothing invented, every id once;
- at least the last snapshot the child reported committed, and everything the previous
  check saw (nothing committed is ever lost);
- and a store starting from it (as the next run of the app would) holds exactly that.
"""

from __future__ import annotations

import random
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from demo_fixtures import running_demo
from reliability_support import FIGURES, REPO, child_env

from lemlist_tui.api.client import account_fingerprint
from lemlist_tui.demo import DemoConfig, DemoLemlist
from lemlist_tui.sync.cache import DiskCache
from lemlist_tui.sync.store import InboxStore

KEY = "sk-kill-0d5e8a7c31"
KILLS = 25
SEED = 20251114
CHILD = Path(__file__).with_name("reliability_crash_child.py")
_LOCK = threading.Lock()


@pytest.fixture
def growing_demo() -> Iterator[tuple[str, DemoLemlist]]:
    demo = DemoLemlist(
        DemoConfig(
            size=2400,  # the manifest's 500 rows and two chunk files
            seed=9,
            users=2,
            rate_window=0.1,
            now=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
            api_keys=(KEY,),
        )
    )
    with running_demo(demo) as base_url:
        yield base_url, demo


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the child said nothing"
    return process.stdout.readline().decode().strip()


def test_sigkill_never_costs_a_committed_snapshot(
    growing_demo: tuple[str, DemoLemlist], tmp_path: Path
) -> None:
    base_url, demo = growing_demo
    # Two lanes side by side (two users, two caches): the same kills in half the time.
    with ThreadPoolExecutor(2) as pool:
        lanes = [
            pool.submit(
                _lane, base_url, demo, lane, KILLS // 2 + lane % 2, tmp_path / f"lane{lane}"
            )
            for lane in range(2)
        ]
        results = [lane.result() for lane in lanes]
    failures = [failure for lane_failures, _ in results for failure in lane_failures]
    assert not failures, "\n".join(failures)
    assert all(verified > 2400 for _, verified in results)  # the crawls got somewhere


def _lane(
    base_url: str, demo: DemoLemlist, lane: int, kills: int, home: Path
) -> tuple[list[str], int]:
    user = demo.team_user_ids[lane]
    root = home / "cache"
    fingerprint = account_fingerprint(KEY, base_url)
    rng = random.Random(SEED + lane)
    env = child_env(home, KEY)
    verified: set[str] = set()
    failures: list[str] = []

    for kill in range(kills):
        with _LOCK:
            FIGURES.kills_tried += 1
        demo.add_conversations(rng.randint(0, 40))  # the inbox moves between runs
        mode = "crawl" if kill % 3 != 2 else "write"
        child = subprocess.Popen(
            [sys.executable, str(CHILD), base_url, user, str(root), mode],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        committed: list[int] = []
        try:
            started = _read_line(child, 20)
            assert started.startswith("ready"), started
            if kill % 2:
                # A random moment of the sync: the delay is the experiment, not a settle.
                time.sleep(rng.uniform(0.0, 0.6))
            else:
                # Inside a save: a few milliseconds after a random one of them starts.
                saves = rng.randint(1, 6)
                while saves:
                    word, *count = _read_line(child, 20).split()
                    if word == "committed":
                        committed.append(int(count[0]))
                    else:
                        saves -= 1
                time.sleep(rng.uniform(0.0, 0.02))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            out, err = child.communicate(timeout=10)
        assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
        lines = [line.split() for line in out.decode().splitlines()]
        committed += [int(line[1]) for line in lines if line and line[0] == "committed"]
        debris = _debris(root, fingerprint, user)

        problem = _check(root, fingerprint, user, demo, verified, committed)
        with _LOCK:
            FIGURES.count("kills inside a save (debris left behind)", debris, varies=True)
            if problem is None:
                FIGURES.kills_intact += 1
            else:
                failures.append(f"lane {lane}, kill {kill} ({mode}): {problem}")
    return failures, len(verified)


def _debris(root: Path, fingerprint: str, user: str) -> int:
    """1 when the kill cut a save short: a temporary file, or chunks no manifest names."""
    account = DiskCache(root).account(fingerprint)
    folder = account.path / "users" / user
    head = account.load_inbox_head(user)
    named = {chunk.name for chunk in head.chunks} if head is not None else set()
    files = [p.name for p in folder.glob("*")] if folder.exists() else []
    temporary = any(name.endswith(".tmp") for name in files)
    orphans = any(name.startswith("chunk-") and name not in named for name in files)
    return int(temporary or orphans)


def _check(
    root: Path,
    fingerprint: str,
    user: str,
    demo: DemoLemlist,
    verified: set[str],
    committed: list[int],
) -> str | None:
    account = DiskCache(root).account(fingerprint)
    head = account.load_inbox_head(user)
    if head is None:
        return "no snapshot" if verified or committed else None
    rest = account.load_inbox_rest(user, head)
    if not rest.intact:
        return f"a chunk is missing or unreadable (rows before the gap: {rest.rows_before_gap})"
    ids = [c.id for c in (*head.head, *rest.conversations)]
    if len(ids) != head.rows:
        return f"{len(ids)} rows read, the manifest says {head.rows}"
    if len(set(ids)) != len(ids):
        return "an id twice"
    if not set(ids) <= set(demo.conversation_ids()):
        return "ids the server never sent"
    lost = verified - set(ids)
    if lost:
        return f"{len(lost)} conversations committed earlier are gone"
    if committed and len(ids) < max(committed):
        return f"{len(ids)} rows on disk, but a snapshot of {max(committed)} was committed"
    # The next start of the app: the store loads it, and holds exactly that.
    store = InboxStore(None, account, user)
    if not store.load_cached():
        return "the store did not load the snapshot"
    if sorted(c.id for c in store.conversations) != sorted(ids):
        return "the store holds something else than the snapshot"
    verified.update(ids)
    return None


def test_the_child_reports_what_it_commits(
    growing_demo: tuple[str, DemoLemlist], tmp_path: Path
) -> None:
    """The kill test's witness works: left alone, the child commits the whole inbox."""
    base_url, demo = growing_demo
    env = child_env(tmp_path, KEY)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), base_url, demo.team_user_ids[0], str(tmp_path), "crawl"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert _read_line(child, 20) == "ready 0"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = _read_line(child, 30)
            if line == f"committed {len(demo.conversation_ids())}":
                break
            assert line == "saving" or line.startswith("committed "), line
        else:
            raise AssertionError("the crawl never committed the whole inbox")
    finally:
        child.kill()
        child.communicate(timeout=10)
