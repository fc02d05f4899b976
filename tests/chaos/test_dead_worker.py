"""A worker killed mid-publish, with a production-like lease: its date is reconciled as soon as its
process is known dead (within a minute), not when the five-minute lease ends."""

from __future__ import annotations

import time

import pytest

from platforms.models import SocialAccount
from publishing.models import PublishAttempt, ScheduleEntry
from tests.chaos.conftest import CHAOS, Burst, StartProcess
from tests.integration.conftest import wait_for

pytestmark = CHAOS


@pytest.fixture
def platform_env(platform_env: dict[str, str]) -> dict[str, str]:
    return {**platform_env, "SOSOCIAL_LEASE_SECONDS": "300", "SOSOCIAL_HEARTBEAT_SECONDS": "1"}


def test_a_date_whose_worker_was_killed_mid_publish_is_reconciled_within_a_minute(
    alices_x: SocialAccount, burst: Burst, processes: StartProcess
) -> None:
    burst.slow_creates(3.0)  # the post exists on the platform; the answer comes 3 s late
    worker = processes("worker")
    processes("beat")
    (entry,) = burst.schedule(alices_x, 1)
    burst.wait_held(1, timeout=30)
    worker.kill()
    killed_at = time.monotonic()
    processes("worker")

    wait_for(
        lambda: ScheduleEntry.objects.get(pk=entry.pk).status != ScheduleEntry.Status.PUBLISHING,
        timeout=60,
        what="the dead worker's date to leave publishing",
    )
    assert time.monotonic() - killed_at < 60
    interrupted = PublishAttempt.objects.get(entry=entry, outcome=PublishAttempt.Outcome.INTERRUPTED)
    assert interrupted.error_code == "worker_lost"  # its process was gone; the lease had not ended
    outcome = burst.settled([entry], timeout=30)
    assert [published.pk for published in outcome.published] == [entry.pk]
