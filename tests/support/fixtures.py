"""Fixtures every module of the sync, the outbox and the query may use (loaded by the
suite's conftest): a client of the module's own ``demo`` fixture, in-process, and a
database on a real file. A module that needs another kind defines its own, which wins."""

from __future__ import annotations

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
