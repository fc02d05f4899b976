from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.api.conftest import NOW, add_entry

pytestmark = pytest.mark.django_db


def log_attempt(entry: ScheduleEntry, outcome: str, *, hours_ago: float, number: int) -> None:
    finished = NOW - timedelta(hours=hours_ago)
    PublishAttempt.objects.create(
        entry=entry,
        dispatch_version=0,
        number=number,
        started_at=finished,
        finished_at=finished,
        outcome=outcome,
    )


def test_alice_sees_her_accounts_and_their_health(
    alices_api: APIClient, alices_account: SocialAccount, alices_post: Post
) -> None:
    alices_account.token_expires_at = datetime(2026, 12, 31, tzinfo=UTC)
    alices_account.save()
    alices_account.mark_needs_reconnect("The token was revoked.")
    entry = add_entry(alices_post, "failed")
    log_attempt(entry, "retry", hours_ago=1, number=1)
    log_attempt(entry, "failed", hours_ago=2, number=2)
    log_attempt(entry, "failed", hours_ago=30, number=3)  # older than a day
    log_attempt(add_entry(alices_post, "published"), "published", hours_ago=1, number=1)

    response = alices_api.get("/api/accounts/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": alices_account.pk,
            "platform": "x",
            "platform_name": "X",
            "display_name": "@alice",
            "status": "needs_reconnect",
            "status_reason": "The token was revoked.",
            "token_expires_at": "2026-12-31T00:00:00Z",
            "failures_last_24h": 2,
        }
    ]


def test_tokens_never_leave_the_server(alices_api: APIClient, alices_account: SocialAccount) -> None:
    listed = alices_api.get("/api/accounts/").content
    one = alices_api.get(f"/api/accounts/{alices_account.pk}/").content

    for body in (listed, one):
        assert b"alice-access-token" not in body
        assert b"alice-refresh-token" not in body
        assert b'token":' not in body.replace(b'token_expires_at":', b"")


def test_alice_reads_one_of_her_accounts(alices_api: APIClient, alices_account: SocialAccount) -> None:
    response = alices_api.get(f"/api/accounts/{alices_account.pk}/")

    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["failures_last_24h"]) == ("@alice", 0)


def test_bob_cannot_see_alices_accounts(bobs_api: APIClient, alices_account: SocialAccount) -> None:
    assert bobs_api.get("/api/accounts/").json()["results"] == []
    response = bobs_api.get(f"/api/accounts/{alices_account.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
