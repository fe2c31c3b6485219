"""The detail pane and the status line show untrusted text literally, cut and clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from lemlist_tui.api.models import (
    Contact,
    Conversation,
    Opportunity,
    Pagination,
    Participant,
    Team,
    TeamUser,
    ThreadMessage,
    ThreadPage,
)
from lemlist_tui.widgets import DetailPane, InboxStatus, StatusLine

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
TEAM = Team(
    "tea_1",
    "Team",
    ("usr_a", "usr_b"),
    (TeamUser("usr_a", "Ann [b]Bold[/b]"), TeamUser("usr_b", "Bob")),
)
HOSTILE = "[bold red]Eve[/] \x1b[31mred\x1b[0m \x07bell " + "x" * 300

CONVERSATION = Conversation(
    id="ibx_1",
    contact=Contact("ctc_1", full_name=HOSTILE, email="eve@[link=http://x]evil[/link].example"),
    last_activity_at=NOW - timedelta(hours=3),
    created_at=NOW - timedelta(days=3),
    last_replied_at=None,
    channels=("email", "linkedin"),
    participants=(Participant("usr_a", sender=True, read=False), Participant("usr_b", read=True)),
    opportunities=(Opportunity("opp_1", "meeting", done=True),),
    labels=("hot",),
)
THREAD = ThreadPage(
    messages=(
        ThreadMessage(
            id="act_2",
            type="emailsReplied",
            created_at=NOW - timedelta(hours=3),
            subject="Re: [i]hello[/i]",
            html="<p>Sure, <b>call me</b></p><img src='https://t.example/pixel.gif'>"
            "<style>p{color:red}</style>",
            lead_email="eve@example.com",
        ),
        ThreadMessage(
            id="act_1",
            type="emailsSent",
            created_at=NOW - timedelta(days=3),
            subject="Hello",
            html="<div>Hi Eve,<br>shall we talk?</div>",
            sender_name="Ann",
        ),
    ),
    pagination=Pagination(2, 1, None, None, 100, 1),
)


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield DetailPane(TEAM, "usr_a", clock=lambda: NOW, id="detail")
        yield StatusLine(id="status")


async def test_detail_shows_untrusted_text_literally() -> None:
    app = Harness()
    async with app.run_test(size=(100, 50)):
        detail = app.query_one(DetailPane)
        detail.show(CONVERSATION)
        text = detail.plain
        assert "[bold red]Eve[/]" in text  # markup shown as typed
        assert "\x1b" not in text and "\x07" not in text
        assert "x" * 200 not in text and "…" in text  # a long name is cut
        assert "[link=http://x]evil[/link]" in text
        assert "● unread Ann [b]Bold[/b] (you, sender)" in text
        assert "✓ read   Bob" in text
        assert "email, linkedin" in text
        assert "meeting (done)" in text
        assert "no reply yet" in text
        assert "Loading thread…" in text
        assert detail.thread_loading

        detail.show_thread("ibx_1", THREAD)
        text = detail.plain
        assert "Thread · 2 messages" in text
        # Oldest first; direction, sender, subject, body as text without styles or pixels.
        sent, received = text.index("→ sent by Ann"), text.index("← received from eve@example")
        assert sent < received
        assert "Re: [i]hello[/i]" in text
        assert "Sure, call me" in text
        assert "color:red" not in text and "pixel" not in text
        assert "(3h ago)" in text and "(3d ago)" in text

        detail.show_thread("ibx_other", THREAD)  # a late answer for another one: ignored
        detail.show_thread_error("ibx_1", "Cannot reach lemlist: offline.")
        assert "Could not load the thread: Cannot reach lemlist: offline." in detail.plain

        # A newer copy of the same conversation (after mark-read) keeps what it had.
        detail.show(CONVERSATION.marked_read_for("usr_a"))
        assert "✓ read   Ann [b]Bold[/b] (you, sender)" in detail.plain


async def test_status_line_drops_the_least_important_when_narrow() -> None:
    status = InboxStatus(
        user="Ann [b]",
        loaded=300,
        total=2345,
        unread=12,
        shown=300,
        complete=False,
        connection="stale",
        updated="2m ago",
        rate_remaining=17,
        rate_limit=20,
        sort="last reply",
    )
    app = Harness()
    async with app.run_test(size=(160, 10)) as pilot:
        line = app.query_one(StatusLine)
        line.show(status)
        await pilot.pause()
        wide = str(line.render())
        assert wide.startswith(
            "Ann [b] · 12 unread of 300 held (2,345 in lemlist) · stale, updated 2m ago"
        )
        assert "API 17/20 left" in wide and "sort: last reply" in wide
        line.styles.width = 50
        await pilot.pause()
        narrow = str(line.render())
        assert narrow.startswith("Ann [b] · 12 unread of 300 held (2,345 in lemlist)")
        assert "API" not in narrow


async def test_a_heavy_thread_is_shown_in_part_newest_first_and_says_so() -> None:
    """30 messages of 20,000 characters took 1.5 s of layout each time the cursor came
    back: the detail shows a bounded part (the reader shows all, laid out in a worker)."""
    from lemlist_tui.widgets.detail import MESSAGE_CHARS, THREAD_CHARS

    body = ("word " * 4000).strip()  # 19,999 characters
    messages = tuple(
        ThreadMessage(
            id=f"act_{k}",
            type="emailsReplied",
            created_at=NOW - timedelta(hours=30 - k),
            subject=f"Message {k}",
            html=None,
            text=f"#{k} " + body,
        )
        for k in range(30)
    )
    heavy = ThreadPage(messages, Pagination(30, 1, None, None, 100, 1))
    app = Harness()
    async with app.run_test(size=(100, 50)):
        detail = app.query_one(DetailPane)
        detail.show(CONVERSATION, heavy)
        text = detail.plain
        assert len(text) < THREAD_CHARS + 30 * 200  # the bodies shown, and 30 headers
        assert "Message 0" in text and "Message 29" in text  # every message is listed
        assert text.count("more characters: enter reads it all") == THREAD_CHARS // MESSAGE_CHARS
        shown = THREAD_CHARS // MESSAGE_CHARS  # the newest, in part; the older by size
        assert all(f"#{29 - k} word" in text for k in range(shown))
        assert f"#{29 - shown} word" not in text and "#0 word" not in text
        assert "20,003 characters: enter reads it" in text  # the older: their size
