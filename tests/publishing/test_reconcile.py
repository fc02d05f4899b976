from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from platforms.base import PublishResult, ReconcileStatus, Reconciliation, RetryableError
from publishing import pipeline, services
from publishing.models import Post, ScheduleEntry
from tests.support.broker import Broker
from tests.support.fakes import FakeClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
Status = ScheduleEntry.Status


@pytest.fixture
def frozen() -> object:
    with time_machine.travel(NOW, tick=False):
        yield


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


def test_an_inconclusive_answer_leaves_the_entry_for_the_user_with_a_reason(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    fake_x.reconcile_answer = Reconciliation(
        status=ReconcileStatus.UNKNOWN, message="TikTok is still processing."
    )

    pipeline.reconcile_entry(entry_id=unconfirmed.pk)

    unconfirmed.refresh_from_db()
    assert unconfirmed.status == Status.UNCONFIRMED
    assert unconfirmed.reconciled_at == NOW
    assert unconfirmed.last_error_message == "TikTok is still processing."


def test_a_platform_error_while_reconciling_is_inconclusive(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    def broken(request: object, *, since: datetime) -> Reconciliation:
        raise RetryableError("X is down", code="x_503")

    fake_x.reconcile = broken  # type: ignore[method-assign]

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) == ReconcileStatus.UNKNOWN

    unconfirmed.refresh_from_db()
    assert (unconfirmed.status, unconfirmed.last_error_message) == (Status.UNCONFIRMED, "X is down")


def test_reconciling_an_entry_that_is_no_longer_unconfirmed_does_nothing(
    unconfirmed: ScheduleEntry, fake_x: FakeClient
) -> None:
    assert services.confirm_published(entry=unconfirmed)

    assert pipeline.reconcile_entry(entry_id=unconfirmed.pk) is None
    assert fake_x.reconcile_calls == []
