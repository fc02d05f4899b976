"""Reads shared by the pages, the API and the admin: every query scoped to its owner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from platforms.models import SocialAccount
from publishing.models import Post, PublishAttempt, ScheduleEntry

Status = ScheduleEntry.Status

# Attempts that count against an account's health: every outcome but a success.
FAILED_OUTCOMES = frozenset(PublishAttempt.Outcome.values) - {PublishAttempt.Outcome.PUBLISHED}
_ATTEMPTS = "posts__entries__publish_attempts"


def posts_for(*, owner_id: int) -> QuerySet[Post]:
    """The owner's posts, newest first, with account, dates and media loaded in a fixed number of queries.

    publishing.filters narrows it for the page and the API.
    """
    return (
        Post.objects.filter(owner_id=owner_id)
        .select_related("account")
        .prefetch_related(
            Prefetch("entries", queryset=ScheduleEntry.objects.order_by("scheduled_at", "id")),
            "media",
        )
        .order_by("-created_at", "-id")
    )


def posts_by_date(*, owner_id: int) -> QuerySet[Post]:
    """The Posts page's order: upcoming posts by their next date, then drafts, then the rest, latest first."""
    waiting = [Status.PENDING, Status.RETRYING, Status.PUBLISHING]
    return (
        posts_for(owner_id=owner_id)
        .annotate(
            next_at=Min("entries__scheduled_at", filter=Q(entries__status__in=waiting)),
            last_at=Max("entries__scheduled_at"),
        )
        .order_by(
            F("next_at").asc(nulls_last=True), F("last_at").desc(nulls_first=True), "-created_at", "-id"
        )
    )


# Failures older than this leave "needs attention" (they stay on their post, and in the filters).
ATTENTION_WINDOW = timedelta(days=7)
ATTENTION_LIMIT = 20


@dataclass
class Attention:
    """What stops the owner's dates from going out, each item with its fix."""

    reconnect: list[SocialAccount] = field(default_factory=list)  # each with `failed_dates`
    retry_ready: list[SocialAccount] = field(default_factory=list)  # connected again, `failed_dates`
    entries: list[ScheduleEntry] = field(default_factory=list)  # failed or waiting for the user

    @property
    def count(self) -> int:
        return len(self.reconnect) + len(self.retry_ready) + len(self.entries)


def needs_attention(*, owner_id: int, now: datetime | None = None) -> Attention:
    """Accounts to reconnect, accounts whose failed dates can be retried now, and recent failed or
    unconfirmed dates that wait for the owner (newest first), in four queries."""
    since = (now or timezone.now()) - ATTENTION_WINDOW
    failed = Q(posts__entries__status=Status.FAILED)
    reconnected = Q(posts__entries__last_error_code=ScheduleEntry.RECONNECTED_CODE)
    accounts = SocialAccount.objects.filter(owner_id=owner_id).order_by("platform", "display_name", "id")
    reconnect = list(
        accounts.filter(status=SocialAccount.Status.NEEDS_RECONNECT).annotate(
            failed_dates=Count("posts__entries", filter=failed)
        )
    )
    retry_ready = list(
        accounts.filter(status=SocialAccount.Status.CONNECTED)
        .annotate(failed_dates=Count("posts__entries", filter=failed & reconnected))
        .filter(failed_dates__gt=0)
    )
    entries = list(
        ScheduleEntry.objects.filter(post__owner_id=owner_id, updated_at__gte=since)
        .filter(
            Q(status=Status.FAILED, post__account__status=SocialAccount.Status.CONNECTED)
            & ~Q(last_error_code=ScheduleEntry.RECONNECTED_CODE)
            | Q(status=Status.UNCONFIRMED, reconciled_at__isnull=False)
        )
        .select_related("post__account")
        .order_by("-scheduled_at", "-id")[:ATTENTION_LIMIT]
    )
    return Attention(
        reconnect=cast("list[SocialAccount]", reconnect),
        retry_ready=cast("list[SocialAccount]", retry_ready),
        entries=entries,
    )


def entries_for(
    *, owner_id: int, date_from: datetime | None = None, date_to: datetime | None = None
) -> QuerySet[ScheduleEntry]:
    """The owner's dates in a range (the calendar), with their post and account."""
    entries = ScheduleEntry.objects.filter(post__owner_id=owner_id)
    if date_from:
        entries = entries.filter(scheduled_at__gte=date_from)
    if date_to:
        entries = entries.filter(scheduled_at__lt=date_to)
    return entries.select_related("post__account").order_by("scheduled_at", "id")


def post_of(*, owner_id: int, post_id: int) -> Post:
    """One of the owner's posts; another user's id raises Post.DoesNotExist (a 404, never a leak)."""
    return posts_for(owner_id=owner_id).get(pk=post_id)


def entry_of(*, owner_id: int, entry_id: int) -> ScheduleEntry:
    return ScheduleEntry.objects.select_related("post__account").get(pk=entry_id, post__owner_id=owner_id)


def attempts_of(entry: ScheduleEntry) -> QuerySet[PublishAttempt]:
    return entry.publish_attempts.order_by("dispatch_version", "number", "id")


def attach_group_accounts(posts: Iterable[Post]) -> None:
    """Set `post.sent_with`: the other accounts of its group, for all `posts` in one query."""
    posts = list(posts)
    groups = {post.group for post in posts if post.group}
    members: dict[UUID, list[Post]] = {}
    if groups:
        for member in Post.objects.filter(group__in=groups).select_related("account").order_by("id"):
            assert member.group is not None
            members.setdefault(member.group, []).append(member)
    for post in posts:
        siblings = members.get(post.group, []) if post.group else []
        post.sent_with = [m.account for m in siblings if m.pk != post.pk]  # type: ignore[attr-defined]


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


def paused_counts(*, owner_id: int) -> dict[str, int]:
    """Paused dates by whether their account is back: `ready` ones wait for the owner's word,
    `reconnect` ones for the account."""
    paused = ScheduleEntry.objects.filter(post__owner_id=owner_id, status=ScheduleEntry.Status.PAUSED)
    ready = paused.filter(post__account__status=SocialAccount.Status.CONNECTED).count()
    return {"ready": ready, "reconnect": paused.count() - ready}
