"""Notifications: record an incident once, then fan it out to the person's channels, off the hot path.

`notify()` is the one entry point. It writes one row in the caller's transaction (a savepoint) and,
after the commit, sends a task to the `maintenance` queue that does the sending. Nothing in here may
slow or break publishing: every error is logged and swallowed at the entry point.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import channels
from notifications.events import CHOOSABLE, Channel, Event, describe
from notifications.models import Delivery, Notification, NotificationPreference, WebhookEndpoint

logger = logging.getLogger(__name__)

FAN_OUT_TASK = "notifications.fan_out"
DELIVER_TASK = "notifications.deliver"
# Longer than the slowest send (SMTP and webhook timeouts are seconds), so a live send is never
# taken over; a worker that died mid-send is retried after it.
SEND_LEASE = timedelta(minutes=2)


def retry_delays() -> list[int]:
    return list(settings.SOSOCIAL_NOTIFY_RETRY_DELAYS)


def _after_commit(send: Callable[[], None]) -> None:
    def guarded() -> None:
        try:
            send()
        except Exception:
            # The row is saved; the notifications sweep sends the message again later.
            logger.warning("Could not queue a notification task; the sweep will.", exc_info=True)

    transaction.on_commit(guarded)


def _send_fan_out(notification_id: int) -> None:
    current_app.send_task(FAN_OUT_TASK, args=(notification_id,))


def _send_delivery(delivery_id: int, countdown: float = 0) -> None:
    current_app.send_task(DELIVER_TASK, args=(delivery_id,), countdown=countdown)


def _queue_fan_out(notification_id: int) -> None:
    _after_commit(lambda: _send_fan_out(notification_id))


def _queue_delivery(delivery_id: int, countdown: float = 0) -> None:
    _after_commit(lambda: _send_delivery(delivery_id, countdown))


# -- the entry point --------------------------------------------------------------------------------
def notify(
    *, event: str, user_id: int, incident_key: str, context: Mapping[str, Any] | None = None
) -> Notification | None:
    """Record this incident for the user once; the channels hear of it after the caller commits.

    Returns the new notification, or None if this incident was already recorded (or recording it
    failed, which is logged: a notification never fails the caller's work).
    """
    try:
        return _record(event=event, user_id=user_id, incident_key=incident_key, context=dict(context or {}))
    except Exception:
        logger.exception("Could not record notification %s for user %s", incident_key, user_id)
        return None


def _record(*, event: str, user_id: int, incident_key: str, context: dict[str, Any]) -> Notification | None:
    message = describe(event, context)
    preference = preference_for(user_id=user_id, event=event)
    # A savepoint: a failure here rolls back this row only, never the caller's transaction.
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            user_id=user_id,
            incident_key=incident_key[:200],
            defaults={
                "event": event,
                "title": message.title[:300],
                "body": message.body,
                "action_url": message.action_url,
                "action_label": message.action_label,
                "context": context,
                "in_app": preference.in_app,
            },
        )
        if not created:
            return None
        _queue_fan_out(notification.pk)
    return notification


# -- preferences ------------------------------------------------------------------------------------
def preference_for(*, user_id: int, event: str) -> NotificationPreference:
    found = NotificationPreference.objects.filter(user_id=user_id, event=event).first()
    return found or NotificationPreference.default(user_id=user_id, event=event)


def preferences_for(*, user_id: int) -> list[NotificationPreference]:
    saved = {p.event: p for p in NotificationPreference.objects.filter(user_id=user_id)}
    return [
        saved.get(event) or NotificationPreference.default(user_id=user_id, event=event)
        for event in CHOOSABLE
    ]


def set_preference(
    *, user_id: int, event: str, in_app: bool, email: bool, webhook: bool, email_digest: bool
) -> NotificationPreference:
    if event not in CHOOSABLE:
        raise ValidationError({"event": f"“{event}” is not an event you can choose."})
    preference, _ = NotificationPreference.objects.update_or_create(
        user_id=user_id,
        event=event,
        defaults={"in_app": in_app, "email": email, "webhook": webhook, "email_digest": email_digest},
    )
    return preference


# -- fan-out and sending ----------------------------------------------------------------------------
def fan_out(*, notification_id: int) -> int:
    """Create one delivery per chosen channel and send the immediate ones; safe to run twice."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return 0
    preference = preference_for(user_id=notification.user_id, event=notification.event)
    wanted: list[tuple[str, str, WebhookEndpoint | None, Delivery.Status]] = []
    if preference.email:
        status = Delivery.Status.DIGEST if preference.email_digest else Delivery.Status.PENDING
        wanted.append((Channel.EMAIL, Channel.EMAIL, None, status))
    if preference.webhook:
        for endpoint in WebhookEndpoint.objects.filter(
            user_id=notification.user_id, disabled_at__isnull=True
        ):
            wanted.append((Channel.WEBHOOK, f"webhook:{endpoint.pk}", endpoint, Delivery.Status.PENDING))
    for channel, target, hook, initial in wanted:
        Delivery.objects.get_or_create(
            notification=notification,
            target=target,
            defaults={"channel": channel, "endpoint": hook, "status": initial},
        )
    Notification.objects.filter(pk=notification.pk, fanned_out_at__isnull=True).update(
        fanned_out_at=timezone.now()
    )
    sent = 0
    for delivery_id in notification.deliveries.filter(status=Delivery.Status.PENDING).values_list(
        "pk", flat=True
    ):
        sent += deliver(delivery_id=delivery_id)
    return sent


def deliver(*, delivery_id: int) -> bool:
    """One attempt at one delivery, if this call wins the claim; True if it was sent."""
    delivery = (
        Delivery.objects.select_related("notification__user", "endpoint").filter(pk=delivery_id).first()
    )
    now = timezone.now()
    if delivery is None or not delivery.claim(now=now, lease_until=now + SEND_LEASE):
        return False
    notification = delivery.notification
    endpoint = delivery.endpoint
    try:
        if delivery.channel == Channel.EMAIL:
            channels.send_email(notification, address=notification.user.email)
            response_status = None
        elif endpoint is None or not endpoint.is_active:
            delivery.finish(
                status=Delivery.Status.SKIPPED, now=now, error="The endpoint was removed or turned off."
            )
            return False
        else:
            response_status = channels.send_webhook(notification, endpoint=endpoint, delivery_id=delivery.pk)
    except channels.Undeliverable as error:
        delivery.finish(status=Delivery.Status.FAILED, now=timezone.now(), error=error.message)
        return False
    except Exception as error:
        failure = error if isinstance(error, channels.DeliveryError) else None
        if failure is None:
            logger.exception("Unexpected error sending delivery %s", delivery.pk)
        _failed_attempt(
            delivery,
            error=failure.message if failure else f"{type(error).__name__}: {error}",
            response_status=failure.response_status if failure else None,
        )
        return False
    delivery.finish(status=Delivery.Status.SENT, now=timezone.now(), response_status=response_status)
    if endpoint is not None:
        endpoint.record_success()
    return True


def _failed_attempt(delivery: Delivery, *, error: str, response_status: int | None) -> None:
    now = timezone.now()
    endpoint = delivery.endpoint
    turned_off = False
    if endpoint is not None:
        turned_off = endpoint.record_failure(
            error=error, limit=settings.SOSOCIAL_WEBHOOK_DISABLE_AFTER, now=now
        )
    delays = retry_delays()
    if turned_off or delivery.attempts > len(delays):
        delivery.finish(status=Delivery.Status.FAILED, now=now, error=error, response_status=response_status)
    else:
        delay = delays[delivery.attempts - 1]
        if delivery.finish(
            status=Delivery.Status.RETRYING,
            now=now,
            error=error,
            response_status=response_status,
            next_attempt_at=now + timedelta(seconds=delay),
        ):
            _queue_delivery(delivery.pk, countdown=delay)
    if turned_off and endpoint is not None:
        _endpoint_turned_off(endpoint, error=error, now=now)


def _endpoint_turned_off(endpoint: WebhookEndpoint, *, error: str, now: datetime) -> None:
    Delivery.objects.filter(endpoint=endpoint, status__in=Delivery.SENDABLE).update(
        status=Delivery.Status.SKIPPED, last_error="The endpoint was turned off after repeated failures."
    )
    notify(
        event=Event.WEBHOOK_DISABLED,
        user_id=endpoint.user_id,
        incident_key=f"webhook-disabled:{endpoint.pk}:{now.timestamp():.0f}",
        context={
            "url": endpoint.url,
            "failures": settings.SOSOCIAL_WEBHOOK_DISABLE_AFTER,
            "reason": error[:500],
        },
    )


# -- digests and the safety net ---------------------------------------------------------------------
def send_digests() -> int:
    """One email per person gathering the notifications they asked to receive daily."""
    sent = 0
    users = Delivery.objects.filter(status=Delivery.Status.DIGEST).values_list(
        "notification__user_id", flat=True
    )
    for user_id in sorted(set(users)):
        waiting = Delivery.objects.filter(status=Delivery.Status.DIGEST, notification__user_id=user_id)
        ids = list(waiting.values_list("pk", flat=True))
        now = timezone.now()
        # Taken in one UPDATE, so two digest runs never both send the same lines.
        if Delivery.objects.filter(pk__in=ids, status=Delivery.Status.DIGEST).update(
            status=Delivery.Status.SENDING, attempts=1, lease_until=now + SEND_LEASE
        ) != len(ids):
            continue
        taken = (
            Delivery.objects.filter(pk__in=ids).select_related("notification__user").order_by("created_at")
        )
        notifications = [item.notification for item in taken]
        lines = [f"- {n.title}\n  {n.action_label}: {channels.absolute(n.action_url)}" for n in notifications]
        user = notifications[0].user
        try:
            channels.send_email(
                notifications[0],
                address=user.email,
                subject=f"SoSocial: {len(notifications)} notification(s) from the last day",
                text="\n\n".join(lines),
            )
        except channels.DeliveryError as error:
            taken.update(status=Delivery.Status.DIGEST, lease_until=None, last_error=error.message)
            continue
        taken.update(status=Delivery.Status.SENT, lease_until=None, sent_at=timezone.now())
        sent += 1
    return sent


@dataclass
class SweepReport:
    fan_outs: int = 0
    deliveries: int = 0


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Send again what a lost message or a dead worker left behind."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.SOSOCIAL_SWEEP_GRACE_SECONDS)
    report = SweepReport()
    lost = Notification.objects.filter(
        fanned_out_at__isnull=True, created_at__lt=now - grace, created_at__gt=now - timedelta(days=1)
    ).values_list("pk", flat=True)[:500]
    for notification_id in lost:
        _send_fan_out(notification_id)
        report.fan_outs += 1
    due = Delivery.objects.filter(
        Q(status__in=Delivery.SENDABLE, next_attempt_at__lt=now - grace)
        | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    ).values_list("pk", flat=True)[:500]
    for delivery_id in due:
        _send_delivery(delivery_id)
        report.deliveries += 1
    return report


# -- people's actions -------------------------------------------------------------------------------
def send_test(*, user_id: int, channel: str, endpoint: WebhookEndpoint | None = None) -> Notification:
    """A test message on one channel, sent now whatever the preferences say."""
    message = describe(Event.TEST, {})
    with transaction.atomic():
        notification = Notification.objects.create(
            user_id=user_id,
            event=Event.TEST,
            incident_key=f"test:{uuid4()}",
            title=message.title,
            body=message.body,
            action_url=message.action_url,
            action_label=message.action_label,
            in_app=channel == Channel.IN_APP,
            fanned_out_at=timezone.now(),
        )
        if channel == Channel.EMAIL:
            delivery = Delivery.objects.create(notification=notification, channel=channel, target=channel)
            _queue_delivery(delivery.pk)
        elif channel == Channel.WEBHOOK:
            if endpoint is None or endpoint.user_id != user_id or not endpoint.is_active:
                raise ValidationError({"endpoint": "Choose one of your webhook endpoints that is turned on."})
            delivery = Delivery.objects.create(
                notification=notification, channel=channel, endpoint=endpoint, target=f"webhook:{endpoint.pk}"
            )
            _queue_delivery(delivery.pk)
    return notification


def mark_read(*, user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the given notifications (or all) read; returns how many changed."""
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


PRIVATE_HOSTS = {"localhost", "localhost.localdomain"}


def check_webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError({"url": "Give an http:// or https:// address."})
    if settings.SOSOCIAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS:
        if parts.scheme != "https":
            raise ValidationError({"url": "Use an https:// address: the payload carries your posts."})
        host = parts.hostname.lower()
        try:
            private = not ipaddress.ip_address(host).is_global
        except ValueError:
            private = host in PRIVATE_HOSTS or host.endswith(".localhost")
        if private:
            raise ValidationError({"url": "Give a public address; SoSocial does not call private networks."})
    return url


def create_webhook(*, user_id: int, url: str, format: str, description: str = "") -> WebhookEndpoint:
    if WebhookEndpoint.objects.filter(user_id=user_id).count() >= settings.SOSOCIAL_WEBHOOKS_PER_USER:
        raise ValidationError(
            {"url": f"You can have at most {settings.SOSOCIAL_WEBHOOKS_PER_USER} endpoints."}
        )
    return WebhookEndpoint.objects.create(
        user_id=user_id, url=check_webhook_url(url), format=format, description=description
    )


def update_webhook(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    format: str | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    fields = []
    if url is not None:
        endpoint.url = check_webhook_url(url)
        fields.append("url")
    if format is not None:
        endpoint.format = format
        fields.append("format")
    if description is not None:
        endpoint.description = description
        fields.append("description")
    if fields:
        endpoint.save(update_fields=fields)
    if enabled is True and not endpoint.is_active:
        endpoint.enable()
    elif enabled is False and endpoint.is_active:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(disabled_at=timezone.now())
    endpoint.refresh_from_db()
    return endpoint


def delete_webhook(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
