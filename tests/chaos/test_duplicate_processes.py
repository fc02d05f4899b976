"""Two workers and two beat processes started by mistake during a burst: still no duplicates."""

from __future__ import annotations

from platforms.models import SocialAccount
from tests.chaos.conftest import CHAOS, Burst, StartProcess

pytestmark = CHAOS
COUNT = 100


def test_two_workers_and_two_beats_publish_each_date_once(
    alices_x: SocialAccount, burst: Burst, processes: StartProcess
) -> None:
    burst.slow_creates(0.03)
    processes("worker")
    processes("beat")
    entries = burst.schedule(alices_x, COUNT)
    processes("worker")  # the mistakes: a second worker and a second beat join mid-burst
    processes("beat")
    burst.wait_held(1, timeout=20)

    outcome = burst.settled(entries, timeout=60)
    assert len(outcome.published) == COUNT
