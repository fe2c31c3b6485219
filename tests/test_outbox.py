"""The outbox: local at once, sent once at the rate limit, undoable while pending, kept
across restarts. A real SQLite file and the demo API (in-process over ASGI, or a port
nothing listens on for "offline")."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.clients import FAST_RETRY, UNREACHABLE, make_client, quick_config

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.db import InboxDatabase
from lemlist_tui.db.outbox import Action, Kind, Outbox
from lemlist_tui.demo import DemoLemlist, Fault
from lemlist_tui.sync.engine import InboxSync
from lemlist_tui.sync.sender import OutboxSender

PAGE = 20


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config(size=60))


@pytest.fixture
def user(demo: DemoLemlist) -> str:
    return demo.team_user_ids[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "account"


@pytest.fixture
async def synced(client: LemlistClient, db: InboxDatabase, user: str) -> InboxSync:
    sync = InboxSync(client, db, user, page_size=PAGE)
    await sync.crawl()
    return sync


def unread_ids(db: InboxDatabase, user: str) -> list[str]:
    return [row.id for row in db.rows(user, unread_only=True, limit=1000)]


def read_action(db: InboxDatabase, user: str, conversation_id: str) -> Action:
    conversation = db.conversation(conversation_id)
    assert conversation is not None and conversation.contact.id is not None
    return Action(Kind.READ, conversation.contact.id, conversation_id, user_id=user)


def mark_reads(demo: DemoLemlist) -> int:
    return sum(1 for r in demo.log if r.query.get("markAsRead") == "true")


async def test_a_mark_read_is_local_at_once_and_reaches_lemlist_once(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, client: LemlistClient, user: str
) -> None:
    outbox = Outbox(db)
    held, unread = db.counts(user)
    targets = unread_ids(db, user)[:3]
    assert len(targets) == 3
    for conversation_id in targets:
        assert outbox.add([read_action(db, user, conversation_id)]).queued == 1
    for conversation_id in targets:  # pressed again, and again: nothing more to send
        again = outbox.add([read_action(db, user, conversation_id)] * 2)
        assert (again.queued, again.unchanged) == (0, 2)
    assert db.counts(user) == (held, unread - 3)
    assert not set(targets) & set(unread_ids(db, user))
    assert outbox.summary().pending == 3
    assert not any(demo.is_read(c, user) for c in targets)

    await OutboxSender(outbox, client).drain()

    assert all(demo.is_read(c, user) for c in targets)
    assert mark_reads(demo) == 3
    assert outbox.summary().empty


async def test_undo_before_sending_means_lemlist_never_hears_of_it(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, client: LemlistClient, user: str
) -> None:
    outbox = Outbox(db)
    _, unread = db.counts(user)
    target = unread_ids(db, user)[0]
    outbox.add([read_action(db, user, target)])
    undone = outbox.undo()
    assert (undone.kinds, undone.withdrawn, undone.final) == ((Kind.READ,), 1, 0)
    assert db.counts(user)[1] == unread
    assert target in unread_ids(db, user)
    conversation = db.conversation(target)
    assert conversation is not None and conversation.is_unread_for(user)

    await OutboxSender(outbox, client).drain()
    assert mark_reads(demo) == 0
    assert not demo.is_read(target, user)
    assert outbox.undo().nothing


async def test_undo_takes_back_the_newest_group_first_and_a_bulk_group_whole(
    synced: InboxSync, db: InboxDatabase, user: str
) -> None:
    outbox = Outbox(db)
    first, *bulk = unread_ids(db, user)[:4]
    outbox.add([read_action(db, user, first)])
    group = outbox.add([read_action(db, user, c) for c in bulk])
    assert group.queued == 3
    assert outbox.undo().withdrawn == 3
    assert set(bulk) <= set(unread_ids(db, user))
    assert first not in unread_ids(db, user)
    assert outbox.undo().withdrawn == 1
    assert first in unread_ids(db, user)


async def test_a_sent_mark_read_is_final_and_said_so(
    synced: InboxSync, db: InboxDatabase, client: LemlistClient, user: str
) -> None:
    outbox = Outbox(db)
    targets = unread_ids(db, user)[:3]
    outbox.add([read_action(db, user, c) for c in targets])
    rows = outbox.sendable(1)  # one of the three goes out before the undo
    assert await OutboxSender(outbox, client).send(rows) is False
    undone = outbox.undo()
    assert (undone.withdrawn, undone.final) == (2, 1)
    assert set(unread_ids(db, user)) & set(targets) == set(targets) - {
        rows[0].action.conversation_id
    }
    nothing = outbox.undo()
    assert nothing.nothing and nothing.final == 0  # the group is done with


async def test_a_page_fetched_before_the_send_does_not_bring_unread_back(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    outbox = Outbox(db)
    target = unread_ids(db, user)[0]
    outbox.add([read_action(db, user, target)])
    demo.touch(target)  # the conversation moves to the top: the refresh rewrites its row
    await synced.refresh()
    assert not demo.is_read(target, user)  # lemlist still says unread ...
    assert target not in unread_ids(db, user)  # ... and the outbox's read holds


async def test_the_outbox_survives_a_restart_and_a_death_mid_send(
    synced: InboxSync, folder: Path, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    targets = unread_ids(db, user)[:2]
    outbox = Outbox(db)
    outbox.add([read_action(db, user, targets[0])])
    outbox.add([read_action(db, user, targets[1])])
    taken = outbox.sending([outbox.sendable(1)[0].id])  # the process dies with it out
    assert len(taken) == 1
    db.close()

    again = InboxDatabase(folder)
    try:
        outbox = Outbox(again)
        assert outbox.summary().pending == 2
        assert not set(targets) & set(unread_ids(again, user))
        async with make_client(demo) as client:
            await OutboxSender(outbox, client).drain()
        assert all(demo.is_read(c, user) for c in targets)
        assert outbox.summary().empty
    finally:
        again.close()


async def test_offline_actions_wait_with_a_reason_and_go_out_once_online(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, client: LemlistClient, user: str
) -> None:
    outbox = Outbox(db)
    targets = unread_ids(db, user)[:2]
    outbox.add([read_action(db, user, c) for c in targets])
    async with make_client(None, base_url=UNREACHABLE, retry=RetryPolicy(attempts=1)) as offline:
        sender = OutboxSender(outbox, offline)
        assert await sender.send(outbox.sendable(5)) is True  # stalled: lemlist unreachable
    summary = outbox.summary()
    assert summary.pending == 2 and summary.failed == 0
    assert summary.error is not None and "connection" in summary.error
    assert not set(targets) & set(unread_ids(db, user))  # still read on screen

    await OutboxSender(outbox, client).drain()
    assert all(demo.is_read(c, user) for c in targets)
    assert outbox.summary().error is None


async def test_a_refused_action_is_kept_with_lemlists_reason_and_can_be_retried(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, client: LemlistClient, user: str
) -> None:
    outbox = Outbox(db)
    target = unread_ids(db, user)[0]
    action = read_action(db, user, target)
    outbox.add([action])
    demo.faults.append(
        Fault(path_prefix=f"/api/inbox/{action.contact_id}", status=400, body=b"Nope, not today")
    )
    await OutboxSender(outbox, client).drain()
    summary = outbox.summary()
    assert (summary.pending, summary.failed) == (0, 1)
    assert summary.error is not None and "Nope, not today" in summary.error
    assert outbox.rows()[0][1] == "failed"

    assert outbox.retry_failed() == 1
    await OutboxSender(outbox, client).drain()
    assert demo.is_read(target, user)
    assert outbox.summary().empty


async def test_a_server_error_is_retried_later_not_dropped(
    synced: InboxSync, db: InboxDatabase, demo: DemoLemlist, user: str
) -> None:
    outbox = Outbox(db)
    target = unread_ids(db, user)[0]
    action = read_action(db, user, target)
    outbox.add([action])
    demo.faults.append(Fault(path_prefix=f"/api/inbox/{action.contact_id}", status=503, times=5))
    async with make_client(demo, retry=RetryPolicy(attempts=1)) as client:
        sender = OutboxSender(outbox, client)
        assert await sender.send(outbox.sendable(5)) is True
        assert outbox.summary().pending == 1
        demo.faults.clear()
        await sender.drain()
    assert demo.is_read(target, user)


async def test_a_label_and_its_removal_before_sending_cancel_out(
    synced: InboxSync, db: InboxDatabase, user: str
) -> None:
    outbox = Outbox(db)
    label = Action(Kind.LABEL, "ctc_x", target="lbl_hot")
    assert outbox.add([label]).queued == 1
    assert outbox.labels_of("ctc_x") == ["lbl_hot"]
    removed = outbox.add([Action(Kind.UNLABEL, "ctc_x", target="lbl_hot")])
    assert (removed.queued, removed.cancelled) == (0, 1)
    assert outbox.labels_of("ctc_x") == []
    assert outbox.summary().empty


async def test_undoing_a_sent_label_queues_its_removal(
    synced: InboxSync, db: InboxDatabase, user: str
) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_x", target="lbl_hot")])
    (row,) = outbox.sendable(5)
    outbox.sending([row.id])
    outbox.sent(row.id)
    undone = outbox.undo()
    assert (undone.kinds, undone.reversed) == ((Kind.LABEL,), 1)
    assert outbox.labels_of("ctc_x") == []
    pending = outbox.rows()
    assert [(a.kind, a.target, state) for a, state, _ in pending] == [
        (Kind.UNLABEL, "lbl_hot", "pending")
    ]
    assert outbox.undo().nothing  # the removal itself is not undone by a second z


async def test_interest_is_local_and_undone_to_what_it_was(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    assert outbox.interest_of("lea_1") is None
    outbox.add([Action(Kind.INTERESTED, "ctc_1", target="lea_1")])
    assert outbox.interest_of("lea_1") is True
    changed = outbox.add([Action(Kind.NOT_INTERESTED, "ctc_1", target="lea_1")])
    assert (changed.cancelled, changed.queued) == (1, 1)
    assert outbox.interest_of("lea_1") is False
    assert [a.kind for a, _, _ in outbox.rows()] == [Kind.NOT_INTERESTED]
    outbox.undo()
    assert outbox.interest_of("lea_1") is None


async def test_rows_of_one_contact_go_out_in_order(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_a")])
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_b")])
    outbox.add([Action(Kind.LABEL, "ctc_2", target="lbl_a")])
    first = outbox.sendable(5)
    assert [(r.action.contact_id, r.action.target) for r in first] == [
        ("ctc_1", "lbl_a"),
        ("ctc_2", "lbl_a"),
    ]
    outbox.sending([r.id for r in first])
    assert outbox.sendable(5) == []  # ctc_1's second label waits for its first
    outbox.sent(first[0].id)
    assert [r.action.target for r in outbox.sendable(5)] == ["lbl_b"]


async def test_a_bulk_mark_read_runs_at_the_rate_limit_without_a_429(
    tmp_path: Path,
) -> None:
    demo = DemoLemlist(quick_config(size=200, rate_limit=20, rate_window=2.0))
    user = demo.team_user_ids[0]
    database = InboxDatabase(tmp_path / "rate")
    try:
        async with make_client(demo, limit=20, window=2.0, retry=FAST_RETRY) as client:
            await InboxSync(client, database, user, page_size=100).crawl()
            outbox = Outbox(database)
            targets = unread_ids(database, user)[:25]
            assert len(targets) == 25
            outbox.add([read_action(database, user, c) for c in targets])
            await OutboxSender(outbox, client).drain()
        assert all(demo.is_read(c, user) for c in targets)
        assert demo.count(status=429) == 0
        assert demo.max_in_window(2.0) <= 20
    finally:
        database.close()


async def test_a_damaged_outbox_row_is_failed_with_a_sentence_not_a_crash(
    db: InboxDatabase, client: LemlistClient
) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_a")])
    db.write("written", lambda c: c.execute("UPDATE outbox SET target = NULL"))
    await OutboxSender(outbox, client).drain()
    summary = outbox.summary()
    assert summary.failed == 1
    assert summary.error == "An outbox entry is damaged (a field is missing); z takes it back."


def test_a_change_waits_its_undo_time_before_it_can_be_sent(db: InboxDatabase) -> None:
    now = [1000.0]
    outbox = Outbox(db, clock=lambda: now[0])
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_a")])
    assert outbox.sendable(5, held_for=4.0) == []
    assert outbox.next_due(4.0) == pytest.approx(4.0)
    now[0] += 4.0
    assert [r.action.target for r in outbox.sendable(5, held_for=4.0)] == ["lbl_a"]
    assert outbox.next_due(4.0) == 0.0
    outbox.undo()
    assert outbox.next_due(4.0) is None
