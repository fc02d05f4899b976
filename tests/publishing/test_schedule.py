from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from celery import current_app
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from kombu import pools
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import pipeline, preparation, services
from publishing.models import Post, PostMedia, ScheduleEntry
from tests.support.broker import Broker
from tests.support.fakes import FakeClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_it_creates_one_entry_per_date_and_sends_only_those_within_the_horizon(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    soon, later, far = NOW + timedelta(minutes=2), NOW + timedelta(minutes=9), NOW + timedelta(days=3)

    with django_capture_on_commit_callbacks(execute=True):
        entries = services.schedule_post(post=alices_post, when=[far, soon, later])

    assert [entry.scheduled_at for entry in entries] == [soon, later, far]
    assert [(m.task, m.args, m.due) for m in broker.messages()] == [
        ("publishing.publish_entry", (entries[0].pk, 0), soon),
        ("publishing.publish_entry", (entries[1].pk, 0), later),
    ]
    assert ScheduleEntry.objects.get(pk=entries[2].pk).dispatched_at is None


def test_it_sends_nothing_until_the_transaction_commits(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.schedule_post(post=alices_post, when=[NOW + timedelta(minutes=1)])

    assert broker.messages() == []
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ([], "Pick at least one date."),
        ([NOW - timedelta(minutes=1)], "2026-11-28 11:59 UTC is in the past."),
        ([datetime(2026, 12, 1, 9, 0)], "2026-12-01 09:00 has no time zone."),
        ([NOW + timedelta(hours=1)] * 2, "The same date is listed twice."),
    ],
)
def test_it_refuses_bad_dates_with_a_message_on_the_field(
    alices_post: Post, when: list[datetime], problem: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        services.schedule_post(post=alices_post, when=when)

    assert refused.value.message_dict == {"when": [problem]}
    assert not ScheduleEntry.objects.exists()


def test_it_refuses_a_post_to_someone_elses_account(bob: User, alices_account: SocialAccount) -> None:
    with pytest.raises(ValidationError) as refused:
        services.create_post(owner_id=bob.pk, account=alices_account, text="hi")

    assert "account" in refused.value.message_dict


def test_rescheduling_sends_a_message_for_the_new_version(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    [entry] = services.schedule_post(post=alices_post, when=[NOW + timedelta(days=1)])
    new_time = NOW + timedelta(minutes=5)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.reschedule_entry(entry=entry, when=new_time)

    assert [(m.args, m.due) for m in broker.messages()] == [((entry.pk, 1), new_time)]


def test_retry_now_requeues_a_failed_entry_as_a_fresh_run(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    entry = ScheduleEntry.objects.create(
        post=alices_post,
        scheduled_at=NOW,
        next_attempt_at=NOW,
        status=ScheduleEntry.Status.FAILED,
        attempts=4,
        last_error_message="Gave up",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_entry(entry=entry)

    entry.refresh_from_db()
    assert (entry.status, entry.attempts, entry.dispatch_version) == ("pending", 0, 1)
    assert [(m.args, m.due) for m in broker.messages()] == [((entry.pk, 1), NOW)]


def test_retry_now_does_nothing_to_a_published_entry(alices_post: Post) -> None:
    entry = ScheduleEntry.objects.create(
        post=alices_post, scheduled_at=NOW, next_attempt_at=NOW, status=ScheduleEntry.Status.PUBLISHED
    )

    assert not services.retry_entry(entry=entry)


def test_a_user_can_confirm_an_unconfirmed_entry_as_published(alices_post: Post) -> None:
    entry = ScheduleEntry.objects.create(
        post=alices_post, scheduled_at=NOW, next_attempt_at=NOW, status=ScheduleEntry.Status.UNCONFIRMED
    )

    assert services.confirm_published(entry=entry, platform_url="https://x.com/alice/status/1")

    entry.refresh_from_db()
    assert entry.status == ScheduleEntry.Status.PUBLISHED
    assert entry.platform_url == "https://x.com/alice/status/1"


def use_broker(url: str) -> None:
    pools.reset()  # closes every kombu connection pool, including the app's
    current_app.conf["broker_url"] = url
    # Drop the cached pools so the next send connects to `url` (what Celery does after a fork).
    current_app._pool = None  # type: ignore[attr-defined]
    current_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def test_a_broker_outage_while_scheduling_keeps_the_entry_for_the_sweep(
    alices_post: Post, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    working_url = current_app.conf.broker_url
    use_broker("redis://127.0.0.1:1/0")  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            [entry] = services.schedule_post(post=alices_post, when=[NOW + timedelta(minutes=1)])
    finally:
        use_broker(working_url)

    entry.refresh_from_db()
    assert entry.status == ScheduleEntry.Status.PENDING
    # Stamped as sent, so once the grace period passes the sweep sends it again.
    assert entry.dispatched_at == NOW


def test_a_post_the_platform_would_refuse_is_refused_when_scheduled(
    alices_post: Post, fake_x: FakeClient
) -> None:
    fake_x.validate = lambda **kwargs: ["X allows 280 characters; this post has 301."]  # type: ignore[method-assign]

    with pytest.raises(ValidationError) as refused:
        services.schedule_post(post=alices_post, when=[NOW + timedelta(hours=1)])

    assert refused.value.message_dict == {"post": ["X allows 280 characters; this post has 301."]}
    assert not ScheduleEntry.objects.exists()


def test_a_post_for_a_platform_without_a_client_is_refused_on_the_account(
    alices_post: Post, settings: Settings
) -> None:
    settings.SOSOCIAL_PLATFORM_CLIENTS = {}
    SocialAccount.objects.filter(pk=alices_post.account_id).update(platform="tiktok")
    post = Post.objects.select_related("account").get(pk=alices_post.pk)

    with pytest.raises(ValidationError) as refused:
        services.schedule_post(post=post, when=[NOW + timedelta(hours=1)])

    assert "no client configured for tiktok" in refused.value.message_dict["account"][0]


def test_the_platform_gets_the_media_its_url_and_the_options(
    alices_post: Post, fake_x: FakeClient, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    alices_post.options = {"reply_settings": "following"}
    alices_post.save()
    PostMedia.objects.create(
        post=alices_post, file=SimpleUploadedFile("cat.jpg", b"\xff\xd8jpeg"), content_type="image/jpeg"
    )
    entry = ScheduleEntry.objects.create(
        post=alices_post, scheduled_at=NOW, next_attempt_at=NOW, media_status="preparing"
    )

    preparation.prepare_entry(entry_id=entry.pk, dispatch_version=0)
    pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0)

    [prepared] = fake_x.prepare_calls
    [request] = fake_x.publish_calls
    assert prepared.media == request.media
    [media] = request.media
    assert media.content_type == "image/jpeg"
    assert media.url.startswith("http://127.0.0.1:8000/media/media/")
    assert Path(media.path).read_bytes() == b"\xff\xd8jpeg"
    assert request.options == {"reply_settings": "following"}
