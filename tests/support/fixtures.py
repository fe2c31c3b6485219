"""Fixtures every module of the sync, the outbox and the query may use (loaded by the
suite's conftest): a client of the module's own ``demo`` fixture, in-process, and a
database on a real file. A module that needs another kind defines its own, which wins."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from lemlist_tui.api.client import LemlistClient
from lemlist_tui.db import InboxDatabase
from lemlist_tui.demo import DemoLemlist
from support.clients import make_client


@pytest.fixture
async def client(demo: DemoLemlist) -> AsyncIterator[LemlistClient]:
    async with make_client(demo) as client:
        yield client


@pytest.fixture
def db(tmp_path: Path) -> Iterator[InboxDatabase]:
    database = InboxDatabase(tmp_path / "account")
    yield database
    database.close()


@contextlib.contextmanager
def small_tmpfs(mount_point: Path) -> Iterator[Path]:
    """A 2 MB tmpfs at ``mount_point``, unmounted after, when this sandbox lets us mount
    one (root, CAP_SYS_ADMIN); else the test is skipped, saying why."""
    mount_point.mkdir()
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot mount a small tmpfs: {error}")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)
