"""Media prepared ahead of the date: a post with media is uploaded and processed on the platform
within the lead (`SOSOCIAL_PREPARE_LEAD_SECONDS`) before its time, so that at its time only the final
call is made and a refusal of the media is shown before the time, not at it.

Each step is one prepare message (`publishing.prepare_entry` on the `prepare` queue): the client
does one step and never sleeps; while the platform processes, the next step is a message with a
countdown, its time on the row (`prepare_at`, `prep_sent_at`), so the sweep re-sends a lost one.
No transaction is open during the network call; every step is safe to run twice.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from platforms.base import (
    NotReady,
    OutcomeUnknown,
    PermanentError,
    PlatformError,
    Prepared,
    ReconnectNeeded,
    RetryableError,
)
from platforms.models import SocialAccount
from publishing import alerts, dispatch, pipeline
from publishing.models import PublishAttempt, ScheduleEntry, post_has_media

logger = logging.getLogger(__name__)


class PrepareOutcome(enum.StrEnum):
    SKIPPED = "skipped"  # not ours: duplicate, old version, no longer waiting, already ready, early
    READY = "ready"
    NOT_READY = "not_ready"  # the platform is processing: the next check is a message with a countdown
    RETRY = "retry"
    FAILED = "failed"
    PAUSED = "paused"


STALE = "The date changed while its media was being prepared."


def prepare_entry(*, entry_id: int, dispatch_version: int) -> PrepareOutcome:
    """One step of preparing a waiting date's media: ready, still processing, or refused."""
    entry = (
        ScheduleEntry.objects.select_related("post__account")
        .annotate(post_has_media=post_has_media())
        .filter(pk=entry_id)
        .first()
    )
    now = timezone.now()
    if entry is None or not entry.is_waiting or entry.dispatch_version != dispatch_version:
        return PrepareOutcome.SKIPPED
    if not entry.post_has_media or entry.media_status != ScheduleEntry.MediaStatus.PREPARING:
        return PrepareOutcome.SKIPPED  # ready already, or reset since (its version moved on too)
    if entry.prepare_at is not None and entry.prepare_at > now + pipeline.CLOCK_SLACK:
        return PrepareOutcome.SKIPPED  # an earlier message; the row names a later step

    prepared: Prepared | None = None
    error: Exception | None = None
    if entry.post.account.status == SocialAccount.Status.NEEDS_RECONNECT:
        error = ReconnectNeeded(
            f"{entry.post.account} needs reconnecting before SoSocial can prepare its media.",
            code="needs_reconnect",
        )
    else:
        try:
            prepared = _call_prepare(entry)
        except Exception as raised:  # sorted into outcomes below
            error = raised
    return _record(entry, prepared=prepared, error=error)


def _call_prepare(entry: ScheduleEntry) -> Prepared:
    def checkpoint(progress: Mapping[str, str]) -> None:
        if not entry.save_preparation(progress, now=timezone.now()):
            # Edited, rescheduled, cancelled or claimed meanwhile: stop; nothing of it is used.
            raise OutcomeUnknown(STALE, code="preparation_stale")

    return pipeline.call_client(entry, lambda client, request: client.prepare(request, checkpoint=checkpoint))


def _record(entry: ScheduleEntry, *, prepared: Prepared | None, error: Exception | None) -> PrepareOutcome:
    now = timezone.now()
    if prepared is not None and prepared.expires_at is not None and prepared.expires_at <= now:
        # Never ready and expired at once: treated as a failure, so it cannot loop.
        error, prepared = RetryableError("The platform discarded the prepared media at once."), None
    with transaction.atomic():
        if prepared is not None:
            if not entry.mark_prepared(until=prepared.expires_at, now=now):
                return PrepareOutcome.SKIPPED
            dispatch.publish_when_prepared(entry, now=now)
            return PrepareOutcome.READY

        if isinstance(error, NotReady):
            if dispatch.request_preparation(entry, at=now + error.check_in, now=now):
                return PrepareOutcome.NOT_READY
            return PrepareOutcome.SKIPPED

        code = getattr(error, "code", "") or type(error).__name__
        message = getattr(error, "message", "") or str(error)
        if isinstance(error, ReconnectNeeded):
            paused = pipeline.pause_for_reconnect(entry, code=code, message=message, now=now, log=_no_attempt)
            return (
                PrepareOutcome.PAUSED if paused == pipeline.PublishOutcome.PAUSED else PrepareOutcome.SKIPPED
            )

        if isinstance(error, PermanentError):
            return _fail(entry, code=code, message=message, now=now)

        # Anything else may pass (preparing never publishes, so an unknown outcome is safe to
        # repeat): 60, 120, 240 s apart, like publishing, then the date fails with the reason.
        if not isinstance(error, PlatformError):
            logger.warning("Unexpected error preparing entry %s", entry.pk, exc_info=error)
        if entry.prep_attempts + 1 >= ScheduleEntry.MAX_ATTEMPTS:
            tries = entry.prep_attempts + 1
            failure = f"Gave up preparing the media after {tries} tries. Last error: {message}"
            return _fail(entry, code=code, message=failure, now=now)
        at = now + dispatch.retry_delay(entry.prep_attempts + 1)
        retry_at = getattr(error, "retry_at", None)
        if isinstance(retry_at, datetime) and retry_at > at:
            at = retry_at  # the platform named a later time: honour it
        if not entry.retry_preparation(at=at, message=message, now=now):
            return PrepareOutcome.SKIPPED
        dispatch.send_preparation(entry)
        return PrepareOutcome.RETRY


def _fail(entry: ScheduleEntry, *, code: str, message: str, now: datetime) -> PrepareOutcome:
    """The date fails now, before its time, and its owner is told (once per run)."""
    if not entry.fail_preparation(code=code, message=message, now=now):
        return PrepareOutcome.SKIPPED
    alerts.date_failed(entry)
    return PrepareOutcome.FAILED


def _no_attempt(outcome: PublishAttempt.Outcome) -> None:
    """Preparing is not a publishing attempt: the attempt log has no line for it."""
