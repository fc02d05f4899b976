"""Media prepared ahead of the date, and status checks as messages with a countdown (fake client,
real Celery messages read off the broker)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit
from pytest_django import Settings

from notifications.models import Notification
from platforms.base import OutcomeUnknown, Prepared, RetryableError
from platforms.models import SocialAccount
from publishing import dispatch, pipeline, preparation, services, sweep
from publishing.models import Post, PostMedia, ScheduleEntry
from tests.support.broker import Broker
from tests.support.dates import entry_at
from tests.support.fakes import FakeClient, not_ready, permanent, processing

# In the past of the database's clock, which decides when a date is due.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status
Media = ScheduleEntry.MediaStatus


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def alices_reel(alice: User, alices_account: SocialAccount, settings: Settings, tmp_path: Path) -> Post:
    settings.MEDIA_ROOT = tmp_path
    post = Post.objects.create(owner=alice, account=alices_account, text="A reel from Alice")
    PostMedia.objects.create(
        post=post, file=SimpleUploadedFile("reel.mp4", b"\x00\x00\x00\x18ftypmp42"), content_type="video/mp4"
    )
    return post


Result = TypeVar("Result")


class Run(Protocol):
    def __call__(self, step: Callable[[], Result]) -> Result: ...


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: RunOnCommit) -> Run:
    """Run a step, then the messages it sends once its transaction commits."""

    def run(step: Callable[[], Result]) -> Result:
        with django_capture_on_commit_callbacks(execute=True):
            return step()

    return run


def prepare(entry: ScheduleEntry) -> preparation.PrepareOutcome:
    fresh = ScheduleEntry.objects.get(pk=entry.pk)
    return preparation.prepare_entry(entry_id=entry.pk, dispatch_version=fresh.dispatch_version)


def publish(entry: ScheduleEntry) -> pipeline.PublishOutcome:
    fresh = ScheduleEntry.objects.get(pk=entry.pk)
    return pipeline.publish_entry(entry_id=entry.pk, dispatch_version=fresh.dispatch_version)


def prepared_ahead(post: Post, when: datetime, **fields: Any) -> ScheduleEntry:
    return entry_at(post, when, media_status=Media.READY, **fields)


# -- when preparation starts -----------------------------------------------------------------------
def test_the_sweep_starts_preparing_a_media_date_when_it_enters_the_lead(
    alices_reel: Post, broker: Broker, run_on_commit: Run
) -> None:
    inside = entry_at(alices_reel, NOW + timedelta(minutes=59))
    beyond = entry_at(alices_reel, NOW + timedelta(minutes=61))

    report = run_on_commit(sweep.sweep_schedule)

    assert report.preparations == 1
    [message] = broker.messages("prepare")
    assert (message.task, message.args, message.eta) == ("publishing.prepare_entry", (inside.pk, 0), NOW)
    inside.refresh_from_db()
    beyond.refresh_from_db()
    assert (inside.media_status, inside.prepare_at, inside.prep_sent_at) == (Media.PREPARING, NOW, NOW)
    assert beyond.media_status == Media.NONE
    # A second sweep does not send it again while its message is recent.
    assert run_on_commit(sweep.sweep_schedule) == sweep.SweepReport()


def test_a_media_date_scheduled_inside_the_lead_is_prepared_at_once(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    soon, later = run_on_commit(
        lambda: services.schedule_post(
            post=alices_reel, when=[NOW + timedelta(minutes=30), NOW + timedelta(hours=3)]
        )
    )

    assert [m.args for m in broker.messages("prepare")] == [(soon.pk, 0)]
    assert ScheduleEntry.objects.get(pk=later.pk).media_status == Media.NONE


def test_a_text_post_is_never_prepared(
    alices_post: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    run_on_commit(lambda: services.schedule_post(post=alices_post, when=[NOW + timedelta(minutes=5)]))
    run_on_commit(sweep.sweep_schedule)
    entry = alices_post.entries.get()
    entry_at(alices_post, NOW)  # and one due now publishes without preparing

    assert broker.messages("prepare") == []
    assert publish(alices_post.entries.get(scheduled_at=NOW)) == pipeline.PublishOutcome.PUBLISHED
    assert fake_x.prepare_calls == []
    entry.refresh_from_db()
    assert entry.media_status == Media.NO_MEDIA


def sweep_queries(run_on_commit: Run) -> tuple[sweep.SweepReport, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        report = run_on_commit(sweep.sweep_schedule)
    return report, [query["sql"] for query in captured.captured_queries]


def test_a_text_date_inside_the_lead_is_looked_at_once_and_never_prepared(
    alices_post: Post, broker: Broker, run_on_commit: Run
) -> None:
    _, idle = sweep_queries(run_on_commit)  # nothing in the table
    inside = [entry_at(alices_post, NOW + timedelta(minutes=11 + n), dispatched_at=NOW) for n in range(30)]
    beyond = entry_at(alices_post, NOW + timedelta(minutes=61))

    first, looking = sweep_queries(run_on_commit)
    then, after = sweep_queries(run_on_commit)

    assert first == then == sweep.SweepReport()
    assert broker.messages("prepare") == []
    statuses = set(
        ScheduleEntry.objects.filter(pk__in=[e.pk for e in inside]).values_list("media_status", flat=True)
    )
    assert statuses == {Media.NO_MEDIA}
    assert ScheduleEntry.objects.get(pk=beyond.pk).media_status == Media.NONE
    # Marking the 30 was the one UPDATE every sweep sends, not one per date; after it, as before.
    assert len(looking) == len(after) == len(idle)


def test_a_text_posts_dates_are_created_with_nothing_to_prepare_and_an_edit_leaves_them_as_they_are(
    alices_post: Post, broker: Broker, run_on_commit: Run
) -> None:
    [entry] = run_on_commit(
        lambda: services.schedule_post(post=alices_post, when=[NOW + timedelta(minutes=5)])
    )

    run_on_commit(lambda: services.update_post(post=alices_post, text="Hello again from Alice"))

    entry.refresh_from_db()
    assert (entry.media_status, entry.dispatch_version) == (Media.NO_MEDIA, 0)
    assert [m.args for m in broker.messages("publish")] == [(entry.pk, 0)]
    assert broker.messages("prepare") == []


def test_a_date_marked_as_having_no_media_whose_post_is_edited_with_media_is_prepared(
    alices_post: Post, broker: Broker, run_on_commit: Run, settings: Settings, tmp_path: Path
) -> None:
    entry = entry_at(alices_post, NOW + timedelta(minutes=30), dispatched_at=NOW)
    run_on_commit(sweep.sweep_schedule)
    settings.MEDIA_ROOT = tmp_path
    PostMedia.objects.create(
        post=alices_post, file=SimpleUploadedFile("photo.png", b"\x89PNG\r\n"), content_type="image/png"
    )

    run_on_commit(lambda: services.update_post(post=alices_post, text="Hello from Alice, with a photo"))

    entry.refresh_from_db()
    assert (entry.media_status, entry.prepare_at, entry.dispatch_version) == (Media.PREPARING, NOW, 1)
    assert [m.args for m in broker.messages("prepare")] == [(entry.pk, 1)]


def test_a_date_marked_as_having_no_media_is_not_claimed_as_ready_if_its_post_has_media(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW, dispatched_at=NOW, media_status=Media.NO_MEDIA)

    assert entry.preparation_text == ""
    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PREPARING

    entry.refresh_from_db()
    assert (entry.status, entry.media_status) == (Status.PENDING, Media.PREPARING)
    assert [m.args for m in broker.messages("prepare")] == [(entry.pk, 0)]
    assert fake_x.publish_calls == []


def test_a_reschedule_or_a_retry_of_a_date_marked_as_having_no_media_has_it_looked_at_again(
    alices_post: Post,
) -> None:
    moved = entry_at(alices_post, NOW + timedelta(minutes=20), media_status=Media.NO_MEDIA)
    failed = entry_at(
        alices_post, NOW - timedelta(minutes=20), status=Status.FAILED, media_status=Media.NO_MEDIA
    )

    assert moved.reschedule(when=NOW + timedelta(minutes=40), now=NOW)
    assert failed.requeue(now=NOW)

    assert set(
        ScheduleEntry.objects.filter(pk__in=[moved.pk, failed.pk]).values_list("media_status", flat=True)
    ) == {Media.NONE}


# -- one step of preparation -----------------------------------------------------------------------
def test_media_still_processing_is_checked_again_by_a_message_with_a_countdown(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW + timedelta(minutes=40), media_status=Media.PREPARING, prep_sent_at=NOW)
    fake_x.prepare_outcomes = [not_ready(seconds=45)]
    fake_x.prepare_progress = {"container_id": "c-1"}

    assert run_on_commit(lambda: prepare(entry)) == preparation.PrepareOutcome.NOT_READY

    entry.refresh_from_db()
    assert entry.media_status == Media.PREPARING
    assert entry.prepare_at == NOW + timedelta(seconds=45)
    assert entry.prep_sent_at == NOW
    assert entry.platform_state == {"container_id": "c-1"}
    [message] = broker.messages("prepare")
    assert (message.args, message.eta) == ((entry.pk, 0), NOW + timedelta(seconds=45))
    assert "Preparing the media (X is processing it), ready before the time." in entry.describe()


def test_an_early_duplicate_of_a_preparation_message_does_nothing(
    alices_reel: Post, fake_x: FakeClient
) -> None:
    entry = entry_at(
        alices_reel,
        NOW + timedelta(minutes=40),
        media_status=Media.PREPARING,
        prepare_at=NOW + timedelta(seconds=45),
        prep_sent_at=NOW,
    )

    assert prepare(entry) == preparation.PrepareOutcome.SKIPPED
    assert fake_x.prepare_calls == []


def test_ready_media_before_the_time_waits_for_the_publish_message_already_sent(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = entry_at(
        alices_reel,
        NOW + timedelta(minutes=5),
        media_status=Media.PREPARING,
        prep_sent_at=NOW,
        dispatched_at=NOW,
    )
    fake_x.prepare_outcomes = [Prepared(expires_at=NOW + timedelta(hours=24))]

    assert run_on_commit(lambda: prepare(entry)) == preparation.PrepareOutcome.READY

    entry.refresh_from_db()
    assert (entry.media_status, entry.prepared_until) == (Media.READY, NOW + timedelta(hours=24))
    assert (entry.prepare_at, entry.prep_sent_at, entry.prep_attempts) == (None, None, 0)
    assert broker.messages("publish") == []
    assert entry.describe().endswith("Media ready.")


def test_media_ready_after_the_time_publishes_at_once(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    due = entry_at(
        alices_reel,
        NOW - timedelta(seconds=30),
        media_status=Media.PREPARING,
        prep_sent_at=NOW,
        dispatched_at=NOW - timedelta(minutes=5),
    )

    run_on_commit(lambda: prepare(due))

    [message] = broker.messages("publish")
    assert (message.task, message.args) == ("publishing.publish_entry", (due.pk, 0))
    assert publish(due) == pipeline.PublishOutcome.PUBLISHED


def test_media_ready_after_the_early_publish_message_came_publishes_at_the_time(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run, settings: Settings
) -> None:
    """The publish message arrives `claim_ahead` before the time; media ready after it came (and
    was refused, unprepared) but before the time gets a message again, or nothing would send it."""
    settings.SOSOCIAL_CLAIM_AHEAD_MS = 500
    entry = entry_at(
        alices_reel,
        NOW + timedelta(milliseconds=200),
        media_status=Media.PREPARING,
        prep_sent_at=NOW,
        dispatched_at=NOW - timedelta(minutes=5),
    )

    run_on_commit(lambda: prepare(entry))

    [message] = broker.messages("publish")
    assert (message.task, message.args) == ("publishing.publish_entry", (entry.pk, 0))


def test_at_the_time_of_a_prepared_date_only_the_final_call_is_made(
    alices_reel: Post, fake_x: FakeClient, clock: time_machine.Traveller, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW + timedelta(minutes=30), media_status=Media.PREPARING, prep_sent_at=NOW)
    fake_x.prepare_outcomes = [not_ready(seconds=60), Prepared()]
    fake_x.prepare_progress = {"container_id": "c-7"}
    run_on_commit(lambda: prepare(entry))
    clock.move_to(NOW + timedelta(seconds=60))
    run_on_commit(lambda: prepare(entry))
    fake_x.prepare_progress = None

    clock.move_to(NOW + timedelta(minutes=30))
    ScheduleEntry.objects.filter(pk=entry.pk).update(next_attempt_at=NOW - timedelta(seconds=1))
    assert publish(entry) == pipeline.PublishOutcome.PUBLISHED

    assert len(fake_x.prepare_calls) == 2
    [final] = fake_x.publish_calls
    assert final.progress == {"container_id": "c-7"}


# -- failures --------------------------------------------------------------------------------------
def test_a_refused_preparation_fails_the_date_before_its_time_and_shows_on_the_posts_page(
    alices_reel: Post, fake_x: FakeClient, alices_browser: Client, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW + timedelta(minutes=45), media_status=Media.PREPARING, prep_sent_at=NOW)
    fake_x.prepare_outcomes = [permanent("The video is longer than 90 seconds, too long for a reel.")]

    assert run_on_commit(lambda: prepare(entry)) == preparation.PrepareOutcome.FAILED

    entry.refresh_from_db()
    assert entry.status == Status.FAILED
    assert entry.last_error_message == "The video is longer than 90 seconds, too long for a reel."
    told = Notification.objects.filter(user=alices_reel.owner, incident_key__startswith=f"entry-{entry.pk}:")
    assert told.exists()
    page = alices_browser.get(reverse("publishing:post_list")).content.decode()
    assert "The video is longer than 90 seconds, too long for a reel." in page
    assert fake_x.publish_calls == []


def test_a_transient_preparation_failure_is_tried_again_after_60_120_and_240_seconds_then_fails(
    alices_reel: Post, fake_x: FakeClient, clock: time_machine.Traveller, broker: Broker, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW + timedelta(minutes=50), media_status=Media.PREPARING, prep_sent_at=NOW)
    fake_x.prepare_outcomes = [
        RetryableError("Server busy", code="x_503"),
        OutcomeUnknown("The connection dropped", code="x_dropped"),
        RetryableError("Server busy", code="x_503"),
        RetryableError("Server still busy", code="x_503"),
    ]
    waits: list[float] = []
    outcomes: list[preparation.PrepareOutcome] = []
    for _ in range(4):
        started = datetime.now(UTC)
        outcomes.append(run_on_commit(lambda: prepare(entry)))
        entry.refresh_from_db()
        if entry.status == Status.FAILED:
            break
        assert entry.prepare_at is not None
        waits.append((entry.prepare_at - started).total_seconds())
        assert "Preparing the media failed (" in entry.describe()
        clock.move_to(entry.prepare_at)

    assert waits == [60, 120, 240]
    assert outcomes == ["retry", "retry", "retry", "failed"]
    assert [(m.eta - NOW).total_seconds() for m in broker.messages("prepare") if m.eta] == [60, 180, 420]
    assert entry.status == Status.FAILED
    assert entry.last_error_message == (
        "Gave up preparing the media after 4 tries. Last error: Server still busy"
    )
    assert fake_x.publish_calls == []


def test_a_preparation_retry_says_why_and_when(alices_reel: Post) -> None:
    entry = entry_at(
        alices_reel,
        NOW + timedelta(minutes=50),
        media_status=Media.PREPARING,
        prep_error="Server busy",
        prepare_at=NOW + timedelta(minutes=1),
    )

    assert entry.describe() == (
        "Scheduled for 2026-11-28 12:50 UTC. Preparing the media failed (Server busy); trying again at "
        "2026-11-28 12:01 UTC."
    )


# -- the claim waits for ready media ---------------------------------------------------------------
def test_a_due_media_date_is_not_claimed_before_its_media_is_ready(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = entry_at(alices_reel, NOW, dispatched_at=NOW)

    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PREPARING
    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PREPARING

    entry.refresh_from_db()
    assert (entry.status, entry.attempts, entry.media_status) == (Status.PENDING, 0, Media.PREPARING)
    # One prepare message: the second delivery found one pending.
    assert [m.args for m in broker.messages("prepare")] == [(entry.pk, 0)]
    assert fake_x.publish_calls == []


def test_prepared_media_the_platform_has_discarded_is_not_published_but_prepared_again(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(alices_reel, NOW, prepared_until=NOW - timedelta(minutes=1))

    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PREPARING

    assert fake_x.publish_calls == []
    assert [m.args for m in broker.messages("prepare")] == [(entry.pk, 0)]


def test_the_sweep_does_not_resend_the_publish_message_of_a_date_waiting_on_its_media(
    alices_reel: Post, broker: Broker, run_on_commit: Run
) -> None:
    late = NOW - timedelta(minutes=10)
    entry_at(alices_reel, late, dispatched_at=late, media_status=Media.PREPARING, prep_sent_at=NOW)

    report = run_on_commit(sweep.sweep_schedule)

    assert report == sweep.SweepReport()
    assert broker.messages("publish") == []


def test_the_sweep_sends_again_a_preparation_message_that_was_lost(
    alices_reel: Post, broker: Broker, run_on_commit: Run
) -> None:
    lost = entry_at(
        alices_reel,
        NOW + timedelta(minutes=20),
        media_status=Media.PREPARING,
        prepare_at=NOW - timedelta(minutes=4),
        prep_sent_at=NOW - timedelta(minutes=5),
    )
    recent = entry_at(
        alices_reel,
        NOW + timedelta(minutes=21),
        media_status=Media.PREPARING,
        prepare_at=NOW - timedelta(minutes=1),
        prep_sent_at=NOW - timedelta(minutes=2),
    )

    report = run_on_commit(sweep.sweep_schedule)

    assert report.preparations == 1
    assert [(m.args, m.eta) for m in broker.messages("prepare")] == [((lost.pk, 0), NOW)]
    assert recent.pk != lost.pk


def test_after_the_broker_lost_its_data_pending_preparations_are_sent_again_at_their_time(
    alices_reel: Post, broker: Broker, run_on_commit: Run
) -> None:
    later = NOW + timedelta(seconds=40)
    entry = entry_at(
        alices_reel,
        NOW + timedelta(minutes=30),
        media_status=Media.PREPARING,
        prepare_at=later,
        prep_sent_at=NOW - timedelta(seconds=20),
    )

    run_on_commit(sweep.resend_horizon)

    assert [(m.args, m.eta) for m in broker.messages("prepare")] == [((entry.pk, 0), later)]


# -- the publishing call finds the media not ready, or the platform processing ---------------------
def test_a_publishing_call_that_finds_the_media_processing_spends_no_attempt_and_checks_again(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(alices_reel, NOW, dispatched_at=NOW)
    fake_x.outcomes = [not_ready(seconds=20)]

    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PREPARING

    entry.refresh_from_db()
    assert (entry.status, entry.attempts, entry.claimed_by) == (Status.PENDING, 0, "")
    assert (entry.media_status, entry.prepare_at) == (Media.PREPARING, NOW + timedelta(seconds=20))
    assert not entry.publish_attempts.exists()
    [message] = broker.messages("prepare")
    assert (message.args, message.eta) == ((entry.pk, 0), NOW + timedelta(seconds=20))


def test_a_post_the_platform_processes_is_followed_by_a_status_check_message_then_published(
    alices_reel: Post, fake_x: FakeClient, clock: time_machine.Traveller, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(alices_reel, NOW, dispatched_at=NOW)
    fake_x.outcomes = [processing(seconds=20)]

    assert run_on_commit(lambda: publish(entry)) == pipeline.PublishOutcome.PROCESSING

    entry.refresh_from_db()
    check = NOW + timedelta(seconds=20)
    assert (entry.status, entry.claimed_by, entry.follow_at) == (Status.PUBLISHING, "", check)
    assert entry.lease_until == check + dispatch.lease()
    assert entry.describe() == "Publishing — X is processing the post; next check at 2026-11-28 12:00 UTC."
    [message] = broker.messages("prepare")
    assert (message.task, message.args, message.eta) == ("publishing.follow_entry", (entry.pk,), check)
    # No worker holds it, so the dead-worker check leaves it alone; an early duplicate does nothing.
    assert sweep.settle_orphans() == 0
    assert pipeline.follow_entry(entry_id=entry.pk) == pipeline.PublishOutcome.SKIPPED

    clock.move_to(check)
    followed = run_on_commit(lambda: pipeline.follow_entry(entry_id=entry.pk))
    assert followed == pipeline.PublishOutcome.PUBLISHED
    assert pipeline.follow_entry(entry_id=entry.pk) == pipeline.PublishOutcome.SKIPPED

    entry.refresh_from_db()
    assert (entry.status, entry.attempts, entry.follow_at) == (Status.PUBLISHED, 1, None)
    assert len(fake_x.publish_calls) == 2
    assert list(entry.publish_attempts.values_list("number", "outcome")) == [(1, "published")]


def test_a_post_still_processing_at_its_check_gets_the_next_check(
    alices_reel: Post, fake_x: FakeClient, clock: time_machine.Traveller, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(alices_reel, NOW, dispatched_at=NOW)
    fake_x.outcomes = [processing(seconds=20), processing(seconds=30)]
    run_on_commit(lambda: publish(entry))
    clock.move_to(NOW + timedelta(seconds=20))

    followed = run_on_commit(lambda: pipeline.follow_entry(entry_id=entry.pk))
    assert followed == pipeline.PublishOutcome.PROCESSING

    entry.refresh_from_db()
    assert (entry.status, entry.claimed_by) == (Status.PUBLISHING, "")
    assert entry.follow_at == NOW + timedelta(seconds=50)
    assert [m.eta for m in broker.messages("prepare")] == [
        NOW + timedelta(seconds=20),
        NOW + timedelta(seconds=50),
    ]


def test_a_lost_status_check_ends_in_reconciliation_when_its_lease_expires(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(alices_reel, NOW - timedelta(hours=1), dispatched_at=NOW - timedelta(hours=1))
    fake_x.outcomes = [processing(seconds=20)]
    run_on_commit(lambda: publish(entry))
    broker.flush()  # the follow message is lost
    # The lease was written on the database's clock, which is past the frozen one: expire it there.
    ScheduleEntry.objects.filter(pk=entry.pk).update(lease_until=NOW - timedelta(minutes=30))

    report = run_on_commit(sweep.sweep_schedule)

    assert report.leases_expired == 1
    entry.refresh_from_db()
    assert (entry.status, entry.follow_at) == (Status.UNCONFIRMED, None)
    assert [m.task for m in broker.messages("maintenance")] == ["publishing.reconcile_entry"]


# -- edits, reschedules, retries -------------------------------------------------------------------
def test_an_edit_prepares_the_media_again_and_a_preparation_still_running_changes_nothing(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    entry = prepared_ahead(
        alices_reel, NOW + timedelta(minutes=5), platform_state={"container_id": "old"}, dispatched_at=NOW
    )

    run_on_commit(lambda: services.update_post(post=alices_reel, text="A better caption"))

    entry.refresh_from_db()
    assert (entry.media_status, entry.platform_state, entry.dispatch_version) == (Media.PREPARING, {}, 1)
    assert [m.args for m in broker.messages("prepare")] == [(entry.pk, 1)]
    assert [m.args for m in broker.messages("publish")] == [(entry.pk, 1)]
    # A preparation of the old text that was still running saves nothing.
    assert preparation.prepare_entry(entry_id=entry.pk, dispatch_version=0) == "skipped"
    stale = ScheduleEntry.objects.get(pk=entry.pk)
    stale.dispatch_version = 0
    assert not stale.save_preparation({"container_id": "old"}, now=NOW)


def test_a_reschedule_keeps_prepared_media_the_platform_still_keeps_then(alices_reel: Post) -> None:
    until = NOW + timedelta(hours=20)
    kept = prepared_ahead(alices_reel, NOW + timedelta(minutes=30), prepared_until=until)
    lost = prepared_ahead(alices_reel, NOW + timedelta(minutes=40), prepared_until=until)

    assert kept.reschedule(when=NOW + timedelta(hours=2), now=NOW)
    assert lost.reschedule(when=NOW + timedelta(hours=21), now=NOW)

    kept.refresh_from_db()
    lost.refresh_from_db()
    assert (kept.media_status, kept.prepared_until) == (Media.READY, until)
    assert (lost.media_status, lost.prepared_until) == (Media.NONE, None)


def test_a_failed_preparation_retried_now_is_prepared_afresh(
    alices_reel: Post, fake_x: FakeClient, broker: Broker, run_on_commit: Run
) -> None:
    failed = entry_at(
        alices_reel,
        NOW + timedelta(minutes=30),
        status=Status.FAILED,
        media_status=Media.PREPARING,
        prep_attempts=3,
        prep_error="Server busy",
        platform_state={"container_id": "c-1"},
    )

    assert run_on_commit(lambda: services.retry_entry(entry=failed))

    failed.refresh_from_db()
    assert (failed.status, failed.media_status, failed.prep_attempts, failed.platform_state) == (
        Status.PENDING,
        Media.PREPARING,
        0,
        {},
    )
    assert [m.args for m in broker.messages("prepare")] == [(failed.pk, 1)]


def test_the_posts_page_says_the_media_is_being_prepared_and_when_the_platform_processes_the_post(
    alices_reel: Post, alices_browser: Client
) -> None:
    entry_at(alices_reel, NOW + timedelta(minutes=30), media_status=Media.PREPARING, prep_sent_at=NOW)
    entry_at(
        alices_reel,
        NOW - timedelta(minutes=1),
        status=Status.PUBLISHING,
        attempts=1,
        follow_at=NOW + timedelta(seconds=20),
    )

    page = alices_browser.get(reverse("publishing:post_list")).content.decode()

    assert "Preparing the media (X is processing it), ready before the time." in page
    assert "X is processing the post; next check at 2026-11-28 12:00 (UTC)." in page
