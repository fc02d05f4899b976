"""Account-level actions that publishing (and later the connect flow) share."""

from __future__ import annotations

from platforms.base import ConnectedAccount, PlatformClient, ReconnectNeeded, TokenGrant
from platforms.models import SocialAccount


def refresh_account_tokens(
    *, account: SocialAccount, client: PlatformClient, rejected_token: str
) -> SocialAccount:
    """Get a working access token after the platform rejected `rejected_token`.

    Two workers can hit an expired token at once; with rotating refresh tokens only the first
    refresh succeeds. So before refreshing, and again after a refusal, look whether another
    process already stored new tokens, and use those.
    """
    current = SocialAccount.objects.get(pk=account.pk)
    if current.access_token != rejected_token:
        return current
    try:
        grant = client.refresh_token(current.credentials())
    except ReconnectNeeded:
        current = SocialAccount.objects.get(pk=account.pk)
        if current.access_token != rejected_token:
            return current
        raise
    current.store_tokens(grant)
    return current


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
        account.store_tokens(
            TokenGrant(
                access_token=found.access_token,
                refresh_token=found.refresh_token,
                expires_at=found.expires_at,
            )
        )
        accounts.append(account)
    return accounts


def disconnect_account(*, account: SocialAccount) -> None:
    """Forget the tokens; posts keep their account, and its dates fail until it is reconnected."""
    account.store_tokens(TokenGrant(access_token="", refresh_token=""))
    account.mark_needs_reconnect("You disconnected this account. Connect it again to publish.")
