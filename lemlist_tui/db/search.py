"""What a filter matches against, and how a query becomes terms. No ``textual`` import.

Both sides are folded the same way: compatibility-decomposed, combining marks dropped,
case-folded. So ``josé`` finds ``Jose`` and ``JOSÉ``, and ``ß`` finds ``SS``.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fold", "query_terms", "search_text"]


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
