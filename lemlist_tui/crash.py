"""An unexpected failure: one sentence on screen, a scrubbed report on disk, exit status 1.

No ``textual`` import. Textual's own crash screen prints the traceback with every
frame's local variables, the API key among them (issue 13); Python's prints the
exception's message, which may quote it. Here the report holds the traceback without
locals, with every form of the key (and its Basic-auth base64) replaced, in a private
file named in the sentence.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import traceback
from pathlib import Path

from lemlist_tui.api.errors import _forms

__all__ = ["crash_sentence", "write_report"]


def _scrubbed(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            for form in _forms(secret):
                text = text.replace(form, "•••")
    return text


def write_report(error: BaseException, folder: Path, secrets: tuple[str, ...] = ()) -> Path | None:
    """The traceback of ``error`` without locals and without ``secrets``, in a new 0600
    file under ``folder``; None when it cannot be written (a full disk: the sentence
    still goes out)."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    text = _scrubbed("".join(lines), secrets)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f"crash-{stamp}-", suffix=".txt")
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as file:
            file.write(text)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return None
    return Path(name)


def crash_sentence(error: BaseException, report: Path | None) -> str:
    """One line for the terminal: what happened, where the report is, nothing secret."""
    what = f"lemlist-tui stopped on an unexpected error ({type(error).__name__})"
    if report is None:
        return f"{what}; no report could be written."
    return f"{what}; a report without secrets is in {report}"
