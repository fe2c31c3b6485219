"""Presenter mode on a real pty: a whole session's bytes (the picker, the inbox, the
reader, the team view, the help) hold none of the real names, emails or subjects the
app had, and ``y`` and ``export`` are refused in it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from reliability_support import child_env, terminal

from lemlist_tui.db import DB_NAME, InboxDatabase

ARGV = [sys.executable, "-m", "lemlist_tui", "--demo", "--demo-size", "300", "--presenter"]


def _real_words(cache: Path) -> set[str]:
    """Every name, email and subject the app held (from its own database), as the
    fragments a screen could show: whole values, and each word of a name."""
    [path] = cache.rglob(DB_NAME)
    connection = sqlite3.connect(path)
    try:
        values = [
            value
            for sql in (
                "SELECT full_name FROM contacts",
                "SELECT email FROM contacts",
                "SELECT subject FROM messages",
                "SELECT sender_name FROM messages",
                "SELECT sender_email FROM messages",
            )
            for (value,) in connection.execute(sql)
        ]
    finally:
        connection.close()
    db = InboxDatabase(path.parent)
    try:
        team = db.team()
    finally:
        db.close()
    assert team is not None
    values += [v for user in team.users for v in (user.name, user.email)]
    words = set()
    for value in values:
        if value:
            words.add(value)
            if "@" not in value:
                words |= set(value.split())
    # Short words ("de", "van", "Li") occur inside anything; a name's longer words do not.
    return {w for w in words if len(w) >= 5}


def test_a_presenter_session_shows_no_real_person(tmp_path: Path) -> None:
    with terminal(ARGV, env=child_env(tmp_path, None), cols=120, rows=40) as term:
        term.wait_for(lambda s: "Whose inbox" in "\n".join(s), timeout=30)
        term.press("enter")
        term.wait_for(
            lambda s: any(" unread of 300" in line and "loading" not in line for line in s),
            timeout=30,
        )
        term.wait_for(lambda s: any("Thread" in line for line in s), timeout=30)
        for _ in range(5):
            term.press("j")
        term.press("enter")  # the reader
        term.wait_for(lambda s: any("q Back" in line for line in s), timeout=10)
        term.press("q")
        term.press("t")  # the team view: teammates by name, in the owner column
        term.wait_for(lambda s: any("read by nobody" in line for line in s), timeout=30)
        term.press("y")  # refused: it would copy a real email
        refused = term.wait_for(lambda s: any("Presenter mode" in line for line in s), timeout=10)
        term.press("U")  # the picker: every teammate
        term.wait_for(lambda s: "Whose inbox" in "\n".join(s), timeout=10)
        term.press("escape")
        term.wait_for(lambda s: "Whose inbox" not in "\n".join(s), timeout=10)
        code = term.close()
    drawn = term.output.decode("utf-8", "replace")
    real = _real_words(tmp_path / "xdg-cache")
    assert len(real) > 300  # the session held real people and subjects
    shown = sorted(word for word in real if word in drawn)
    assert not shown, shown[:10]
    assert any("copying the email would show real data" in line for line in refused)
    assert b"\x1b]52;" not in term.output
    assert code == 0


def test_export_is_refused_in_presenter_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [*ARGV, "export", "--user", "usr_x"],
        env=child_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "lemlist-tui: export is refused in presenter mode: it writes the real inbox.\n"
    )
