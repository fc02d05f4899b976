from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from platforms.models import SocialAccount
from publishing import dashboard
from publishing.models import Post, Profile, PublishAttempt, ScheduleEntry
from tests.admin.conftest import NOW
from tests.support.dates import entry_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
Status = ScheduleEntry.Status
Outcome = PublishAttempt.Outcome
DASHBOARD = reverse("admin:publishing_scheduleentry_dashboard")


@pytest.fixture
def bobs_post(bob: User) -> Post:
    account = SocialAccount.objects.create(
        owner=bob,
        platform=SocialAccount.Kind.FACEBOOK,
        platform_account_id="fb-bob",
        display_name="Bob's Page",
    )
    return Post.objects.create(owner=bob, account=account, text="Hello from Bob")


def attempt(
    entry: ScheduleEntry,
    *,
    started_at: datetime,
    number: int = 1,
    version: int = 0,
    outcome: str = Outcome.PUBLISHED,
    error_code: str = "",
) -> PublishAttempt:
    return PublishAttempt.objects.create(
        entry=entry,
        dispatch_version=version,
        number=number,
        started_at=started_at,
        finished_at=started_at + timedelta(seconds=1),
        outcome=outcome,
        error_code=error_code,
    )


def test_it_counts_dates_by_status_with_zero_for_the_missing_ones(alices_post: Post) -> None:
    for status, count in [(Status.PENDING, 3), (Status.FAILED, 2), (Status.PUBLISHED, 1)]:
        for n in range(count):
            entry_at(alices_post, NOW + timedelta(minutes=n), status=status)

    assert dashboard.counts_by_status() == {
        "pending": 3,
        "publishing": 0,
        "retrying": 0,
        "published": 1,
        "failed": 2,
        "cancelled": 0,
        "unconfirmed": 0,
        "paused": 0,
    }


def test_due_in_the_next_hour_counts_waiting_dates_by_their_next_attempt(alices_post: Post) -> None:
    entry_at(alices_post, NOW)
    entry_at(alices_post, NOW + timedelta(minutes=59, seconds=59))
    entry_at(
        alices_post,
        NOW - timedelta(hours=1),
        status=Status.RETRYING,
        next_attempt_at=NOW + timedelta(minutes=2),
    )
    entry_at(alices_post, NOW + timedelta(hours=1))  # an hour away exactly: the next hour's
    entry_at(alices_post, NOW - timedelta(seconds=1))  # overdue, not due
    entry_at(alices_post, NOW + timedelta(minutes=5), status=Status.CANCELLED)

    assert dashboard.due_within(now=NOW) == 3


def test_it_groups_failed_attempts_of_the_last_day_by_platform_and_error(
    alices_post: Post, bobs_post: Post
) -> None:
    alices = entry_at(alices_post, NOW - timedelta(hours=3), status=Status.FAILED, attempts=4)
    for number in (1, 2, 3):
        attempt(
            alices,
            number=number,
            started_at=NOW - timedelta(hours=3, minutes=-number),
            outcome=Outcome.RETRY,
            error_code="rate_limited",
        )
    attempt(
        alices,
        number=4,
        started_at=NOW - timedelta(hours=2),
        outcome=Outcome.FAILED,
        error_code="rate_limited",
    )
    bobs = entry_at(bobs_post, NOW - timedelta(hours=1), status=Status.FAILED, attempts=1)
    attempt(bobs, started_at=NOW - timedelta(hours=1), outcome=Outcome.FAILED, error_code="needs_reconnect")
    bobs_unknown = entry_at(bobs_post, NOW - timedelta(minutes=30), status=Status.UNCONFIRMED, attempts=1)
    attempt(
        bobs_unknown,
        started_at=NOW - timedelta(minutes=30),
        outcome=Outcome.UNCONFIRMED,
        error_code="timeout",
    )
    # Not counted: a success, and a failure from more than a day ago.
    attempt(entry_at(alices_post, NOW - timedelta(hours=1)), started_at=NOW - timedelta(hours=1))
    old = entry_at(alices_post, NOW - timedelta(days=2), status=Status.FAILED, attempts=1)
    attempt(old, started_at=NOW - timedelta(hours=24, seconds=1), outcome=Outcome.FAILED, error_code="old")

    failures = dashboard.failures_by_platform_and_error(now=NOW)

    assert failures == [
        dashboard.FailureGroup(platform="x", error_code="rate_limited", attempts=4, gave_up=1),
        dashboard.FailureGroup(platform="facebook", error_code="needs_reconnect", attempts=1, gave_up=1),
        dashboard.FailureGroup(platform="facebook", error_code="timeout", attempts=1, gave_up=0),
    ]


