"""The reader's text layout (``lemlist_tui.reading``), headless."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from lemlist_tui.api.models import Pagination, ThreadMessage, ThreadPage
from lemlist_tui.reading import (
    MIN_ROOM,
    MIN_WIDTH,
    Role,
    ThreadStopped,
    is_url,
    layout_notice,
    layout_thread,
    wrap_message,
)

QUOTE = re.compile(r" *>(?: *>)* ?")

# Words without spaces: ASCII, accented, wide (CJK: two cells each), and emoji.
LETTERS = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzé.,!?-") + list("漢字かな한글") + ["👍"])
WORDS = st.text(LETTERS, min_size=1, max_size=12)
URLS = st.builds(
    lambda scheme, path: scheme + path,
    st.sampled_from(["https://", "http://", "www.", "mailto:"]),
    st.text(st.sampled_from(list("abcdefghij/-_.?=&%0123456789")), min_size=1, max_size=150),
)
WIDTHS = st.integers(min_value=MIN_WIDTH, max_value=200)
PREFIXES = st.sampled_from(["", "> ", "> > ", ">> ", ">", "> > > > ", "  > "])


def overflowing_url(line: str, prefix: str) -> bool:
    """A URL alone on its line, after the line's prefix: the one line allowed to be wide."""
    rest = line[len(prefix) :] if line.startswith(prefix) else line
    return " " not in rest.strip() and is_url(rest.strip())


# --- wrap_message -------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.lists(st.one_of(WORDS, URLS), min_size=1, max_size=60), WIDTHS)
def test_lines_fit_except_a_url_alone_and_words_come_back(words: list[str], width: int) -> None:
    lines = wrap_message(" ".join(words), width)
    for line in lines:
        assert cell_len(line) <= width or overflowing_url(line, ""), (line, width)
    # Words no wider than a line are never cut: the words come back as they went in.
    if all(cell_len(word) <= width or is_url(word) for word in words):
        assert " ".join(lines).split() == words


