"""The triage figure: a scripted session through unread conversations, read and marked.

The app runs as in the screen figures (a real 120x40 pty read by pyte, ``--offline`` on
a generated database, see :mod:`bench.screen`), on a private copy of the database (the
session writes to it). The script is what a user triaging from the top of the inbox
types: ``n`` once if the highlighted conversation is read (to the first unread one),
then ``m`` on each conversation: ``m`` marks the highlighted conversation read (through
the outbox: local at once; offline, the change waits in the outbox) and moves the cursor
to the next unread one, whose detail pane is then what is read. Every 10th conversation
(``Plan.undo_every``) the script takes its mark back with ``z`` and marks it again with ``m``
(the undo drill: two keystrokes more, counted). Then, without changing anything, ``n``
forward and ``N`` back through more unread conversations (``n``'s latency).

Every key is checked on the screen, so the figure cannot pass by doing nothing: the
status line's "U unread of M" must drop by exactly one on each ``m`` (rise by one on
``z``); after ``m`` and ``n`` the detail pane must show a new conversation (its contact
id), the one highlighted in the list, and unread; after ``z``, the conversation marked
last. A conversation counts as triaged when its ``m`` met both tests (and no ``z`` took
it back), and the session's drop of the unread count must equal the conversations
triaged. Keystrokes per conversation = every key the triage pass sent (the undo drill
included) ÷ conversations triaged.

Latency: key written → the end of the first frame by which every test of that key was
met (the **whole answer**: the list, the status line's count and the detail pane on the
next conversation), beside the first changing frame. Not the end of the key's first
burst of frames (changes < 0.1 s apart, what ``u`` and ``s`` use in :mod:`bench.screen`):
when the detail pane comes more than 0.1 s after the list, that burst ends before it.
Measured at 1M conversations beside the same session at 1k (the anchor: what the same
keys cost on a small inbox, same run) and ``↓`` in a bare ``DataTable`` (what a cursor
move costs in Textual alone). ``--quick``: 5 conversations at 10k, no 1k session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import Bench, Unavailable
from bench.prepare import REPO, Prepared, prepare_in, prepared, prewarm
from bench.report import Figure, Row, Target, median, p95
from bench.screen import (
    COLS,
    LINES,
    SETTLE,
    Anchors,
    Presses,
    _contains,
    _status,
    _table_anchor,
)
from bench.terminal import TerminalApp
from lemlist_tui.widgets.conversation_list import CURSOR_GLYPH, UNREAD_GLYPH

__all__ = ["databases", "run_figures"]

KEYS_TARGET = 2.0
"""Keystrokes per conversation triaged."""
LATENCY_TARGET_MS = 16.0
"""p95 of ``n``, ``m`` and ``z``, key → the whole answer on the screen."""
TOAST_GONE = 5.0
"""Seconds to wait for the undo's notice (3 s on screen) to go before the next key."""


@dataclass(frozen=True, slots=True)
class Plan:
    conversations: int
    undo_every: int
    forward: int
    """``n`` presses of the drill after the pass."""
    back: int
    """``N`` presses after them."""
    table_moves: int


def _plan(bench: Bench) -> Plan:
    if bench.quick:
        return Plan(conversations=5, undo_every=5, forward=3, back=1, table_moves=5)
    return Plan(conversations=100, undo_every=10, forward=30, back=10, table_moves=40)


def _sizes(bench: Bench) -> tuple[int | None, int]:
    """(the anchor's size, the figure's size); quick: no anchor session (the DataTable
    anchor stays), to keep the CI run short."""
    return (None, 10_000) if bench.quick else (1_000, 1_000_000)


def databases(bench: Bench, names: list[str]) -> tuple[int, ...]:
    small, big = _sizes(bench)
    if "triage" not in names:
        return ()
    return (big,) if small is None else (small, big)


# --- reading the screen ----------------------------------------------------------------

