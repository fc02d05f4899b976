"""PKCE (RFC 7636) helpers shared by the clients whose login uses it.

The connect view makes a verifier, keeps it in the user's session, sends the challenge with the
authorize URL and the verifier with the code exchange: an intercepted code is useless without it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

# RFC 7636 §4.1: 43-128 characters from the unreserved set.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


def code_challenge_s256(code_verifier: str) -> str:
    """BASE64URL(SHA256(ASCII(verifier))) without padding, as `code_challenge_method=S256` wants."""
    if not _VERIFIER.fullmatch(code_verifier):
        # A platform would reject the exchange much later with an opaque error; fail here instead.
        raise ValueError("A PKCE code verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~")
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def expiry_from(seconds: Any, *, now: datetime | None = None) -> datetime | None:
    """When a token that lives `seconds` (a token response's `expires_in`) from now expires.

    None when the platform gave no usable lifetime: the caller then learns of expiry from a 401.
    """
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return None
    if value <= 0:
        return None
    return (now or datetime.now(UTC)) + timedelta(seconds=value)
