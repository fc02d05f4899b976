"""Notifications: the incident (one row per user and incident key), where it went, and preferences.

A `Notification` is both the incident record and its in-app entry: the unique key is what makes
"retried three times, then failed" one message, and a redelivered task a no-op. Each channel's send
is a `Delivery`, claimed with a conditional UPDATE so a duplicate task never sends twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifications.events import DEFAULTS, Channel, Event
from platforms.crypto import EncryptedTextField


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=32, choices=Event.choices)
    incident_key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    action_url = models.CharField(max_length=500, blank=True, default="")
    action_label = models.CharField(max_length=100, blank=True, default="")
    context = models.JSONField(default=dict, blank=True)
    # False when the person turned the in-app channel off for this event: kept as the incident record.
    in_app = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Stamped when the fan-out task ran; the sweep re-sends the task for one whose message was lost.
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "incident_key"], name="uniq_notification_incident")
        ]
        indexes = [
            # The unread count on every page.
            models.Index(
                fields=["user"],
                name="notification_unread_idx",
                condition=Q(in_app=True, read_at__isnull=True),
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_created_idx"),
            models.Index(
                fields=["created_at"],
                name="notification_not_fanned_idx",
                condition=Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} for {self.user}: {self.title}"


class NotificationPreference(models.Model):
    """Where one event goes for one person; no row means the defaults in notifications.events."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=32, choices=Event.choices)
    in_app = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    webhook = models.BooleanField(default=True)
    # Email this event in one daily message instead of at once.
    email_digest = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="uniq_preference_per_event")]

    def __str__(self) -> str:
        return f"{self.user}: {self.event}"

    @classmethod
    def default(cls, *, user_id: int, event: str) -> NotificationPreference:
        chosen = DEFAULTS.get(event, DEFAULTS[Event.DATE_FAILED])
        return cls(
            user_id=user_id, event=event, in_app=chosen.in_app, email=chosen.email, webhook=chosen.webhook
        )

    def wants(self, channel: str) -> bool:
        return bool(getattr(self, channel))


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


class WebhookEndpoint(models.Model):
    class Format(models.TextChoices):
        JSON = "json", "JSON (signed)"
        SLACK = "slack", "Slack incoming webhook"
        DISCORD = "discord", "Discord webhook"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.JSON)
    secret = EncryptedTextField(default=new_secret)
    description = models.CharField(max_length=200, blank=True, default="")
    # Failed attempts in a row; reset by any success. At the limit the endpoint is turned off.
    failure_count = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def record_success(self) -> None:
        WebhookEndpoint.objects.filter(pk=self.pk).update(failure_count=0, last_error="")

    def record_failure(self, *, error: str, limit: int, now: datetime) -> bool:
        """Count one failed attempt; True only for the call that turned the endpoint off."""
        WebhookEndpoint.objects.filter(pk=self.pk).update(
            failure_count=models.F("failure_count") + 1, last_error=error[:2000]
        )
        return (
            WebhookEndpoint.objects.filter(
                pk=self.pk, disabled_at__isnull=True, failure_count__gte=limit
            ).update(disabled_at=now)
            == 1
        )

    def enable(self) -> bool:
        return (
            WebhookEndpoint.objects.filter(pk=self.pk).update(
                disabled_at=None, failure_count=0, last_error=""
            )
            == 1
        )


class Delivery(models.Model):
    """One notification sent (or to be sent) on one channel: the log the admin lists."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DIGEST = "digest", "Waiting for the daily digest"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    SENDABLE: ClassVar[frozenset[str]] = frozenset({Status.PENDING, Status.RETRYING})

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    # "email", "in_app" or "webhook:<id>": unique per notification, so a second fan-out adds nothing.
    target = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["notification", "target"], name="uniq_delivery_per_target")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status__in=["pending", "retrying", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id} via {self.target}: {self.status}"

    def claim(self, *, now: datetime, lease_until: datetime) -> bool:
        """Take this delivery for one attempt: of two workers given the same task, one sends."""
        claimed = (
            Delivery.objects.filter(pk=self.pk, attempts=self.attempts)
            .filter(
                Q(status__in=self.SENDABLE, next_attempt_at__lte=now)
                | Q(status=self.Status.SENDING, lease_until__lt=now)
            )
            .update(status=self.Status.SENDING, attempts=self.attempts + 1, lease_until=lease_until)
        )
        if claimed != 1:
            return False
        self.status, self.attempts, self.lease_until = self.Status.SENDING, self.attempts + 1, lease_until
        return True

    def finish(
        self,
        *,
        status: str,
        now: datetime,
        error: str = "",
        response_status: int | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        changes: dict[str, object] = {
            "status": status,
            "lease_until": None,
            "last_error": error[:2000],
            "response_status": response_status,
        }
        if status == self.Status.SENT:
            changes["sent_at"] = now
        if next_attempt_at is not None:
            changes["next_attempt_at"] = next_attempt_at
        done = (
            Delivery.objects.filter(pk=self.pk, status=self.Status.SENDING, attempts=self.attempts).update(
                **changes
            )
            == 1
        )
        if done:
            for name, value in changes.items():
                setattr(self, name, value)
        return done