_UNREAD = re.compile(r"([\d,]+) unread of ([\d,]+)")
_CONTACT = re.compile(r"\bContact\s+(ctc_\w+)")
_COLUMNS = re.compile(r"\s{2,}")
DETAIL_EDGE = "▏"
"""The detail pane's left edge, on every line; its title is on the first line."""


@dataclass(frozen=True, slots=True)
class Seen:
    """What one screen says about the triage."""

    unread: int | None
    """The status line's unread count."""
    contact: str | None
    """The contact id the detail pane shows (unique per conversation here)."""
    title: str | None
    """The detail pane's title (the contact's name, else email)."""
    cursor: str | None
    """The highlighted row's name as the list draws it (cut with "…")."""
    cursor_unread: bool

    @property
    def shows_cursor(self) -> bool:
        """The detail pane shows the highlighted conversation."""
        if not self.title or not self.cursor:
            return False
        # A name cut by the list ends in "…", maybe without the columns' double space.
        return self.title.startswith(self.cursor.partition("…")[0].rstrip())


def _seen(lines: Sequence[str]) -> Seen:
    status = _status(list(lines)) or ""
    found = _UNREAD.search(status)
    unread = int(found.group(1).replace(",", "")) if found else None
    contact = None
    for line in lines:
        match = _CONTACT.search(line)
        if match:
            contact = match.group(1)
            break
    title = None
    if lines and DETAIL_EDGE in lines[0]:
        title = lines[0].rpartition(DETAIL_EDGE)[2].strip()
    cursor, cursor_unread = None, False
    for line in lines[1:]:
        if line.startswith(CURSOR_GLYPH):  # the highlighted row, then its unread glyph
            cursor_unread = line[1:2] == UNREAD_GLYPH
            cursor = _COLUMNS.split(line[2:].strip(), maxsplit=1)[0]
            break
    return Seen(unread, contact, title or None, cursor, cursor_unread)


Test = Callable[[list[str]], bool]


def _count_is(expected: int) -> Test:
    return lambda lines: _seen(lines).unread == expected


def _moved_on(before: str | None) -> Test:
    """The detail pane shows another conversation, the highlighted one, and it is unread."""

    def test(lines: list[str]) -> bool:
        now = _seen(lines)
        return (
            now.contact is not None
            and now.contact != before
            and now.shows_cursor
            and now.cursor_unread
        )

    return test


def _back_to(contact: str) -> Test:
    """The detail pane shows ``contact``'s conversation, highlighted, unread again."""

    def test(lines: list[str]) -> bool:
        now = _seen(lines)
        return now.contact == contact and now.shows_cursor and now.cursor_unread

    return test


# --- the session ---------------------------------------------------------------------


@dataclass(slots=True)
class Triage:
    size: int
    keys: dict[str, Presses] = field(default_factory=dict)
    sent: int = 0
    """Keys the triage pass sent (``n``, ``m``, ``z``)."""
    sent_without_undo: int = 0
    triaged: list[str] = field(default_factory=list)
    """Contact ids of the conversations read and marked (verified on the screen)."""
    unread_before: int | None = None
    unread_after: int | None = None
    failed: list[dict[str, Any]] = field(default_factory=list)
    """Presses whose answer the screen did not show (at most a few kept)."""
    log: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    @property
    def drop(self) -> int | None:
        if self.unread_before is None or self.unread_after is None:
            return None
        return self.unread_before - self.unread_after

    def per_conversation(self) -> float | None:
        return self.sent / len(self.triaged) if self.triaged else None


