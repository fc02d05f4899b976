from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from platforms.base import (
    SENT_AT,
    OutcomeUnknown,
    PublishResult,
    ReconnectNeeded,
    RetryableError,
    TokenExpired,
)
from platforms.models import SocialAccount
from publishing import pipeline, services, sweep
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.support.broker import Broker
from tests.support.fakes import FakeClient, permanent

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def due_entry(alices_post: Post, clock: time_machine.Traveller) -> ScheduleEntry:
    return ScheduleEntry.objects.create(post=alices_post, scheduled_at=NOW, next_attempt_at=NOW)


def publish(entry: ScheduleEntry) -> pipeline.PublishOutcome:
    fresh = ScheduleEntry.objects.get(pk=entry.pk)
    return pipeline.publish_entry(entry_id=entry.pk, dispatch_version=fresh.dispatch_version)


def test_it_publishes_a_due_entry_and_stores_the_platform_id_and_link(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    assert publish(due_entry) == pipeline.PublishOutcome.PUBLISHED

    due_entry.refresh_from_db()
    assert due_entry.status == ScheduleEntry.Status.PUBLISHED
    assert due_entry.platform_post_id == "fake-1"
    assert due_entry.platform_url == "https://fake.example/fake-1"
    assert due_entry.published_at == NOW
    assert [call.text for call in fake_x.publish_calls] == ["Hello from Alice"]
    assert fake_x.publish_calls[0].account.access_token == "alice-access-token"
    attempt = PublishAttempt.objects.get(entry=due_entry)
    assert (attempt.number, attempt.outcome, attempt.http_status) == (1, "published", 201)


def test_a_text_post_is_published_without_a_query_for_its_media(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert publish(due_entry) == pipeline.PublishOutcome.PUBLISHED

    media_reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "publishing_postmedia"')]
    assert media_reads == []
    assert fake_x.publish_calls[0].media == ()


def test_the_same_message_delivered_twice_publishes_once(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    assert pipeline.publish_entry(entry_id=due_entry.pk, dispatch_version=0) == "published"
    assert pipeline.publish_entry(entry_id=due_entry.pk, dispatch_version=0) == "skipped"

    assert len(fake_x.publish_calls) == 1


def test_a_message_for_a_cancelled_entry_does_nothing(due_entry: ScheduleEntry, fake_x: FakeClient) -> None:
    assert services.cancel_entry(entry=due_entry)

    assert pipeline.publish_entry(entry_id=due_entry.pk, dispatch_version=0) == "skipped"
    assert fake_x.publish_calls == []


def test_a_message_for_a_deleted_entry_does_nothing(due_entry: ScheduleEntry, fake_x: FakeClient) -> None:
    entry_id = due_entry.pk
    due_entry.delete()

    assert pipeline.publish_entry(entry_id=entry_id, dispatch_version=0) == "skipped"
    assert fake_x.publish_calls == []


def test_retries_wait_exactly_60_120_and_240_seconds(
    due_entry: ScheduleEntry,
    fake_x: FakeClient,
    clock: time_machine.Traveller,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    fake_x.outcomes = [RetryableError("Server busy", code="x_503", http_status=503) for _ in range(3)]
    waits = []
    for _ in range(3):
        started = datetime.now(UTC)
        with django_capture_on_commit_callbacks(execute=True):
            assert publish(due_entry) == pipeline.PublishOutcome.RETRY
        due_entry.refresh_from_db()
        waits.append((due_entry.next_attempt_at - started).total_seconds())
        assert due_entry.status == ScheduleEntry.Status.RETRYING
        clock.move_to(due_entry.next_attempt_at)

    assert waits == [60, 120, 240]
    # Each retry is a message on the publish queue for the retry time (it arrives the claim-ahead
    # time before it).
    etas = [(message.due - NOW).total_seconds() for message in broker.messages() if message.due]
    assert etas == [60, 180, 420]
    assert all(message.args == (due_entry.pk, 0) for message in broker.messages())


def test_the_fourth_failure_fails_the_entry_with_the_last_reason(
    due_entry: ScheduleEntry, fake_x: FakeClient, clock: time_machine.Traveller
) -> None:
    fake_x.outcomes = [RetryableError(f"Server error {n}", code="x_503") for n in range(1, 5)]
    outcomes = []
    for _ in range(4):
        outcomes.append(publish(due_entry))
        due_entry.refresh_from_db()
        clock.move_to(due_entry.next_attempt_at)

    assert outcomes == ["retry", "retry", "retry", "failed"]
    assert due_entry.status == ScheduleEntry.Status.FAILED
    assert due_entry.attempts == 4
    assert due_entry.last_error_message == "Gave up after 4 attempts. Last error: Server error 4"
    assert len(fake_x.publish_calls) == 4
    assert list(due_entry.publish_attempts.values_list("outcome", flat=True)) == [
        "retry",
        "retry",
        "retry",
        "failed",
    ]


def test_a_platform_retry_time_later_than_the_backoff_is_honoured(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    reset = NOW + timedelta(minutes=15)
    fake_x.outcomes = [RetryableError("Rate limited", code="x_429", http_status=429, retry_at=reset)]

    assert publish(due_entry) == pipeline.PublishOutcome.RETRY

    due_entry.refresh_from_db()
    assert due_entry.next_attempt_at == reset


def test_a_platform_retry_time_earlier_than_the_backoff_keeps_the_backoff(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.outcomes = [RetryableError("Busy", code="x_429", retry_at=NOW + timedelta(seconds=5))]

    publish(due_entry)

    due_entry.refresh_from_db()
    assert due_entry.next_attempt_at == NOW + timedelta(seconds=60)


def test_a_permanent_error_fails_on_the_first_attempt_without_a_retry(
    due_entry: ScheduleEntry,
    fake_x: FakeClient,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    fake_x.outcomes = [permanent("X refused the post: it is a duplicate of one you already posted.")]

    with django_capture_on_commit_callbacks(execute=True):
        assert publish(due_entry) == pipeline.PublishOutcome.FAILED

    due_entry.refresh_from_db()
    assert due_entry.status == ScheduleEntry.Status.FAILED
    assert due_entry.attempts == 1
    assert due_entry.last_error_message == "X refused the post: it is a duplicate of one you already posted."
    assert broker.messages() == []


def test_a_revoked_authorisation_pauses_the_entry_and_flags_the_account(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    fake_x.outcomes = [ReconnectNeeded("X no longer lets SoSocial post for @alice.", code="x_401")]

    assert publish(due_entry) == pipeline.PublishOutcome.PAUSED

    alices_account.refresh_from_db()
    assert alices_account.status == SocialAccount.Status.NEEDS_RECONNECT
    assert alices_account.status_reason == "X no longer lets SoSocial post for @alice."


def test_an_account_that_needs_reconnecting_pauses_without_calling_the_platform(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    alices_account.mark_needs_reconnect("Token revoked")

    assert publish(due_entry) == pipeline.PublishOutcome.PAUSED

    assert fake_x.publish_calls == []
    due_entry.refresh_from_db()
    assert due_entry.status == ScheduleEntry.Status.PAUSED
    assert "needs reconnecting" in due_entry.last_error_message


def test_an_expired_token_is_refreshed_and_the_publish_succeeds(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    fake_x.outcomes = [TokenExpired("Token expired", code="x_401", http_status=401)]

    assert publish(due_entry) == pipeline.PublishOutcome.PUBLISHED

    assert [call.account.access_token for call in fake_x.publish_calls] == [
        "alice-access-token",
        "fresh-access",
    ]
    alices_account.refresh_from_db()
    assert (alices_account.access_token, alices_account.refresh_token) == ("fresh-access", "fresh-refresh")


def test_a_token_rejected_again_after_refreshing_pauses_and_flags_the_account(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    fake_x.outcomes = [TokenExpired("Token expired", code="x_401"), TokenExpired("Still bad", code="x_401")]

    assert publish(due_entry) == pipeline.PublishOutcome.PAUSED

    alices_account.refresh_from_db()
    assert alices_account.status == SocialAccount.Status.NEEDS_RECONNECT


def test_a_refused_refresh_pauses_and_flags_the_account(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    fake_x.outcomes = [TokenExpired("Token expired", code="x_401")]
    fake_x.refresh_answer = ReconnectNeeded(
        "X refused to renew access; reconnect @alice.", code="invalid_grant"
    )

    assert publish(due_entry) == pipeline.PublishOutcome.PAUSED

    assert len(fake_x.publish_calls) == 1
    alices_account.refresh_from_db()
    assert alices_account.status == SocialAccount.Status.NEEDS_RECONNECT


def test_an_unknown_outcome_is_never_sent_again_before_reconciling(
    due_entry: ScheduleEntry,
    fake_x: FakeClient,
    clock: time_machine.Traveller,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    fake_x.outcomes = [OutcomeUnknown("Connection dropped after sending", code="connection_lost")]

    with django_capture_on_commit_callbacks(execute=True):
        assert publish(due_entry) == pipeline.PublishOutcome.UNCONFIRMED
    # A redelivered message, and sweeps long after, still send nothing.
    clock.move_to(NOW + timedelta(hours=1))
    assert pipeline.publish_entry(entry_id=due_entry.pk, dispatch_version=0) == "skipped"
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep_schedule()

    assert len(fake_x.publish_calls) == 1
    due_entry.refresh_from_db()
    assert due_entry.status == ScheduleEntry.Status.UNCONFIRMED
    assert [message.task for message in broker.messages("maintenance")] == ["publishing.reconcile_entry"] * 2


def test_an_unexpected_client_error_leaves_the_entry_unconfirmed(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.outcomes = [ZeroDivisionError("bug in a client")]

    assert publish(due_entry) == pipeline.PublishOutcome.UNCONFIRMED

    due_entry.refresh_from_db()
    assert due_entry.status == ScheduleEntry.Status.UNCONFIRMED
    assert due_entry.last_error_code == "ZeroDivisionError"


def test_progress_a_client_saves_is_on_the_row_before_it_returns(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.progress_to_save = {"container_id": "c-17"}
    fake_x.outcomes = [OutcomeUnknown("dropped", code="connection_lost")]

    publish(due_entry)

    due_entry.refresh_from_db()
    assert due_entry.platform_state == {"container_id": "c-17", SENT_AT: ANY}


def test_publishing_opens_no_transaction_around_the_platform_call(
    due_entry: ScheduleEntry, fake_x: FakeClient
) -> None:
    seen: list[bool] = []

    def spy(request: object, *, checkpoint: object) -> PublishResult:
        # pytest-django wraps each test in one atomic block; anything deeper is the service's.
        seen.append(len(connection.savepoint_ids) > 0)
        return PublishResult(platform_post_id="1", url="https://fake.example/1")

    fake_x.publish = spy  # type: ignore[method-assign]
    publish(due_entry)

    assert seen == [False]


def test_a_token_about_to_expire_is_refreshed_before_publishing(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    SocialAccount.objects.filter(pk=alices_account.pk).update(token_expires_at=NOW + timedelta(minutes=2))

    assert publish(due_entry) == pipeline.PublishOutcome.PUBLISHED

    assert [call.account.access_token for call in fake_x.publish_calls] == ["fresh-access"]


def test_a_token_valid_for_long_is_used_as_it_is(
    due_entry: ScheduleEntry, fake_x: FakeClient, alices_account: SocialAccount
) -> None:
    SocialAccount.objects.filter(pk=alices_account.pk).update(token_expires_at=NOW + timedelta(hours=1))

    publish(due_entry)

    assert [call.account.access_token for call in fake_x.publish_calls] == ["alice-access-token"]
