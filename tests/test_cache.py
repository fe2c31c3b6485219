"""The disk cache: records round-trip, atomic snapshots, modes, corruption, eviction."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    ConversationMessage,
    Opportunity,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.sync import cache as cache_module
from lemlist_tui.sync.cache import HEAD_ROWS, AccountCache, DiskCache, InboxState
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

FINGERPRINT = "ab" * 32
OTHER = "cd" * 32
USER = "usr_1"
T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def conversation(i: int, *, read: bool = True, minutes: int | None = None) -> Conversation:
    when = T0 - timedelta(minutes=i if minutes is None else minutes)
    return Conversation(
        id=f"ibx_{i:06d}",
        contact=Contact(f"ctc_{i:06d}", f"Person {i}", f"p{i}@example.test"),
        last_activity_at=when,
        created_at=when - timedelta(days=1),
        channels=("email",),
        participants=(Participant(USER, False, read), Participant("usr_2", True, True)),
        team_id="tea_1",
        created_by=f"act_{i}",
    )


def inbox(n: int) -> list[Conversation]:
    return [conversation(i) for i in range(n)]


def roundtrip(conversations: list[Conversation]) -> list[Conversation]:
    raw = orjson.dumps(conversations_to_block(conversations), option=orjson.OPT_UTC_Z)
    return conversations_from_block(orjson.loads(raw))


@pytest.fixture
def account(tmp_path: Path) -> AccountCache:
    return DiskCache(tmp_path / "cache").account(FINGERPRINT)


def user_dir(account: AccountCache, user: str = USER) -> Path:
    return account.path / "users" / user


def chunk_files(account: AccountCache) -> list[str]:
    return sorted(p.name for p in user_dir(account).glob("chunk-*.json"))


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4..16 rows (boundary one row in 8), so a few hundred rows make many."""
    monkeypatch.setattr(cache_module, "CHUNK_MIN", 4)
    monkeypatch.setattr(cache_module, "CHUNK_AVERAGE", 8)
    monkeypatch.setattr(cache_module, "CHUNK_MAX", 16)
    monkeypatch.setattr(cache_module, "HEAD_ROWS", 10)


# --- records --------------------------------------------------------------------------------

_text = st.none() | st.text(max_size=12)
_when = st.none() | st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
_ids = st.text(alphabet="abcXYZ019_", min_size=1, max_size=10)
_conversations = st.builds(
    Conversation,
    id=_ids,
    contact=st.builds(Contact, id=st.none() | _ids, full_name=_text, email=_text),
    last_activity_at=_when,
    created_at=_when,
    last_replied_at=_when,
    channels=st.lists(_ids, max_size=3).map(tuple),
    participants=st.lists(
        st.builds(Participant, user_id=_ids, sender=st.booleans(), read=st.booleans()),
        max_size=3,
    ).map(tuple),
    have_replies=st.booleans(),
    last_replied_channel=st.none() | _ids,
    opportunities=st.lists(
        st.builds(Opportunity, id=_text, type=_text, done=st.booleans()), max_size=2
    ).map(tuple),
    labels=st.lists(_ids, max_size=3).map(tuple),
    team_id=st.none() | _ids,
    created_by=st.none() | _ids,
    lead_id=st.none() | _ids,
    messages=st.lists(
        st.builds(
            ConversationMessage,
            id=_text,
            sender=_text,
            recipient=_text,
            body=_text,
            sent_at=_when,
        ),
        max_size=2,
    ).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_conversations, max_size=12))
def test_conversations_round_trip_exactly(conversations: list[Conversation]) -> None:
    # Exactness matters: a refresh compares cached copies with fresh ones, and a copy
    # that came back different would look "changed" and make every refresh walk on.
    assert roundtrip(conversations) == conversations


def test_repeated_values_are_shared_after_loading() -> None:
    # Memory at 100k rows: one object per distinct value, not one per row.
    loaded = roundtrip(inbox(50))
    assert len({id(c.participants) for c in loaded}) == 1
    assert len({id(c.channels) for c in loaded}) == 1
    unanswered = replace(conversation(1), created_at=T0 - timedelta(minutes=1))
    (again,) = roundtrip([unanswered])
    assert again == unanswered
    assert again.created_at is again.last_activity_at


