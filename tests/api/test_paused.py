"""Dates paused while their account needed reconnecting: shown as such, sent on one call."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.api.conftest import add_entry

pytestmark = pytest.mark.django_db


def test_one_call_sends_every_paused_date_whose_account_is_back(
    alices_api: APIClient, alices_post: Post, alices_account: SocialAccount, bob: object
) -> None:
    late = [
        add_entry(alices_post, "paused", last_error_code=ScheduleEntry.LATE_AFTER_RECONNECT) for _ in range(2)
    ]

    response = alices_api.post("/api/entries/send-paused/")

    assert response.status_code == 200
    assert response.json() == {"sent": 2}
    assert {e.status for e in ScheduleEntry.objects.filter(pk__in=[e.pk for e in late])} == {"pending"}


def test_dates_of_an_account_still_to_reconnect_stay_paused(
    alices_api: APIClient, alices_post: Post, alices_account: SocialAccount
) -> None:
    alices_account.mark_needs_reconnect("Revoked.")
    entry = add_entry(alices_post, "paused")

    assert alices_api.post("/api/entries/send-paused/").json() == {"sent": 0}
    assert alices_api.get(f"/api/entries/{entry.pk}/").json()["status"] == "paused"


def test_a_paused_date_can_be_cancelled(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "paused")

    response = alices_api.post(f"/api/entries/{entry.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
