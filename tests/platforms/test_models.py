from __future__ import annotations

import pytest
from django.db import connection

from platforms.base import TokenGrant
from platforms.models import SocialAccount

pytestmark = pytest.mark.django_db


def test_tokens_are_not_stored_as_plain_text(alices_account: SocialAccount) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM platforms_socialaccount WHERE id = %s",
            [alices_account.pk],
        )
        stored_access, stored_refresh = cursor.fetchone()

    assert "alice-access-token" not in stored_access
    assert "alice-refresh-token" not in stored_refresh
    reloaded = SocialAccount.objects.get(pk=alices_account.pk)
    assert (reloaded.access_token, reloaded.refresh_token) == ("alice-access-token", "alice-refresh-token")


def test_refreshed_tokens_replace_both_tokens_and_reconnect_the_account(
    alices_account: SocialAccount,
) -> None:
    alices_account.mark_needs_reconnect("expired")

    alices_account.store_tokens(TokenGrant(access_token="new-access", refresh_token="new-refresh"))

    reloaded = SocialAccount.objects.get(pk=alices_account.pk)
    assert (reloaded.access_token, reloaded.refresh_token) == ("new-access", "new-refresh")
    assert reloaded.status == SocialAccount.Status.CONNECTED
