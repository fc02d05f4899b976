"""SIGKILL of the worker's whole process group, several times, while a burst publishes."""

from __future__ import annotations

import time

import pytest

from platforms.models import SocialAccount
from publishing.models import PublishAttempt
from tests.chaos.conftest import StartProcess, assert_settled, schedule_burst, wait_settled
from tests.integration.conftest import wait_for
from tests.support.sink import SinkServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_sweep"),
]
# Most of each request is spent after the post is recorded: a kill then leaves the outcome unknown.
SLOW_SINK = {"latency_before": 0.01, "latency_after": 0.06}


def burst_with_kills(
    count: int, kills: int, account: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    worker = processes("worker")
    processes("beat")
    entries = schedule_burst(account, count)
    for kill in range(1, kills + 1):
        target = count * kill // (kills + 2)

        def reached(target: int = target) -> bool:
            return len(sink.posts) >= target

        wait_for(reached, timeout=30 + count / 10, what=f"{target} posts")
        worker.kill()
        time.sleep(0.3)
        worker = processes("worker")

    wait_settled(entries, timeout=40 + count / 5)
    outcome = assert_settled(entries, (post.reference for post in sink.posts))
    # The sink answers every request, so reconciliation always settles: nothing fails here.
    assert len(outcome.published) == count, (len(outcome.failed), len(outcome.unconfirmed))
    # The kills did land mid-publish: some entries were caught in flight and settled by the lease
    # expiring, an `interrupted` attempt, and reconciliation.
    interrupted = PublishAttempt.objects.filter(
        entry__in=[entry.pk for entry in entries], outcome=PublishAttempt.Outcome.INTERRUPTED
    ).count()
    assert interrupted >= 1


@pytest.mark.parametrize("sink", [SLOW_SINK], indirect=True)
def test_a_burst_of_100_survives_three_worker_kills(
    alices_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    burst_with_kills(100, 3, alices_x, sink, processes)


@pytest.mark.long
@pytest.mark.parametrize("sink", [SLOW_SINK], indirect=True)
def test_a_burst_of_1000_survives_three_worker_kills(
    alices_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    burst_with_kills(1000, 3, alices_x, sink, processes)
