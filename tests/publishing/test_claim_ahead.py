"""Claim ahead: the message arrives and the claim commits a little before the date's time; the
platform call is made at the time, never before it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models.functions import Now
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit
from pytest_django import Settings

from platforms.base import SENT_AT, PublishRequest, PublishResult, sent_at
from publishing import dispatch, pipeline
from publishing.models import Post, PostMedia, ScheduleEntry
from tests.support.broker import Broker
from tests.support.dates import add_entry
from tests.support.fakes import FakeClient

pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status
AHEAD = timedelta(milliseconds=500)
LEASE = timedelta(minutes=5)


def database_now() -> datetime:
    """The database's clock, which the claim reads."""
    now = ScheduleEntry.objects.annotate(now=Now()).values_list("now", flat=True).first()
    if now is None:  # no row yet to annotate: read it through a throwaway one
        return timezone.now()
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def claim(entry: ScheduleEntry, *, ahead: timedelta = AHEAD, sent: datetime | None = None) -> bool:
    return ScheduleEntry.claim_by_id(
        entry.pk, dispatch_version=entry.dispatch_version, lease=LEASE, claimant="", ahead=ahead, sent_at=sent
    )


def due_in(post: Post, seconds: float, status: str = "pending") -> ScheduleEntry:
    entry = add_entry(post, status, timezone.now() + timedelta(days=1))
    when = database_now() + timedelta(seconds=seconds)
    ScheduleEntry.objects.filter(pk=entry.pk).update(next_attempt_at=when)
    entry.refresh_from_db()
    return entry


# -- the due condition ----------------------------------------------------------------------------
def test_a_date_due_within_the_claim_ahead_time_is_claimed_now(alices_post: Post) -> None:
    entry = due_in(alices_post, 0.3)

    assert claim(entry)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == Status.PUBLISHING


def test_a_date_due_beyond_the_claim_ahead_time_is_not_claimed_yet(alices_post: Post) -> None:
    entry = due_in(alices_post, 5)

    assert not claim(entry)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == Status.PENDING


def test_without_claim_ahead_only_a_date_already_due_is_claimed(alices_post: Post) -> None:
    early, due = due_in(alices_post, 0.3), due_in(alices_post, -0.1)

    assert not claim(early, ahead=timedelta(0))
    assert claim(due, ahead=timedelta(0))


def test_a_retry_is_claimed_ahead_of_its_retry_time_like_a_first_attempt(alices_post: Post) -> None:
    retry = due_in(alices_post, 0.3, status=Status.RETRYING)
    later = due_in(alices_post, 5, status=Status.RETRYING)

    assert claim(retry)
    assert not claim(later)


def test_the_message_arrives_the_claim_ahead_time_before_the_date(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    entry = add_entry(alices_post, "pending", timezone.now() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert dispatch.dispatch_if_due(entry, now=timezone.now())

    assert [m.eta for m in broker.messages()] == [entry.next_attempt_at - dispatch.claim_ahead()]


# -- the "first sent" moment, written with the claim -----------------------------------------------
def test_the_claim_of_a_text_post_saves_when_it_is_first_sent(alices_post: Post) -> None:
    entry = due_in(alices_post, 0)
    moment = timezone.now()

    assert claim(entry, sent=moment)
    assert sent_at(ScheduleEntry.objects.get(pk=entry.pk).platform_state) == moment


def test_a_later_attempt_keeps_the_first_attempts_sent_moment_and_its_other_handles(
    alices_post: Post,
) -> None:
    first = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    entry = due_in(alices_post, 0, status=Status.RETRYING)
    ScheduleEntry.objects.filter(pk=entry.pk).update(
        platform_state={SENT_AT: first.isoformat(), "other": "kept"}
    )

    assert claim(entry, sent=timezone.now())
    assert ScheduleEntry.objects.get(pk=entry.pk).platform_state == {
        SENT_AT: first.isoformat(),
        "other": "kept",
    }


def test_the_claim_of_a_post_with_media_leaves_the_sent_moment_to_the_client(alices_post: Post) -> None:
    PostMedia.objects.create(post=alices_post, file="media/photo.jpg", content_type="image/jpeg")
    entry = due_in(alices_post, 0)
    ScheduleEntry.objects.filter(pk=entry.pk).update(
        media_status=ScheduleEntry.MediaStatus.READY, prepared_until=timezone.now() + timedelta(hours=1)
    )

    assert claim(entry, sent=timezone.now())
    assert ScheduleEntry.objects.get(pk=entry.pk).platform_state == {}


# -- the call waits for the time ------------------------------------------------------------------
def test_the_platform_is_called_at_the_dates_time_after_a_claim_committed_before_it(
    alices_post: Post, fake_x: FakeClient
) -> None:
    entry = due_in(alices_post, 0.3)
    seen: dict[str, object] = {}

    def publish(request: PublishRequest, *, checkpoint: object) -> PublishResult:
        seen.update(at=timezone.now(), row=ScheduleEntry.objects.get(pk=entry.pk))
        return PublishResult(platform_post_id="1", url="https://fake.example/1")

    fake_x.publish = publish  # type: ignore[method-assign]
    assert pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0) == pipeline.PublishOutcome.PUBLISHED

    row = seen["row"]
    assert isinstance(row, ScheduleEntry)
    assert row.status == Status.PUBLISHING
    claimed = sent_at(row.platform_state)
    assert claimed is not None
    assert claimed < entry.next_attempt_at
    assert isinstance(seen["at"], datetime)
    assert seen["at"] >= entry.next_attempt_at


def test_the_wait_for_the_time_is_never_longer_than_the_claim_ahead_time(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SOSOCIAL_CLAIM_AHEAD_MS = 200
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)

    pipeline.wait_for_time(timezone.now() + timedelta(hours=1))  # a worker clock an hour behind
    pipeline.wait_for_time(timezone.now() - timedelta(seconds=1))  # already time: no wait

    assert slept == [0.2]
