"""Redis restarted, and Redis flushed, while a burst publishes. Runs on a throwaway Redis server of
its own (tests/chaos/conftest.py `own_redis`), never on the shared one."""

from __future__ import annotations

import time

import pytest

from platforms.models import SocialAccount
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from tests.chaos.conftest import (
    CHAOS,
    OwnRedis,
    StartProcess,
    assert_settled_on_sandbox,
    posts_held,
    schedule_burst,
    slow_every_create,
    wait_settled,
)
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
    alices_x: SocialAccount,
    sandbox: SandboxServer,
    control: SandboxClient,
    own_redis: OwnRedis,
    processes: StartProcess,
) -> None:
    slow_every_create(control, SLOW_AFTER_COMMIT)
    worker = processes("worker")
    processes("beat")
    entries = schedule_burst(alices_x, COUNT)
    wait_for(lambda: in_flight(own_redis) > 0, timeout=10, what="the messages on our Redis")

    wait_for(lambda: posts_held(sandbox) >= COUNT // 4, timeout=30, what="a quarter of the burst")
    own_redis.restart(down_for=1.0)  # no persistence: every queued and unacked message is gone

    wait_settled(entries, timeout=60)
    outcome = assert_settled_on_sandbox(entries, control)
    assert len(outcome.published) == COUNT
    assert worker.popen.poll() is None, worker.output()[-3000:]  # reconnected, no restart needed


def test_a_redis_flushall_mid_burst_loses_no_post_and_doubles_none(
    alices_x: SocialAccount,
    sandbox: SandboxServer,
    control: SandboxClient,
    own_redis: OwnRedis,
    processes: StartProcess,
) -> None:
    slow_every_create(control, SLOW_AFTER_COMMIT)
    processes("worker")
    processes("beat")
    entries = schedule_burst(alices_x, COUNT)

    wait_for(lambda: posts_held(sandbox) >= COUNT // 4, timeout=30, what="a quarter of the burst")
    own_redis.client().flushall()
    wait_for(lambda: posts_held(sandbox) >= COUNT // 2, timeout=30, what="half of the burst")
    own_redis.client().flushall()

    wait_settled(entries, timeout=60)
    outcome = assert_settled_on_sandbox(entries, control)
    assert len(outcome.published) == COUNT


# celery 5.7 / kombu 5.7 killed the worker here ("Unrecoverable error: AttributeError ... hostname")
# until the workaround in sosocial/celery.py (patch_kombu_redis_released_connection).
def test_the_worker_keeps_running_through_a_redis_restart(
    alices_x: SocialAccount,
    sandbox: SandboxServer,
    control: SandboxClient,
    own_redis: OwnRedis,
    processes: StartProcess,
) -> None:
    slow_every_create(control, 0.5)
    worker = processes("worker")
    entries = schedule_burst(alices_x, 20, in_seconds=1.5)
    wait_for(lambda: posts_held(sandbox) >= 2, timeout=20, what="tasks running")

    own_redis.restart(down_for=1.0)  # while two publishes are waiting on the platform's answer
    time.sleep(4)

    assert worker.popen.poll() is None, worker.output()[-3000:]
    processes("beat")
    wait_settled(entries, timeout=40)
    assert len(assert_settled_on_sandbox(entries, control).published) == 20
