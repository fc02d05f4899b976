"""Webhooks: signed so the documented snippet verifies them, retried, turned off when they keep failing."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from pytest_django import Settings

from notifications import services
from notifications.events import Event
from notifications.models import Delivery, Notification, WebhookEndpoint
from tests.notifications.conftest import documented_verify
from tests.support.receiver import WebhookReceiver

pytestmark = pytest.mark.django_db
FAILED = {"entry_id": 7, "post_text": "Launch day!", "account": "X: @alice", "reason": "The sink said no."}


def failed_date(alice: User, key: str = "k") -> Notification:
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key=key, context=FAILED
    )
    assert notification is not None
    return notification


def test_a_receiver_gets_a_webhook_whose_signature_verifies_with_the_documented_snippet(
    alice: User, receiver: WebhookReceiver
) -> None:
    endpoint = services.create_webhook(user_id=alice.pk, url=receiver.url, format="json")
    notification = failed_date(alice)

    services.fan_out(notification_id=notification.pk)

    [request] = receiver.received
    verify = documented_verify()
    assert verify(endpoint.secret, request.headers, request.body) is True
    assert verify("whsec_someone-else", request.headers, request.body) is False
    assert verify(endpoint.secret, request.headers, request.body.replace(b"Launch", b"Lunch")) is False
    payload = json.loads(request.body)
    assert payload["event"] == "date_failed"
    assert payload["data"]["reason"] == "The sink said no."
    assert payload["action"]["url"] == "http://127.0.0.1:8000/?status=failed#entry-7"
    assert request.headers["X-SoSocial-Event"] == "date_failed"


@pytest.mark.parametrize(("format", "key"), [("slack", "text"), ("discord", "content")])
def test_slack_and_discord_endpoints_get_the_message_in_their_shape(
    alice: User, receiver: WebhookReceiver, format: str, key: str
) -> None:
    services.create_webhook(user_id=alice.pk, url=receiver.url, format=format)

    services.fan_out(notification_id=failed_date(alice).pk)

    [request] = receiver.received
    body = json.loads(request.body)
    assert list(body) == [key]
    assert "Launch day!" in body[key]
    assert "http://127.0.0.1:8000/?status=failed#entry-7" in body[key]


def test_a_failing_receiver_is_retried_then_turned_off_and_its_owner_told(
    alice: User, receiver: WebhookReceiver, settings: Settings
) -> None:
    settings.SOSOCIAL_NOTIFY_RETRY_DELAYS = [0, 0, 0]
    settings.SOSOCIAL_WEBHOOK_DISABLE_AFTER = 3
    receiver.status = 500
    endpoint = services.create_webhook(user_id=alice.pk, url=receiver.url, format="json")
    services.set_preference(
        user_id=alice.pk, event=Event.DATE_FAILED, in_app=True, email=False, webhook=True, email_digest=False
    )

    services.fan_out(notification_id=failed_date(alice).pk)
    delivery = Delivery.objects.get(channel="webhook")
    assert delivery.status == Delivery.Status.RETRYING
    services.deliver(delivery_id=delivery.pk)
    services.deliver(delivery_id=delivery.pk)
    services.deliver(delivery_id=delivery.pk)  # nothing left: the delivery has failed for good

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert len(receiver.received) == 3
    assert {r.headers["X-SoSocial-Delivery"] for r in receiver.received} == {str(delivery.pk)}
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 500)
    assert endpoint.disabled_at is not None
    notice = Notification.objects.get(user=alice, event=Event.WEBHOOK_DISABLED)
    assert receiver.url in notice.body
    assert notice.in_app is True

    services.fan_out(notification_id=failed_date(alice, key="next").pk)
    assert len(receiver.received) == 3, "a turned-off endpoint gets nothing more"


def test_a_success_resets_the_failure_count(
    alice: User, receiver: WebhookReceiver, settings: Settings
) -> None:
    settings.SOSOCIAL_NOTIFY_RETRY_DELAYS = [0, 0, 0]
    receiver.status = 503
    endpoint = services.create_webhook(user_id=alice.pk, url=receiver.url, format="json")
    services.fan_out(notification_id=failed_date(alice).pk)
    receiver.status = 204

    assert services.deliver(delivery_id=Delivery.objects.get(channel="webhook").pk) is True

    endpoint.refresh_from_db()
    assert (endpoint.failure_count, endpoint.disabled_at) == (0, None)


def test_production_refuses_plain_http_and_private_addresses(alice: User, settings: Settings) -> None:
    settings.SOSOCIAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS = True
    for url in (
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://localhost/x",
    ):
        with pytest.raises(ValidationError):
            services.create_webhook(user_id=alice.pk, url=url, format="json")

    assert services.create_webhook(user_id=alice.pk, url="https://hooks.example.com/x", format="json").pk
    assert WebhookEndpoint.objects.count() == 1
