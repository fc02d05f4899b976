"""Notifications end to end: real worker and beat processes, a real SMTP server and a webhook receiver.

The worker consumes the `maintenance` queue beside `publish`, as in the Procfile; email goes over
SMTP to an aiosmtpd server this test starts, webhooks over HTTP to a local receiver.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from notifications import services as notifications
from notifications.events import Event
from notifications.mailcatcher import MailCatcher
from notifications.models import Delivery, Notification, WebhookEndpoint
from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.integration.conftest import Process, wait_for
from tests.notifications.conftest import documented_verify
from tests.support.receiver import WebhookReceiver
from tests.support.sink import Fault, SinkServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = ScheduleEntry.Status
StartProcess = Callable[[str], Process]
RETRYABLE = 503
REFUSED = 400


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    server = MailCatcher().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def platform_env(sink: SinkServer, smtp: MailCatcher) -> dict[str, str]:
    return {
        "SOSOCIAL_PLATFORM_CLIENTS": '{"x": "tests.support.sink.SinkClient"}',
        "SOSOCIAL_SINK_URL": sink.url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "SOSOCIAL_NOTIFY_RETRY_DELAYS": "1,1,1",
        "SOSOCIAL_WEBHOOK_DISABLE_AFTER": "3",
    }


@pytest.fixture
def alices_post(alice: User, alices_x: SocialAccount) -> Post:
    return Post.objects.create(owner=alice, account=alices_x, text="Launch day: 20% off everything")


def test_a_date_that_fails_after_its_retries_sends_exactly_one_email(
    alices_post: Post, sink: SinkServer, smtp: MailCatcher, processes: StartProcess
) -> None:
    processes("worker")
    [entry] = services.schedule_post(post=alices_post, when=[datetime.now(UTC) + timedelta(seconds=2)])
    for _ in range(ScheduleEntry.MAX_ATTEMPTS):
        sink.inject(Fault(kind="status", status=RETRYABLE, reference=entry.reference))

    wait_for(
        lambda: ScheduleEntry.objects.get(pk=entry.pk).status == Status.FAILED,
        timeout=30,
        what="the date to fail after its retries",
    )
    wait_for(lambda: len(smtp.messages) >= 1, timeout=15, what="the failure email")
    time.sleep(3)  # time enough for a second email, were one coming

    assert ScheduleEntry.objects.get(pk=entry.pk).attempts == ScheduleEntry.MAX_ATTEMPTS
    [message] = smtp.messages
    assert message["To"] == "alice@example.com"
    text = message.get_content()
    assert "Launch day: 20% off everything" in text
    assert "injected 503" in text or "Gave up after 4 attempts" in text
    assert f"http://127.0.0.1:8000/?status=failed#entry-{entry.pk}" in text
    assert Notification.objects.filter(event=Event.DATE_FAILED).count() == 1


@pytest.mark.usefixtures("fast_sweep")
def test_a_failing_webhook_is_retried_then_turned_off_while_publishing_carries_on(
    alice: User,
    alices_post: Post,
    sink: SinkServer,
    receiver: WebhookReceiver,
    processes: StartProcess,
) -> None:
    receiver.status = 500
    notifications.create_webhook(user_id=alice.pk, url=receiver.url, format="json")
    processes("worker")
    processes("beat")
    now = datetime.now(UTC)
    refused, later = services.schedule_post(
        post=alices_post, when=[now + timedelta(seconds=2), now + timedelta(seconds=9)]
    )
    sink.inject(Fault(kind="status", status=REFUSED, reference=refused.reference))

    wait_for(
        lambda: WebhookEndpoint.objects.get().disabled_at is not None,
        timeout=30,
        what="the endpoint to be turned off",
    )
    wait_for(
        lambda: ScheduleEntry.objects.get(pk=later.pk).status == Status.PUBLISHED,
        timeout=30,
        what="the later date to publish",
    )

    assert len(receiver.received) == 3
    verify = documented_verify()
    endpoint = WebhookEndpoint.objects.get()
    assert all(verify(endpoint.secret, r.headers, r.body) for r in receiver.received)
    assert json.loads(receiver.received[0].body)["event"] == Event.DATE_FAILED
    delivery = Delivery.objects.get(channel="webhook")
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 500)
    assert Notification.objects.filter(user=alice, event=Event.WEBHOOK_DISABLED).count() == 1
    [published] = [post for post in sink.posts if post.reference == later.reference]
    lateness = published.received_at - later.scheduled_at.timestamp()
    assert 0 <= lateness < 2.5, f"the later date was {lateness:.2f} s late"
