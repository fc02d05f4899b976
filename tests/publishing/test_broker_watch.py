"""After the broker lost its data: each worker's watch notices it once, and the dates inside the
horizon are sent again at once (the sweep would wait for its grace period)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from publishing import sweep
from publishing.broker_watch import SENTINEL_KEY, BrokerWatch
from publishing.models import Post, ScheduleEntry
from tests.support.broker import Broker
from tests.support.dates import entry_at

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
Status = ScheduleEntry.Status


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_each_loss_of_the_broker_data_is_noticed_by_one_watch_only(broker: Broker) -> None:
    losses: list[str] = []
    alices = BrokerWatch(broker.redis, interval=1, on_loss=lambda: losses.append("alice"))
    bobs = BrokerWatch(broker.redis, interval=1, on_loss=lambda: losses.append("bob"))

    assert alices.check() is True  # a new, empty broker
    assert bobs.check() is False
    assert alices.check() is False
    broker.redis.flushdb()
    assert bobs.check() is True

    assert losses == ["alice", "bob"]


def test_a_loss_whose_resend_failed_is_noticed_again(broker: Broker) -> None:
    def broker_still_down() -> None:
        raise ConnectionError("no broker")

    failing = BrokerWatch(broker.redis, interval=1, on_loss=broker_still_down)

    assert failing.check() is False
    assert broker.redis.exists(SENTINEL_KEY) == 0
    assert BrokerWatch(broker.redis, interval=1, on_loss=lambda: None).check() is True


@pytest.mark.django_db
def test_the_horizon_is_sent_again_including_dates_already_sent_and_nothing_beyond(
    alices_post: Post, broker: Broker, django_capture_on_commit_callbacks: RunOnCommit
) -> None:
    sent = entry_at(alices_post, NOW + timedelta(minutes=3), dispatched_at=NOW - timedelta(minutes=2))
    overdue = entry_at(alices_post, NOW - timedelta(seconds=20), dispatched_at=NOW - timedelta(minutes=5))
    retrying = entry_at(alices_post, NOW + timedelta(minutes=1), status=Status.RETRYING)
    entry_at(alices_post, NOW + timedelta(minutes=10, seconds=1))  # beyond the horizon
    entry_at(alices_post, NOW - timedelta(minutes=1), status=Status.PUBLISHED)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.resend_horizon() == 3

    assert sorted(m.args[0] for m in broker.messages()) == sorted([sent.pk, overdue.pk, retrying.pk])
    assert set(ScheduleEntry.objects.filter(dispatched_at=NOW).values_list("pk", flat=True)) == {
        sent.pk,
        overdue.pk,
        retrying.pk,
    }
