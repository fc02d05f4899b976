"""The figures on the operator dashboard, read from the database (and one broker ping).

Plain functions over bounded queries that run the same on SQLite and PostgreSQL: percentiles are
computed in Python rather than with a database-specific aggregate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q
from django_celery_beat.models import PeriodicTask

from publishing.models import PublishAttempt, ScheduleEntry

logger = logging.getLogger(__name__)

SWEEP_TASK = "publishing.sweep_schedule"
WINDOW = timedelta(hours=24)
DUE_SOON = timedelta(hours=1)
# Enough first attempts for stable percentiles while keeping the page's query bounded.
LATENESS_SAMPLE_LIMIT = 20_000
FAILURE_GROUP_LIMIT = 50
PING_TIMEOUT_SECONDS = 1.0
Status = ScheduleEntry.Status
Outcome = PublishAttempt.Outcome


@dataclass(frozen=True)
class FailureGroup:
    platform: str
    error_code: str
    attempts: int
    # Of those attempts, how many ended the date for good (the rest were retried or are being checked).
    gave_up: int


@dataclass(frozen=True)
class Lateness:
    samples: int
    p50: timedelta | None
    p95: timedelta | None


@dataclass(frozen=True)
class Overdue:
    entry: ScheduleEntry
    overdue_by: timedelta


@dataclass(frozen=True)
class SweepStatus:
    found: bool
    enabled: bool
    last_run_at: datetime | None
    # No run within two intervals: beat is down, or the task was disabled.
    stale: bool


@dataclass(frozen=True)
class WorkerPing:
    workers: tuple[str, ...]
    error: str = ""

    @property
    def answered(self) -> bool:
        return bool(self.workers)


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    counts_by_status: dict[str, int]
    due_next_hour: int
    failures: list[FailureGroup]
    lateness: Lateness
    oldest_overdue: Overdue | None
    sweep: SweepStatus
    workers: WorkerPing


def counts_by_status() -> dict[str, int]:
    """Every status, in the state machine's order, with 0 for those no entry has."""
    rows = ScheduleEntry.objects.order_by().values("status").annotate(n=Count("id"))
    found = {row["status"]: row["n"] for row in rows}
    return {status: found.get(status, 0) for status in Status.values}


def due_within(*, now: datetime, window: timedelta = DUE_SOON) -> int:
    """Waiting entries whose next attempt falls in [now, now + window) (overdue ones are not counted)."""
    return ScheduleEntry.objects.filter(
        status__in=ScheduleEntry.WAITING, next_attempt_at__gte=now, next_attempt_at__lt=now + window
    ).count()


def failures_by_platform_and_error(*, now: datetime, window: timedelta = WINDOW) -> list[FailureGroup]:
    """Attempts that did not publish, started within the window, grouped by platform and error code."""
    rows = (
        PublishAttempt.objects.filter(started_at__gte=now - window, started_at__lte=now)
        .exclude(outcome=Outcome.PUBLISHED)
        .values("entry__post__account__platform", "error_code")
        .annotate(attempts=Count("id"), gave_up=Count("id", filter=Q(outcome=Outcome.FAILED)))
        .order_by("-attempts", "entry__post__account__platform", "error_code")[:FAILURE_GROUP_LIMIT]
    )
    return [
        FailureGroup(
            platform=row["entry__post__account__platform"],
            error_code=row["error_code"],
            attempts=row["attempts"],
            gave_up=row["gave_up"],
        )
        for row in rows
    ]


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `pct`% of the values at or below it."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def first_attempt_lateness(*, now: datetime, window: timedelta = WINDOW) -> Lateness:
    """How late each date's first attempt started: attempt 1's started_at minus the entry's scheduled_at.

    Counted once per date, for first attempts started within the window. Left out: attempts that
    started before scheduled_at (runs from before a reschedule), later first attempts of the same
    date (a person's "retry now" is not lateness), and interrupted attempts, whose start time the
    sweep only estimates.
    """
    earlier_first = PublishAttempt.objects.filter(
        entry=OuterRef("entry"),
        number=1,
        started_at__lt=OuterRef("started_at"),
        started_at__gte=OuterRef("entry__scheduled_at"),
    ).exclude(outcome=Outcome.INTERRUPTED)
    rows = (
        PublishAttempt.objects.filter(number=1, started_at__gte=now - window, started_at__lte=now)
        .filter(started_at__gte=F("entry__scheduled_at"))
        .exclude(outcome=Outcome.INTERRUPTED)
        .exclude(Exists(earlier_first))
        .order_by("-started_at")
        .values_list("started_at", "entry__scheduled_at")[:LATENESS_SAMPLE_LIMIT]
    )
    values = sorted((started_at - scheduled_at).total_seconds() for started_at, scheduled_at in rows)
    if not values:
        return Lateness(samples=0, p50=None, p95=None)
    return Lateness(
        samples=len(values),
        p50=timedelta(seconds=percentile(values, 50)),
        p95=timedelta(seconds=percentile(values, 95)),
    )


def oldest_overdue(*, now: datetime) -> Overdue | None:
    """The waiting entry whose next attempt has been due the longest (on the partial index)."""
    entry = (
        ScheduleEntry.objects.filter(status__in=ScheduleEntry.WAITING, next_attempt_at__lt=now)
        .select_related("post__account")
        .order_by("next_attempt_at", "id")
        .first()
    )
    if entry is None:
        return None
    return Overdue(entry=entry, overdue_by=now - entry.next_attempt_at)


def sweep_status(*, now: datetime) -> SweepStatus:
    task = PeriodicTask.objects.filter(task=SWEEP_TASK).select_related("interval").order_by("id").first()
    if task is None:
        return SweepStatus(found=False, enabled=False, last_run_at=None, stale=True)
    every = timedelta(seconds=settings.SOSOCIAL_SWEEP_INTERVAL_SECONDS)
    if task.interval is not None:
        every = timedelta(**{task.interval.period: task.interval.every})
    last_run_at: datetime | None = task.last_run_at
    stale = not task.enabled or last_run_at is None or now - last_run_at > 2 * every
    return SweepStatus(found=True, enabled=bool(task.enabled), last_run_at=last_run_at, stale=stale)


def ping_workers(*, timeout: float = PING_TIMEOUT_SECONDS) -> WorkerPing:
    """Ask every worker to answer within `timeout`; never raises (a broker fault is a figure too)."""
    try:
        with current_app.connection_for_write() as connection:
            # One quick connection attempt instead of Celery's retry-forever default.
            connection.ensure_connection(max_retries=1, timeout=math.ceil(timeout))
            replies = current_app.control.ping(timeout=timeout, connection=connection)
    except Exception as error:  # whatever the broker does, the page still renders
        logger.warning("Worker ping failed: %s", error)
        return WorkerPing(workers=(), error=f"{type(error).__name__}: {error}")
    return WorkerPing(workers=tuple(sorted(name for reply in replies or [] for name in reply)))


def build_dashboard(*, now: datetime, ping_timeout: float = PING_TIMEOUT_SECONDS) -> Dashboard:
    return Dashboard(
        now=now,
        counts_by_status=counts_by_status(),
        due_next_hour=due_within(now=now),
        failures=failures_by_platform_and_error(now=now),
        lateness=first_attempt_lateness(now=now),
        oldest_overdue=oldest_overdue(now=now),
        sweep=sweep_status(now=now),
        workers=ping_workers(timeout=ping_timeout),
    )
