"""Account-level actions: connecting and disconnecting accounts, and refreshing their tokens."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from cryptography.fernet import InvalidToken
from django.db import transaction

from platforms.base import ConnectedAccount, Platform, PlatformClient, TokenGrant
from platforms.crypto import fernet
from platforms.models import SocialAccount
from platforms.registry import get_client
from platforms.signals import account_reconnected


@dataclass(frozen=True)
class LoginStart:
    """Where to send the user, and the secrets to keep in their session until the callback."""

    url: str
    state: str
    code_verifier: str


def start_login(*, platform: str, redirect_uri: str) -> LoginStart:
    """Begin a platform's OAuth login: a fresh state (against forged callbacks) and PKCE verifier.

    Raises PlatformError when the platform cannot be used (no client id configured, say).
    """
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    url = get_client(platform).authorization_url(
        redirect_uri=redirect_uri, state=state, code_verifier=verifier
    )
    return LoginStart(url=url, state=state, code_verifier=verifier)


def exchange_login(
    *, platform: str, code: str, redirect_uri: str, code_verifier: str
) -> list[ConnectedAccount]:
    """Exchange the callback's code for the accounts the login gives access to (nothing stored)."""
    return get_client(platform).connect(code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)


def finish_login(
    *, owner_id: int, platform: str, code: str, redirect_uri: str, code_verifier: str
) -> list[SocialAccount]:
    """Exchange the callback's code and store the accounts it gives; [] if it gave none."""
    connected = exchange_login(
        platform=platform, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    return connect_accounts(owner_id=owner_id, platform=platform, connected=connected)


# A Facebook login can grant many Pages (and through them Instagram accounts): the person picks.
CHOOSE_FROM = frozenset({Platform.FACEBOOK.value, Platform.INSTAGRAM.value})


def needs_choice(platform: str, connected: list[ConnectedAccount]) -> bool:
    return platform in CHOOSE_FROM and len(connected) > 1


def seal_choices(connected: list[ConnectedAccount]) -> str:
    """The accounts to choose from, encrypted, so their tokens can wait in the session."""
    rows = [
        {**asdict(found), "expires_at": found.expires_at.isoformat() if found.expires_at else None}
        for found in connected
    ]
    return fernet().encrypt(json.dumps(rows).encode()).decode()


def open_choices(sealed: str) -> list[ConnectedAccount]:
    """The accounts seal_choices sealed; [] when the token is not one of ours or too old."""
    try:
        rows = json.loads(fernet().decrypt(sealed.encode(), ttl=int(CHOICE_TTL.total_seconds())))
    except (InvalidToken, ValueError):
        return []
    return [
        ConnectedAccount(
            **{**row, "expires_at": datetime.fromisoformat(row["expires_at"]) if row["expires_at"] else None}
        )
        for row in rows
    ]


# How long a person has to pick, after logging in, before the login must be done again.
CHOICE_TTL = timedelta(minutes=30)


def refresh_account_tokens(
    *, account: SocialAccount, client: PlatformClient, rejected_token: str
) -> SocialAccount:
    """Get a working access token after the platform rejected `rejected_token`.

    One refresh per account at a time: the account's row is locked while refreshing, so workers
    that hit the same expired token wait, then find the new tokens and use them. With rotating
    refresh tokens a second refresh would spend a used token and be refused.
    """
    with transaction.atomic():
        current = SocialAccount.objects.select_for_update().get(pk=account.pk)
        if current.access_token != rejected_token:
            return current
        grant = client.refresh_token(current.credentials())
        current.store_tokens(grant)
    return current


def flag_refused_tokens(account: SocialAccount, *, rejected_token: str, reason: str) -> bool:
    """Flag the account "needs reconnecting", unless its stored token is no longer the refused one
    (another worker refreshed meanwhile: the account is healthy)."""
    with transaction.atomic():
        current = SocialAccount.objects.select_for_update().get(pk=account.pk)
        if current.access_token != rejected_token:
            return False
        return current.mark_needs_reconnect(reason)


def connect_accounts(
    *, owner_id: int, platform: str, connected: list[ConnectedAccount]
) -> list[SocialAccount]:
    """Store the accounts a platform login returned; reconnecting an account replaces its tokens."""
    accounts = []
    for found in connected:
        account, _ = SocialAccount.objects.update_or_create(
            owner_id=owner_id,
            platform=platform,
            platform_account_id=found.account_id,
            defaults={"display_name": found.display_name},
        )
        flagged, reason = account.status == SocialAccount.Status.NEEDS_RECONNECT, account.status_reason
        account.store_tokens(
            TokenGrant(
                access_token=found.access_token,
                refresh_token=found.refresh_token,
                expires_at=found.expires_at,
            )
        )
        if flagged:
            account_reconnected.send(sender=SocialAccount, account=account, reason=reason)
        accounts.append(account)
    return accounts


def disconnect_account(*, account: SocialAccount) -> None:
    """Forget the tokens; posts keep their account, and its dates wait (paused) until it is reconnected."""
    account.store_tokens(TokenGrant(access_token="", refresh_token=""))
    account.mark_needs_reconnect("You disconnected this account. Connect it again to publish.")