@settings(max_examples=300)
@given(PREFIXES, st.lists(st.one_of(WORDS, URLS), min_size=1, max_size=60), WIDTHS)
def test_a_quoted_line_keeps_its_markers_on_every_line(
    prefix: str, words: list[str], width: int
) -> None:
    # Markers that would leave less than MIN_ROOM (or half the width) wrap as words instead.
    assume(cell_len(prefix) <= width - min(MIN_ROOM, width // 2))
    lines = wrap_message(prefix + " ".join(words), width)
    for line in lines:
        assert line.startswith(prefix), (line, prefix)
        assert cell_len(line) <= width or overflowing_url(line, prefix)
    if all(cell_len(word) <= width - cell_len(prefix) or is_url(word) for word in words):
        body = " ".join(line[len(prefix) :] for line in lines)
        assert body.split() == words


@given(st.text(LETTERS, min_size=1, max_size=400), WIDTHS)
def test_a_word_wider_than_the_line_is_cut_into_pieces_that_fit(word: str, width: int) -> None:
    lines = wrap_message(word, width)
    assert "".join(lines) == word
    assert all(cell_len(line) <= width for line in lines)


@given(st.lists(st.text(st.sampled_from("ab >"), max_size=MIN_WIDTH), max_size=20), WIDTHS)
def test_blank_lines_stay_and_short_lines_are_untouched(lines: list[str], width: int) -> None:
    text = "\n".join(line.rstrip() for line in lines)
    assert wrap_message(text, width) == text.split("\n")


def test_a_long_url_goes_on_a_line_of_its_own_whole() -> None:
    url = "https://example.com/" + "a" * 70
    lines = wrap_message(f"> > see {url} for the details", 40)
    assert lines == ["> > see", f"> > {url}", "> > for the details"]


def test_a_url_that_fits_moves_to_the_next_line_whole() -> None:
    lines = wrap_message("read it at https://example.com/pricing today", 30)
    assert lines == ["read it at", "https://example.com/pricing", "today"]


def test_urls_inside_brackets_and_www_are_urls_but_words_ending_in_www_are_not() -> None:
    assert is_url("(https://example.com)")
    assert is_url("<www.example.com>")
    assert is_url("mailto:someone@example.com")
    assert not is_url("awww.")
    assert not is_url("example.com")


def test_widths_are_terminal_cells() -> None:
    # Ten wide characters are twenty cells: at a width of 21, ten fit on a line.
    lines = wrap_message("漢" * 25, 21)
    assert lines == ["漢" * 10, "漢" * 10, "漢" * 5]
    assert wrap_message("漢字 漢字 漢字 漢字 漢字", 14) == ["漢字 漢字 漢字", "漢字 漢字"]


def test_tabs_become_spaces_and_indentation_starts_continuation_lines() -> None:
    assert wrap_message("a\tb", 40) == ["a   b"]
    lines = wrap_message("    one two three four five six seven", 16)
    assert lines == ["    one two", "    three four", "    five six", "    seven"]


def test_markers_nested_too_deep_for_the_width_wrap_as_words() -> None:
    line = "> " * 20 + "the text of the reply"
    lines = wrap_message(line, 30)
    assert all(cell_len(text) <= 30 for text in lines)
    assert " ".join(lines).split() == line.split()


def test_widths_below_the_minimum_are_laid_out_at_it() -> None:
    assert wrap_message("aaaa bbbb cccc dddd", 1) == wrap_message("aaaa bbbb cccc dddd", MIN_WIDTH)


# --- layout_thread ------------------------------------------------------------------------

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def message(
    minutes: int | None,
    text: str,
    *,
    inbound: bool = False,
    subject: str | None = "Hello",
    **fields: str | None,
) -> ThreadMessage:
    return ThreadMessage(
        id=f"m{minutes}",
        type="emailsReplied" if inbound else "emailsSent",
        created_at=None if minutes is None else T0 + timedelta(minutes=minutes),
        subject=subject,
        html=None,
        text=text,
        **fields,  # type: ignore[arg-type]
    )


def page(*messages: ThreadMessage, total: int | None = None) -> ThreadPage:
    count = len(messages)
    return ThreadPage(messages, Pagination(total or count, 1, None, None, count, 1))


def lay_out(thread: ThreadPage, width: int = 60) -> list[tuple[str, Role]]:
    layout = layout_thread(
        thread, width, contact_name="Ada Lovelace", user_name=lambda uid: f"user {uid}", tz=UTC
    )
    return [(line.text, line.role) for line in layout.lines]


def test_messages_run_oldest_to_newest_and_the_newest_start_is_given() -> None:
    thread = page(
        message(30, "third", inbound=True, lead_email="ada@example.com"),
        message(0, "first", sender_name="Grace"),
        message(10, "second", sender_user_id="u1"),
    )
    layout = layout_thread(thread, 60, contact_name="Ada", user_name=lambda u: f"user {u}", tz=UTC)
    texts = [line.text for line in layout.lines]
    assert [texts.index(body) for body in ("first", "second", "third")] == sorted(
        texts.index(body) for body in ("first", "second", "third")
    )
    assert len(layout.starts) == 3
    newest = layout.lines[layout.newest]
    assert newest.role is Role.RULE and "3/3 · newest" in newest.text
    assert layout.lines[layout.newest + 1] == (
        f"← from ada@example.com",  # noqa: F541 (the sender, as the header reads it)
        Role.RECEIVED,
    )
    assert "  2025-03-01 09:30 · email" in texts
    assert "→ sent by Grace" in texts
    assert "→ sent by user u1" in texts


def test_a_message_header_says_who_when_where_and_what() -> None:
    lines = lay_out(page(message(5, "Body here.", subject="Pricing for Q2")))
    assert lines[:6] == [
        ("── 1/1 · newest " + "─" * 44, Role.RULE),
        ("→ sent by your team", Role.SENT),
        ("  2025-03-01 09:05 · email", Role.META),
        ("  Pricing for Q2", Role.SUBJECT),
        ("", Role.BODY),
        ("Body here.", Role.BODY),
    ]


def test_quoted_lines_are_quotes_and_keep_their_markers() -> None:
    quoted = "> " + "so many words in the quoted reply " * 4
    lines = lay_out(page(message(0, f"My answer.\n\n{quoted}")), width=40)
    quotes = [text for text, role in lines if role is Role.QUOTE]
    assert len(quotes) > 1
    assert all(text.startswith("> ") and cell_len(text) <= 40 for text in quotes)


def test_untrusted_text_is_cleaned_on_its_way_to_the_screen() -> None:
    hostile = message(
        0,
        "line\x1b[31m red\x07\u202e reversed",
        subject="Sub\x1b]52;c;bad\x07ject",
        sender_name="Eve\u202e\x00",
    )
    for text, _role in lay_out(page(hostile)):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", text), repr(text)


def test_html_only_messages_are_made_into_text() -> None:
    html = ThreadMessage(
        "h", "emailsSent", T0, None, "<p>Hi <b>there</b></p><blockquote>old</blockquote>"
    )
    texts = [text for text, _ in lay_out(page(html))]
    assert "Hi there" in texts
    assert "> old" in texts


def test_an_empty_thread_a_missing_older_part_and_an_empty_body_are_said() -> None:
    assert lay_out(page()) == [("No messages in this conversation yet.", Role.MUTED)]
    lines = lay_out(page(message(0, ""), total=5))
    assert lines[0] == ("(4 older messages not loaded)", Role.MUTED)
    assert ("(no text)", Role.MUTED) in lines


def test_messages_without_a_date_come_first() -> None:
    thread = page(message(0, "dated"), message(None, "undated"))
    texts = [text for text, _ in lay_out(thread)]
    assert texts.index("undated") < texts.index("dated")
    assert "  date unknown · email" in texts


def test_the_layout_width_is_the_widest_line_when_a_url_overflows() -> None:
    url = "https://example.com/" + "x" * 100
    layout = layout_thread(page(message(0, url)), 40, contact_name="", user_name=str)
    assert layout.width == cell_len(url)
    narrow = layout_thread(page(message(0, "short")), 40, contact_name="", user_name=str)
    assert narrow.width == 40


def test_every_line_fits_the_width_but_overflowing_urls() -> None:
    thread = page(
        message(0, "x " * 500, subject="s " * 100, sender_name="n" * 300),
        message(1, "> " + "q " * 300, inbound=True, lead_email="e" * 300 + "@example.com"),
    )
    for width in (MIN_WIDTH, 33, 80, 120):
        layout = layout_thread(thread, width, contact_name="", user_name=str)
        assert all(cell_len(line.text) <= width for line in layout.lines), width


def test_a_stopped_layout_raises() -> None:
    with pytest.raises(ThreadStopped):
        layout_thread(page(message(0, "a")), 40, contact_name="", user_name=str, stop=lambda: True)


def test_a_notice_is_one_wrapped_sentence() -> None:
    layout = layout_notice("Could not load the thread: lemlist is not answering.", 20, Role.ERROR)
    assert all(line.role is Role.ERROR and cell_len(line.text) <= 20 for line in layout.lines)
    assert " ".join(line.text for line in layout.lines).startswith("Could not load")
    assert layout.starts == () and layout.newest == 0


def test_reading_does_not_import_textual() -> None:
    code = (
        "import sys, lemlist_tui.reading\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
