"""Time InboxView at inbox scale: ``python -m bench.view_probe [N]`` (default 100k).

Prints the median of several runs (each on a fresh view where the case needs one) for
each operation the inbox does on a keystroke or a store change.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from lemlist_tui.api.models import Contact, Conversation, Participant
from lemlist_tui.view import InboxView, SortKey

USER = "usr_me"
FIRST = ["Ana", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jon"]
LAST = ["Martin", "Smith", "Dubois", "Ivanov", "Khan", "Tanaka", "Garcia", "Rossi", "Lee"]
COMPANY = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell"]


def make_conversations(count: int, seed: int = 1) -> list[Conversation]:
    """Synthetic inbox, newest activity first (the store's order); 20% unread."""
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    read = (Participant(USER, True, True),)
    unread = (Participant(USER, True, False),)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{i}@{rng.choice(COMPANY)}.com"
        activity = base - timedelta(minutes=i)
        rows.append(
            Conversation(
                id=f"cnv_{seed}_{i:07d}",
                contact=Contact(f"lea_{seed}_{i:07d}", f"{first} {last}", email),
                last_activity_at=activity,
                created_at=base - timedelta(minutes=rng.randrange(10**6)),
                last_replied_at=None if rng.random() < 0.4 else activity - timedelta(hours=1),
                channels=("email",),
                participants=unread if rng.random() < 0.2 else read,
                have_replies=True,
            )
        )
    return rows


def median_ms(
    run: Callable[[], object], setup: Callable[[], object] | None = None, n: int = 9
) -> tuple[float, float]:
    """(median, min) milliseconds of CPU time: other processes on the machine barely
    move it, unlike wall time; ``setup`` runs untimed before each run."""
    times = []
    for _ in range(n):
        if setup is not None:
            setup()
        start = time.process_time()
        run()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    conversations = make_conversations(count)
    extra = make_conversations(100, seed=2)
    marked = list(conversations)
    marked[500] = marked[500].marked_read_for(USER)
    view = InboxView(USER)

    def fresh() -> None:
        """A view that has seen ``conversations`` once and sorted nothing yet."""
        nonlocal view
        view = InboxView(USER)
        view.update(conversations)

    def applying(
        query: str = "", unread_only: bool = False, sort: SortKey = SortKey.LAST_ACTIVITY
    ) -> Callable[[], object]:
        """apply() on whichever view is current when it runs."""
        return lambda: view.apply(query, unread_only=unread_only, sort=sort)

    def sorted_by(sort: SortKey) -> Callable[[], None]:
        def setup() -> None:
            fresh()
            view.apply(sort=sort)

        return setup

    def with_query(*queries: str) -> Callable[[], None]:
        def setup() -> None:
            fresh()
            for query in queries:
                view.apply(query)

        return setup

    results: dict[str, tuple[float, float]] = {}
    results["update: first (all derived)"] = median_ms(fresh, n=3)
    results["update: unchanged"] = median_ms(lambda: view.update(conversations), setup=fresh)
    results["update: +100 appended (a page)"] = median_ms(
        lambda: view.update(conversations + extra), setup=fresh
    )
    results["update: +100 at the front (refresh)"] = median_ms(
        lambda: view.update(extra + conversations), setup=fresh
    )
    moved = [conversations[700], *conversations[:700], *conversations[701:]]
    results["update: 1 moved to the front (general)"] = median_ms(
        lambda: view.update(moved), setup=fresh
    )
    results["update: 1 mark-read copy"] = median_ms(lambda: view.update(marked), setup=fresh)
    results["unread_count after update"] = median_ms(lambda: view.unread_count, setup=fresh)

    results["first sort: last activity (store order)"] = median_ms(
        lambda: view.apply(), setup=fresh
    )
    for key in (SortKey.LAST_REPLY, SortKey.CREATED):
        results[f"first sort: {key.value}"] = median_ms(applying(sort=key), setup=fresh)
        results[f"re-sort: {key.value} (cached)"] = median_ms(applying(sort=key))

    for query in ("smith", "ana acme", "zzz", "a"):
        results[f"new query {query!r}"] = median_ms(applying(query), setup=with_query(""))
    results["new query 'smith', sorted by created"] = median_ms(
        applying("smith", sort=SortKey.CREATED), setup=sorted_by(SortKey.CREATED)
    )
    for before, after in (("acm", "acme"), ("smit", "smith"), ("ana", "ana ma"), ("s", "sm")):
        results[f"narrowing {before!r} → {after!r}"] = median_ms(
            applying(after), setup=with_query(before)
        )
    results["backspace 'acme' → 'acm'"] = median_ms(
        lambda: view.apply("acm"), setup=with_query("acm", "acme")
    )
    results["unread toggle on (first)"] = median_ms(
        lambda: view.apply(unread_only=True), setup=with_query("")
    )
    results["unread toggle on (cached)"] = median_ms(lambda: view.apply(unread_only=True))
    results["unread toggle with query 'smith'"] = median_ms(
        lambda: view.apply("smith", unread_only=True), setup=with_query("smith")
    )

    print(f"InboxView at {count:,} conversations, Python {sys.version.split()[0]}")
    print(f"  {'operation':<44} {'median':>8} {'min':>8}  (CPU ms)")
    for name, (median, least) in results.items():
        print(f"  {name:<44} {median:8.2f} {least:8.2f}")


if __name__ == "__main__":
    main()
