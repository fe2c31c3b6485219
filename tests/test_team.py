"""The team view's data: every user's inbox merged, each conversation once, its read
matrix as lemlist sent it, synced fairly through one rate limiter, kept right by the
database itself through marks, deletions and an upgrade from the previous schema.

Against the demo lemlist API in-process (``httpx.ASGITransport``), on real SQLite files.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from support.clients import PAGE, SIZE, quick_config

from lemlist_tui.api.client import LemlistClient
from lemlist_tui.api.models import InboxPage
from lemlist_tui.db import TEAM, InboxDatabase, ListRow
from lemlist_tui.db.query import parse_query, user_names
from lemlist_tui.db.schema import MIGRATIONS
from lemlist_tui.demo import DemoLemlist
from lemlist_tui.sync.engine import InboxSync
from lemlist_tui.sync.team import TeamSync

USERS = 3


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config(users=USERS))


def team_sync(client: LemlistClient, db: InboxDatabase, demo: DemoLemlist) -> TeamSync:
    return TeamSync([InboxSync(client, db, u, page_size=PAGE) for u in demo.team_user_ids])


def every_row(db: InboxDatabase, user_id: str) -> list[ListRow]:
    return db.rows(user_id, limit=10 * SIZE)


async def test_the_team_view_is_every_inbox_merged_each_conversation_once(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    result = await team_sync(client, db, demo).crawl()

    assert result.users == USERS and result.reconciled
    team = every_row(db, TEAM)
    ids = [row.id for row in team]
    assert len(ids) == len(set(ids)) == SIZE
    union = {row.id for user in demo.team_user_ids for row in every_row(db, user)}
    assert set(ids) == union
    assert db.counts(TEAM) == (SIZE, sum(row.unread for row in team))
    # Newest activity first, as each user's inbox.
    first_user = every_row(db, demo.team_user_ids[0])
    assert ids == [row.id for row in first_user]


async def test_the_read_matrix_and_owner_are_lemlists_and_team_unread_means_nobody_read(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    await team_sync(client, db, demo).crawl()
    answered = await client.inbox_page(demo.team_user_ids[0], 1, PAGE)

    for sent in answered.conversations:
        held = db.conversation(sent.id)
        assert held is not None
        assert set(held.participants) == set(sent.participants)
    nobody_read = 0
    for row in every_row(db, TEAM):
        held = db.conversation(row.id)
        assert held is not None
        assert row.unread == (not any(p.read for p in held.participants))
        nobody_read += row.unread
        assert row.owner == min(p.user_id for p in held.participants if p.sender)
    assert 0 < nobody_read < SIZE  # the data has both kinds


async def test_every_users_first_page_comes_before_anyones_second(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    progress: list[tuple[int, int | None]] = []
    await team_sync(client, db, demo).crawl(lambda done, total: progress.append((done, total)))

    asked = [
        (r.query["userId"], int(r.query.get("page", "1")))
        for r in demo.log
        if r.path.rstrip("/") == "/api/inbox"
    ]
    first_second = next(k for k, (_, page) in enumerate(asked) if page > 1)
    assert sorted(user for user, _ in asked[:first_second]) == sorted(demo.team_user_ids)
    # Progress sums the users' pages; the total is said once every walk knows its own.
    assert progress[-1] == (USERS * SIZE // PAGE, USERS * SIZE // PAGE)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


async def test_a_walk_that_starts_late_still_gets_its_first_page_before_anyones_second(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last user's first request is held back until another user asks for a second
    page (or half a second passes): only the team crawl's starting line keeps the others
    waiting for it."""
    late = demo.team_user_ids[-1]
    asked: list[tuple[str, int]] = []
    second_asked = asyncio.Event()
    ask = client.inbox_page

    async def inbox_page(user_id: str, page: int = 1, limit: int = 100) -> InboxPage:
        if page > 1:
            second_asked.set()
        if user_id == late and not any(user == late for user, _ in asked):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(second_asked.wait(), 0.5)
        asked.append((user_id, page))
        return await ask(user_id, page, limit)

    monkeypatch.setattr(client, "inbox_page", inbox_page)
    await team_sync(client, db, demo).crawl()

    first_second = next(k for k, (_, page) in enumerate(asked) if page > 1)
    assert sorted(user for user, _ in asked[:first_second]) == sorted(demo.team_user_ids)