def test_lateness_percentiles_come_from_each_dates_first_attempt(alices_post: Post) -> None:
    # Twenty dates whose first attempt started 1, 2, ... 20 seconds late.
    for late in range(1, 21):
        scheduled = NOW - timedelta(hours=2, minutes=late)
        entry = entry_at(alices_post, scheduled, status=Status.PUBLISHED, attempts=1)
        attempt(entry, started_at=scheduled + timedelta(seconds=late))
    # Not counted: a retry, a person's "retry now" of the same date, an interrupted attempt, an
    # attempt from before a reschedule, and a first attempt from more than a day ago.
    retried = entry_at(alices_post, NOW - timedelta(hours=5), status=Status.PUBLISHED, attempts=2)
    attempt(retried, started_at=NOW - timedelta(hours=5) + timedelta(seconds=5), outcome=Outcome.RETRY)
    attempt(retried, number=2, started_at=NOW - timedelta(hours=4))
    attempt(retried, version=1, started_at=NOW - timedelta(hours=1))
    interrupted = entry_at(alices_post, NOW - timedelta(hours=3), status=Status.UNCONFIRMED, attempts=1)
    attempt(interrupted, started_at=NOW - timedelta(hours=2), outcome=Outcome.INTERRUPTED)
    rescheduled = entry_at(alices_post, NOW + timedelta(days=1))
    attempt(rescheduled, started_at=NOW - timedelta(hours=1), outcome=Outcome.FAILED)
    old = entry_at(alices_post, NOW - timedelta(days=2), status=Status.PUBLISHED, attempts=1)
    attempt(old, started_at=NOW - timedelta(days=1, seconds=1))

    lateness = dashboard.first_attempt_lateness(now=NOW)

    # 21 samples: the twenty above plus the retried date's first attempt (5 s late).
    assert lateness == dashboard.Lateness(samples=21, p50=timedelta(seconds=10), p95=timedelta(seconds=19))


def test_lateness_is_empty_without_first_attempts() -> None:
    assert dashboard.first_attempt_lateness(now=NOW) == dashboard.Lateness(samples=0, p50=None, p95=None)


def test_percentiles_use_the_nearest_rank() -> None:
    assert dashboard.percentile([4.0], 95) == 4.0
    assert dashboard.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert dashboard.percentile([float(n) for n in range(1, 101)], 95) == 95.0


def test_the_oldest_overdue_date_is_the_waiting_one_due_longest_ago(alices_post: Post) -> None:
    entry_at(alices_post, NOW - timedelta(minutes=2))
    due = NOW - timedelta(minutes=40)
    oldest = entry_at(alices_post, NOW - timedelta(hours=3), Status.RETRYING, attempts=1, next_attempt_at=due)
    entry_at(alices_post, NOW - timedelta(hours=5), status=Status.FAILED)
    entry_at(alices_post, NOW - timedelta(hours=5), status=Status.PUBLISHING)

    overdue = dashboard.oldest_overdue(now=NOW)

    assert overdue is not None
    assert (overdue.entry, overdue.overdue_by) == (oldest, timedelta(minutes=40))


def test_nothing_is_overdue_when_every_waiting_date_is_in_the_future(alices_post: Post) -> None:
    entry_at(alices_post, NOW + timedelta(seconds=1))

    assert dashboard.oldest_overdue(now=NOW) is None


def test_it_reads_when_the_safety_net_last_ran() -> None:
    PeriodicTask.objects.filter(task="publishing.sweep_schedule").update(
        last_run_at=NOW - timedelta(minutes=4)
    )

    assert dashboard.sweep_status(now=NOW) == dashboard.SweepStatus(
        found=True, enabled=True, last_run_at=NOW - timedelta(minutes=4), stale=False
    )


def test_a_safety_net_silent_for_two_intervals_is_stale() -> None:
    PeriodicTask.objects.filter(task="publishing.sweep_schedule").update(
        last_run_at=NOW - timedelta(minutes=10, seconds=1)
    )

    assert dashboard.sweep_status(now=NOW).stale


def test_a_safety_net_that_never_ran_is_stale() -> None:
    status = dashboard.sweep_status(now=NOW)

    assert (status.found, status.last_run_at, status.stale) == (True, None, True)


def test_the_dashboard_page_shows_the_figures(admin_client: Client, alices_post: Post) -> None:
    entry_at(alices_post, NOW + timedelta(minutes=30))
    overdue = entry_at(alices_post, NOW - timedelta(minutes=7))
    failed = entry_at(alices_post, NOW - timedelta(hours=1), status=Status.FAILED, attempts=1)
    attempt(
        failed,
        started_at=NOW - timedelta(hours=1) + timedelta(seconds=3),
        outcome=Outcome.FAILED,
        error_code="duplicate_content",
    )
    PeriodicTask.objects.filter(task="publishing.sweep_schedule").update(
        last_run_at=NOW - timedelta(minutes=2)
    )

    response = admin_client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["figures"].counts_by_status["pending"] == 2
    assert '<td id="due-next-hour">1</td>' in html
    assert "duplicate_content" in html
    assert "p50 3.0 s" in html
    assert f"Entry {overdue.pk}</a>" in html
    assert "overdue by 420 s" in html
    assert "2026-11-28 11:58:00 UTC" in html
    assert "No worker answered." in html


def test_someone_who_is_not_staff_cannot_reach_the_dashboard(client: Client, bob: User) -> None:
    client.force_login(bob)

    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permission_on_dates_cannot_see_the_dashboard(client: Client, bob: User) -> None:
    User.objects.filter(pk=bob.pk).update(is_staff=True)
    client.force_login(bob)

    assert client.get(DASHBOARD).status_code == 403


def test_the_dashboard_shows_times_in_the_operators_time_zone(admin_client: Client, admin_user: User) -> None:
    Profile.objects.create(user=admin_user, time_zone="Europe/Paris")
    PeriodicTask.objects.filter(task="publishing.sweep_schedule").update(
        last_run_at=NOW - timedelta(minutes=2)
    )

    html = admin_client.get(DASHBOARD).content.decode()

    assert "2026-11-28 12:58:00 CET" in html
