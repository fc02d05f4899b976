"""Account-level actions: connecting and disconnecting accounts, and refreshing their tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from platforms.base import ConnectedAccount, PlatformClient, TokenGrant
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


def finish_login(
    *, owner_id: int, platform: str, code: str, redirect_uri: str, code_verifier: str
) -> list[SocialAccount]:
    """Exchange the callback's code and store the accounts it gives; [] if it gave none."""
    connected = get_client(platform).connect(
        code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
    )
    return connect_accounts(owner_id=owner_id, platform=platform, connected=connected)


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
        was_flagged = account.status == SocialAccount.Status.NEEDS_RECONNECT
        account.store_tokens(
            TokenGrant(
                access_token=found.access_token,
                refresh_token=found.refresh_token,
                expires_at=found.expires_at,
            )
        )
        accounts.append(account)
        if was_flagged:
            account_reconnected.send(sender=SocialAccount, account=account)
    return accounts


def disconnect_account(*, account: SocialAccount) -> None:
    """Forget the tokens; posts keep their account, and its dates wait (paused) until it is reconnected."""
    account.store_tokens(TokenGrant(access_token="", refresh_token=""))
    account.mark_needs_reconnect("You disconnected this account. Connect it again to publish.")
