"""When stored media files go away: with their last row, and a while after their post is done.

A file can be named by several rows (a post's duplicates, the posts of one multi-account compose),
so it is deleted only once no row names it, and only after the deleting transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from publishing.models import Post, PostMedia, ScheduleEntry
from publishing.uploads import remove_unreferenced

# Dates nothing can send again: a failed date can still be retried or rescheduled by its owner, so
# its media stays until the post is deleted.
DONE = (ScheduleEntry.Status.PUBLISHED, ScheduleEntry.Status.CANCELLED)
PURGE_BATCH = 500


@receiver(post_delete, sender=PostMedia, dispatch_uid="publishing.remove_media_file")
def _remove_file(sender: type[PostMedia], instance: PostMedia, **kwargs: Any) -> None:
    name = instance.file.name
    if name:
        transaction.on_commit(lambda: remove_unreferenced([name]), robust=True)


def purgeable_posts(*, now: datetime) -> Any:
    """Posts with media whose every date was done more than SOSOCIAL_MEDIA_RETENTION_DAYS ago."""
    cutoff = now - timedelta(days=settings.SOSOCIAL_MEDIA_RETENTION_DAYS)
    return (
        Post.objects.filter(media__isnull=False, entries__isnull=False)
        .exclude(entries__in=ScheduleEntry.objects.exclude(status__in=DONE))
        .annotate(last_change=Max("entries__updated_at"))
        .filter(Q(last_change__lt=cutoff))
        .distinct()
    )


def purge_media(*, now: datetime | None = None) -> int:
    """Delete the media of finished posts past the retention period; returns how many files' rows."""
    if settings.SOSOCIAL_MEDIA_RETENTION_DAYS <= 0:
        return 0
    moment = now or timezone.now()
    removed = 0
    while True:
        ids = list(purgeable_posts(now=moment).values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            return removed
        with transaction.atomic():
            count, _ = PostMedia.objects.filter(post_id__in=ids).delete()
        removed += count
