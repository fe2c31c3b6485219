"""What a filter matches against, and how a query becomes terms. No ``textual`` import.

Both sides are folded the same way: compatibility-decomposed, combining marks dropped,
case-folded. So ``josé`` finds ``Jose`` and ``JOSÉ``, and ``ß`` finds ``SS``.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "match_spans", "query_terms", "search_text"]


def fold(text: str) -> str:
    """``text`` without accents or case, for substring matching."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def search_text(name: str | None, email: str | None) -> str:
    """The folded ``name`` and ``email`` of a contact, joined by a newline.

    Terms never hold whitespace, so no term can match across the join. A contact without
    a name is found by its email (the list shows the email in its place).
    """
    return fold(f"{name or ''}\n{email or ''}")


def query_terms(query: str) -> tuple[str, ...]:
    """The folded, whitespace-separated terms of ``query``; each must match, in any order.

    A term that folds to nothing (a lone combining mark) is dropped.
    """
    return tuple(term for term in (fold(t) for t in query.split()) if term and not term.isspace())


def match_spans(text: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where ``terms`` (folded) occur in ``text``, as sorted, merged (start, end) spans of
    ``text`` itself: each character is folded on its own, so an accent or a ligature that
    folds to several letters still maps back to the character it came from."""
    if not terms or not text:
        return []
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in fold(char):
            folded.append(piece)
            origin.append(index)
    haystack = "".join(folded)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = haystack.find(term)
        while start >= 0 and term:
            end = start + len(term)
            spans.append((origin[start], origin[end - 1] + 1))
            start = haystack.find(term, end)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
