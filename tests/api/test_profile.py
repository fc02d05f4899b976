from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from publishing.models import Profile

pytestmark = pytest.mark.django_db


def test_alices_time_zone_is_utc_until_she_chooses(alices_api: APIClient) -> None:
    response = alices_api.get("/api/profile/")

    assert response.status_code == 200
    assert response.json() == {"time_zone": "UTC", "lateness_tolerance_minutes": 60}


def test_alice_chooses_her_time_zone(alices_api: APIClient, alice: User) -> None:
    response = alices_api.put("/api/profile/", {"time_zone": "Europe/Paris"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"time_zone": "Europe/Paris", "lateness_tolerance_minutes": 60}
    assert Profile.objects.get(user=alice).time_zone == "Europe/Paris"


def test_alice_chooses_how_late_a_paused_date_may_still_go_out(alices_api: APIClient, alice: User) -> None:
    response = alices_api.put(
        "/api/profile/", {"time_zone": "UTC", "lateness_tolerance_minutes": 15}, format="json"
    )

    assert response.status_code == 200
    assert Profile.objects.get(user=alice).lateness_tolerance_minutes == 15
    refused = alices_api.put(
        "/api/profile/", {"time_zone": "UTC", "lateness_tolerance_minutes": -1}, format="json"
    )
    assert list(refused.json()["error"]["fields"]) == ["lateness_tolerance_minutes"]


@pytest.mark.parametrize(("body", "field"), [({"time_zone": "Mars/Olympus"}, "time_zone"), ({}, "time_zone")])
def test_an_unknown_time_zone_is_refused(
    alices_api: APIClient, alice: User, body: dict[str, str], field: str
) -> None:
    response = alices_api.put("/api/profile/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Profile.objects.filter(user=alice, time_zone="Mars/Olympus").exists()


def test_bob_changing_his_time_zone_leaves_alices_alone(
    bobs_api: APIClient, alices_api: APIClient, alice: User
) -> None:
    alices_api.put("/api/profile/", {"time_zone": "Asia/Tokyo"}, format="json")

    bobs_api.put("/api/profile/", {"time_zone": "America/New_York"}, format="json")

    assert Profile.objects.get(user=alice).time_zone == "Asia/Tokyo"
