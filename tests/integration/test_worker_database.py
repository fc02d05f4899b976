"""A worker keeps its PostgreSQL connections between tasks, and drops one that broke.

A new connection per task cost 40-50 % of worker throughput (docs/benchmarks.md): the settings keep
connections (DATABASE_CONN_MAX_AGE, CELERY_DB_REUSE_MAX) and `sosocial.celery` drops an unusable one
before each task, as Django does before each request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.integration.conftest import Process, wait_for
from tests.support.sink import SinkServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
StartProcess = Callable[[str], Process]


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL sessions (CI runs on PostgreSQL)")


def sessions_opened() -> int:
    """Connections ever made to the test database (PostgreSQL's own counter)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def cut_other_connections() -> int:
    """Terminate every other backend on the test database, as a database restart would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def schedule(post: Post, count: int) -> list[ScheduleEntry]:
    first = datetime.now(UTC) + timedelta(seconds=1)
    return services.schedule_post(post=post, when=[first + timedelta(milliseconds=n) for n in range(count)])


def all_published(entries: list[ScheduleEntry]) -> Callable[[], bool]:
    ids = [entry.pk for entry in entries]
    return lambda: (
        set(ScheduleEntry.objects.filter(pk__in=ids).values_list("status", flat=True))
        == {ScheduleEntry.Status.PUBLISHED}
    )


def test_a_worker_publishing_twelve_dates_opens_only_a_connection_per_process(
    alice: User, alices_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")  # concurrency 2
    post = Post.objects.create(owner=alice, account=alices_x, text="Twelve times")
    before = sessions_opened()

    entries = schedule(post, 12)
    wait_for(all_published(entries), timeout=30, what="twelve published dates")

    assert sorted(p.reference for p in sink.posts) == sorted(entry.reference for entry in entries)
    # Closing after every task would mean at least 12; each of the two pool processes keeps one.
    assert sessions_opened() - before <= 3


def test_a_worker_whose_connections_were_cut_publishes_the_next_date(
    alice: User, alices_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    processes("worker")
    first_post = Post.objects.create(owner=alice, account=alices_x, text="Before the cut")
    first = schedule(first_post, 2)
    wait_for(all_published(first), timeout=20, what="the first post")

    assert cut_other_connections() >= 1  # the worker held on to its connection
    second_post = Post.objects.create(owner=alice, account=alices_x, text="After the cut")
    second = schedule(second_post, 2)
    wait_for(all_published(second), timeout=20, what="the second post, on a new connection")

    assert sorted(p.reference for p in sink.posts) == sorted(e.reference for e in first + second)
