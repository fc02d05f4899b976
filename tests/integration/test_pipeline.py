"""End to end: real worker and beat processes, Redis, the database, and a platform over HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from celery import current_app
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from publishing import dispatch, services
from publishing.models import Post, ScheduleEntry
from tests.integration.conftest import Process, wait_for
from tests.support.broker import Broker
from tests.support.sink import Fault, SinkServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = ScheduleEntry.Status
StartProcess = Callable[[str], Process]


def statuses(post: Post) -> list[str]:
    return list(post.entries.order_by("scheduled_at").values_list("status", flat=True))


def settled(post: Post, count: int) -> Callable[[], bool]:
    return lambda: statuses(post) == [Status.PUBLISHED] * count


@pytest.fixture
def alices_post(alice: User, alices_x: SocialAccount) -> Post:
    return Post.objects.create(owner=alice, account=alices_x, text="Hello, world")


@pytest.mark.usefixtures("fast_sweep")
def test_a_post_with_three_dates_publishes_each_once_at_its_time(
    alices_post: Post, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")
    processes("beat")
    now = datetime.now(UTC)
    # The horizon is 5 s here: the last date is sent by the sweep, not at scheduling time.
    dates = [now + timedelta(seconds=2), now + timedelta(seconds=4), now + timedelta(seconds=9)]
    entries = services.schedule_post(post=alices_post, when=dates)
    assert ScheduleEntry.objects.get(pk=entries[2].pk).dispatched_at is None

    wait_for(settled(alices_post, 3), timeout=30, what="three published dates")

    received = {post.reference: post for post in sink.posts}
    assert Counter(post.reference for post in sink.posts) == {entry.reference: 1 for entry in entries}
    for entry in entries:
        lateness = received[entry.reference].received_at - entry.scheduled_at.timestamp()
        assert 0 <= lateness < 2.5, f"{entry.reference} arrived {lateness:.3f} s after its time"
        entry.refresh_from_db()
        assert entry.platform_post_id == str(received[entry.reference].id)
        assert entry.platform_url == f"{sink.url}/posts/{received[entry.reference].id}"


@pytest.mark.usefixtures("fast_sweep")
def test_after_redis_loses_every_queued_message_the_sweep_publishes_each_date_once(
    alices_post: Post, sink: SinkServer, processes: StartProcess, clean_broker: Broker
) -> None:
    now = datetime.now(UTC)
    entries = services.schedule_post(
        post=alices_post, when=[now + timedelta(seconds=1, milliseconds=n) for n in range(5)]
    )
    assert len(clean_broker.messages()) == 5

    clean_broker.redis.flushall()
    assert clean_broker.messages() == []
    processes("worker")
    processes("beat")

    wait_for(settled(alices_post, 5), timeout=30, what="the sweep to recover five lost messages")
    assert sorted(post.reference for post in sink.posts) == sorted(entry.reference for entry in entries)


def test_the_same_message_delivered_twice_publishes_once(
    alices_post: Post, sink: SinkServer, processes: StartProcess
) -> None:
    worker = processes("worker")
    [entry] = services.schedule_post(post=alices_post, when=[datetime.now(UTC) + timedelta(seconds=1)])
    # A redelivery: the same entry and version again, to be run by the worker's second process.
    current_app.send_task("publishing.publish_entry", args=(entry.pk, 0), eta=entry.scheduled_at)

    wait_for(settled(alices_post, 1), timeout=20, what="the entry to publish")
    wait_for(
        lambda: worker.output().count("publishing.publish_entry[") >= 4,  # received + succeeded, twice
        timeout=20,
        what="both deliveries to run",
    )

    assert [post.reference for post in sink.posts] == [entry.reference]


@pytest.mark.usefixtures("fast_sweep")
def test_a_worker_killed_during_a_publish_leaves_no_duplicate_and_nothing_stuck(
    alices_post: Post, sink: SinkServer, processes: StartProcess
) -> None:
    [entry] = services.schedule_post(post=alices_post, when=[datetime.now(UTC) + timedelta(seconds=1)])
    # The platform accepts the post, then takes long to answer: the worker dies in between.
    sink.inject(Fault(kind="slow", seconds=5, commit=True, reference=entry.reference))
    worker = processes("worker")
    wait_for(lambda: len(sink.posts) == 1, timeout=20, what="the platform to receive the post")
    assert ScheduleEntry.objects.get(pk=entry.pk).status == Status.PUBLISHING

    worker.kill()
    processes("worker")
    processes("beat")

    wait_for(settled(alices_post, 1), timeout=30, what="the lease to expire and reconciliation to settle")
    entry.refresh_from_db()
    assert [post.reference for post in sink.posts] == [entry.reference]
    assert entry.platform_post_id == "1"
    assert list(entry.publish_attempts.values_list("outcome", flat=True)) == ["interrupted"]


def test_a_post_committed_before_the_connection_dropped_is_reconciled_not_resent(
    alices_post: Post, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")
    [entry] = services.schedule_post(post=alices_post, when=[datetime.now(UTC) + timedelta(seconds=1)])
    sink.inject(Fault(kind="commit_then_drop", reference=entry.reference))

    wait_for(settled(alices_post, 1), timeout=20, what="reconciliation to find the post")

    assert [post.reference for post in sink.posts] == [entry.reference]
    assert list(entry.publish_attempts.values_list("outcome", flat=True)) == ["unconfirmed"]


def test_server_errors_are_retried_on_the_backoff_until_the_post_goes_out(
    alices_post: Post, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")
    [entry] = services.schedule_post(post=alices_post, when=[datetime.now(UTC) + timedelta(seconds=1)])
    sink.inject(Fault(kind="status", status=503, reference=entry.reference))
    sink.inject(Fault(kind="status", status=502, reference=entry.reference))

    wait_for(settled(alices_post, 1), timeout=20, what="the third attempt to publish")

    attempts = list(entry.publish_attempts.order_by("number"))
    assert [(a.number, a.outcome, a.http_status) for a in attempts] == [
        (1, "retry", 503),
        (2, "retry", 502),
        (3, "published", 201),
    ]
    # Retry delays are 1 and 2 s here (60 and 120 s in production); a retry's task starts, and
    # claims, the claim-ahead time before its retry time, and calls at it.
    ahead = dispatch.claim_ahead().total_seconds()
    gaps = [
        (later.started_at - earlier.finished_at).total_seconds() + ahead
        for earlier, later in pairwise(attempts)
    ]
    assert gaps[0] >= 1
    assert gaps[1] >= 2
    assert len(sink.posts) == 1
