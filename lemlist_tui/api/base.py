"""What names an account, without importing the HTTP stack."""

from __future__ import annotations

import hashlib

__all__ = ["DEFAULT_BASE_URL", "account_fingerprint"]

DEFAULT_BASE_URL = "https://api.lemlist.com/api"


def account_fingerprint(api_key: str, base_url: str) -> str:
    """A stable name for one account that reveals nothing about its key."""
    return hashlib.sha256(f"{api_key}\n{base_url.rstrip('/')}".encode()).hexdigest()
