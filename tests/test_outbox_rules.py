"""The outbox's rules, as the user meets them: what goes to lemlist and how many times,
what ``z`` takes back and what it says, the status line's words, the label and interest
shown after an action, a restart with a request out, a write the disk refuses. A real
SQLite file; lemlist is the demo API, in process over ASGI."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from support.clients import UNREACHABLE, make_client, quick_config

from lemlist_tui.api.client import LemlistClient, RetryPolicy
from lemlist_tui.db import InboxDatabase
from lemlist_tui.db.connection import StorageError
from lemlist_tui.db.outbox import Action, Kind, Outbox, Queued, Undone
from lemlist_tui.db.replies import Replies, Reply
from lemlist_tui.demo import DemoLemlist
from lemlist_tui.sync.engine import InboxSync
from lemlist_tui.sync.sender import OutboxSender

DAMAGED = "An outbox entry is damaged (a field is missing); z takes it back."
FINAL = "Nothing left to undo: what lemlist has heard (a mark read, interest, a reply) is final."
LABELS = "/api/inbox/conversations/labels/"


@pytest.fixture
def demo() -> DemoLemlist:
    return DemoLemlist(quick_config(size=60))


@pytest.fixture
def user(demo: DemoLemlist) -> str:
    return demo.team_user_ids[0]


@pytest.fixture
async def outbox(client: LemlistClient, db: InboxDatabase, user: str) -> Outbox:
    """The outbox of an account whose inbox is synced (every conversation held here)."""
    await InboxSync(client, db, user, page_size=20).crawl()
    return Outbox(db)


def requests(demo: DemoLemlist, method: str, path: str) -> int:
    return sum(1 for r in demo.log if r.method == method and r.path.startswith(path))


def labelled(demo: DemoLemlist) -> tuple[str, str]:
    """A contact lemlist lists with a label, and that label."""
    for conversation_id in demo.conversation_ids():
        labels = demo.labels_of(conversation_id)
        if labels:
            return demo.contact_id_of(conversation_id), min(labels)
    raise AssertionError("the demo inbox has no labelled conversation")


def unlabelled(demo: DemoLemlist, count: int) -> list[str]:
    """``count`` contacts lemlist lists with no label."""
    found = [demo.contact_id_of(c) for c in demo.conversation_ids() if not demo.labels_of(c)]
    assert len(found) >= count
    return found[:count]


def some_label(demo: DemoLemlist, other_than: str = "") -> str:
    """A label lemlist knows (it lists it on some conversation)."""
    known = set().union(*(demo.labels_of(c) for c in demo.conversation_ids()))
    return min(known - {other_than})


def lead(demo: DemoLemlist) -> tuple[str, str]:
    """A contact and its lead, whose interest lemlist has never been told."""
    conversation_id = demo.conversation_ids()[0]
    lead_id = demo.lead_id_of(conversation_id)
    assert demo.interest_of(lead_id) is None
    return demo.contact_id_of(conversation_id), lead_id


def unread(db: InboxDatabase, user: str, count: int) -> list[Action]:
    """Mark-reads of the ``count`` newest unread conversations."""
    actions = []
    for row in db.rows(user, unread_only=True, limit=count):
        conversation = db.conversation(row.id)
        assert conversation is not None and conversation.contact.id is not None
        actions.append(Action(Kind.READ, conversation.contact.id, row.id, user_id=user))
    assert len(actions) == count
    return actions


def written(db: InboxDatabase) -> Reply:
    return Replies(db).save(Reply(contact_id="ctc_1", user_id="usr_me", channel="email", body="Hi"))


async def drain(outbox: Outbox, client: LemlistClient) -> None:
    await OutboxSender(outbox, client).drain()


# --- what is sent, and how many times -------------------------------------------------------


async def test_a_label_lemlist_already_lists_is_not_sent_again(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, label = labelled(demo)
    assert outbox.add([Action(Kind.LABEL, contact, target=label)]) == Queued(None, 0, 0, 1)
    assert outbox.labels_of(contact) == [label]
    await drain(outbox, client)
    assert requests(demo, "POST", LABELS) == 0


async def test_a_label_the_app_sent_is_not_sent_again(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    (contact,) = unlabelled(demo, 1)
    label = some_label(demo)
    queued = outbox.add([Action(Kind.LABEL, contact, target=label)])
    assert queued.queued == 1 and queued.group is not None
    await drain(outbox, client)
    assert outbox.add([Action(Kind.LABEL, contact, target=label)]) == Queued(None, 0, 0, 1)
    await drain(outbox, client)
    assert requests(demo, "POST", LABELS) == 1
    assert demo.labels_of(contact) == {label}


async def test_interest_already_told_is_not_told_again_and_undo_restores_it(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, lead_id = lead(demo)
    outbox.add([Action(Kind.INTERESTED, contact, target=lead_id)])
    await drain(outbox, client)
    assert outbox.add([Action(Kind.INTERESTED, contact, target=lead_id)]).queued == 0
    assert outbox.add([Action(Kind.NOT_INTERESTED, contact, target=lead_id)]).queued == 1
    assert outbox.interest_of(lead_id) is False
    undone = outbox.undo()
    assert undone.sentence() == "Undone: not interested (1), before lemlist heard of it."
    assert outbox.interest_of(lead_id) is True  # as lemlist was told, not "never said"
    await drain(outbox, client)
    assert requests(demo, "POST", "/api/leads/") == 1
    assert demo.interest_of(lead_id) == "interested"


async def test_marking_read_a_conversation_not_held_here_queues_nothing(
    db: InboxDatabase, user: str
) -> None:
    outbox = Outbox(db)
    action = Action(Kind.READ, "ctc_gone", "ibx_gone", user_id=user)
    assert outbox.add([action]) == Queued(None, 0, 0, 1)
    assert outbox.summary().empty
    assert outbox.undo().sentence() == "Nothing to undo."


def test_a_reply_that_is_gone_from_the_database_is_not_queued(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    assert outbox.add([Action(Kind.REPLY, "ctc_1", "ibx_1", "usr_me", "999")]).queued == 0
    assert outbox.summary().empty


@pytest.mark.parametrize("target", [None, "not-a-number"])
def test_a_reply_entry_without_a_reply_number_is_refused_in_a_sentence(
    db: InboxDatabase, target: str | None
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(DAMAGED)}$"):
        Outbox(db).add([Action(Kind.REPLY, "ctc_1", "ibx_1", "usr_me", target)])


async def test_a_bulk_label_then_its_removal_sends_nothing(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contacts = unlabelled(demo, 2)
    label = some_label(demo)
    assert outbox.add([Action(Kind.LABEL, c, target=label) for c in contacts]).queued == 2
    removed = outbox.add([Action(Kind.UNLABEL, c, target=label) for c in contacts])
    assert removed == Queued(None, 0, 2, 2)  # each taken back, and so already as asked
    assert all(outbox.labels_of(c) == [] for c in contacts)
    await drain(outbox, client)
    assert requests(demo, "POST", LABELS) + requests(demo, "DELETE", LABELS) == 0


async def test_a_removal_taken_back_before_it_goes_leaves_lemlists_label_alone(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, label = labelled(demo)
    assert outbox.add([Action(Kind.UNLABEL, contact, target=label)]).queued == 1
    assert label not in outbox.labels_of(contact)
    assert outbox.add([Action(Kind.LABEL, contact, target=label)]) == Queued(None, 0, 1, 1)
    assert label in outbox.labels_of(contact)
    await drain(outbox, client)
    assert requests(demo, "POST", LABELS) + requests(demo, "DELETE", LABELS) == 0
    assert label in demo.labels_of(contact)


def test_a_fresh_label_takes_nothing_back_and_starts_its_own_group(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    queued = outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_a")])
    assert (queued.queued, queued.cancelled, queued.unchanged) == (1, 0, 0)
    assert queued.group is not None
    later = outbox.add([Action(Kind.LABEL, "ctc_2", target="lbl_a")])
    assert later.group is not None and later.group > queued.group


def test_actions_already_on_their_way_do_not_stop_the_rest_of_a_group(
    db: InboxDatabase,
) -> None:
    outbox = Outbox(db)
    reply = written(db)
    assert outbox.add([Action(Kind.DRAFT, "ctc_1", "ibx_1", "usr_me", str(reply.id))]).queued == 1
    send = Action(Kind.REPLY, "ctc_1", "ibx_1", "usr_me", str(reply.id))
    label = Action(Kind.LABEL, "ctc_1", target="lbl_a")
    # S while the draft is being saved in lemlist, twice, in one group with a label.
    again = outbox.add([send, send, label])
    assert (again.queued, again.cancelled, again.unchanged) == (1, 0, 2)
    assert outbox.labels_of("ctc_1") == ["lbl_a"]

    delete = Action(Kind.DRAFT_DELETE, "ctc_2", "ibx_2", "usr_me", "drf_9")
    other = Action(Kind.LABEL, "ctc_2", target="lbl_b")
    twice = outbox.add([delete, delete, delete, other])
    assert (twice.queued, twice.cancelled, twice.unchanged) == (2, 0, 2)
    assert [a.kind for a, _, _ in outbox.rows()] == [
        Kind.DRAFT,
        Kind.LABEL,
        Kind.DRAFT_DELETE,
        Kind.LABEL,
    ]


# --- what z takes back, and what it says ------------------------------------------------------


async def test_z_on_an_empty_outbox_and_after_a_sent_mark_read(
    outbox: Outbox, db: InboxDatabase, client: LemlistClient, user: str
) -> None:
    nothing = outbox.undo()
    assert nothing == Undone((), 0, 0, 0)
    assert nothing.sentence() == "Nothing to undo."
    outbox.add(unread(db, user, 1))
    await drain(outbox, client)
    final = outbox.undo()
    assert final == Undone((), 0, 0, 1)
    assert final.sentence() == FINAL


async def test_z_after_part_of_a_bulk_mark_read_went_out(
    outbox: Outbox, db: InboxDatabase, demo: DemoLemlist, client: LemlistClient, user: str
) -> None:
    actions = unread(db, user, 3)
    outbox.add(actions)
    await OutboxSender(outbox, client).send(outbox.sendable(2))  # two of three are out
    undone = outbox.undo()
    assert undone == Undone((Kind.READ,), 1, 0, 2, actions[0].conversation_id)
    assert undone.sentence() == (
        "Undone: mark read (1), before lemlist heard of it. "
        "2 already sent: lemlist cannot take those back."
    )
    await drain(outbox, client)
    assert [demo.is_read(a.conversation_id or "", user) for a in actions] == [True, True, False]


async def test_z_after_a_bulk_label_went_out_queues_both_removals(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contacts = unlabelled(demo, 2)
    label = some_label(demo)
    outbox.add([Action(Kind.LABEL, c, target=label) for c in contacts])
    await drain(outbox, client)
    undone = outbox.undo()
    assert undone == Undone((Kind.LABEL,), 0, 2, 0)
    assert undone.sentence() == "Undone: label (2); the reverse is on its way to lemlist."
    assert all(outbox.labels_of(c) == [] for c in contacts)
    await drain(outbox, client)
    assert all(demo.labels_of(c) == set() for c in contacts)


async def test_z_after_a_label_removal_went_out_puts_the_label_back(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, label = labelled(demo)
    outbox.add([Action(Kind.UNLABEL, contact, target=label)])
    await drain(outbox, client)
    assert label not in demo.labels_of(contact)
    assert outbox.undo().reversed == 1
    assert label in outbox.labels_of(contact)
    await drain(outbox, client)
    assert label in demo.labels_of(contact)


async def test_z_after_a_reversed_label_takes_back_only_the_newest_change(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    first, second = unlabelled(demo, 2)
    label = some_label(demo)
    outbox.add([Action(Kind.LABEL, first, target=label)])
    await drain(outbox, client)
    assert outbox.undo().reversed == 1
    outbox.add([Action(Kind.LABEL, second, target=label)])
    undone = outbox.undo()
    assert undone.sentence() == "Undone: label (1), before lemlist heard of it."
    await drain(outbox, client)
    assert requests(demo, "POST", LABELS) == 1 and requests(demo, "DELETE", LABELS) == 1
    assert demo.labels_of(first) == set() and demo.labels_of(second) == set()


async def test_z_on_a_group_whose_interest_went_out_withdraws_only_the_rest(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    contact, lead_id = lead(demo)
    label = some_label(demo, other_than=min(demo.labels_of(contact), default=""))
    interest = Action(Kind.INTERESTED, contact, target=lead_id)
    outbox.add([interest, Action(Kind.LABEL, contact, target=label)])
    first = [row for row in outbox.sendable(5) if row.action == interest]
    await OutboxSender(outbox, client).send(first)
    undone = outbox.undo()
    assert undone.sentence() == (
        "Undone: label and interested (1), before lemlist heard of it. "
        "1 already sent: lemlist cannot take those back."
    )
    await drain(outbox, client)
    assert demo.interest_of(lead_id) == "interested"
    assert outbox.interest_of(lead_id) is True
    assert requests(demo, "POST", "/api/leads/") == 1
    assert requests(demo, "POST", LABELS) == 0


# --- the status line ------------------------------------------------------------------------


def test_the_status_line_counts_what_is_left_to_send(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, f"ctc_{n}", target="lbl_a") for n in range(3)])
    summary = outbox.summary()
    assert summary.sentence() == "3 to send"
    assert summary.sentence(offline=True) == "3 waiting to go out (offline)"


async def test_the_status_line_says_why_changes_wait_and_which_were_refused(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    refused, waiting = unlabelled(demo, 2)
    outbox.add([Action(Kind.LABEL, refused, target="lbl_nosuchlabel")])
    await drain(outbox, client)
    reason = outbox.summary().error
    assert reason is not None and "Label not found" in reason
    assert outbox.summary().sentence() == f"1 refused: {reason}"

    outbox.add([Action(Kind.LABEL, waiting, target=some_label(demo))])
    async with make_client(None, base_url=UNREACHABLE, retry=RetryPolicy(attempts=1)) as offline:
        assert await OutboxSender(outbox, offline).send(outbox.sendable(5)) is True
    summary = outbox.summary()
    assert summary.error is not None and summary.error != reason
    assert summary.sentence() == f"1 to send, waiting: {summary.error}, 1 refused"


# --- a restart ------------------------------------------------------------------------------


def test_a_reply_out_when_the_app_stopped_says_so(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    reply = written(db)
    outbox.add([Action(Kind.REPLY, "ctc_1", "ibx_1", "usr_me", str(reply.id))])
    outbox.sending([row.id for row in outbox.sendable(5)])  # then the process dies
    assert outbox.recover() == 0
    kept = Replies(db).get(reply.id or 0)
    assert kept is not None and kept.state == "unknown"
    assert kept.error == "the app stopped while it was going out"
    assert outbox.summary().sentence() == "1 may have been sent: check the thread (R)"


async def test_a_sent_label_can_still_be_undone_after_a_restart(
    outbox: Outbox, demo: DemoLemlist, client: LemlistClient
) -> None:
    (contact,) = unlabelled(demo, 1)
    outbox.add([Action(Kind.LABEL, contact, target=some_label(demo))])
    await drain(outbox, client)
    assert outbox.recover() == 0  # the app starts again
    assert outbox.undo().reversed == 1
    await drain(outbox, client)
    assert demo.labels_of(contact) == set()


def test_a_restart_keeps_the_newest_thousand_sent_changes_undoable(db: InboxDatabase) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, f"ctc_{n}", target="lbl_a") for n in range(1001)])
    ids = outbox.sending([row.id for row in outbox.sendable(2000)])
    for row_id in ids:
        outbox.sent(row_id)
    outbox.recover()
    assert outbox.undo().reversed == 1000


# --- a write the disk refuses -----------------------------------------------------------------


def read_only(db: InboxDatabase) -> None:
    """As a folder made read-only under a running app: every write after this fails."""
    db.write("written", lambda connection: connection.execute("PRAGMA query_only = 1"))


WRITES: dict[str, Callable[[Outbox, int], object]] = {
    "add": lambda outbox, _: outbox.add([Action(Kind.LABEL, "ctc_2", target="lbl_b")]),
    "undo": lambda outbox, _: outbox.undo(),
    "recover": lambda outbox, _: outbox.recover(),
    "sending": lambda outbox, row: outbox.sending([row]),
    "sent": lambda outbox, row: outbox.sent(row),
    "unknown": lambda outbox, row: outbox.unknown(row, "dropped"),
    "back": lambda outbox, row: outbox.back(row, "offline"),
    "failed": lambda outbox, row: outbox.failed(row, "refused"),
    "retry_failed": lambda outbox, _: outbox.retry_failed(),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_the_disk_refuses_is_one_sentence_and_changes_nothing(
    db: InboxDatabase, write: str
) -> None:
    outbox = Outbox(db)
    outbox.add([Action(Kind.LABEL, "ctc_1", target="lbl_a")])
    (row,) = outbox.sendable(5)
    read_only(db)
    with pytest.raises(StorageError) as refused:
        WRITES[write](outbox, row.id)
    assert str(refused.value) == "The local inbox could not be written: the folder is read-only."
    assert outbox.sendable(5) == [row]
