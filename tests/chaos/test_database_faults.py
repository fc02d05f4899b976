"""PostgreSQL restarted while a burst publishes. Runs on a throwaway cluster of its own
(tests/chaos/conftest.py `own_postgres`) and a throwaway Redis, never on the shared servers."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection

from platforms.models import SocialAccount
from tests.chaos.conftest import CHAOS, Burst, OwnPostgres, OwnRedis, StartProcess, sweep_every_second
from tests.integration.conftest import wait_for

pytestmark = CHAOS
SLOW_AFTER_COMMIT = 0.05
COUNT = 100


@pytest.fixture
def fast_sweep(own_postgres: OwnPostgres) -> None:
    sweep_every_second()


@pytest.fixture
def alice(own_postgres: OwnPostgres) -> User:
    """In the throwaway database, like everything this test writes."""
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def platform_env(
    platform_env: dict[str, str], own_redis: OwnRedis, own_postgres: OwnPostgres
) -> dict[str, str]:
    # DATABASE_URL follows this process's connection, now on the throwaway cluster (process_env).
    return {**platform_env, "REDIS_URL": own_redis.url}


def failed_tasks(log: str, *, since: int) -> list[str]:
    """Tasks received after `since` (an offset in the worker's log) that raised, apart from those
    that could not connect at all (the server was down). A task already running when the server
    went away may only report it after `since`: that is the outage, not a connection kept dead."""
    earlier = set(re.findall(r"\[([0-9a-f-]{36})\] received", log[:since]))
    raised = [line for line in log[since:].splitlines() if "raised unexpected" in line]
    return [
        line
        for line in raised
        if "connection failed" not in line and not any(task_id in line for task_id in earlier)
    ]


def test_a_postgres_restart_mid_burst_loses_no_post_and_doubles_none(
    alices_x: SocialAccount, burst: Burst, own_postgres: OwnPostgres, processes: StartProcess
) -> None:
    burst.slow_creates(SLOW_AFTER_COMMIT)
    worker = processes("worker")
    beat = processes("beat")
    entries = burst.schedule(alices_x, COUNT)

    burst.wait_held(COUNT // 4, timeout=30)
    # Every session is cut (mid-claim, mid-publish, mid-outcome), then nothing connects for 2 s.
    down = len(worker.output())
    own_postgres.restart(down_for=2.0)
    assert burst.held() < COUNT, "the restart came after the burst"
    # Back once a task succeeds again: a thread whose pooled connection the restart cut may report
    # it only as the server comes back.
    restarted = len(worker.output())
    wait_for(lambda: "succeeded" in worker.output()[restarted:], timeout=20, what="a task to succeed")
    back = len(worker.output())
    # The outage hit the worker mid-task: a task raised (its message is spent, only the rows say
    # what is left), or the connection pool found its connections dead (discarded them, or failed to
    # reconnect while the server was down) and made the threads wait.
    during = worker.output()[down:back]
    signs = ("raised unexpected", "discarding closed connection", "error connecting in")
    assert any(sign in during for sign in signs)
    connection.close()  # this process's session died with the server too

    outcome = burst.settled(entries, timeout=60)
    assert len(outcome.published) == COUNT
    assert failed_tasks(worker.output(), since=back) == []

    # Then a restart while the worker waits between bursts: the connections it keeps between tasks
    # (in its pool) are dead, and each must be replaced before it is used.
    own_postgres.restart(down_for=1.0)
    back = len(worker.output())
    connection.close()
    later = burst.schedule(alices_x, 20)
    assert len(burst.settled([*entries, *later], timeout=30).published) == COUNT + 20
    assert failed_tasks(worker.output(), since=back) == []
    # Both carried on through the outages: no supervisor restarted them.
    assert worker.popen.poll() is None, worker.output()[-3000:]
    assert beat.popen.poll() is None, beat.output()[-3000:]
