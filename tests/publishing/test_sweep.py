from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit
from pytest_django import Settings

from publishing import sweep as safety_net
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.support.broker import Broker
from tests.support.dates import entry_at

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sweep(
    broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> Callable[[], safety_net.SweepReport]:
    def run() -> safety_net.SweepReport:
        with django_capture_on_commit_callbacks(execute=True):
            return safety_net.sweep_schedule()

    return run


def test_the_safety_net_runs_every_300_seconds_after_migrate() -> None:
    task = PeriodicTask.objects.get(task="publishing.sweep_schedule")

    assert task.enabled
    assert task.interval is not None
    assert (task.interval.every, task.interval.period) == (300, "seconds")
    assert task.expire_seconds is not None
    assert task.expire_seconds < 300


def test_it_sends_entries_that_entered_the_horizon_and_nothing_beyond(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    inside = entry_at(alices_post, NOW + timedelta(minutes=10))
    beyond = entry_at(alices_post, NOW + timedelta(minutes=10, seconds=1))

    report = sweep()

    assert report.dispatched == 1
    assert [(m.args, m.due) for m in broker.messages()] == [((inside.pk, 0), inside.scheduled_at)]
    beyond.refresh_from_db()
    assert beyond.dispatched_at is None


def test_a_second_sweep_does_not_send_the_same_entries_again(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    entry_at(alices_post, NOW + timedelta(minutes=3))

    sweep()
    second = sweep()

    assert second.dispatched == second.redispatched == 0
    assert len(broker.messages()) == 1


def test_it_sends_in_bounded_batches_until_everything_due_is_sent(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport], settings: Settings
) -> None:
    settings.SOSOCIAL_SWEEP_BATCH_SIZE = 3
    for n in range(7):
        entry_at(alices_post, NOW + timedelta(minutes=1, seconds=n))

    assert sweep().dispatched == 7
    assert len(broker.messages()) == 7


def test_it_recovers_a_pending_entry_whose_message_was_lost(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    lost = entry_at(alices_post, NOW - timedelta(minutes=4), dispatched_at=NOW - timedelta(minutes=14))

    report = sweep()

    assert report.redispatched == 1
    assert [m.args for m in broker.messages()] == [(lost.pk, 0)]
    lost.refresh_from_db()
    assert lost.dispatched_at == NOW


def test_it_leaves_an_overdue_entry_alone_while_its_message_is_recent(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    # Due four minutes ago, but re-sent a minute ago: a busy queue, not a lost message.
    entry_at(alices_post, NOW - timedelta(minutes=4), dispatched_at=NOW - timedelta(minutes=1))

    assert sweep().redispatched == 0
    assert broker.messages() == []


@pytest.mark.parametrize(
    ("fields", "resent"),
    [
        # Waiting for its retry: nothing to do yet.
        (
            {
                "attempts": 3,
                "next_attempt_at": NOW + timedelta(minutes=3),
                "dispatched_at": NOW - timedelta(minutes=1),
            },
            False,
        ),
        # Its retry was due five minutes ago and its message is long gone.
        (
            {
                "attempts": 2,
                "next_attempt_at": NOW - timedelta(minutes=5),
                "dispatched_at": NOW - timedelta(minutes=7),
            },
            True,
        ),
    ],
    ids=["waiting-for-its-retry-is-left-alone", "whose-message-was-lost-is-resent"],
)
def test_a_retrying_entry_is_resent_only_once_its_retry_is_due_and_its_message_lost(
    alices_post: Post,
    broker: Broker,
    sweep: Callable[[], safety_net.SweepReport],
    fields: dict[str, Any],
    resent: bool,
) -> None:
    retry = entry_at(alices_post, NOW - timedelta(minutes=30), status=Status.RETRYING, **fields)

    report = sweep()

    assert (report.dispatched, report.redispatched) == (0, int(resent))
    assert [m.args for m in broker.messages()] == ([(retry.pk, 0)] if resent else [])


def test_it_turns_an_expired_lease_into_unconfirmed_and_asks_for_reconciliation(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    publishing: dict[str, Any] = {"status": Status.PUBLISHING, "attempts": 1}
    stuck = entry_at(
        alices_post, NOW - timedelta(minutes=10), lease_until=NOW - timedelta(seconds=1), **publishing
    )
    # Leases are read on the database's clock, which time_machine does not move.
    running = entry_at(
        alices_post, NOW - timedelta(minutes=1), lease_until=NOW + timedelta(days=3650), **publishing
    )

    assert sweep().leases_expired == 1

    stuck.refresh_from_db()
    running.refresh_from_db()
    assert stuck.status == Status.UNCONFIRMED
    assert stuck.last_error_code == "lease_expired"
    assert running.status == Status.PUBLISHING
    assert [(m.task, m.args) for m in broker.messages("maintenance")] == [
        ("publishing.reconcile_entry", (stuck.pk,))
    ]
    assert PublishAttempt.objects.get(entry=stuck).outcome == "interrupted"


def test_it_asks_again_for_a_reconciliation_whose_message_was_lost(
    alices_post: Post, broker: Broker, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    hour_ago = NOW - timedelta(hours=1)
    unconfirmed: dict[str, Any] = {"status": Status.UNCONFIRMED, "dispatched_at": hour_ago}
    entry = entry_at(alices_post, hour_ago, next_check_at=hour_ago, **unconfirmed)
    already_checked = entry_at(
        alices_post, hour_ago, reconciled_at=NOW - timedelta(minutes=50), **unconfirmed
    )

    assert sweep().reconciles_requested == 1
    assert [m.args for m in broker.messages("maintenance")] == [(entry.pk,)]
    assert already_checked.pk != entry.pk


def test_final_and_future_entries_cost_the_sweep_no_extra_queries(
    alices_post: Post, sweep: Callable[[], safety_net.SweepReport]
) -> None:
    for n in range(30):
        entry_at(alices_post, NOW - timedelta(days=1, minutes=n), status=Status.PUBLISHED)
        entry_at(alices_post, NOW + timedelta(days=2, minutes=n))

    with CaptureQueriesContext(connection) as queries:
        report = sweep()

    assert report == safety_net.SweepReport()
    # One select per step, each inside its own (savepoint) transaction: nothing per row.
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    # Waiting (2), leases, dead claimants, checks to send and checks lost (2), media to prepare and
    # preparations lost (2).
    assert len(selects) == 8