@pytest.mark.parametrize(
    "block",
    [
        None,
        [],
        {"n": "3"},
        {"n": -1},
        {**conversations_to_block(inbox(2)), "n": 3},
        {**conversations_to_block(inbox(2)), "id": ["a", 7]},
        {**conversations_to_block(inbox(2)), "name": ["a", {"x": 1}]},
        {**conversations_to_block(inbox(2)), "users": [0, 9]},
        {**conversations_to_block(inbox(2)), "last": ["yesterday", None]},
        {**conversations_to_block(inbox(2)), "last": [12, None]},
        {**conversations_to_block(inbox(2)), "opps": [[["x"]], None]},
    ],
    ids=lambda b: repr(b)[:30],
)
def test_malformed_blocks_raise_record_error(block: object) -> None:
    raw = orjson.loads(orjson.dumps(block, option=orjson.OPT_UTC_Z))
    with pytest.raises(RecordError):
        conversations_from_block(raw)


def test_thread_and_team_round_trip() -> None:
    thread = ThreadPage(
        (
            ThreadMessage("act_1", "emailsSent", T0, "Hi", "<p>hello</p>", "usr_1", "Ann", "a@x"),
            ThreadMessage(None, None, None, None, None),
        ),
        Pagination(2, 1, None, None, 100, 1),
        ("message 3: not an object",),
    )
    loaded = thread_from_record(orjson.loads(orjson.dumps(thread_to_record(thread))))
    assert loaded == thread
    team = Team("tea_1", "Acme", ("usr_1", "usr_2"), (TeamUser("usr_1", "Ann", "a@x", "admin"),))
    assert team_from_record(orjson.loads(orjson.dumps(team_to_record(team)))) == team


# --- snapshots --------------------------------------------------------------------------------


def test_snapshot_round_trip_with_head_and_rest(account: AccountCache) -> None:
    conversations = inbox(HEAD_ROWS + 1234)
    state = InboxState(total=1734, complete=True, fetched_at=1.5e9, next_page=None)
    account.save_inbox(USER, conversations, state)
    head = account.load_inbox_head(USER)
    assert head is not None
    assert head.state == state
    assert head.head == conversations[:HEAD_ROWS]
    assert head.rows == len(conversations)
    rest = account.load_inbox_rest(USER, head)
    assert rest.intact
    assert head.head + rest.conversations == conversations


def test_nothing_cached_is_none(account: AccountCache) -> None:
    assert account.load_inbox_head(USER) is None
    assert account.load_inbox(USER) is None
    assert account.load_team() is None
    assert account.load_thread(USER, "ctc_1") is None


def test_modes_are_private_and_the_key_is_nowhere(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    account = DiskCache(root).account(FINGERPRINT)
    account.save_inbox(USER, inbox(HEAD_ROWS + 50), InboxState())
    account.save_team(Team("tea_1", "Acme", (USER,), ()))
    account.save_thread(USER, "ctc_1", ThreadPage((), Pagination(0, 1, None, None, 100, 1)))
    paths = [root, *root.rglob("*")]
    assert len(paths) > 6
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_directories_made_lax_by_someone_else_are_tightened(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    (root / FINGERPRINT).mkdir(parents=True)
    (root / FINGERPRINT).chmod(0o755)
    root.chmod(0o755)
    DiskCache(root).account(FINGERPRINT)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / FINGERPRINT).stat().st_mode) == 0o700


def test_fingerprint_must_be_a_digest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        DiskCache(tmp_path).account("../elsewhere")


def test_hostile_ids_stay_inside_the_namespace(account: AccountCache) -> None:
    page = ThreadPage((), Pagination(0, 1, None, None, 100, 1))
    account.save_thread("../../x", "../../../y", page)
    account.save_inbox("../evil", inbox(3), InboxState())
    files = [p for p in account.path.rglob("*") if p.is_file()]
    assert files
    assert all(account.path in p.parents for p in files)
    assert account.load_thread("../../x", "../../../y") == page
    assert account.load_inbox("../evil") is not None


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: b"\x00\xff garbage \x1b[31m",
        lambda data: b"[1, 2, 3]",
        lambda data: data.replace(f'"schema":{SCHEMA}'.encode(), b'"schema":0'),
        lambda data: data.replace(b'"kind":"inbox"', b'"kind":"chunk"'),
        lambda data: data.replace(b'"rows":', b'"rows":1'),
        lambda data: data.replace(b'"page_size":100', b'"page_size":"100"'),
    ],
    ids=["empty", "truncated", "garbage", "not-object", "old-schema", "wrong-kind", "rows", "type"],
)
def test_a_damaged_manifest_is_ignored_then_rewritten(
    account: AccountCache, damage: object
) -> None:
    account.save_inbox(USER, inbox(HEAD_ROWS + 20), InboxState())
    manifest = user_dir(account) / "inbox.json"
    assert callable(damage)
    manifest.write_bytes(damage(manifest.read_bytes()))
    assert account.load_inbox_head(USER) is None
    assert account.load_inbox(USER) is None
    account.save_inbox(USER, inbox(5), InboxState())
    loaded = account.load_inbox(USER)
    assert loaded is not None
    assert loaded[1] == inbox(5)


