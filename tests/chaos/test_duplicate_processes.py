"""Two workers and two beat processes started by mistake during a burst: still no duplicates."""

from __future__ import annotations

import pytest

from platforms.models import SocialAccount
from tests.chaos.conftest import StartProcess, assert_settled, schedule_burst, wait_settled
from tests.integration.conftest import wait_for
from tests.support.sink import SinkServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_sweep"),
]
COUNT = 100


@pytest.mark.parametrize("sink", [{"latency_before": 0.01, "latency_after": 0.03}], indirect=True)
def test_two_workers_and_two_beats_publish_each_date_once(
    alices_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")
    processes("beat")
    entries = schedule_burst(alices_x, COUNT)
    processes("worker")  # the mistakes: a second worker and a second beat join mid-burst
    processes("beat")
    wait_for(lambda: len(sink.posts) >= 1, timeout=20, what="the burst to start")

    wait_settled(entries, timeout=60)
    outcome = assert_settled(entries, (post.reference for post in sink.posts))
    assert len(outcome.published) == COUNT