def _press(
    term: TerminalApp, triage: Triage, key: str, marks: dict[str, Test]
) -> tuple[Seen, Seen, bool]:
    """Press ``key`` (watched until 0.35 s of quiet and every mark met, up to 5 s);
    the screen before and after, and whether every mark was met."""
    before = _seen(term.sync())
    result = term.press(key, tail=SETTLE, marks=marks)
    after = _seen(term.sync())
    triage.keys.setdefault(key, Presses()).results.append(result)
    ok = all(at is not None for at in result.marks.values())
    entry = {
        "key": key,
        "settled_ms": None if result.settled is None else round(1000 * result.settled, 2),
        "first_ms": None if result.first_change is None else round(1000 * result.first_change, 2),
        "marks_ms": {k: None if v is None else round(1000 * v, 2) for k, v in result.marks.items()},
        "unread": [before.unread, after.unread],
        "contact": [before.contact, after.contact],
    }
    triage.log.append(entry)
    if not ok and len(triage.failed) < 5:
        triage.failed.append({**entry, "screen": term.text()})
    return before, after, ok


def _mark(term: TerminalApp, triage: Triage) -> None:
    """``m`` on the highlighted conversation: it counts when the unread count dropped by
    one and the detail moved on to the next unread conversation."""
    now = _seen(term.sync())
    marks: dict[str, Test] = {"next": _moved_on(now.contact)}
    if now.unread is not None:
        marks["count"] = _count_is(now.unread - 1)
    before, _, ok = _press(term, triage, "m", marks)
    if ok and before.cursor_unread and before.shows_cursor and before.contact:
        triage.triaged.append(before.contact)


def _undo(term: TerminalApp, triage: Triage) -> None:
    """``z`` right after a mark: the count rises by one, the cursor goes back to the
    conversation marked last, which is no longer triaged (``m`` marks it again)."""
    last = triage.triaged[-1] if triage.triaged else ""
    now = _seen(term.sync())
    marks: dict[str, Test] = {"back": _back_to(last)}
    if now.unread is not None:
        marks["count"] = _count_is(now.unread + 1)
    _, _, ok = _press(term, triage, "z", marks)
    if ok and triage.triaged:
        triage.triaged.pop()


def _wait_notice_gone(term: TerminalApp) -> None:
    """The undo's notice leaves the screen after 3 s: let it, so its repaint is in no
    key's answer."""

    def gone(lines: list[str]) -> bool:
        return not any("Undone:" in line for line in lines)

    if not gone(term.sync()):
        term.wait_for(gone, TOAST_GONE)
    term.wait_quiet(SETTLE, timeout=2.0)


def _session(bench: Bench, prep: Prepared, plan: Plan) -> Triage:
    triage = Triage(prep.size)
    with TerminalApp(prep.argv(), cols=COLS, rows=LINES, env=prep.env, cwd=REPO) as term:
        if term.wait_for(_contains(prep.needle), 60) is None:
            triage.problem = "the first conversation never appeared:\n" + term.text()
            return triage
        term.wait_quiet(1.0, timeout=3.0)
        start = _seen(term.sync())
        triage.unread_before = start.unread
        if start.unread is None or start.contact is None:
            triage.problem = "no unread count or detail pane on the screen:\n" + term.text()
            return triage
        bench.log(
            f"triage: app at {prep.size:,} ({start.unread:,} unread): {plan.conversations} "
            f"conversations, z + m every {plan.undo_every}th, then {plan.forward} x n, "
            f"{plan.back} x N"
        )
        if not start.cursor_unread:
            _press(term, triage, "n", {"next": _moved_on(start.contact)})
            triage.sent += 1
            triage.sent_without_undo += 1
        for done in range(1, plan.conversations + 1):
            _mark(term, triage)
            triage.sent += 1
            triage.sent_without_undo += 1
            if plan.undo_every and done % plan.undo_every == 0:
                _undo(term, triage)
                _mark(term, triage)
                triage.sent += 2
                _wait_notice_gone(term)
        triage.unread_after = _seen(term.sync()).unread
        # n's latency, nothing changed: forward through more unread ones, then back.
        for key, presses in (("n", plan.forward), ("N", plan.back)):
            for _ in range(presses):
                here = _seen(term.sync())
                _press(term, triage, key, {"next": _moved_on(here.contact)})
    return triage