def test_a_damaged_or_missing_chunk_serves_the_rest_and_says_so(
    account: AccountCache, small_chunks: None
) -> None:
    conversations = inbox(200)
    account.save_inbox(USER, conversations, InboxState(complete=True, next_page=None))
    names = chunk_files(account)
    assert len(names) > 5
    head = account.load_inbox_head(USER)
    assert head is not None
    victim = head.chunks[2]
    (user_dir(account) / victim.name).write_bytes(b'{"schema": 1, "kind": "chunk", "rows": 3')
    rest = account.load_inbox_rest(USER, head)
    assert not rest.intact
    assert rest.rows_before_gap == len(head.head) + head.chunks[0].rows + head.chunks[1].rows
    lost = set(c.id for c in conversations) - {c.id for c in head.head + rest.conversations}
    assert len(lost) == victim.rows
    (user_dir(account) / victim.name).unlink()
    assert account.load_inbox_rest(USER, head).rows_before_gap == rest.rows_before_gap


def test_old_schema_chunk_is_ignored(account: AccountCache, small_chunks: None) -> None:
    account.save_inbox(USER, inbox(100), InboxState())
    head = account.load_inbox_head(USER)
    assert head is not None
    path = user_dir(account) / head.chunks[0].name
    path.write_bytes(path.read_bytes().replace(b'"schema":1', b'"schema":99'))
    assert not account.load_inbox_rest(USER, head).intact


