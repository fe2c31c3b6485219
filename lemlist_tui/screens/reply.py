"""Replying (``R``): write in your editor, review, then save a lemlist draft or send.

The flow (:class:`ReplyFlow`) runs in a worker of the inbox screen:

1. the thread (held, else fetched) gives the channel, the sender's mailbox, the subject
   and the quote; ``GET /users/{id}`` only when the thread cannot (:func:`plan_reply`);
2. the text is written in ``$VISUAL``/``$EDITOR`` (the app suspended, a private temporary
   file removed afterwards) or, without one or in a browser, in :class:`ComposeScreen`;
3. the text is kept in the local database as soon as the editor closes (``R`` offers it
   again, across restarts, until it is sent, saved in lemlist or discarded);
4. :class:`ReviewScreen` shows channel, from, to, subject and the body as it will go:
   ``d`` saves it as a lemlist draft, ``S`` sends after one more question, ``e`` edits,
   ``c`` changes the channel, ``X`` discards, ``esc`` keeps it here.

Both the save and the send go through the outbox: applied here at once, out after the
undo time, ``z`` takes them back until then. A send whose fate is unknown is never sent
again without the user (the review screen says so when it reopens it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from lemlist_tui.api.errors import LemlistError
from lemlist_tui.api.models import Conversation, Draft, ThreadPage, UserAccounts
from lemlist_tui.compose import (
    CHANNEL_NAMES,
    CHANNELS,
    MAX_BODY_CHARS,
    ReplyPlan,
    editor_command,
    editor_text,
    needs_accounts,
    plan_reply,
    read_editor_text,
)
from lemlist_tui.db import StorageError
from lemlist_tui.db.outbox import Action, Kind
from lemlist_tui.db.replies import Replies, Reply
from lemlist_tui.screens.confirm import ConfirmScreen
from lemlist_tui.screens.dialog import Dialog
from lemlist_tui.text import clean_block, clean_line, html_to_text, local_time

if TYPE_CHECKING:
    from lemlist_tui.screens.inbox import InboxScreen

__all__ = ["ComposeScreen", "DraftPicker", "ReplyFlow", "ReviewScreen"]

Choice = Literal["draft", "send", "edit", "channel", "discard", "keep"]
SAVE_EVERY = 0.5
"""Seconds of quiet after which the in-app editor's text is kept in the database."""


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, clean_line(channel, 20))


