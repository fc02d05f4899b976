"""Redis restarted, and Redis flushed, while a burst publishes. Runs on a throwaway Redis server of
its own (tests/chaos/conftest.py `own_redis`), never on the shared one."""

from __future__ import annotations

import time

import pytest

from platforms.models import SocialAccount
from tests.chaos.conftest import CHAOS, Burst, OwnRedis, StartProcess
from tests.integration.conftest import wait_for

pytestmark = CHAOS
SLOW_AFTER_COMMIT = 0.05
COUNT = 100


def in_flight(server: OwnRedis) -> int:
    """Messages queued on, or delivered but not yet acknowledged to a worker by, this Redis."""
    client = server.client()
    return int(client.llen("publish")) + int(client.hlen("unacked"))


@pytest.fixture
def platform_env(platform_env: dict[str, str], own_redis: OwnRedis) -> dict[str, str]:
    return {**platform_env, "REDIS_URL": own_redis.url}


def test_a_redis_restart_mid_burst_loses_no_post_and_doubles_none(
    alices_x: SocialAccount, burst: Burst, own_redis: OwnRedis, processes: StartProcess
) -> None:
    burst.slow_creates(SLOW_AFTER_COMMIT)
    worker = processes("worker")
    processes("beat")
    entries = burst.schedule(alices_x, COUNT)
    wait_for(lambda: in_flight(own_redis) > 0, timeout=10, what="the messages on our Redis")

    burst.wait_held(COUNT // 4, timeout=30)
    own_redis.restart(down_for=1.0)  # no persistence: every queued and unacked message is gone

    outcome = burst.settled(entries, timeout=60)
    assert len(outcome.published) == COUNT
    assert worker.popen.poll() is None, worker.output()[-3000:]  # reconnected, no restart needed


def test_a_redis_flushall_mid_burst_loses_no_post_and_doubles_none(
    alices_x: SocialAccount, burst: Burst, own_redis: OwnRedis, processes: StartProcess
) -> None:
    burst.slow_creates(SLOW_AFTER_COMMIT)
    processes("worker")
    processes("beat")
    entries = burst.schedule(alices_x, COUNT)

    burst.wait_held(COUNT // 4, timeout=30)
    own_redis.client().flushall()
    burst.wait_held(COUNT // 2, timeout=30)
    own_redis.client().flushall()

    outcome = burst.settled(entries, timeout=60)
    assert len(outcome.published) == COUNT


# celery 5.7 / kombu 5.7 killed the worker here ("Unrecoverable error: AttributeError ... hostname")
# until the workaround in sosocial/celery.py (patch_kombu_redis_released_connection).
def test_the_worker_keeps_running_through_a_redis_restart(
    alices_x: SocialAccount, burst: Burst, own_redis: OwnRedis, processes: StartProcess
) -> None:
    burst.slow_creates(0.5)
    worker = processes("worker")
    entries = burst.schedule(alices_x, 20, in_seconds=1.5)
    burst.wait_held(2, timeout=20)

    own_redis.restart(down_for=1.0)  # while two publishes are waiting on the platform's answer
    time.sleep(4)

    assert worker.popen.poll() is None, worker.output()[-3000:]
    processes("beat")
    assert len(burst.settled(entries, timeout=40).published) == 20
