"""Notifications and webhook endpoints in the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from notifications import services
from notifications.events import Event
from notifications.models import Notification, WebhookEndpoint

pytestmark = pytest.mark.django_db


def failure(user: User, key: str) -> Notification:
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=user.pk, incident_key=key, context={"entry_id": 3, "reason": "No."}
    )
    assert notification is not None
    return notification


def test_it_lists_your_notifications_newest_first_with_the_action_link(
    alices_api: APIClient, alice: User, bob: User
) -> None:
    first, second = failure(alice, "a"), failure(alice, "b")
    failure(bob, "c")

    response = alices_api.get("/api/notifications/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [second.pk, first.pk]
    assert results[0]["action_url"] == "http://127.0.0.1:8000/?status=failed#entry-3"
    assert results[0]["read"] is False


def test_it_marks_given_or_all_notifications_read(alices_api: APIClient, alice: User) -> None:
    first, second, third = failure(alice, "a"), failure(alice, "b"), failure(alice, "c")

    assert alices_api.post("/api/notifications/read/", {"ids": [first.pk]}, format="json").json() == {
        "marked": 1
    }
    unread = alices_api.get("/api/notifications/", {"unread": "true"}).json()["results"]
    assert {item["id"] for item in unread} == {second.pk, third.pk}
    assert alices_api.post("/api/notifications/read/", {"all": True}, format="json").json() == {"marked": 2}


def test_marking_read_needs_ids_or_all(alices_api: APIClient) -> None:
    response = alices_api.post("/api/notifications/read/", {}, format="json")

    assert response.status_code == 400
    assert "ids" in response.json()["error"]["fields"]


def test_a_new_webhook_shows_its_secret_once(alices_api: APIClient) -> None:
    created = alices_api.post(
        "/api/webhooks/", {"url": "https://hooks.example.com/sosocial", "format": "slack"}, format="json"
    )

    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] == WebhookEndpoint.objects.get().secret
    shown_again = alices_api.get(f"/api/webhooks/{body['id']}/").json()
    assert "secret" not in shown_again
    assert "secret" not in alices_api.get("/api/webhooks/").json()["results"][0]


def test_a_webhook_can_be_changed_turned_back_on_and_removed(alices_api: APIClient, alice: User) -> None:
    endpoint = services.create_webhook(user_id=alice.pk, url="https://hooks.example.com/a", format="json")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at="2026-11-28T12:00:00Z", failure_count=12
    )

    changed = alices_api.patch(
        f"/api/webhooks/{endpoint.pk}/", {"enabled": True, "format": "discord"}, format="json"
    )

    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["format"], changed.json()["failure_count"]) == (
        True,
        "discord",
        0,
    )
    assert alices_api.delete(f"/api/webhooks/{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_webhook_url_is_a_400_naming_the_field(alices_api: APIClient) -> None:
    response = alices_api.post("/api/webhooks/", {"url": "ftp://example.com/x"}, format="json")

    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]


def test_another_users_webhook_is_a_404(bobs_api: APIClient, alice: User) -> None:
    endpoint = services.create_webhook(user_id=alice.pk, url="https://hooks.example.com/a", format="json")

    assert bobs_api.get(f"/api/webhooks/{endpoint.pk}/").status_code == 404
    assert (
        bobs_api.patch(f"/api/webhooks/{endpoint.pk}/", {"enabled": False}, format="json").status_code == 404
    )
    assert bobs_api.delete(f"/api/webhooks/{endpoint.pk}/").status_code == 404
    assert WebhookEndpoint.objects.get().is_active
