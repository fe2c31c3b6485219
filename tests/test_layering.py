"""The data layer never imports Textual: the app, export and benchmarks share it."""

from __future__ import annotations

import subprocess
import sys

import pytest

UI_FREE = [
    "lemlist_tui.api",
    "lemlist_tui.api.client",
    "lemlist_tui.api.models",
    "lemlist_tui.api.errors",
    "lemlist_tui.api.ratelimit",
    "lemlist_tui.demo",
    "lemlist_tui.sync",
    "lemlist_tui.sync.engine",
    "lemlist_tui.sync.pages",
    "lemlist_tui.sync.export",
    "lemlist_tui.db",
    "lemlist_tui.db.connection",
    "lemlist_tui.db.schema",
    "lemlist_tui.db.search",
    "lemlist_tui.db.store",
    "lemlist_tui.config",
    "lemlist_tui.session",
    "lemlist_tui.text",
    "lemlist_tui.inbox",
    "lemlist_tui.inbox.view",
    "lemlist_tui.inbox.status",
    "lemlist_tui.inbox.selection",
    "lemlist_tui.db.outbox",
    "lemlist_tui.db.query",
    "lemlist_tui.sync.sender",
    "lemlist_tui.reading",
    "lemlist_tui.exit_codes",
    "lemlist_tui.crash",
    "lemlist_tui.compose",
    "lemlist_tui.db.replies",
    "lemlist_tui.demo.drafts",
    "lemlist_tui.ascii",
    "lemlist_tui.sync.team",
    "lemlist_tui.presenter",
    "lemlist_tui.web",
]


@pytest.mark.parametrize("module", UI_FREE)
def test_module_does_not_import_textual(module: str) -> None:
    code = (
        "import sys, importlib\n"
        f"importlib.import_module({module!r})\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"{module} pulls in {result.stdout.strip()}"


def test_cli_help_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from lemlist_tui.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('TEXTUAL' if 'textual' in sys.modules else 'CLEAN')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "CLEAN"
