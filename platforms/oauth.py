"""OAuth 2.0 pieces shared by the clients whose login is plain OAuth 2.0 (X and TikTok).

PKCE (RFC 7636): the connect view makes a verifier, keeps it in the user's session, sends the
challenge with the authorize URL and the verifier with the code exchange: an intercepted code is
useless without it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from django.conf import settings

from platforms import http
from platforms.base import AccountCredentials, ConnectedAccount, ReconnectNeeded, TokenGrant

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


class OAuth2Client:
    """Settings, HTTP session, an injectable pause and the refresh grant of an OAuth 2.0 platform.

    A subclass names its platform and implements `_token_request` (POST a form to the platform's
    token endpoint; return the answer or raise the classified error).
    """

    platform_key: ClassVar[str]  # the SOSOCIAL_PLATFORMS key, also the prefix of error codes
    platform_name: ClassVar[str]  # the name users know
    default_web_url: ClassVar[str]
    client_id_setting: ClassVar[str] = "client_id"  # TikTok calls it the client key

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config: Mapping[str, str] = settings.SOSOCIAL_PLATFORMS[self.platform_key]
        self.api_url = self.config["api_url"].rstrip("/")
        self.authorize_base = self.config["authorize_url"].rstrip("/")
        # Where posts are shown to people; the sandbox serves its own (settings key optional).
        self.web_url = self.config.get("web_url", self.default_web_url).rstrip("/")
        self.client_id = self.config.get(self.client_id_setting, "")
        self.client_secret = self.config.get("client_secret", "")
        self.session = session or http.new_session()
        # Short pauses between resends (TikTok's chunks), never a wait on processing; injectable so
        # tests do not wait.
        self._sleep = sleep

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def refresh_token(self, account: AccountCredentials) -> TokenGrant:
        if not account.refresh_token:
            raise ReconnectNeeded(
                f"SoSocial has no refresh token for this {self.platform_name} account; reconnect it.",
                code=f"{self.platform_key}_no_refresh_token",
            )
        body = self._token_request({"grant_type": "refresh_token", "refresh_token": account.refresh_token})
        return TokenGrant(
            access_token=str(body["access_token"]),
            # Both platforms rotate refresh tokens: the old one is spent, so keep the new one. If
            # none came back (not seen, but not ruled out either), the old one is all there is.
            refresh_token=str(body.get("refresh_token") or account.refresh_token),
            expires_at=expiry_from(body.get("expires_in")),
        )

    @staticmethod
    def connected(tokens: Mapping[str, Any], *, account_id: str, display_name: str) -> ConnectedAccount:
        """The account a code exchange (`tokens`, the token endpoint's answer) connected."""
        return ConnectedAccount(
            account_id=account_id,
            display_name=display_name,
            access_token=str(tokens["access_token"]),
            refresh_token=str(tokens.get("refresh_token", "")),
            expires_at=expiry_from(tokens.get("expires_in")),
        )
