"""When a date's publish message goes out: the horizon, grace and lease, retry delays, and sending
messages only after the row commits.

The database row decides; a Celery message only says "look at entry N, version V, now", so sending
one twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction

from publishing.models import ScheduleEntry

PUBLISH_TASK = "publishing.publish_entry"
RECONCILE_TASK = "publishing.reconcile_entry"


# Settings are read at call time so tests can shorten them.
def horizon() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_HORIZON_SECONDS)


def grace() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_SWEEP_GRACE_SECONDS)


def lease() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_LEASE_SECONDS)


def claim_ahead() -> timedelta:
    """How long before a date's time its message arrives and its claim commits (the call waits)."""
    return timedelta(milliseconds=settings.SOSOCIAL_CLAIM_AHEAD_MS)


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based): exactly 60, 120, 240 s in production."""
    return timedelta(seconds=settings.SOSOCIAL_RETRY_DELAYS[attempt - 1])


def send_publish(entry_id: int, dispatch_version: int, eta: datetime) -> None:
    """The message for the attempt due at `eta` arrives `claim_ahead()` before it (claim, then wait)."""
    current_app.send_task(PUBLISH_TASK, args=(entry_id, dispatch_version), eta=eta - claim_ahead())


def send_reconcile(entry_id: int, eta: datetime) -> None:
    current_app.send_task(RECONCILE_TASK, args=(entry_id,), eta=eta)


def check_delay(checks: int) -> timedelta:
    """The wait after `checks` inconclusive checks: minutes first, then hours (the last repeats)."""
    delays = settings.SOSOCIAL_RECONCILE_CHECK_DELAYS
    return timedelta(seconds=delays[min(checks, len(delays) - 1)])


def check_window(client: object) -> timedelta:
    """How long after an unknown outcome the platform can still answer for it.

    A client may name its own (`reconcile_window`, e.g. its container's expiry); else the setting.
    """
    window = getattr(client, "reconcile_window", None)
    if isinstance(window, timedelta):
        return window
    return timedelta(seconds=settings.SOSOCIAL_RECONCILE_WINDOW_SECONDS)


def next_check(entry: ScheduleEntry, *, now: datetime, window: timedelta) -> datetime | None:
    """When to ask the platform again about an unconfirmed date, or None: the user must decide."""
    deadline = (entry.unconfirmed_at or now) + window
    if now >= deadline:
        return None
    return min(now + check_delay(entry.checks), deadline)


def after_commit(send: Callable[[], None]) -> None:
    # robust: if Redis is down the row is already committed with dispatched_at set, and the sweep
    # sends the message again after the grace period. A broker fault never fails the user's action.
    transaction.on_commit(send, robust=True)


def dispatch_if_due(entry: ScheduleEntry, *, now: datetime) -> bool:
    """Send the publish message now if the entry is due within the horizon; else the sweep will."""
    if not entry.is_waiting or entry.next_attempt_at > now + horizon():
        return False
    if not entry.mark_dispatched(now=now):
        return False
    entry_id, version, eta = entry.pk, entry.dispatch_version, entry.next_attempt_at
    after_commit(lambda: send_publish(entry_id, version, eta))
    return True


def request_reconcile(entry: ScheduleEntry) -> None:
    """Send the check message for the entry's `next_check_at` (its row stamped `dispatched_at`)."""
    entry_id, eta = entry.pk, entry.next_check_at or entry.updated_at
    after_commit(lambda: send_reconcile(entry_id, eta))


def dispatch_check_if_due(entry: ScheduleEntry, *, now: datetime) -> bool:
    """Send the next check's message now if it is due within the horizon; else the sweep will."""
    if entry.next_check_at is None or entry.next_check_at > now + horizon():
        return False
    if not entry.request_reconcile(now=now):
        return False
    request_reconcile(entry)
    return True
