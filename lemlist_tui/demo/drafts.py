"""Drafts kept through ``/inbox/{contactId}/drafts``: per conversation and per owner.

The server checks requests; this keeps the drafts and writes their JSON.
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass, replace
from typing import Any

from lemlist_tui.demo.data import JsonObject, iso_ms
from lemlist_tui.demo.ids import IndexedIds

DRAFT_CHANNELS = ("email", "linkedin", "whatsapp", "sms")
MAX_DRAFTS = 10
"""Drafts one owner may keep on one conversation."""
MAX_CONTENT_BYTES = 30 * 1024
"""A draft's ``content``, encoded as UTF-8."""
PREVIEW_CHARS = 200

_BREAK = re.compile(r"<(?:br|/?(?:p|div|li|tr|h[1-6]|blockquote))\b[^>]*>", re.IGNORECASE)
"""Tags that part words: they become a blank, other tags nothing."""
_TAG = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    channel: str
    content: str
    subject: str
    """"" when none was given."""
    cc: tuple[str, ...]
    attachments: tuple[Any, ...]
    """As received: lemlist documents no shape for them."""
    reply_to: str | None
    """``replyToActivityId``, unchecked."""
    created_at: int
    updated_at: int


class DraftLimitReached(Exception):
    """The owner already keeps :data:`MAX_DRAFTS` drafts on that conversation."""


class DraftBook:
    """Every draft, by (conversation index, owner's member index), oldest first.

    Thread-safe, like the inbox state. Ids are unique per book: the n-th draft made gets
    the same id in every run of a seed.
    """

    def __init__(self, seed: int) -> None:
        self._ids = IndexedIds("drf", seed)
        self._made = 0
        self._drafts: dict[tuple[int, int], list[Draft]] = {}
        self._lock = threading.Lock()

    def drafts(self, index: int, owner: int) -> list[Draft]:
        """The owner's drafts on conversation ``index``, newest first."""
        with self._lock:
            return self._drafts.get((index, owner), [])[::-1]

    def get(self, index: int, owner: int, draft_id: str) -> Draft | None:
        with self._lock:
            kept = self._drafts.get((index, owner), [])
            return next((d for d in kept if d.id == draft_id), None)

    def create(
        self,
        index: int,
        owner: int,
        now_ms: int,
        *,
        channel: str,
        content: str,
        subject: str = "",
        cc: tuple[str, ...] = (),
        attachments: tuple[Any, ...] = (),
        reply_to: str | None = None,
    ) -> Draft:
        """A new draft; :class:`DraftLimitReached` if the owner keeps too many there."""
        with self._lock:
            kept = self._drafts.setdefault((index, owner), [])
            if len(kept) >= MAX_DRAFTS:
                raise DraftLimitReached
            draft = Draft(
                self._ids.encode(self._made),
                channel,
                content,
                subject,
                cc,
                attachments,
                reply_to,
                now_ms,
                now_ms,
            )
            self._made += 1
            kept.append(draft)
            return draft

    def update(
        self,
        index: int,
        owner: int,
        draft_id: str,
        now_ms: int,
        *,
        content: str | None = None,
        subject: str | None = None,
        cc: tuple[str, ...] | None = None,
    ) -> Draft | None:
        """The draft with what is given (not None) changed; None if there is no such draft."""
        with self._lock:
            kept = self._drafts.get((index, owner), [])
            for k, draft in enumerate(kept):
                if draft.id == draft_id:
                    kept[k] = replace(
                        draft,
                        content=draft.content if content is None else content,
                        subject=draft.subject if subject is None else subject,
                        cc=draft.cc if cc is None else cc,
                        updated_at=now_ms,
                    )
                    return kept[k]
            return None

    def delete(self, index: int, owner: int, draft_id: str) -> bool:
        """Whether there was such a draft to delete."""
        with self._lock:
            kept = self._drafts.get((index, owner), [])
            for k, draft in enumerate(kept):
                if draft.id == draft_id:
                    del kept[k]
                    return True
            return False


def content_preview(content: str) -> str:
    """The first :data:`PREVIEW_CHARS` characters of ``content``'s text: tags dropped,
    entities decoded, runs of blanks (a no-break space too) made one space."""
    text = html.unescape(_TAG.sub("", _BREAK.sub(" ", content)))
    return _BLANKS.sub(" ", text).strip()[:PREVIEW_CHARS]


def draft_json(draft: Draft) -> JsonObject:
    """One draft, whole, as ``GET /inbox/{contactId}/drafts/{draftId}`` answers it."""
    body: JsonObject = {
        "_id": draft.id,
        "channel": draft.channel,
        "subject": draft.subject,
        "content": draft.content,
        "cc": list(draft.cc),
        "attachments": list(draft.attachments),
        "source": "api",
        "createdAt": iso_ms(draft.created_at),
        "updatedAt": iso_ms(draft.updated_at),
    }
    if draft.reply_to is not None:
        body["replyToActivityId"] = draft.reply_to
    return body


def draft_summary_json(draft: Draft) -> JsonObject:
    """One draft as the list answers it: a preview instead of the content."""
    return {
        "_id": draft.id,
        "channel": draft.channel,
        "subject": draft.subject,
        "contentPreview": content_preview(draft.content),
        "source": "api",
        "createdAt": iso_ms(draft.created_at),
        "updatedAt": iso_ms(draft.updated_at),
    }
