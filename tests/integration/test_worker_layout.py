"""The Procfile's worker layout under load: the safety net has its own worker process, so a
`publish` queue full of slow calls never delays it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.integration.conftest import StartProcess, wait_for
from tests.support.broker import Broker
from tests.support.sink import SinkServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
SLOW_CALL_SECONDS = 1.0
BACKLOG = 60  # at 2 threads and 1 s a call: half a minute of publishing queued


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    server = SinkServer(latency_before=SLOW_CALL_SECONDS).start()
    yield server
    server.stop()


@pytest.mark.usefixtures("fast_sweep")
def test_with_the_publish_queue_full_the_sweep_still_runs_on_time(
    alice: User, alices_x: SocialAccount, sink: SinkServer, processes: StartProcess, clean_broker: Broker
) -> None:
    processes("worker_publish", concurrency=2)
    processes("worker_background")
    processes("beat")
    backlog_post = Post.objects.create(owner=alice, account=alices_x, text="The nine o'clock rush")
    now = datetime.now(UTC)
    services.schedule_post(
        post=backlog_post, when=[now + timedelta(seconds=1, milliseconds=n) for n in range(BACKLOG)]
    )
    wait_for(lambda: len(sink.posts) >= 2, timeout=20, what="the publish worker to be busy")

    # Due past the horizon: no message at scheduling, only the sweep sends it, once it is inside.
    later_post = Post.objects.create(owner=alice, account=alices_x, text="Later")
    horizon = timedelta(seconds=settings.SOSOCIAL_HORIZON_SECONDS)
    due = datetime.now(UTC) + horizon + timedelta(seconds=3)
    (later,) = services.schedule_post(post=later_post, when=[due])
    assert ScheduleEntry.objects.get(pk=later.pk).dispatched_at is None

    wait_for(
        lambda: ScheduleEntry.objects.get(pk=later.pk).dispatched_at is not None,
        timeout=15,
        what="the sweep to send the later date",
    )
    dispatched_at = ScheduleEntry.objects.get(pk=later.pk).dispatched_at
    assert dispatched_at is not None
    # The sweep runs every second: it saw the date within two seconds of entering the horizon,
    # while the publish queue still held most of the backlog.
    assert dispatched_at - (due - horizon) < timedelta(seconds=2.5)
    assert len(sink.posts) < BACKLOG // 2
