"""Media files go away with their post, and a while after every date of the post is done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings

from platforms.models import SocialAccount
from publishing import media_lifecycle, services, tasks
from publishing.models import Post, PostMedia, ScheduleEntry
from tests.security.conftest import stored_files
from tests.support.media import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x", "media_root")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


@pytest.fixture
def post_with_photo(alices_account: SocialAccount) -> Post:
    with time_machine.travel(NOW, tick=False):
        return services.compose_post(
            owner_id=alices_account.owner_id,
            account=alices_account,
            text="Photo",
            when=[TOMORROW],
            media=[SimpleUploadedFile("a.jpg", image_bytes())],
        )


def finish(post: Post, status: str, *, at: datetime) -> None:
    post.entries.update(status=status, updated_at=at)


def test_deleting_a_post_removes_its_files(
    post_with_photo: Post,
    media_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    assert len(stored_files(media_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_post(post=post_with_photo)

    assert stored_files(media_root) == []


def test_a_file_shared_with_a_duplicate_stays_until_its_last_post_is_deleted(
    post_with_photo: Post,
    media_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    copy = services.duplicate_post(post=post_with_photo)

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_post(post=post_with_photo)
    assert len(stored_files(media_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_post(post=copy)
    assert stored_files(media_root) == []


@pytest.mark.parametrize("status", ["published", "cancelled"])
def test_media_of_a_post_done_longer_than_the_retention_is_purged(
    post_with_photo: Post,
    media_root: Path,
    settings: Settings,
    status: str,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.SOSOCIAL_MEDIA_RETENTION_DAYS = 30
    finish(post_with_photo, status, at=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        removed = media_lifecycle.purge_media(now=NOW + timedelta(days=31))

    assert removed == 1
    assert not PostMedia.objects.exists()
    assert stored_files(media_root) == []
    assert Post.objects.filter(pk=post_with_photo.pk).exists()


def test_the_periodic_task_purges_too(
    post_with_photo: Post,
    media_root: Path,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    finish(post_with_photo, "published", at=NOW - timedelta(days=400))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.purge_media()

    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("status", "days_later"),
    [("published", 29), ("failed", 400), ("pending", 400), ("unconfirmed", 400), ("retrying", 400)],
)
def test_media_that_may_still_be_needed_is_kept(
    post_with_photo: Post, media_root: Path, settings: Settings, status: str, days_later: int
) -> None:
    settings.SOSOCIAL_MEDIA_RETENTION_DAYS = 30
    finish(post_with_photo, status, at=NOW)

    assert media_lifecycle.purge_media(now=NOW + timedelta(days=days_later)) == 0
    assert len(stored_files(media_root)) == 1


def test_one_date_still_waiting_keeps_the_media_of_a_post_with_a_published_one(
    post_with_photo: Post, media_root: Path
) -> None:
    finish(post_with_photo, "published", at=NOW)
    later = TOMORROW + timedelta(days=1)
    ScheduleEntry.objects.create(post=post_with_photo, scheduled_at=later, next_attempt_at=later)

    assert media_lifecycle.purge_media(now=NOW + timedelta(days=400)) == 0
    assert len(stored_files(media_root)) == 1


def test_a_retention_of_zero_keeps_media_forever(post_with_photo: Post, settings: Settings) -> None:
    settings.SOSOCIAL_MEDIA_RETENTION_DAYS = 0
    finish(post_with_photo, "published", at=NOW - timedelta(days=4000))

    assert media_lifecycle.purge_media() == 0


def test_the_purge_runs_as_a_periodic_task() -> None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="publishing.purge_media")

    assert task.enabled
    assert task.interval is not None
