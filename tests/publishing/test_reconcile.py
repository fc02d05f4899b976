from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from platforms.base import (
    PublishRequest,
    PublishResult,
    ReconcileStatus,
    Reconciliation,
    RetryableError,
    TokenExpired,
)
from publishing import pipeline, services
from publishing.models import Post, ScheduleEntry
from tests.support.broker import Broker
from tests.support.fakes import FakeClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
Status = ScheduleEntry.Status


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def unconfirmed(alices_post: Post) -> ScheduleEntry:
    return ScheduleEntry.objects.create(
        post=alices_post,
        scheduled_at=NOW - timedelta(minutes=10),
        next_attempt_at=NOW - timedelta(minutes=10),
        status=Status.UNCONFIRMED,
        attempts=1,
        dispatched_at=NOW - timedelta(minutes=1),
        platform_state={"container_id": "c-1"},
        last_error_code="connection_lost",
    )


def test_a_post_found_on_the_platform_is_marked_published_with_its_link(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.reconcile_answer = Reconciliation(
        status=ReconcileStatus.PUBLISHED,
        result=PublishResult(platform_post_id="190", url="https://x.com/alice/status/190"),
    )

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.PUBLISHED

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Status.PUBLISHED
    assert (unconfirmed.platform_post_id, unconfirmed.platform_url) == (
        "190",
        "https://x.com/alice/status/190",
    )
    assert fake_x.publish_calls == []
    assert fake_x.reconcile_calls[0].progress == {"container_id": "c-1"}


def test_a_post_the_platform_never_got_is_sent_again_once(
    unconfirmed: ScheduleEntry,
    fake_x: FakeClient,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.NOT_PUBLISHED

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Status.RETRYING
    assert [(m.task, m.args) for m in broker.messages()] == [
        ("publishing.publish_entry", (unconfirmed.pk, 0))
    ]
    assert pipeline.publish_entry(entry_id=unconfirmed.pk, dispatch_version=0) == "published"
    assert pipeline.publish_entry(entry_id=unconfirmed.pk, dispatch_version=0) == "skipped"
    assert len(fake_x.publish_calls) == 1


def test_a_post_not_found_after_the_last_attempt_fails_the_entry(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    ScheduleEntry.objects.filter(pk=unconfirmed.pk).update(attempts=4)

    pipeline.reconcile_entry(entry_id=unconfirmed.pk)

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Status.FAILED
    assert unconfirmed.last_error_message.startswith("Gave up after 4 attempts.")


def test_an_inconclusive_answer_schedules_the_next_check_a_minute_later(
    unconfirmed: ScheduleEntry,
    fake_x: FakeClient,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    fake_x.reconcile_answer = Reconciliation(
        status=ReconcileStatus.UNKNOWN, message="TikTok is still processing."
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.UNKNOWN

    unconfirmed.refresh_from_db()
    assert (unconfirmed.status, unconfirmed.reconciled_at) == (Status.UNCONFIRMED, None)
    assert (unconfirmed.next_check_at, unconfirmed.checks) == (NOW + timedelta(minutes=1), 1)
    assert [(m.task, m.args, m.eta) for m in broker.messages("maintenance")] == [
        ("publishing.reconcile_entry", (unconfirmed.pk,), NOW + timedelta(minutes=1))
    ]
    assert (
        unconfirmed.describe()
        == "The outcome is unknown; still checking, next check at 2026-11-28 12:01 (UTC)."
    )


def test_checks_back_off_from_minutes_to_hours_and_then_ask_the_user(
    unconfirmed: ScheduleEntry, fake_x: FakeClient, frozen: time_machine.Traveller
) -> None:
    fake_x.reconcile_answer = Reconciliation(status=ReconcileStatus.UNKNOWN, message="Cannot tell.")
    ScheduleEntry.objects.filter(pk=unconfirmed.pk).update(unconfirmed_at=NOW, next_check_at=NOW)
    waits = []
    while True:
        pipeline.reconcile_entry(entry_id=unconfirmed.pk)
        unconfirmed.refresh_from_db()
        if unconfirmed.reconciled_at is not None:
            break
        assert unconfirmed.next_check_at is not None
        waits.append(unconfirmed.next_check_at - timezone.now())
        frozen.move_to(unconfirmed.next_check_at)

    minutes = [wait.total_seconds() / 60 for wait in waits]
    assert minutes[:5] == [1, 5, 15, 60, 180]
    assert timezone.now() == NOW + timedelta(hours=24)  # the platform's window, then the user
    assert unconfirmed.last_error_message == "Cannot tell."
    assert unconfirmed.describe().startswith("SoSocial could not confirm whether this went out")


def test_a_platform_error_while_reconciling_schedules_the_next_check(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    def broken(request: object, *, since: datetime) -> Reconciliation:
        raise RetryableError("X is down", code="x_503")

    fake_x.reconcile = broken  # type: ignore[method-assign]

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.UNKNOWN

    unconfirmed.refresh_from_db()
    assert (unconfirmed.status, unconfirmed.reconciled_at) == (Status.UNCONFIRMED, None)
    assert unconfirmed.next_check_at == NOW + timedelta(minutes=1)


def test_an_expired_token_while_reconciling_is_refreshed_and_the_check_made(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    answers: list[Reconciliation | Exception] = [
        TokenExpired("expired", code="expired"),
        Reconciliation(
            status=ReconcileStatus.PUBLISHED, result=PublishResult("7", "https://x.com/a/status/7")
        ),
    ]

    def reconcile(request: PublishRequest, *, since: datetime) -> Reconciliation:
        fake_x.reconcile_calls.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    fake_x.reconcile = reconcile  # type: ignore[method-assign]

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.PUBLISHED

    assert [call.account.access_token for call in fake_x.reconcile_calls] == [
        "alice-access-token",
        "fresh-access",
    ]
    assert ScheduleEntry.objects.get(pk=unconfirmed.pk).status == Status.PUBLISHED


def test_a_check_the_user_asked_for_answers_them_once(unconfirmed: ScheduleEntry, fake_x: FakeClient) -> None:
    ScheduleEntry.objects.filter(pk=unconfirmed.pk).update(reconciled_at=NOW - timedelta(hours=1))
    fake_x.reconcile_answer = Reconciliation(status=ReconcileStatus.UNKNOWN, message="Still cannot tell.")

    pipeline.reconcile_entry(entry_id=unconfirmed.pk)

    unconfirmed.refresh_from_db()
    assert (unconfirmed.reconciled_at, unconfirmed.next_check_at) == (NOW, None)
    assert unconfirmed.last_error_message == "Still cannot tell."


def test_an_early_check_message_does_nothing(unconfirmed: ScheduleEntry, fake_x: FakeClient) -> None:
    ScheduleEntry.objects.filter(pk=unconfirmed.pk).update(next_check_at=NOW + timedelta(hours=1))

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) is None
    assert fake_x.reconcile_calls == []


def test_reconciling_an_entry_that_is_no_longer_unconfirmed_does_nothing(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    assert services.confirm_published(entry=unconfirmed)

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) is None
    assert fake_x.reconcile_calls == []


def test_reconciliation_tells_the_platform_which_posts_the_accounts_other_dates_already_own(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    first = ScheduleEntry.objects.create(
        post=unconfirmed.post,
        scheduled_at=NOW - timedelta(minutes=20),
        next_attempt_at=NOW - timedelta(minutes=20),
        status=Status.PUBLISHED,
        platform_post_id="first-date-post",
        published_at=NOW - timedelta(minutes=2),
    )
    ScheduleEntry.objects.create(
        post=unconfirmed.post,
        scheduled_at=NOW - timedelta(days=3),
        next_attempt_at=NOW - timedelta(days=3),
        status=Status.PUBLISHED,
        platform_post_id="long-ago-post",
        published_at=NOW - timedelta(days=3),
    )

    pipeline.reconcile_entry(entry_id=unconfirmed.pk)

    (asked,) = fake_x.reconcile_calls
    assert asked.taken_post_ids == frozenset({first.platform_post_id})
    assert pipeline.build_request(unconfirmed).taken_post_ids == frozenset()


def test_an_answer_no_later_check_can_change_goes_to_the_person_at_once(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.reconcile_answer = Reconciliation(
        status=ReconcileStatus.UNKNOWN, message="Nothing to look this post up by.", final=True
    )

    pipeline.reconcile_entry(entry_id=unconfirmed.pk)

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Status.UNCONFIRMED
    assert unconfirmed.reconciled_at == NOW
    assert unconfirmed.next_check_at is None
    assert unconfirmed.last_error_message == "Nothing to look this post up by."
