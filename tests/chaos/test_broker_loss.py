"""Redis restarted empty with dates due in the next seconds: the workers notice the lost data and
send the horizon again at once, so the dates due once Redis is back go out on time. The sweep's
grace is a minute here, so only that watch (publishing/broker_watch.py) can make them on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox.client import SandboxClient
from tests.chaos.conftest import CHAOS, OwnRedis, StartProcess, assert_settled_on_sandbox, wait_settled
from tests.integration.conftest import wait_for

pytestmark = CHAOS
HORIZON = 60
GRACE = 60
DATES = 30
EVERY = timedelta(milliseconds=600)
ON_TIME = 1.5  # seconds after its time, including the call to the sandbox
NOTICE = 4.0  # the worker reconnects and its watch (every 0.5 s here) sees the lost data


@pytest.fixture
def platform_env(platform_env: dict[str, str], own_redis: OwnRedis) -> dict[str, str]:
    return {
        **platform_env,
        "REDIS_URL": own_redis.url,
        "SOSOCIAL_HORIZON_SECONDS": str(HORIZON),
        "SOSOCIAL_SWEEP_GRACE_SECONDS": str(GRACE),
    }


def held_by_redis(server: OwnRedis) -> int:
    client = server.client()
    return int(client.llen("publish")) + int(client.hlen("unacked"))


def test_after_redis_restarts_empty_the_dates_due_once_it_is_back_go_out_on_time(
    alices_x: SocialAccount,
    own_redis: OwnRedis,
    processes: StartProcess,
    control: SandboxClient,
    settings: Settings,
) -> None:
    settings.SOSOCIAL_HORIZON_SECONDS = HORIZON
    settings.SOSOCIAL_SWEEP_GRACE_SECONDS = GRACE
    worker = processes("worker", concurrency=8)
    processes("beat")
    first = datetime.now(UTC) + timedelta(seconds=4)
    entries: list[ScheduleEntry] = []
    for n in range(DATES):
        post = Post.objects.create(owner_id=alices_x.owner_id, account=alices_x, text=f"Date {n + 1}")
        entries.extend(services.schedule_post(post=post, when=[first + n * EVERY]))
    wait_for(lambda: held_by_redis(own_redis) >= DATES, timeout=10, what="every message on our Redis")

    own_redis.restart(down_for=1.0)  # no persistence: the queued and the held ETA messages are gone
    back = datetime.now(UTC)
    assert back < first + 3 * EVERY, "the restart came after most dates were due"

    wait_settled(entries, timeout=60)
    outcome = assert_settled_on_sandbox(entries, control)
    assert len(outcome.published) == DATES
    judged = [e for e in outcome.published if e.scheduled_at >= back + timedelta(seconds=NOTICE)]
    assert len(judged) >= DATES // 2
    lateness = {
        e.reference: (e.published_at - e.scheduled_at).total_seconds() if e.published_at else None
        for e in judged
    }
    late = {ref: seconds for ref, seconds in lateness.items() if seconds is None or seconds > ON_TIME}
    assert late == {}, f"late after Redis came back at {back:%H:%M:%S.%f}: {late}"
    assert "The broker lost its data" in worker.output()
