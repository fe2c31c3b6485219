"""Shared fixtures (the demo lemlist API: demo_fixtures.py; a client and a database:
support/fixtures.py), and the ``slow`` mark.

The inner loop is ``python -m pytest -m "not slow" -n auto``: the logic, the database and
the sync against the demo in-process. ``slow`` marks what drives the whole app or other
processes (Pilot sessions, real ptys, sshd, Chromium, wheels, the benchmarks): CI and
``python -m pytest`` run everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["demo_fixtures", "support.fixtures"]

SLOW_DIRECTORIES = ("reliability",)
SLOW_MODULES = frozenset(
    {
        "test_app_flow",
        "test_app_startup",
        "test_app_widgets",
        "test_bench_quick",
        "test_cli",
        "test_detail_pane",
        "test_exit_codes",
        "test_keymap",
        "test_layering",
        "test_packaging",
        "test_picker_keys",
        "test_presenter_app",
        "test_profiles",
        "test_reader_screen",
        "test_reply_flow",
        "test_serve",
        "test_snapshots",
        "test_team_view",
        "test_theme",
        "test_triage",
    }
)
"""Modules whose tests run the app (Pilot) or other processes."""
SLOW_TESTS = frozenset(
    {
        "test_parsers_raise_nothing_but_protocol_error",  # hypothesis, every parser
        "test_a_large_inbox_is_shown_and_filtered_without_an_object_per_conversation",
        "test_cost_does_not_grow_with_the_inbox",
        # Real time under test: the rate limit's window, a trickling server.
        "test_a_crawl_runs_at_the_real_rate_limit_without_a_429",
        "test_a_bulk_mark_read_runs_at_the_rate_limit_without_a_429",
        "test_a_server_that_trickles_meets_the_requests_deadline",
        "test_walks_every_page_of_2345_over_loopback",
    }
)
"""Single tests of quick modules that take seconds (large inboxes, many examples)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow = pytest.mark.slow
    for item in items:
        path = Path(str(item.fspath))
        name = getattr(item, "originalname", item.name)
        if path.stem in SLOW_MODULES or path.parent.name in SLOW_DIRECTORIES or name in SLOW_TESTS:
            item.add_marker(slow)
