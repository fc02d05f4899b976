"""SIGKILL of the worker's whole process group, several times, while a burst publishes."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from publishing.models import PublishAttempt
from tests.chaos.conftest import CHAOS, Burst, StartProcess
from tests.support.sandbox_plugin import connect_sandbox_account

pytestmark = CHAOS
# Most of each create is spent after the post exists: a kill then leaves the outcome unknown.
SLOW_AFTER_COMMIT = 0.06


def burst_with_kills(
    count: int, kills: int, accounts: list[SocialAccount], burst: Burst, processes: StartProcess
) -> None:
    burst.slow_creates(SLOW_AFTER_COMMIT)
    worker = processes("worker")
    processes("beat")
    entries = burst.schedule(accounts, count)
    for kill in range(1, kills + 1):
        burst.wait_held(count * kill // (kills + 2), timeout=30 + count / 10)
        worker.kill()
        time.sleep(0.3)
        worker = processes("worker")

    outcome = burst.settled(entries, timeout=40 + count / 5)
    # The sandbox answers every request, so reconciliation always settles: nothing fails here.
    assert len(outcome.published) == count, (len(outcome.failed), len(outcome.unconfirmed))
    # The kills did land mid-publish: some entries were caught in flight and settled by the lease
    # expiring, an `interrupted` attempt, and reconciliation.
    interrupted = PublishAttempt.objects.filter(
        entry__in=[entry.pk for entry in entries], outcome=PublishAttempt.Outcome.INTERRUPTED
    ).count()
    assert interrupted >= 1


def test_a_burst_of_100_survives_three_worker_kills(
    alices_x: SocialAccount, burst: Burst, processes: StartProcess
) -> None:
    burst_with_kills(100, 3, [alices_x], burst, processes)


@pytest.mark.long
def test_a_burst_of_1000_over_ten_accounts_survives_three_worker_kills(
    alice: User, burst: Burst, processes: StartProcess
) -> None:
    # Ten accounts, as X reconciliation reads an account's newest 300 posts (platforms/x.py
    # RECONCILE_PAGES) and X itself allows one account 100 posts per 15 minutes.
    accounts = [
        connect_sandbox_account(burst.control, owner=alice, platform="x", name=f"Alice {n}")
        for n in range(10)
    ]
    burst_with_kills(1000, 3, accounts, burst, processes)
