"""notify(): one incident is one notification, sent after commit, once per channel, never raising."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit
from pytest_django import Settings

from notifications import services
from notifications.events import Event
from notifications.models import Delivery, Notification, NotificationPreference
from tests.notifications.conftest import choose_channels
from tests.support.broker import Broker

pytestmark = pytest.mark.django_db
FAILED = {"entry_id": 7, "post_text": "Launch day!", "account": "X: @alice", "reason": "The sink said no."}


def test_it_records_an_incident_once_however_often_it_is_reported(alice: User) -> None:
    first = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="failed:7", context=FAILED
    )
    again = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="failed:7", context=FAILED
    )

    assert first is not None
    assert again is None
    assert Notification.objects.filter(user=alice).count() == 1
    assert "Launch day!" in first.title
    assert first.action_url == "/?status=failed#entry-7"


def test_it_queues_the_fan_out_on_the_maintenance_queue_only_after_the_commit(
    alice: User, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = services.notify(
            event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED
        )
        assert broker.messages("maintenance") == []

    assert notification is not None
    assert len(callbacks) == 1
    assert [(m.task, m.args) for m in broker.messages("maintenance")] == [
        ("notifications.fan_out", (notification.pk,))
    ]
    assert broker.messages("publish") == []


def test_a_rolled_back_caller_leaves_no_notification(alice: User) -> None:
    with transaction.atomic():
        services.notify(event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED)
        transaction.set_rollback(True)

    assert not Notification.objects.exists()


def test_an_error_inside_notify_is_logged_and_never_reaches_the_caller(
    alice: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the notifications table is on fire")

    monkeypatch.setattr(services, "describe", broken)
    with transaction.atomic():
        result = services.notify(event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED)
        # The caller's transaction is still usable.
        assert User.objects.filter(pk=alice.pk).exists()

    assert result is None
    assert "the notifications table is on fire" in caplog.text


def test_a_duplicate_fan_out_task_sends_one_email(alice: User) -> None:
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED
    )
    assert notification is not None

    services.fan_out(notification_id=notification.pk)
    services.fan_out(notification_id=notification.pk)
    delivery = Delivery.objects.get(notification=notification)
    services.deliver(delivery_id=delivery.pk)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert "The sink said no." in str(mail.outbox[0].body)
    assert "http://127.0.0.1:8000/?status=failed#entry-7" in str(mail.outbox[0].body)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)


def test_the_email_channel_follows_the_preference(alice: User) -> None:
    choose_channels(alice, Event.DATE_FAILED)
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED
    )
    assert notification is not None

    services.fan_out(notification_id=notification.pk)

    assert mail.outbox == []
    assert notification.in_app is False
    assert not Delivery.objects.exists()


def test_digest_emails_wait_and_go_out_together_once(alice: User) -> None:
    NotificationPreference.objects.create(user=alice, event=Event.DATE_FAILED, email_digest=True)
    for key in ("a", "b"):
        notification = services.notify(
            event=Event.DATE_FAILED, user_id=alice.pk, incident_key=key, context=FAILED
        )
        assert notification is not None
        services.fan_out(notification_id=notification.pk)
    assert mail.outbox == []

    assert services.send_digests() == 1
    assert services.send_digests() == 0

    assert len(mail.outbox) == 1
    assert "2 notification(s)" in mail.outbox[0].subject
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_a_mail_server_that_refuses_is_retried_later(alice: User, settings: Settings) -> None:
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED
    )
    assert notification is not None
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 9  # discard: nothing listens

    services.fan_out(notification_id=notification.pk)

    delivery = Delivery.objects.get(notification=notification)
    assert delivery.status == Delivery.Status.RETRYING
    assert "mail server" in delivery.last_error


def test_the_sweep_resends_a_lost_fan_out(alice: User, broker: Broker) -> None:
    notification = services.notify(
        event=Event.DATE_FAILED, user_id=alice.pk, incident_key="k", context=FAILED
    )
    assert notification is not None

    report = services.sweep(now=timezone.now() + timedelta(minutes=10))

    assert report.fan_outs == 1
    assert [m.args for m in broker.messages("maintenance")] == [(notification.pk,)]
