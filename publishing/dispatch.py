"""When a date's messages go out: the horizon, grace and lease, retry delays, the preparation lead,
and sending messages only after the row commits.

The database row decides; a Celery message only says "look at entry N, version V, now", so sending
one twice is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from publishing.models import PostMedia, ScheduleEntry

PUBLISH_TASK = "publishing.publish_entry"
RECONCILE_TASK = "publishing.reconcile_entry"
PREPARE_TASK = "publishing.prepare_entry"
FOLLOW_TASK = "publishing.follow_entry"


# Settings are read at call time so tests can shorten them.
def horizon() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_HORIZON_SECONDS)


def grace() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_SWEEP_GRACE_SECONDS)


def lease() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_LEASE_SECONDS)


def lead() -> timedelta:
    """How far ahead of its date a post's media is prepared (below the platforms' 24 h expiry)."""
    return timedelta(seconds=settings.SOSOCIAL_PREPARE_LEAD_SECONDS)


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


def send_prepare(entry_id: int, dispatch_version: int, eta: datetime) -> None:
    current_app.send_task(PREPARE_TASK, args=(entry_id, dispatch_version), eta=eta)


def send_follow(entry_id: int, eta: datetime) -> None:
    current_app.send_task(FOLLOW_TASK, args=(entry_id,), eta=eta)


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


def has_media(entry: ScheduleEntry, known: bool | None = None) -> bool:
    """Whether the date's post has media (`known`, or annotated as `post_has_media` where it was
    loaded)."""
    if known is None:
        known = getattr(entry, "post_has_media", None)
    if isinstance(known, bool):
        return known
    return PostMedia.objects.filter(post_id=entry.post_id).exists()


def request_preparation(entry: ScheduleEntry, *, at: datetime, now: datetime) -> bool:
    """Stamp the row and send a prepare message for `at` once it commits."""
    if not entry.request_preparation(at=at, now=now):
        return False
    send_preparation(entry)
    return True


def send_preparation(entry: ScheduleEntry) -> None:
    """Send the prepare message for the row's `prepare_at` (its row stamped `prep_sent_at`)."""
    entry_id, version, eta = entry.pk, entry.dispatch_version, entry.prepare_at or entry.updated_at
    after_commit(lambda: send_prepare(entry_id, version, eta))


def needs_preparation(entry: ScheduleEntry, *, now: datetime, media: bool | None = None) -> bool:
    """A waiting date of a post with media, not ready, with no prepare message pending."""
    return (
        entry.is_waiting
        and entry.prep_sent_at is None
        and not entry.media_is_ready(now=now)
        and has_media(entry, media)
    )


def prepare_if_due(entry: ScheduleEntry, *, now: datetime, media: bool | None = None) -> bool:
    """Start preparing the media now if the date is within the lead; else the sweep will. Text
    posts never prepare (`media`: whether the post has media, when the caller knows)."""
    if not entry.is_waiting or entry.next_attempt_at > now + lead():
        return False
    if not needs_preparation(entry, now=now, media=media):
        return False
    return request_preparation(entry, at=now, now=now)


def awaits_media(entry: ScheduleEntry, *, dispatch_version: int) -> bool:
    """A date of a post with media whose media is not ready (so the claim refused it): make sure
    its preparation is under way (a prepare message now, unless one is pending); its publish
    message is sent again once the media is ready."""
    now = timezone.now()
    if (
        not entry.is_waiting
        or entry.dispatch_version != dispatch_version
        or not getattr(entry, "post_has_media", False)
        or entry.media_is_ready(now=now)
    ):
        return False
    with transaction.atomic():
        if needs_preparation(entry, now=now):
            request_preparation(entry, at=now, now=now)
    return True


def publish_when_prepared(entry: ScheduleEntry, *, now: datetime) -> bool:
    """The media is ready: a date whose message may already have been delivered (it arrives
    `claim_ahead` before the time, and found the media unprepared) gets its publish message again
    now; one within the horizon without a message gets it for its time. A second message is
    harmless: the claim takes the date once."""
    if entry.next_attempt_at - claim_ahead() > now and entry.dispatched_at is not None:
        return False  # its message is still to be delivered and will find the media ready
    return dispatch_if_due(entry, now=now)


def request_follow(entry: ScheduleEntry) -> None:
    """Send the status check of a post the platform processes, for the row's `follow_at`."""
    entry_id, eta = entry.pk, entry.follow_at or entry.updated_at
    after_commit(lambda: send_follow(entry_id, eta))
