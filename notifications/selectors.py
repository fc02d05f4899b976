"""Reads scoped to their owner, shared by the pages, the API and the context processor."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.models import Notification, WebhookEndpoint

MAX_ID = 2**63 - 1


def notifications_for(*, user_id: int, unread_only: bool = False) -> QuerySet[Notification]:
    found = Notification.objects.filter(user_id=user_id, in_app=True)
    return found.filter(read_at__isnull=True) if unread_only else found


def unread_count(*, user_id: int) -> int:
    return notifications_for(user_id=user_id, unread_only=True).count()


def webhooks_for(*, user_id: int) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user_id=user_id)


def webhook_of(*, user_id: int, webhook_id: int) -> WebhookEndpoint:
    """Raises WebhookEndpoint.DoesNotExist for another user's id (a 404 in the API)."""
    if webhook_id > MAX_ID:  # no such row, and SQLite cannot even compare it
        raise WebhookEndpoint.DoesNotExist
    return webhooks_for(user_id=user_id).get(pk=webhook_id)
