"""Account-level actions that publishing (and later the connect flow) share."""

from __future__ import annotations

from platforms.base import PlatformClient, ReconnectNeeded
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
