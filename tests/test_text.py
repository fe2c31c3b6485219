"""Untrusted text reaches the terminal as plain, printable, bounded text."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text

from lemlist_tui.text import (
    ELLIPSIS,
    clean_block,
    clean_line,
    html_to_text,
    literal,
    local_time,
    relative_time,
)

# Anything a terminal could act on or that hides/reorders text.
_UNSAFE_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
    "\u2028\u2029\ud800-\udfff]"
)
_UNSAFE_BLOCK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060"
    "\u2066-\u2069\ufeff\u2028\u2029\ud800-\udfff]"
)

HOSTILE = {
    "markup": "[bold]Boss[/bold] [link=file:///etc/passwd]x[/link]",
    "csi_colour": "\x1b[31;1mRED\x1b[0m alert",
    "osc52_clipboard": "hi\x1b]52;c;ZXZpbA==\x07there",
    "osc8_hyperlink": "\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\",
    "osc0_title": "\x1b]0;pwned\x1b\\name",
    "c1_csi": "\x9b31mred\x9b0m",
    "c1_osc": "\x9d0;pwned\x9cname",
    "dcs": "\x1bPq#0;2;0;0;0#1~~@@\x1b\\after",
    "unterminated_osc": "before\x1b]52;c;ZXZpbA==",
    "lone_escape": "a\x1bb\x1b",
    "bidi_override": "invoice\u202egpj.exe",
    "bidi_isolates": "\u2066a\u2069\u200fb\u061c",
    "zero_width": "pay\u200bpal\u2060\ufeff\u180e",
    "zalgo": "Z" + "\u0301\u0302\u0303\u0304" * 50 + "algo",
    "long": "x" * 10_000,
    "lone_surrogate": "a\ud800b\udfffc",
    "controls": "".join(map(chr, range(32))) + "\x7f" + "".join(map(chr, range(0x80, 0xA0))),
    "line_breaks": "one\r\ntwo\rthree\nfour\u2028five\u2029six\x85seven\x0bend",
    "wide": "中文字符" * 20,
    "emoji": "👩\u200d👩\u200d👧 family " * 10,
}


def assert_safe_line(text: str) -> None:
    assert not _UNSAFE_LINE.search(text), repr(text)
    assert text == text.strip()
    assert "  " not in text


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("max_cells", [None, 1, 2, 10, 40])
def test_clean_line_hostile_corpus(value: str, max_cells: int | None) -> None:
    cleaned = clean_line(value, max_cells)
    assert_safe_line(cleaned)
    if max_cells is not None:
        assert cell_len(cleaned) <= max_cells


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_clean_block_hostile_corpus(value: str) -> None:
    cleaned = clean_block(value, max_chars=200)
    assert not _UNSAFE_BLOCK.search(cleaned), repr(cleaned)
    assert len(cleaned) <= 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("  Ada   Lovelace \n", "Ada Lovelace"),
        ("\x1b[31;1mRED\x1b[0m alert", "RED alert"),
        ("hi\x1b]52;c;ZXZpbA==\x07there", "hithere"),
        ("\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\", "click me"),
        ("\x1b]0;pwned\x1b\\name", "name"),
        ("\x9b31mred\x9b0m", "red"),
        ("\x1b(Bcharset", "charset"),
        ("before\x1b]52;c;ZXZpbA==", "before"),  # an unclosed string hides the rest, as on a tty
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("pay\u200bpal", "paypal"),
        ("a\ud800b", "a\ufffdb"),
        ("tab\there", "tab here"),
        ("[bold]x[/]", "[bold]x[/]"),
        ("👩\u200d👩\u200d👧", "👩\u200d👩\u200d👧"),  # ZWJ inside emoji stays
        ("e\u0301te\u0301", "e\u0301te\u0301"),  # ordinary accents stay
    ],
)
def test_clean_line_examples(value: str | None, expected: str) -> None:
    assert clean_line(value) == expected


def test_clean_line_trims_zalgo_to_three_marks() -> None:
    cleaned = clean_line("Z" + "\u0301" * 200 + "ok")
    assert cleaned == "Z\u0301\u0301\u0301ok"


@pytest.mark.parametrize(
    ("value", "max_cells", "expected"),
    [
        ("Ada Lovelace", 20, "Ada Lovelace"),
        ("Ada Lovelace", 12, "Ada Lovelace"),
        ("Ada Lovelace", 11, "Ada Lovela…"),
        ("Ada Lovelace", 5, "Ada…"),  # no space left dangling before the ellipsis
        ("Ada Lovelace", 1, "…"),
        ("Ada Lovelace", 0, ""),
        ("中文字符", 8, "中文字符"),
        ("中文字符", 7, "中文字…"),
        ("中文字符", 6, "中文…"),  # a wide character never straddles the edge
    ],
)
def test_clean_line_fits_cells(value: str, max_cells: int, expected: str) -> None:
    assert clean_line(value, max_cells) == expected
    assert cell_len(expected) <= max_cells


def test_clean_line_long_input_is_fast() -> None:
    start = time.perf_counter()
    assert clean_line("x" * 5_000_000, 30) == "x" * 29 + "…"
    assert time.perf_counter() - start < 2


def test_literal_is_never_markup() -> None:
    text = literal("[bold]x[/] [link=file:///etc/passwd]y[/link]\x1b[31m", style="red")
    assert isinstance(text, Text)
    assert text.plain == "[bold]x[/] [link=file:///etc/passwd]y[/link]"
    assert text.spans == []
    assert str(text.style) == "red"
    assert literal(None).plain == ""
    assert cell_len(literal("x" * 50, 10).plain) == 10


def test_clean_block_keeps_lines() -> None:
    value = "Hi Bob,\r\n\r\n\tindented\rnext   \n\n\n\n\n\nafter gap\n\n\n"
    assert clean_block(value) == "Hi Bob,\n\n    indented\nnext\n\n\nafter gap"


def test_clean_block_caps_length_with_marker() -> None:
    cleaned = clean_block("line\n" * 10_000, max_chars=100)
    assert len(cleaned) <= 100
    assert cleaned.endswith("\n…")
    assert clean_block("short", max_chars=100) == "short"


def test_clean_block_drops_escapes_keeps_text() -> None:
    value = "\x1b[2J\x1b[Hcleared?\n\x1b]52;c;ZXZpbA==\x07\nok\x07\x00"
    assert clean_block(value) == "cleared?\n\nok"


# --- HTML --------------------------------------------------------------------------------

GMAIL_REPLY = """\
<div dir="ltr">Hi Sam,<div><br></div><div>Thanks&nbsp;&mdash; Tuesday works.</div>
<div><br></div><div>Best,<br>Ana</div></div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">
On Mon, Sam &lt;sam@acme.io&gt; wrote:<br></div>
<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">
<div>Would Tuesday suit you?</div>
<blockquote><p>Earlier&nbsp;message</p></blockquote></blockquote></div>
<img width="1" height="1" src="https://track.example/o/abc.gif" alt="">
"""


def test_html_gmail_reply() -> None:
    assert html_to_text(GMAIL_REPLY) == (
        "Hi Sam,\n"
        "\n"
        "Thanks — Tuesday works.\n"
        "\n"
        "Best,\n"
        "Ana\n"
        "\n"
        "On Mon, Sam <sam@acme.io> wrote:\n"
        "> Would Tuesday suit you?\n"
        "> > Earlier message"
    )


OUTLOOK_NEWSLETTER = """\
<!DOCTYPE html><html><head><meta charset="utf-8"><title>Offer inside</title>
<style type="text/css">p.MsoNormal { margin: 0; font-family: Calibri; }</style>
<!--[if mso]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]-->
</head><body>
<h1>Spring   update</h1>
<p class="MsoNormal">Read <a href="https://acme.example/blog?utm=1&amp;x=2">the post</a>,
or visit <a href="https://acme.example/">acme.example</a>
or <a href="mailto:hi@acme.example">mail us</a>.</p>
<ul><li>Faster sync</li><li>Labels<ul><li>nested</li></ul></li></ul>
<table><tr><td>Cell A</td><td>Cell B</td></tr><tr><td>Cell C</td></tr></table>
<p>&copy; 2024 &amp; &#169; &#x2122;</p>
<script>document.write("evil")</script>
</body></html>"""


def test_html_newsletter() -> None:
    assert html_to_text(OUTLOOK_NEWSLETTER) == (
        "Spring update\n"
        "Read the post (https://acme.example/blog?utm=1&x=2), or visit acme.example or mail us.\n"
        "• Faster sync\n"
        "• Labels\n"
        "  • nested\n"
        "Cell A Cell B\n"
        "Cell C\n"
        "© 2024 & © ™"
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (None, ""),
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
        ("<p>a</p><p>b</p>", "a\nb"),
        ("a<br>b<br/>c", "a\nb\nc"),
        ("<p>one</p><p>&nbsp;</p><p>two</p>", "one\n\ntwo"),  # Outlook's blank line
        ("x<hr>y", "x\ny"),
        ("<pre>  keep\n    indent</pre>", "  keep\n    indent"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href="https://t.example/c?id=1"><img src="logo.png"></a>', ""),
        ("<p>a &lt; b &amp;&amp; c &gt; d</p>", "a < b && c > d"),
        ("if a < b and c<3 then", "if a < b and c<3 then"),
        ("<p>unclosed <b>bold <i>italic", "unclosed bold italic"),
        ("<head><title>t</title><body>body text", "body text"),  # unclosed <head>
        ("text<!-- never closed", "text"),
        ("<style>p { color: red }</style>visible", "visible"),
        ("<p>nul\x00byte\x1b[31m</p>", "nulbyte"),
        ("<div>&#27;[31mred&#x1b;]0;t&#7;</div>", "[31mred]0;t"),  # decoded ESC is removed
        ("<p>\u202eevil</p>", "evil"),
        (
            "<a href='https://x.example'>a</a><a href='https://y.example'>b</a>",
            "a (https://x.example)b (https://y.example)",
        ),
        ("<blockquote>q<br><br>r</blockquote>", "> q\n>\n> r"),
    ],
)
def test_html_examples(html: str | None, expected: str) -> None:
    assert html_to_text(html) == expected


def test_html_inline_image_is_fast() -> None:
    payload = "iVBORw0KGgo" * 30_000  # ~330 KB of base64
    html = f'<p>before</p><img src="data:image/png;base64,{payload}"><p>after</p>'
    start = time.perf_counter()
    assert html_to_text(html) == "before\nafter"
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "html",
    [
        "<a " * 100_000,  # quadratic in 3.11's HTMLParser without the defusing pass
        '<a b="' * 50_000,
        "<!--" * 100_000,
        "</" * 200_000,
        "<ul><li>" * 50_000,
        "<br>" * 100_000,
        "<blockquote>" * 50_000 + "deep",
        "<" + "a" * 1_000_000,
        "x" * 10_000_000,
        "<p>" + "&amp;" * 200_000,
    ],
    ids=lambda html: repr(html[:12]),
)
def test_html_hostile_is_bounded(html: str) -> None:
    start = time.perf_counter()
    text = html_to_text(html, max_chars=5_000)
    assert time.perf_counter() - start < 2
    assert len(text) <= 5_000
    assert not _UNSAFE_BLOCK.search(text)


# --- Properties --------------------------------------------------------------------------

# Text with lots of the characters that matter here, plus arbitrary code points.
_interesting = st.sampled_from(
    list("\x1b\x9b\x9d\x90\x07\x9c\\[];<>/!-&#\"'= \n\r\t\u0301\u202e\u200d\ud800中")
)
_hostile_text = st.text(st.one_of(st.characters(), _interesting), max_size=300)
_html_text = st.lists(
    st.one_of(
        _hostile_text,
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<br>",
                "<a href='https://x.y'>",
                "</a>",
                "<blockquote>",
                "<li>",
                "<script>",
                "</script>",
                "<style>",
                "<!--",
                "-->",
                "<img src='data:image/png;",
                "&nbsp;",
                "&#27;",
                "&#x9b;",
                "<pre>",
                "</pre>",
                "<head>",
                "<body>",
                "<![CDATA[",
            ]
        ),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(_hostile_text, st.one_of(st.none(), st.integers(min_value=-2, max_value=50)))
def test_clean_line_property(value: str, max_cells: int | None) -> None:
    cleaned = clean_line(value, max_cells)
    assert_safe_line(cleaned)
    if max_cells is not None:
        assert cell_len(cleaned) <= max(max_cells, 0)
    assert clean_line(cleaned) == cleaned or max_cells is not None  # idempotent


@settings(max_examples=200, deadline=None)
@given(_hostile_text, st.integers(min_value=0, max_value=400))
def test_clean_block_property(value: str, max_chars: int) -> None:
    cleaned = clean_block(value, max_chars)
    assert not _UNSAFE_BLOCK.search(cleaned), repr(cleaned)
    assert len(cleaned) <= max_chars
    assert "\n\n\n\n" not in cleaned


@settings(max_examples=200, deadline=None)
@given(_html_text)
def test_html_to_text_property(html: str) -> None:
    text = html_to_text(html, max_chars=500)
    assert not _UNSAFE_BLOCK.search(text), repr(text)
    assert len(text) <= 500


# --- Time --------------------------------------------------------------------------------

NOW = datetime(2024, 12, 3, 10, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (None, "—"),
        (NOW, "now"),
        (NOW - timedelta(seconds=59), "now"),
        (NOW + timedelta(minutes=5), "now"),  # server clock ahead of ours
        (NOW - timedelta(seconds=60), "1m"),
        (NOW - timedelta(minutes=59, seconds=59), "59m"),
        (NOW - timedelta(hours=1), "1h"),
        (NOW - timedelta(hours=23, minutes=59), "23h"),
        (NOW - timedelta(days=1), "1d"),
        (NOW - timedelta(days=6, hours=23), "6d"),
        (NOW - timedelta(days=7), "Nov 26"),
        (datetime(2024, 7, 1, tzinfo=UTC), "Jul 1"),  # within about six months: the day
        (datetime(2024, 1, 1, tzinfo=UTC), "Jan 2024"),  # older: the year
        (datetime(2023, 12, 31, 23, 0, tzinfo=UTC), "Dec 2023"),
        (datetime(2019, 3, 3, tzinfo=UTC), "Mar 2019"),
        (datetime(2024, 9, 3, 12, 0), "Sep 3"),  # naive: taken as UTC
    ],
)
def test_relative_time(when: datetime | None, expected: str) -> None:
    assert relative_time(when, NOW) == expected


def test_relative_time_uses_the_viewers_calendar() -> None:
    tokyo = timezone(timedelta(hours=9))
    now = datetime(2025, 1, 20, 12, 0, tzinfo=tokyo)
    # 31 Dec 2024 20:00 UTC is already 1 January 2025 in Tokyo.
    assert relative_time(datetime(2024, 12, 31, 20, 0, tzinfo=UTC), now) == "Jan 1"


def test_local_time() -> None:
    paris = timezone(timedelta(hours=1))
    assert local_time(None) == "—"
    assert local_time(datetime(2024, 12, 3, 9, 12, tzinfo=UTC), paris) == "2024-12-03 10:12"
    assert local_time(datetime(2024, 12, 3, 9, 12), UTC) == "2024-12-03 09:12"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", local_time(NOW))
    assert local_time(datetime.min.replace(tzinfo=UTC), paris) == "0001-01-01 01:00"


@pytest.mark.parametrize(
    "uncertain",
    ["\u3164", "\u115f", "\u1160", "\uffa0", "\u17b4", "\u180b", "\ufff0", "\U000e0041", "\u0378"],
)
def test_characters_of_uncertain_width_never_reach_a_row(uncertain: str) -> None:
    # U+3164 is 0 cells for Rich and 2 for tmux: kept, it shifted every column after it.
    name = f"Ana{uncertain * 3}Smith"
    line = clean_line(name, 20)
    assert uncertain not in line
    assert line == "AnaSmith"
    block = clean_block(f"Hello{uncertain}\nworld")
    assert uncertain not in block


# --- What the reader sees of a reply's structure (issue 16: mutation survivors) -----------
# Each case is a reply as a reader sees it: where a quote, a list or a preformatted block
# ends, what follows it, and which links are spelled out.


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # A quote ends at </blockquote>: the reply after it is not quoted.
        ("<blockquote>quoted</blockquote><p>reply</p>", "> quoted\nreply"),
        ("<blockquote>a<blockquote>b</blockquote>c</blockquote>d", "> a\n> > b\n> c\nd"),
        ("</blockquote></blockquote><blockquote>q</blockquote>", "> q"),  # stray closers
        ("<blockquote><pre>one\ntwo</pre></blockquote>", "> one\n> two"),
        # A list ends at </ul> or </ol>; nesting indents, whichever list it is.
        ("<ul><li>a</li></ul><p>after</p>", "• a\nafter"),
        ("<ol><li>a</li></ol><ul><li>b</li></ul>", "• a\n• b"),
        ("<ul><li>a</li></ul><ul><li>b</li></ul>", "• a\n• b"),
        ("<ul><li>a<ul><li>b</li></ul><ul><li>c</li></ul></li></ul>", "• a\n  • b\n  • c"),
        ("<ol><li>a<ol><li>b</li></ol></li><li>c</li></ol>", "• a\n  • b\n• c"),
        ("</ul></ol><ul><li>a<ul><li>b</li></ul></li></ul>", "• a\n  • b"),
        # Preformatted text keeps its spaces and blank lines, and only inside <pre>.
        ("<pre>a  b</pre><p>c   d</p>", "a  b\nc d"),
        ("<pre><pre>x</pre>a  b</pre>c  d", "x\na  b\nc d"),
        ("</pre><pre>x  y</pre>", "x  y"),
        ("<pre>a\n\nb</pre>", "a\n\nb"),
        ("<pre>a&nbsp;&nbsp;b</pre>", "a  b"),  # a non-breaking space reads as a space
        ("<p>X</p><p>b</p>", "X\nb"),  # a paragraph of one letter is a line
        # Table cells stay apart, header cells too.
        ("<table><tr><th>Name</th><th>Role</th></tr></table>", "Name Role"),
        # Links: spelled out unless the text already says where they go.
        ('<a href="http://acme.example/">acme.example</a>', "acme.example"),
        ('<a href="https://www.acme.example">acme.example</a>', "acme.example"),
        ('<a href="https://acme.example">www.acme.example</a>', "www.acme.example"),
        ('<a href="https://acme.example"><b>acme</b>.example</a>', "acme.example"),
        ('<a href="http://acme.example/x">the post</a>', "the post (http://acme.example/x)"),
        ('<a name="top">Top</a><p>rest</p>', "Top\nrest"),  # an anchor without href
        # Tags with unbalanced quotes, declarations, comments, a "<" that starts no tag.
        ('Hi <b class="x>there</b>', "Hi there"),
        ("Hi <b class='x>there</b>", "Hi there"),
        ('<a href="https://x.example>link</a>', "link (https://x.example)"),
        ("<a href='https://x.example>link</a>", "link (https://x.example)"),
        ("a <!DOCTYPE html>b", "a b"),
        ("<!-- one -->shown<!-- two -->", "shown"),
        ("<!---->shown", "shown"),
        ("a<b>b</b><!-- never closed", "ab"),
        ("x <abc", "x <abc"),
        ("<p>inline data:image/png;base64,iVBORw0KGgo</p>", "inline data:"),
    ],
)
def test_html_structure_as_read(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_html_a_long_link_is_shown_cut() -> None:
    href = "https://acme.example/" + "a" * 3_000
    assert html_to_text(f'<a href="{href}">the post</a>') == f"the post ({href[:2_000]})"


def test_html_a_body_that_is_not_a_string_is_shown_not_raised() -> None:
    assert html_to_text(12345) == "12345"  # type: ignore[arg-type]


def test_html_a_long_body_is_cut_to_max_chars_with_a_marker() -> None:
    assert len(html_to_text("<p>" + "x" * 30_000 + "</p>")) == 20_000  # the default
    assert html_to_text("<p>" + "x" * 1_500 + "</p>", max_chars=1_000) == "x" * 998 + "\n…"
    assert html_to_text("<p>" + "x" * 150 + "</p>", max_chars=100) == "x" * 98 + "\n…"


def test_html_the_markup_read_ends_on_a_whole_tag() -> None:
    limit = 400_000  # characters of markup read
    assert html_to_text("x" * (limit + 100_000), max_chars=limit) == "x" * limit
    head = "<b>x</b>" + "y" * (limit - 20)
    # The cut falls inside a tag: none of it is shown.
    cut_in_tag = html_to_text(head + '<span class="long">more</span>', max_chars=limit)
    assert cut_in_tag.endswith("y") and "<" not in cut_in_tag
    # The cut falls after a whole tag: the text up to the cut is shown.
    cut_in_text = html_to_text(head + "<i>" + "z" * 100, max_chars=limit)
    assert cut_in_text.endswith("zzzzzzz")
    exact = "x" * (limit - 5) + "a < b"
    assert html_to_text(exact, max_chars=limit).endswith("a < b")


def test_clean_line_long_emoji_chains_are_split_after_four() -> None:
    six = "\u200d".join(["👩", "👩", "👧", "👦", "👩", "👧"])
    assert clean_line(six) == "👩\u200d👩\u200d👧\u200d👦👩👧"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x\u200dx\u200dx", "xxx"),  # a joiner between letters is dropped
        ("中\u0378文", "中文"),  # an unassigned code point goes, the rest stays
        ("Z" + "\u0300" * 10, "Z\u0300\u0300\u0300"),  # U+0300 is a mark like the others
    ],
)
def test_clean_line_drops_what_terminals_disagree_on(value: str, expected: str) -> None:
    assert clean_line(value) == expected


def test_clean_line_of_a_value_that_is_not_a_string() -> None:
    assert clean_line(42) == "42"  # type: ignore[arg-type]


def test_a_two_cell_emoji_fills_a_two_cell_column() -> None:
    family = "👩🏽\u200d👩🏽\u200d👧🏽\u200d👦🏽"  # 11 code points, 2 cells
    assert clean_line(family, 2) == family
    assert clean_line(family, 1) == ELLIPSIS


@pytest.mark.parametrize(
    ("value", "max_chars", "expected"),
    [
        ("abc", 3, "abc"),  # exactly max_chars: whole
        ("abcd", 3, "a\n…"),
        ("abcdef", 5, "abc\n…"),
        ("hello    world", 8, "hello\n…"),  # no trailing space before the marker
        ("abc", 2, "…"),
        ("abc", 1, "…"),
        ("abc", 0, ""),
    ],
)
def test_clean_block_cuts_with_a_marker(value: str, max_chars: int, expected: str) -> None:
    assert clean_block(value, max_chars) == expected
    assert len(clean_block(value, max_chars)) <= max_chars


def test_clean_block_default_and_padding_read() -> None:
    assert len(clean_block("x" * 30_000)) == 20_000
    read = 65_536  # characters of padding read for a short max_chars
    fits = "hello" + "\n" * (read - 10) + "world"
    assert clean_block(fits, 100) == "hello\n\n\nworld"
    longer = "hello" + "\n" * (read - 9) + "world"  # one character more than is read
    assert clean_block(longer, 100) == "hello\n\n\nworl\n…"  # the cut is said
    # A larger max_chars reads four times as much.
    assert clean_block("hello" + "\n" * 79_990 + "world") == "hello\n\n\nworld"
    assert clean_block("hello" + "\n" * 80_000 + "world") == "hello\n…"
    assert clean_block("hello" + "\n" * 90_000 + "world") == "hello\n…"


def test_relative_time_six_months_boundary_and_year_one() -> None:
    assert relative_time(NOW - timedelta(days=180), NOW) == "Jun 2024"
    assert relative_time(NOW - timedelta(days=179, hours=23), NOW) == "Jun 6"
    tokyo = timezone(timedelta(hours=-9))
    assert relative_time(datetime(1, 1, 1, tzinfo=UTC), NOW.astimezone(tokyo)) == "Jan 1"


def test_local_time_out_of_range_is_shown_unconverted() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert local_time(datetime(1, 1, 1, 3, 0, tzinfo=UTC), new_york) == "0001-01-01 03:00"


def test_literal_is_unstyled_unless_asked() -> None:
    assert literal("Ada [b]x[/b]").style == ""
    assert literal("Ada", style="bold").style == "bold"