def _unverified(triage: Triage | None, plan: Plan) -> int:
    """Conversations the script meant to triage that the screen did not confirm, plus
    any gap between the unread count's drop and the conversations triaged."""
    if triage is None:
        return plan.conversations
    drop = triage.drop
    gap = plan.conversations if drop is None else abs(drop - len(triage.triaged))
    return max(0, plan.conversations - len(triage.triaged)) + gap


# --- the figure ------------------------------------------------------------------------


def run_figures(bench: Bench, names: list[str]) -> list[Figure]:
    if "triage" not in names:
        return []
    small, big = _sizes(bench)
    plan = _plan(bench)
    figure = Figure("triage", f"Triage: read and mark {plan.conversations} unread at {big:,}")
    sizes = databases(bench, names)
    prewarm(bench, sizes)
    sessions: dict[int, Triage] = {}
    problems: list[str] = []
    table_rows = None
    for size in sizes:
        try:
            # A private copy: the session writes to its database (marks, the outbox).
            shared = prepared(bench, size)
            prep = prepare_in(bench.scratch / f"triage-{size}", size, shared.meta)
        except Unavailable as why:
            problems.append(f"{size:,}: {why}")
            continue
        table_rows = table_rows or prep.rows_path
        session = _session(bench, prep, plan)
        if session.problem:
            problems.append(f"the app at {size:,}: {session.problem}")
        sessions[size] = session
    anchors = Anchors()
    if table_rows is not None:
        bench.log("triage: anchor: DataTable cursor moves")
        _table_anchor(table_rows, plan.table_moves, anchors)
    anchor = sessions.get(small) if small is not None else None
    figure.rows = _rows(big, small, plan, sessions.get(big), anchor, anchors)
    figure.details = {
        "plan": {
            "conversations": plan.conversations,
            "undo_every": plan.undo_every,
            "n_forward": plan.forward,
            "N_back": plan.back,
        },
        "measure": (
            "key written to the pty → end of the first frame by which every test of the "
            "key was met (the whole answer), and → the first changing frame; the tests: "
            "m drops the status line's unread count by 1 and the detail pane shows the "
            "next unread conversation (the one highlighted), z raises it by 1 and goes "
            "back to the conversation marked last, n and N show another unread one; "
            "'settled' in the keys' summaries is the end of the key's first burst of "
            "frames (< 0.1 s apart), which misses a detail pane coming later"
        ),
        "sessions": {size: _session_detail(s, plan) for size, s in sessions.items()},
        "datatable_rows": anchors.table_rows,
    }
    if problems:
        figure.note = "; ".join(problems)
    return [figure]


def _session_detail(triage: Triage, plan: Plan) -> dict[str, Any]:
    return {
        "unread_before": triage.unread_before,
        "unread_after": triage.unread_after,
        "unread_drop": triage.drop,
        "triaged": len(triage.triaged),
        "distinct_triaged": len(set(triage.triaged)),
        "keys_sent": triage.sent,
        "keys_sent_without_undo_drill": triage.sent_without_undo,
        "keys_per_conversation": triage.per_conversation(),
        "keys_per_conversation_without_undo_drill": (
            triage.sent_without_undo / len(triage.triaged) if triage.triaged else None
        ),
        "unverified": _unverified(triage, plan),
        "keys": {key: presses.summary() for key, presses in triage.keys.items()},
        "failed_presses": triage.failed,
        "presses": triage.log,
        "problem": triage.problem,
    }


def _answered_ms(presses: Presses) -> list[float]:
    """Key → the first frame by which every test of the key was met (the whole answer);
    a press never answered counts as the whole time it was watched."""
    values = []
    for result in presses.results:
        times = list(result.marks.values())
        done = None if not times or None in times else max(t for t in times if t is not None)
        values.append(1000 * (result.window if done is None else done))
    return values


