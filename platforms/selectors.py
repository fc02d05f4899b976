"""Reads of accounts shared by the accounts page and the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from platforms.models import SocialAccount

# PublishAttempt outcomes that count as a failure, named as strings: platforms never imports publishing.
FAILED_OUTCOMES = ("retry", "failed", "unconfirmed", "interrupted")
_ATTEMPTS = "posts__entries__publish_attempts"


def accounts_with_health(*, owner_id: int, now: datetime | None = None) -> QuerySet[SocialAccount]:
    """The owner's accounts, each annotated with `failures_last_24h`, in one query."""
    since = (now or timezone.now()) - timedelta(hours=24)
    failures = Count(
        _ATTEMPTS,
        filter=Q(**{f"{_ATTEMPTS}__finished_at__gte": since, f"{_ATTEMPTS}__outcome__in": FAILED_OUTCOMES}),
    )
    return (
        SocialAccount.objects.filter(owner_id=owner_id)
        .annotate(failures_last_24h=failures)
        .order_by("platform", "display_name", "id")
    )