def _private_file(text: str) -> Path:
    """A temporary file only this user can read (mkstemp: 0600), holding ``text``."""
    fd, name = tempfile.mkstemp(prefix="lemlist-reply-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(name)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


class DraftPicker(Dialog[tuple[str, Draft] | None]):
    """lemlist's drafts on a conversation (``D``): ``enter`` opens one (then ``d`` updates
    it in lemlist, ``S`` sends it), ``x`` deletes it, ``esc`` leaves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "pick('open')", "Open", priority=True, id="drafts.open"),
        Binding("x,delete", "pick('delete')", "Delete", id="drafts.delete"),
        Binding("escape,q", "cancel", "Back", id="drafts.cancel"),
    ]
    DEFAULT_CSS = """
    DraftPicker > Vertical { max-height: 80%; }
    """

    def __init__(self, drafts: tuple[Draft, ...], target: str) -> None:
        super().__init__()
        self.drafts = drafts
        self.target = target

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"lemlist drafts · {self.target}", style="bold"))
            yield OptionList(*(self._option(d) for d in self.drafts), id="drafts")
            yield Static("enter opens · x deletes · esc back", classes="hint")

    @staticmethod
    def _option(draft: Draft) -> Option:
        text = Text()
        text.append(f"{channel_name(draft.channel or '?'):<9}", style="bold")
        text.append(clean_line(draft.subject or draft.preview or "(empty)", 50))
        if draft.updated_at is not None:
            text.append(f"  {local_time(draft.updated_at)}", style="dim")
        return Option(text, id=draft.id)

    def action_pick(self, what: str) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None and 0 <= index < len(self.drafts):
            self.dismiss((what, self.drafts[index]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ComposeScreen(Dialog[str | None]):
    """The in-app editor, when there is no ``$EDITOR`` (or the app is in a browser):
    ``ctrl+s`` is done, ``esc`` leaves (the text is kept all the same)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "done", "Done", priority=True, id="compose.done"),
        Binding("escape", "leave", "Keep and leave", priority=True, id="compose.leave"),
    ]
    DEFAULT_CSS = """
    ComposeScreen {
        & > Vertical { width: 100; height: 100%; }
        & TextArea { height: 1fr; border: none; }
    }
    """

    def __init__(self, text: str, title: str, keep: ReplyKeeper) -> None:
        super().__init__()
        self.text = text
        self.title_text = title
        self._keep = keep
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"), id="compose-title")
            yield TextArea(self.text, soft_wrap=True, id="compose-body")
            yield Static("ctrl+s: done · esc: keep it and leave", classes="hint")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        line = self.text.find("\n\n")
        if self.text.startswith("Subject:") and line >= 0:
            area.move_cursor((self.text[: line + 1].count("\n") + 1, 0))
        else:
            area.move_cursor((0, 0))

    @on(TextArea.Changed)
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SAVE_EVERY, self._save)

    def _save(self) -> None:
        self._keep(self.query_one(TextArea).text)

    def action_done(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_leave(self) -> None:
        text = self.query_one(TextArea).text
        self._keep(text)
        self.dismiss(None)


class ReplyKeeper:
    """Keeps the in-app editor's text as it is typed (``R`` offers it again)."""

    def __init__(self, flow: ReplyFlow) -> None:
        self.flow = flow

    def __call__(self, text: str) -> None:
        with contextlib.suppress(StorageError):  # said when the review saves it again
            self.flow.keep_text(text)


class ReviewScreen(Dialog[Choice]):
    """The reply as it will go: channel, from, to, subject, body; nothing leaves from
    here without ``S`` and one more question (or ``d``, a draft in lemlist)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "choose('draft')", "Save as lemlist draft", id="review.draft"),
        Binding("S", "choose('send')", "Send", id="review.send"),
        Binding("e", "choose('edit')", "Edit", id="review.edit"),
        Binding("c", "choose('channel')", "Channel", id="review.channel"),
        Binding("X", "choose('discard')", "Discard", id="review.discard"),
        Binding("escape,q", "choose('keep')", "Keep here", id="review.keep"),
    ]
    DEFAULT_CSS = """
    ReviewScreen {
        & > Vertical { width: 100; }
        & #review-head { height: auto; }
        & #review-body {
            height: auto;
            max-height: 1fr;
            border-top: solid $panel-lighten-2;
            border-bottom: solid $panel-lighten-2;
        }
        & .warning { color: $warning; }
        & .error { color: $error; }
    }
    """

    def __init__(self, plan: ReplyPlan, reply: Reply) -> None:
        super().__init__()
        self.plan = plan
        self.reply = reply

    def compose(self) -> ComposeResult:
        plan, reply = self.plan, self.reply
        with Vertical():
            yield Static(self._head(), id="review-head")
            with VerticalScroll(id="review-body"):
                yield Static(Text(clean_block(reply.body, MAX_BODY_CHARS)), id="review-text")
            problem = plan.problems.get(reply.channel)
            if reply.state == "unknown":
                yield Static(
                    Text(
                        f"This reply may have been sent already ({clean_line(reply.error, 120)}). "
                        "Check the thread: S sends it again, d saves it as a draft, X forgets it."
                    ),
                    id="review-unknown",
                    classes="warning",
                )
            if problem:
                yield Static(Text(f"Cannot send on {channel_name(reply.channel)}: {problem}"),
                             id="review-problem", classes="error")  # fmt: skip
            yield Static(
                "d lemlist draft · S send · e edit · c channel · X discard · esc keep here",
                classes="hint",
            )

    def _head(self) -> Text:
        plan, reply = self.plan, self.reply
        others = [channel_name(c) for c in plan.channels if c != reply.channel]
        text = Text()
        text.append(f"Reply by {channel_name(reply.channel)}", style="bold")
        if others:
            text.append(f"  (c: {', '.join(others)})", style="dim")
        rows = [("From", plan.sender), ("To", plan.to)]
        if reply.channel == "email":
            rows.append(("Subject", clean_line(reply.subject, 200) or "(none)"))
        for name, value in rows:
            text.append(f"\n{name:<8} ", style="bold")
            text.append(value)
        if reply.channel == "email":
            text.append("\nSent as HTML: paragraphs, line breaks and > quotes kept.", style="dim")
        return text

    def action_choose(self, choice: Choice) -> None:
        self.dismiss(choice)


class ReplyFlow:
    """``R`` on one conversation, from the thread to the outbox; runs in a worker."""

    def __init__(self, inbox: InboxScreen, conversation: Conversation) -> None:
        self.inbox = inbox
        self.conversation = conversation
        self.replies = Replies(inbox.session.db)
        self.user_id = inbox.user_id
        self.plan: ReplyPlan | None = None
        self.reply: Reply | None = None

    @property
    def contact_id(self) -> str:
        return self.conversation.contact_id or ""

    def say(self, text: str, *, warning: bool = False) -> None:
        self.inbox.say(text, severity="warning" if warning else "information", timeout=5)

    # --- what the reply needs --------------------------------------------------------

    async def _thread(self) -> ThreadPage | None:
        sync = self.inbox.sync
        cached = sync.cached_thread(self.conversation)
        if cached is not None:
            return cached
        try:
            return await sync.thread(self.conversation)
        except LemlistError as error:
            self.say(f"The thread is needed to reply: {error}", warning=True)
            return None

    async def _accounts(self) -> tuple[UserAccounts | None, str | None]:
        client = self.inbox.session.client
        if client is None:
            return None, "Offline: lemlist is needed to know which mailbox to send from."
        try:
            return await client.user_accounts(self.user_id), None
        except LemlistError as error:
            return None, f"lemlist did not say which mailbox to send from ({error})"

    async def _plan(self, thread: ThreadPage) -> ReplyPlan:
        accounts: UserAccounts | None = None
        problem: str | None = None
        if needs_accounts(thread.messages, self.user_id):
            accounts, problem = await self._accounts()
        return plan_reply(
            self.conversation,
            thread.messages,
            self.user_id,
            user_name=self.inbox.user_name,
            accounts=accounts,
            accounts_problem=problem,
        )

    # --- keeping the text --------------------------------------------------------------

    def keep_text(self, text: str) -> Reply | None:
        """Keep what the editor holds (called as it is typed, and when it closes)."""
        plan = self.plan
        if plan is None:
            return None
        composed = read_editor_text(text, plan)
        if composed.empty and self.reply is None:
            return None
        base = self.reply or Reply(
            contact_id=self.contact_id,
            user_id=self.user_id,
            channel=plan.channel,
            body="",
            conversation_id=self.conversation.id,
        )
        self.reply = self.replies.save(
            replace(
                base,
                channel=plan.channel,
                subject=composed.subject if plan.channel == "email" else base.subject,
                body=composed.body,
                fields=plan.fields.get(plan.channel, {}),
            )
        )
        return self.reply

    # --- the flow ----------------------------------------------------------------------

    async def run(self, draft: Draft | None = None) -> None:
        """The flow; from ``draft`` (a lemlist draft) when given: it opens at the review,
        and saving updates that draft."""
        if not self.contact_id:
            self.say("lemlist gave no contact for this conversation: it cannot be answered.")
            return
        existing = self.replies.open_for(self.contact_id, self.user_id)
        if draft is not None:
            existing = await self._from_draft(draft)
            if existing is None:
                return
        if existing is not None and existing.state in ("queued", "saving"):
            what = "is on its way" if existing.state == "queued" else "is being saved in lemlist"
            self.say(f"A reply to this conversation {what} (z takes it back).")
            return
        thread = await self._thread()
        if thread is None:
            return
        plan = await self._plan(thread)
        if existing is not None and existing.channel in plan.channels:
            plan = plan.with_channel(existing.channel)
        self.plan, self.reply = plan, existing
        if draft is not None:
            self.say("The lemlist draft: e edits it, d saves it back, S sends it.")
        elif existing is not None:
            self.say("Your reply from before, kept here: e edits it.")
        editing = existing is None
        while True:
            if editing and not await self._edit():
                return
            choice = await self._review()
            editing = choice == "edit"
            if await self._act(choice):
                return

    async def _from_draft(self, draft: Draft) -> Reply | None:
        """The lemlist draft as a reply kept here (its text read from lemlist)."""
        client = self.inbox.session.client
        if client is None:
            self.say("Offline: a lemlist draft is read from lemlist.", warning=True)
            return None
        try:
            whole = await client.draft(self.contact_id, draft.id, self.user_id)
        except LemlistError as error:
            self.say(f"The draft could not be read: {error}", warning=True)
            return None
        channel = whole.channel or draft.channel or "email"
        content = whole.content or ""
        body = html_to_text(content) if channel == "email" else clean_block(content)
        try:
            return self.replies.save(
                Reply(
                    contact_id=self.contact_id,
                    user_id=self.user_id,
                    channel=channel if channel in CHANNELS else "email",
                    body=body,
                    subject=whole.subject or draft.subject,
                    conversation_id=self.conversation.id,
                    draft_id=draft.id,
                )
            )
        except StorageError as error:
            self.say(f"The draft could not be kept here: {error}", warning=True)
            return None

    async def _edit(self) -> bool:
        """Write the text; False when there is nothing to go on with."""
        plan = self.plan
        assert plan is not None
        reply = self.reply
        text = editor_text(
            plan,
            reply.body if reply is not None else None,
            reply.subject if reply is not None else None,
        )
        edited = await self._run_editor(text)
        if edited is None:
            if self.reply is None:
                self.say("Nothing written: nothing kept.")
                return False
            return True
        composed = read_editor_text(edited, plan)
        if composed.empty:
            if self.reply is None:
                self.say("Nothing written: nothing kept.")
                return False
            self.say("The text is empty: the one from before is kept.", warning=True)
            return True
        if len(composed.body) > MAX_BODY_CHARS:
            self.say(
                f"The reply is longer than lemlist takes ({MAX_BODY_CHARS:,} characters): "
                "it is kept here; shorten it with e.",
                warning=True,
            )
        try:
            self.keep_text(edited)
        except StorageError as error:
            self.say(f"The reply could not be kept: {error}", warning=True)
            return False
        return True

    async def _run_editor(self, text: str) -> str | None:
        app = self.inbox.app
        argv = editor_command()
        plan = self.plan
        assert plan is not None
        if argv is None or app.is_web:
            title = f"Reply by {channel_name(plan.channel)} to {plan.to}"
            result: str | None = await app.push_screen_wait(
                ComposeScreen(text, title, ReplyKeeper(self))
            )
            return result
        path = _private_file(text)
        try:
            status = await self._editor_status(argv, path)
            if status is None:
                return None
            if status != 0:
                self.say(
                    f"The editor ({clean_line(argv[0], 40)}) exited with status {status}: "
                    "its text was not taken.",
                    warning=True,
                )
                return None
            return _read(path)
        finally:
            _remove(path)

    async def _editor_status(self, argv: list[str], path: Path) -> int | None:
        app = self.inbox.app
        command = [*argv, str(path)]
        try:
            if app.is_headless:  # tests: no terminal to hand over
                done = await asyncio.to_thread(
                    subprocess.run, command, stdin=subprocess.DEVNULL, check=False
                )
                return done.returncode
            with app.suspend():
                # The app is suspended: blocking its loop while the editor owns the
                # terminal is the point (Textual's documented way).
                return subprocess.run(command, check=False).returncode  # noqa: ASYNC221
        except SuspendNotSupported:
            self.say("This terminal cannot hand over to an editor: unset EDITOR.", warning=True)
        except OSError as error:
            self.say(
                f"The editor ({clean_line(argv[0], 40)}) could not start: "
                f"{error.strerror or error}.",
                warning=True,
            )
        return None

    async def _review(self) -> Choice:
        plan, reply = self.plan, self.reply
        assert plan is not None and reply is not None
        choice: Choice = await self.inbox.app.push_screen_wait(ReviewScreen(plan, reply))
        return choice

    async def _act(self, choice: Choice) -> bool:
        """Do what the review asked; True when the flow is over."""
        plan, reply = self.plan, self.reply
        assert plan is not None and reply is not None and reply.id is not None
        if choice == "edit":
            return False
        if choice == "channel":
            self.plan = plan.with_channel(plan.next_channel())
            self.reply = self.replies.save(
                replace(
                    reply,
                    channel=self.plan.channel,
                    subject=reply.subject or self.plan.subject,
                    fields=self.plan.fields.get(self.plan.channel, {}),
                )
            )
            return False
        if choice == "discard":
            self.replies.discard(reply.id)
            self.say("Reply discarded.")
            return True
        if choice == "keep":
            self.say("Kept here: R on this conversation opens it again.")
            return True
        if len(reply.body) > MAX_BODY_CHARS:
            self.say(
                f"Too long for lemlist ({len(reply.body):,} of {MAX_BODY_CHARS:,} characters): "
                "e to shorten it.",
                warning=True,
            )
            return False
        if choice == "draft":
            return self._queue(Kind.DRAFT, "Saving it as a lemlist draft")
        problem = plan.problems.get(reply.channel)
        if problem is None and reply.channel not in plan.fields:
            problem = "this conversation is not on that channel (c changes it)."
        if problem:
            self.say(f"Cannot send on {channel_name(reply.channel)}: {problem}", warning=True)
            return False
        if not await self._confirm_send():
            return False
        return self._queue(Kind.REPLY, f"Sending by {channel_name(reply.channel)} to {plan.to}")

    async def _confirm_send(self) -> bool:
        plan, reply = self.plan, self.reply
        assert plan is not None and reply is not None
        wait = self.inbox.session.settings.undo_for
        grace = f" It waits {wait:g} s first: z takes it back." if wait > 0 else ""
        again = ""
        if reply.state == "unknown":
            again = "It may have gone already: check the thread first. "
        question = (
            f"{again}Send this {channel_name(reply.channel)} to {plan.to}? A message that "
            f"is out cannot be unsent.{grace}"
        )
        answer: bool | None = await self.inbox.app.push_screen_wait(ConfirmScreen(question))
        return bool(answer)

    def _queue(self, kind: Kind, doing: str) -> bool:
        plan, reply = self.plan, self.reply
        assert plan is not None and reply is not None and reply.id is not None
        fields = plan.fields.get(reply.channel, {})
        if kind is Kind.REPLY and fields != reply.fields:
            # As the thread says now (a reply kept from before, a lemlist draft opened).
            try:
                reply = self.reply = self.replies.save(replace(reply, fields=fields))
            except StorageError as error:
                self.say(f"Not queued: {error}", warning=True)
                return False
        action = Action(
            kind, self.contact_id, self.conversation.id, user_id=self.user_id, target=str(reply.id)
        )
        try:
            queued = self.inbox.outbox.add([action])
        except StorageError as error:
            self.say(f"Not queued: {error}", warning=True)
            return False
        if not queued.queued:
            self.say("It is already on its way.")
            return True
        self.inbox.outbox_changed()
        self.say(f"{doing} (z takes it back).")
        return True