def _samples(triage: Triage | None, key: str, how: str) -> list[float]:
    presses = triage.keys.get(key) if triage else None
    if presses is None:
        return []
    if how == "answered":
        return _answered_ms(presses)
    return presses.settled_ms() if how == "settled" else presses.first_ms()


def _stat(samples: list[float], which: str) -> float | None:
    if not samples:
        return None
    return p95(samples) if which == "p95" else median(samples)


MEASURES = {
    "answered": "whole answer (count, detail pane)",
    "settled": "settled",
    "first": "first changing frame",
}
NAMES = {
    "n": "next unread n",
    "m": "mark read + next m",
    "z": "undo z",
    "N": "previous unread N",
}


def _rows(
    big: int,
    small: int | None,
    plan: Plan,
    ours: Triage | None,
    anchor: Triage | None,
    anchors: Anchors,
) -> list[Row]:
    def same(value: float | None) -> dict[str, float | None]:
        """The same session on the small inbox (none in quick mode)."""
        return {} if small is None else {f"same @{small:,}": value}

    table = anchors.table_moves
    unverified = _unverified(ours, plan)
    triaged = len(ours.triaged) if ours else 0
    exactly = f"= {plan.conversations}, each one seen"
    rows = [
        Row(
            label=(
                f"keystrokes per conversation read + marked, {plan.conversations} unread "
                f"@{big:,} (n, m; z + m every {plan.undo_every}th counted)"
            ),
            ours=ours.per_conversation() if ours else None,
            unit="",
            anchors=same(anchor.per_conversation() if anchor else None),
            target=Target("<=", KEYS_TARGET, "ours", f"≤ {KEYS_TARGET:.0f}", "unverified"),
            detail={
                "unverified": unverified,
                "keys_sent": ours.sent if ours else None,
                "triaged": triaged,
                "without_undo_drill": (
                    ours.sent_without_undo / triaged if ours and triaged else None
                ),
            },
        ),
        Row(
            label=f"unread count on the status line dropped by (= conversations triaged) @{big:,}",
            ours=None if ours is None or ours.drop is None else float(ours.drop),
            unit="",
            anchors=same(None if anchor is None or anchor.drop is None else anchor.drop),
            target=Target(">=", plan.conversations, "ours", exactly, "unverified"),
            detail={
                "unverified": unverified,
                "before": ours.unread_before if ours else None,
                "after": ours.unread_after if ours else None,
                "triaged": triaged,
            },
        ),
    ]

    def latency(key: str, how: str, which: str, target: Target | None) -> Row:
        mine, theirs = _samples(ours, key, how), _samples(anchor, key, how)
        value, small_value = _stat(mine, which), _stat(theirs, which)
        floor = {}
        if key != "N" and table is not None:
            moves = table.first_ms() if how == "first" else table.settled_ms()
            floor = {"DataTable ↓": _stat(moves, which)}
        measure = MEASURES[how]
        extra = "" if target else "(extra) "
        return Row(
            label=f"{extra}{NAMES[key]}, key → {measure}, {which} @{big:,}",
            ours=value,
            unit="ms",
            anchors={**same(small_value), **floor},
            ratio=None if value is None or not small_value else value / small_value,
            target=target,
            detail={
                "presses": len(mine),
                "median_ms": _stat(mine, "median"),
                "anchor_median_ms": _stat(theirs, "median"),
                "ours_ms": [round(v, 2) for v in mine],
                "anchor_ms": [round(v, 2) for v in theirs],
            }
            if target
            else {},
        )

    goal = Target("<=", LATENCY_TARGET_MS, "ours", f"p95 ≤ {LATENCY_TARGET_MS:.0f} ms")
    rows += [latency(key, "answered", "p95", goal) for key in ("n", "m", "z")]
    rows += [latency(key, "answered", "median", None) for key in ("n", "m", "z")]
    rows += [latency(key, "first", "p95", None) for key in ("n", "m", "z")]
    rows.append(latency("N", "answered", "p95", None))
    return rows
