"""InboxView: sorting, filtering, unread state and incremental updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lemlist_tui.api.models import Contact, Conversation, Participant
from lemlist_tui.view import InboxView, Picked, SortKey

ME = "usr_me"
OTHER = "usr_other"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def conv(
    cid: str,
    name: str | None = None,
    email: str | None = None,
    *,
    activity: datetime | None = T0,
    created: datetime | None = T0,
    replied: datetime | None = None,
    unread_for: tuple[str, ...] = (),
    read_by: tuple[str, ...] = (ME,),
) -> Conversation:
    participants = tuple(Participant(u, read=False) for u in unread_for) + tuple(
        Participant(u, read=True) for u in read_by if u not in unread_for
    )
    return Conversation(
        id=cid,
        contact=Contact(f"lea_{cid}", name, email),
        last_activity_at=activity,
        created_at=created,
        last_replied_at=replied,
        participants=participants,
    )


def ids(rows: Sequence[Conversation]) -> list[str]:
    return [c.id for c in rows]


def reference(
    held: Sequence[Conversation], query: str, unread_only: bool, sort: SortKey, user: str
) -> list[Conversation]:
    """The naive definition the fast paths must agree with."""
    terms = query.casefold().split()

    def matches(c: Conversation) -> bool:
        fields = (c.contact.display_name.casefold(), (c.contact.email or "").casefold())
        return all(any(term in f for f in fields) for term in terms)

    rows = [c for c in held if matches(c) and (not unread_only or c.is_unread_for(user))]
    present = [c for c in rows if getattr(c, sort.attribute) is not None]
    missing = [c for c in rows if getattr(c, sort.attribute) is None]
    present.sort(key=lambda c: getattr(c, sort.attribute), reverse=True)  # stable
    return present + missing


def test_sort_key_cycles_through_every_key() -> None:
    assert SortKey.LAST_ACTIVITY.next() is SortKey.LAST_REPLY
    assert SortKey.LAST_REPLY.next() is SortKey.CREATED
    assert SortKey.CREATED.next() is SortKey.LAST_ACTIVITY
    assert [k.value for k in SortKey] == ["last activity", "last reply", "created"]


def test_each_sort_key_is_newest_first_with_none_last_and_stable_ties() -> None:
    h = timedelta(hours=1)
    held = [
        conv("a", activity=T0 - 3 * h, created=T0 - 1 * h, replied=None),
        conv("b", activity=T0, created=None, replied=T0 - 2 * h),
        conv("c", activity=None, created=T0 - 1 * h, replied=T0),
        conv("d", activity=T0, created=T0 - 9 * h, replied=None),
        conv("e", activity=T0 - 1 * h, created=T0, replied=T0 - 2 * h),
    ]
    view = InboxView(ME)
    view.update(held)
    assert ids(view.apply()) == ["b", "d", "e", "a", "c"]
    assert ids(view.apply(sort=SortKey.LAST_REPLY)) == ["c", "b", "e", "a", "d"]
    assert ids(view.apply(sort=SortKey.CREATED)) == ["e", "a", "c", "d", "b"]
    # Cached orders answer the same on the way back.
    assert ids(view.apply(sort=SortKey.LAST_ACTIVITY)) == ["b", "d", "e", "a", "c"]


def test_store_order_is_handed_back_without_a_copy() -> None:
    held = [conv(str(i), activity=T0 - timedelta(minutes=i)) for i in range(5)]
    view = InboxView(ME)
    view.update(held)
    assert list(view.apply()) == held


def test_dates_far_from_1970_sort_exactly() -> None:
    # Floats cannot tell these microseconds apart: the sort must not rely on them.
    far = datetime(9000, 1, 1, tzinfo=UTC)
    held = [
        conv("a", created=far),
        conv("b", created=far + timedelta(microseconds=1)),
        conv("c", created=datetime(1, 1, 1, tzinfo=UTC)),
    ]
    view = InboxView(ME)
    view.update(held)
    assert ids(view.apply(sort=SortKey.CREATED)) == ["b", "a", "c"]


def test_query_terms_all_match_name_or_email_case_insensitively() -> None:
    held = [
        conv("1", "Ana Martin", "ana@acme.com"),
        conv("2", "Bob Acme", "bob@globex.com"),
        conv("3", "Jürgen Straße", "j@initech.de"),
        conv("4", None, "nobody@acme.com"),
    ]
    view = InboxView(ME)
    view.update(held)
    assert ids(view.apply("ACME")) == ["1", "2", "4"]
    assert ids(view.apply("acme ana")) == ["1"]
    assert ids(view.apply("  ana   ACME  ")) == ["1"]
    assert ids(view.apply("acme globex")) == ["2"]
    assert ids(view.apply("STRASSE")) == ["3"]  # case folding, not just lower()
    assert ids(view.apply("nobody")) == ["4"]  # email stands in for a missing name
    assert ids(view.apply("zzz")) == []
    assert ids(view.apply("")) == ["1", "2", "3", "4"]


def test_a_term_never_matches_across_name_and_email() -> None:
    view = InboxView(ME)
    view.update([conv("1", "Ana", "bob@x.io")])
    assert ids(view.apply("anabob")) == []
    assert ids(view.apply("ana bob")) == ["1"]


def test_narrowing_and_backspacing_agree_with_fresh_filtering() -> None:
    names = ["Ana Martin", "Anaïs Smith", "Bob Smith", "Smithers", "Ann Acme"]
    held = [conv(str(i), name, f"{i}@acme.com") for i, name in enumerate(names)]
    typing = ["s", "sm", "smi", "smith", "smith b", "smith bo", "smith b", "smith", "s", ""]
    view = InboxView(ME)
    view.update(held)
    for query in typing:
        fresh = InboxView(ME)
        fresh.update(held)
        assert ids(view.apply(query)) == ids(fresh.apply(query)), query


def test_unread_is_per_user() -> None:
    held = [
        conv("1", unread_for=(ME,)),
        conv("2", unread_for=(OTHER,), read_by=(ME,)),
        conv("3", unread_for=(ME, OTHER)),
        conv("4", read_by=()),  # no entry for anyone: no claim, so not unread
    ]
    mine, theirs = InboxView(ME), InboxView(OTHER)
    mine.update(held)
    theirs.update(held)
    assert (mine.unread_count, theirs.unread_count) == (2, 2)
    assert ids(mine.apply(unread_only=True)) == ["1", "3"]
    assert ids(theirs.apply(unread_only=True)) == ["2", "3"]
    assert mine.total == theirs.total == 4


def test_a_mark_read_copy_changes_unread_state() -> None:
    held = [conv(str(i), f"Name {i}", unread_for=(ME,)) for i in range(5)]
    view = InboxView(ME)
    view.update(held)
    assert view.unread_count == 5
    assert len(view.apply("name", unread_only=True)) == 5
    changed = list(held)
    changed[2] = held[2].marked_read_for(ME)
    view.update(changed)
    assert view.unread_count == 4
    assert ids(view.apply("name", unread_only=True)) == ["0", "1", "3", "4"]
    assert view.apply()[2] is changed[2]  # the store's current object, not the old one


def test_update_follows_appends_inserts_moves_and_removals() -> None:
    base = [conv(str(i), f"P{i}", activity=T0 - timedelta(minutes=i)) for i in range(10)]
    view = InboxView(ME)
    page = [conv(f"x{i}", f"X{i}", unread_for=(ME,)) for i in range(3)]
    for held in (
        base,
        base + page,  # a page appended
        page + base,  # new at the front
        [base[7], *base[:7], *base[8:]],  # one moved to the front
        base[:3] + base[5:],  # removed
        base[::-1],  # everything moved
        [],
        base,
    ):
        view.update(held)
        assert list(view.apply()) == reference(held, "", False, SortKey.LAST_ACTIVITY, ME)
        assert view.total == len(held)
        assert view.unread_count == sum(c.is_unread_for(ME) for c in held)
        assert list(view.apply("x", unread_only=True)) == reference(
            held, "x", True, SortKey.LAST_ACTIVITY, ME
        )


def test_update_with_the_same_objects_keeps_results() -> None:
    held = [conv(str(i), "Ana") for i in range(3)]
    view = InboxView(ME)
    view.update(held)
    before = view.apply("ana")
    view.update(list(held))
    assert ids(view.apply("ana")) == ids(before)


def test_caches_forget_conversations_that_left() -> None:
    view = InboxView(ME)
    for round_ in range(30):
        view.update([conv(f"{round_}-{i}", "N") for i in range(100)])
    assert len(view._alive) <= 2 * 100 + 1024


def test_results_are_lazy_read_only_sequences() -> None:
    held = [conv(str(i), "Ana", created=T0 - timedelta(days=i % 3)) for i in range(6)]
    view = InboxView(ME)
    view.update(held)
    rows = view.apply("ana", sort=SortKey.CREATED)
    assert isinstance(rows, Picked)
    assert ids(rows) == ["0", "3", "1", "4", "2", "5"]
    assert rows[-1].id == "5"
    assert ids(rows[1:3]) == ["3", "1"]
    assert held[3] in rows
    assert rows.index(held[1]) == 2
    with pytest.raises(IndexError):
        rows[6]
    assert isinstance(rows, Picked)
    assert rows.index_of_id("4") == 3
    assert rows.index_of_id("nope") is None
    assert view.apply("zzz").index_of_id("4") is None  # type: ignore[attr-defined]
    # A result is a snapshot: the next update does not change it under the widget.
    everything = view.apply()
    view.update(held[:1] + held[3:])
    assert ids(rows) == ["0", "3", "1", "4", "2", "5"]
    assert rows.index_of_id("4") == 3
    assert len(everything) == 6
    assert view.apply("ana", sort=SortKey.CREATED).index_of_id("4") == 2  # type: ignore[attr-defined]


# --- property: every combination agrees with the naive definition -------------------

_letters = st.sampled_from(list("abAB ßSs\u03a3\u03c3\u03c2.@"))
_text = st.text(_letters, max_size=8)
_when = st.one_of(
    st.none(),
    st.integers(0, 5).map(lambda n: T0 - timedelta(hours=n)),  # many ties
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
)
_conversation = st.builds(
    conv,
    cid=st.uuids().map(str),
    name=st.one_of(st.none(), _text),
    email=st.one_of(st.none(), _text),
    activity=_when,
    created=_when,
    replied=_when,
    unread_for=st.sampled_from([(), (ME,), (OTHER,), (ME, OTHER)]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.lists(_conversation, max_size=25),
    second=st.lists(_conversation, max_size=10),
    data=st.data(),
)
def test_apply_always_equals_the_reference(
    first: list[Conversation], second: list[Conversation], data: st.DataObject
) -> None:
    """Typing, backspacing, toggling and re-sorting, with the inbox changing midway."""
    view = InboxView(ME)
    view.update(first)
    held = first
    query, unread_only, sort = "", False, SortKey.LAST_ACTIVITY
    steps = data.draw(st.integers(1, 16))
    for index in range(steps):
        action = data.draw(st.sampled_from(["type", "type", "backspace", "new", "unread", "sort"]))
        if action == "type":
            query += data.draw(st.text(_letters, min_size=1, max_size=2))
        elif action == "backspace":
            query = query[:-1]
        elif action == "new":
            query = data.draw(_text)
        elif action == "unread":
            unread_only = not unread_only
        else:
            sort = data.draw(st.sampled_from(list(SortKey)))
        if index == steps // 2:
            # The inbox changes: some kept, some marked read, some new.
            kept = data.draw(st.lists(st.sampled_from(first), unique_by=id)) if first else []
            held = [c.marked_read_for(ME) if c.id[0] in "01234567" else c for c in kept] + second
            view.update(held)
        expected = reference(held, query, unread_only, sort, ME)
        result = view.apply(query, unread_only=unread_only, sort=sort)
        assert list(result) == expected
        assert view.unread_count == sum(c.is_unread_for(ME) for c in held)
        if isinstance(result, Picked) and held:
            wanted = data.draw(st.sampled_from(held)).id
            found = [c.id for c in expected]
            assert result.index_of_id(wanted) == (found.index(wanted) if wanted in found else None)