def test_a_crash_before_the_rename_leaves_the_previous_snapshot(
    account: AccountCache, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = inbox(150)
    account.save_inbox(USER, before, InboxState(total=150))
    after = [conversation(i, minutes=-i) for i in range(1000, 1040)] + before[:60]

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        account.save_inbox(USER, after, InboxState(total=100))
    monkeypatch.undo()
    # A fresh process (a new DiskCache) reads exactly the previous snapshot.
    fresh = DiskCache(account.path.parent).account(FINGERPRINT)
    loaded = fresh.load_inbox(USER)
    assert loaded is not None
    assert loaded[0].total == 150
    assert loaded[1] == before


def test_stray_temp_and_generation_files_are_ignored_then_cleaned(
    account: AccountCache, small_chunks: None
) -> None:
    before = inbox(120)
    account.save_inbox(USER, before, InboxState())
    folder = user_dir(account)
    # What a process killed in the middle of a save leaves: a temporary manifest, and
    # chunks of a generation no manifest names (one of them half written).
    (folder / ".inbox.json.0badf00d.tmp").write_bytes(b'{"schema": 1, "kind": "inbox", "us')
    (folder / "chunk-ffff-0.json").write_bytes(b"{")
    (folder / "chunk-ffff-1.json").write_bytes(orjson.dumps({"schema": 1, "kind": "chunk"}))
    loaded = DiskCache(account.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert loaded is not None
    assert loaded[1] == before
    account.save_inbox(USER, before[:50], InboxState())
    names = {p.name for p in folder.iterdir()}
    assert not any(name.endswith(".tmp") or "ffff" in name for name in names)
    head = account.load_inbox_head(USER)
    assert head is not None
    assert {c.name for c in head.chunks} == {n for n in names if n.startswith("chunk-")}


def test_a_save_rewrites_only_the_chunks_that_changed(
    account: AccountCache, small_chunks: None
) -> None:
    conversations = inbox(300)
    account.save_inbox(USER, conversations, InboxState())
    first = set(chunk_files(account))
    assert len(first) > 10
    # Three new on top, one old conversation marked read: a handful of chunks change.
    changed = conversations.copy()
    changed[200] = changed[200].marked_read_for("usr_2")
    newer = [conversation(i, minutes=-i) for i in range(900, 903)]
    account.save_inbox(USER, newer + changed, InboxState())
    second = set(chunk_files(account))
    kept = first & second
    assert len(kept) >= len(first) - 3
    assert len(second - first) <= 3
    loaded = DiskCache(account.path.parent).account(FINGERPRINT).load_inbox(USER)
    assert loaded is not None
    assert loaded[1] == newer + changed


def test_unchanged_chunks_loaded_from_disk_are_reused(
    account: AccountCache, small_chunks: None
) -> None:
    account.save_inbox(USER, inbox(300), InboxState())
    first = set(chunk_files(account))
    fresh = DiskCache(account.path.parent).account(FINGERPRINT)
    loaded = fresh.load_inbox(USER)
    assert loaded is not None
    fresh.save_inbox(USER, loaded[1], InboxState(complete=True))
    assert set(chunk_files(fresh)) == first


def test_an_older_save_never_overwrites_a_newer_one(account: AccountCache) -> None:
    account.save_inbox(USER, inbox(3), InboxState(total=3), seq=2)
    account.save_inbox(USER, inbox(9), InboxState(total=9), seq=1)
    loaded = account.load_inbox(USER)
    assert loaded is not None
    assert loaded[0].total == 3


def test_team_and_threads(account: AccountCache) -> None:
    team = Team("tea_1", "Acme", ("usr_1",), (TeamUser("usr_1", "Ann"),))
    account.save_team(team)
    assert account.load_team() == team
    page = ThreadPage(
        (ThreadMessage("act_1", "emailsReplied", T0, "Re: hi", "<p>yes</p>"),),
        Pagination(1, 1, None, None, 100, 1),
    )
    account.save_thread(USER, "ctc_1", page)
    assert account.load_thread(USER, "ctc_1") == page
    assert account.load_thread("usr_other", "ctc_1") is None
    path = user_dir(account) / "threads" / "ctc_1.json"
    path.write_bytes(path.read_bytes()[:-5])
    assert account.load_thread(USER, "ctc_1") is None


def test_clear_empties_only_this_account(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / "cache")
    mine, theirs = disk.account(FINGERPRINT), disk.account(OTHER)
    for account in (mine, theirs):
        account.save_inbox(USER, inbox(10), InboxState())
        account.save_team(Team("tea_1", "Acme", (), ()))
    mine.clear()
    assert mine.load_inbox(USER) is None
    assert mine.load_team() is None
    assert list(mine.path.iterdir()) == []
    assert theirs.load_inbox(USER) is not None
    mine.save_inbox(USER, inbox(2), InboxState())  # usable again at once
    assert mine.load_inbox(USER) is not None


def test_least_recently_used_accounts_are_evicted_first(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    unbounded = DiskCache(root)
    names = ["01" * 32, "02" * 32, "03" * 32]
    for age, name in enumerate(names):
        account = unbounded.account(name)
        account.save_inbox(USER, inbox(HEAD_ROWS), InboxState())
        os.utime(account.path, (1e9 + age, 1e9 + age))  # 01 least recently used
    one = unbounded.account(names[0]).size()
    capped = DiskCache(root, max_bytes=int(one * 2.5))
    capped.account(names[0])  # used now: the oldest is 02
    assert sorted(p.name for p in root.iterdir()) == sorted([names[0], names[2]])


def test_the_account_in_use_loses_old_threads_but_never_its_inbox(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    account = DiskCache(root).account(FINGERPRINT)
    account.save_inbox(USER, inbox(50), InboxState())
    body = "x" * 20_000
    for i in range(6):
        page = ThreadPage(
            (ThreadMessage(f"act_{i}", "emailsSent", T0, "s", body),),
            Pagination(1, 1, None, None, 100, 1),
        )
        account.save_thread(USER, f"ctc_{i}", page)
        path = user_dir(account) / "threads" / f"ctc_{i}.json"
        os.utime(path, (1e9 + i, 1e9 + i))
    account.load_thread(USER, "ctc_0")  # read: now the most recently used
    inbox_bytes = account.size() - 6 * (user_dir(account) / "threads" / "ctc_0.json").stat().st_size
    capped = DiskCache(root, max_bytes=inbox_bytes + 45_000)
    capped.account(FINGERPRINT)
    left = sorted(p.stem for p in (user_dir(account) / "threads").iterdir())
    assert left == ["ctc_0", "ctc_5"]
    assert capped.account(FINGERPRINT).load_inbox(USER) is not None
    tiny = DiskCache(root, max_bytes=1)
    assert tiny.account(FINGERPRINT).load_inbox(USER) is not None