async def test_a_mark_read_by_anyone_makes_the_team_row_read(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    await team_sync(client, db, demo).crawl()
    unread = next(row for row in every_row(db, TEAM) if row.unread)
    before = db.counts(TEAM)

    assert db.mark_read(demo.team_user_ids[1], unread.id)

    after = {row.id: row for row in every_row(db, TEAM)}
    assert not after[unread.id].unread
    assert db.counts(TEAM) == (before[0], before[1] - 1)


async def test_a_conversation_leaves_the_team_view_when_it_leaves_the_last_inbox(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    await team_sync(client, db, demo).crawl()
    gone = demo.delete_newest(2)
    assert len(gone) == 2
    gone_ids = {row.id for row in every_row(db, TEAM)[:2]}
    first, *others = (InboxSync(client, db, u, page_size=PAGE) for u in demo.team_user_ids)

    removed = (await first.crawl()).removed
    assert removed == 2
    # The others' inboxes still hold them: the team view does too.
    assert gone_ids <= {row.id for row in every_row(db, TEAM)}
    for sync in others:
        await sync.crawl()
    team = every_row(db, TEAM)
    assert not gone_ids & {row.id for row in team}
    assert db.counts(TEAM) == (SIZE - 2, sum(row.unread for row in team))


async def test_user_and_unread_by_filter_through_the_read_matrix(
    client: LemlistClient, db: InboxDatabase, demo: DemoLemlist
) -> None:
    await team_sync(client, db, demo).crawl()
    team = db.team() or await client.team()
    names = user_names((u.id, u.name, u.email) for u in team.users)
    someone = team.users[1]
    first_name = (someone.name or "").split(" ")[0]
    assert first_name

    unread_by = parse_query(f"unread-by:{first_name.upper()}", users=names)
    owned = parse_query(f"user:{someone.email}", users=names)
    assert not unread_by.problems and not owned.problems
    rows = db.rows(TEAM, limit=10 * SIZE, facets=unread_by.facets)
    mine = every_row(db, someone.id)
    assert {r.id for r in rows} == {r.id for r in mine if r.unread}
    assert db.count(TEAM, facets=unread_by.facets) == len(rows) > 0
    rows = db.rows(TEAM, limit=10 * SIZE, facets=owned.facets)
    assert rows and all(r.owner == someone.id for r in rows)
    assert {r.id for r in rows} == {r.id for r in every_row(db, TEAM) if r.owner == someone.id}
    assert parse_query("unread-by:nobody", users=names).problems == (
        "No teammate is named “nobody”.",
    )


def test_an_inbox_of_the_previous_schema_gains_its_team_rows(tmp_path: Path) -> None:
    folder = tmp_path / "account"
    folder.mkdir(mode=0o700)
    raw = sqlite3.connect(folder / "inbox.sqlite3")
    for version, statements in MIGRATIONS[:-1]:
        for statement in statements:
            raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {version}")
    raw.executemany(
        "INSERT INTO participants (conversation, user_id, sender, read) VALUES (?, ?, ?, ?)",
        [(1, "usr_a", 1, 0), (1, "usr_b", 0, 1), (2, "usr_a", 1, 0), (2, "usr_b", 0, 0)],
    )
    raw.executemany(
        "INSERT INTO inbox (user_id, conversation, activity, replied, created, unread, search) "
        "VALUES (?, ?, ?, 0, 0, ?, 's')",
        [("usr_a", 1, 10, 1), ("usr_b", 1, 10, 0), ("usr_a", 2, 20, 1), ("usr_b", 2, 20, 1)],
    )
    raw.commit()
    raw.close()

    db = InboxDatabase(folder)
    try:
        rows = db.read_connection.execute(
            "SELECT conversation, unread FROM inbox WHERE user_id = ? ORDER BY conversation",
            (TEAM,),
        ).fetchall()
        assert rows == [(1, 0), (2, 1)]
        assert db.counts(TEAM) == (2, 1)
    finally:
        db.close()
