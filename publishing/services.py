"""Everything that changes a post or its dates goes through here.

The database row decides; a Celery message only says "look at entry N, version V, now". So every
service is safe to run twice, and no network call ever happens inside a transaction.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from platforms.base import (
    MediaItem,
    OutcomeUnknown,
    PermanentError,
    PlatformError,
    PublishRequest,
    PublishResult,
    ReconcileStatus,
    Reconciliation,
    ReconnectNeeded,
    RetryableError,
    TokenExpired,
)
from platforms.models import SocialAccount
from platforms.registry import get_client
from platforms.services import refresh_account_tokens
from publishing.models import Post, PostMedia, Profile, PublishAttempt, ScheduleEntry

logger = logging.getLogger(__name__)

PUBLISH_TASK = "publishing.publish_entry"
RECONCILE_TASK = "publishing.reconcile_entry"
Status = ScheduleEntry.Status


# -- settings, read at call time so tests can shorten them -------------------------------------------
def horizon() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_HORIZON_SECONDS)


def grace() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_SWEEP_GRACE_SECONDS)


def lease() -> timedelta:
    return timedelta(seconds=settings.SOSOCIAL_LEASE_SECONDS)


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based): exactly 60, 120, 240 s in production."""
    return timedelta(seconds=settings.SOSOCIAL_RETRY_DELAYS[attempt - 1])


# -- sending messages -------------------------------------------------------------------------------
def _send_publish(entry_id: int, dispatch_version: int, eta: datetime) -> None:
    current_app.send_task(PUBLISH_TASK, args=(entry_id, dispatch_version), eta=eta)


def _send_reconcile(entry_id: int, countdown: float) -> None:
    current_app.send_task(RECONCILE_TASK, args=(entry_id,), countdown=countdown)


def _after_commit(send: Callable[[], None]) -> None:
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
    _after_commit(lambda: _send_publish(entry_id, version, eta))
    return True


def _request_reconcile(entry: ScheduleEntry) -> None:
    entry_id = entry.pk
    delay = settings.SOSOCIAL_RECONCILE_DELAY_SECONDS
    _after_commit(lambda: _send_reconcile(entry_id, delay))


# -- users' actions ---------------------------------------------------------------------------------
def _validate_dates(when: Sequence[datetime], *, now: datetime, field: str = "when") -> list[datetime]:
    if not when:
        raise ValidationError({field: "Pick at least one date."})
    errors: list[str] = []
    for moment in when:
        if timezone.is_naive(moment):
            errors.append(f"{moment:%Y-%m-%d %H:%M} has no time zone.")
        elif moment < now:
            errors.append(f"{moment:%Y-%m-%d %H:%M} UTC is in the past.")
    if len(set(when)) != len(when):
        errors.append("The same date is listed twice.")
    if errors:
        raise ValidationError({field: errors})
    return sorted(when)


def create_post(
    *,
    owner_id: int,
    account: SocialAccount,
    text: str,
    options: Mapping[str, str] | None = None,
    media: Sequence[UploadedFile[Any]] = (),
    group: UUID | None = None,
) -> Post:
    if account.owner_id != owner_id:
        raise ValidationError({"account": "Choose one of your own accounts."})
    post = Post.objects.create(
        owner_id=owner_id, account=account, text=text, options=dict(options or {}), group=group
    )
    for position, upload in enumerate(media):
        PostMedia.objects.create(
            post=post,
            file=upload,
            content_type=upload.content_type or "application/octet-stream",
            position=position,
        )
    return post


def compose_post(
    *,
    owner_id: int,
    account: SocialAccount,
    text: str,
    when: Sequence[datetime],
    options: Mapping[str, str] | None = None,
    media: Sequence[UploadedFile[Any]] = (),
    group: UUID | None = None,
) -> Post:
    """Create a post with its media and schedule it: all of it, or nothing if any check refuses."""
    with transaction.atomic():
        post = create_post(
            owner_id=owner_id, account=account, text=text, options=options, media=media, group=group
        )
        schedule_post(post=post, when=when)
    return post


def schedule_post(*, post: Post, when: Sequence[datetime]) -> list[ScheduleEntry]:
    """Add one schedule entry per date; those due within the horizon get their message at commit."""
    now = timezone.now()
    dates = _validate_dates(when, now=now)
    check_post(post)
    with transaction.atomic():
        entries = [
            ScheduleEntry.objects.create(
                post=post, scheduled_at=moment, next_attempt_at=moment, created_at=now, updated_at=now
            )
            for moment in dates
        ]
        for entry in entries:
            dispatch_if_due(entry, now=now)
    return entries


def cancel_entry(*, entry: ScheduleEntry) -> bool:
    return entry.cancel(now=timezone.now())


def reschedule_entry(*, entry: ScheduleEntry, when: datetime) -> bool:
    now = timezone.now()
    _validate_dates([when], now=now)
    with transaction.atomic():
        if not entry.reschedule(when=when, now=now):
            return False
        dispatch_if_due(entry, now=now)
    return True


def retry_entry(*, entry: ScheduleEntry) -> bool:
    """Retry a failed date now, or send an unconfirmed one again once the user has checked."""
    now = timezone.now()
    with transaction.atomic():
        if not entry.requeue(now=now):
            return False
        dispatch_if_due(entry, now=now)
    return True


def confirm_published(*, entry: ScheduleEntry, platform_url: str = "", platform_post_id: str = "") -> bool:
    """The user saw an unconfirmed date on the platform: record it as published."""
    if entry.status != Status.UNCONFIRMED:
        return False
    return entry.mark_published(
        platform_post_id=platform_post_id, platform_url=platform_url, now=timezone.now()
    )


IN_FLIGHT_OR_DONE = frozenset({Status.PUBLISHING, Status.PUBLISHED, Status.UNCONFIRMED})


def _refuse_if_published(post: Post, action: str) -> None:
    if post.entries.filter(status__in=IN_FLIGHT_OR_DONE).exists():
        raise ValidationError(
            {"post": f"This post has a date that is published or being published, so it cannot be {action}."}
        )


def update_post(*, post: Post, text: str | None = None, options: Mapping[str, str] | None = None) -> Post:
    """Edit a post while none of its dates has gone out; the platform checks run again."""
    with transaction.atomic():
        _refuse_if_published(post, "edited")
        if text is not None:
            post.text = text
        if options is not None:
            post.options = dict(options)
        check_post(post)
        post.save(update_fields=["text", "options", "updated_at"])
    return post


def duplicate_post(*, post: Post) -> Post:
    """A copy with the same account, text, options and media, and no dates yet."""
    with transaction.atomic():
        copy = Post.objects.create(
            owner_id=post.owner_id, account=post.account, text=post.text, options=dict(post.options)
        )
        PostMedia.objects.bulk_create(
            PostMedia(post=copy, file=item.file.name, content_type=item.content_type, position=item.position)
            for item in post.media.all()
        )
    return copy


def delete_post(*, post: Post) -> None:
    """Delete a post and its dates; waiting messages then find nothing to claim."""
    if post.entries.filter(status__in=[Status.PUBLISHING, Status.UNCONFIRMED]).exists():
        raise ValidationError(
            {"post": "A date of this post is being published or awaits confirmation; settle it first."}
        )
    post.delete()


def profile_for(user_id: int) -> Profile:
    profile, _ = Profile.objects.get_or_create(user_id=user_id)
    return profile


def set_time_zone(*, user_id: int, time_zone: str) -> Profile:
    if time_zone not in available_timezones():
        raise ValidationError({"time_zone": f"“{time_zone}” is not a time zone SoSocial knows."})
    profile = profile_for(user_id)
    profile.time_zone = time_zone
    profile.save(update_fields=["time_zone"])
    return profile


# -- publishing -------------------------------------------------------------------------------------
class PublishOutcome(enum.StrEnum):
    SKIPPED = "skipped"  # not ours: duplicate delivery, old version, final, or not yet due
    PUBLISHED = "published"
    RETRY = "retry"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"


def media_items(post: Post) -> tuple[MediaItem, ...]:
    return tuple(
        MediaItem(
            url=f"{settings.SOSOCIAL_PUBLIC_BASE_URL}{item.file.url}",
            content_type=item.content_type,
            path=item.file.path,
        )
        for item in post.media.all()
    )


def build_request(entry: ScheduleEntry) -> PublishRequest:
    return PublishRequest(
        reference=entry.reference,
        account=entry.post.account.credentials(),
        text=entry.post.text,
        scheduled_at=entry.scheduled_at,
        media=media_items(entry.post),
        options=dict(entry.post.options),
        progress=dict(entry.platform_state),
    )


def check_post(post: Post) -> None:
    """Refuse now what the platform would refuse at publish time, with its reasons."""
    try:
        client = get_client(post.account.platform)
    except PlatformError as error:
        raise ValidationError({"account": error.message}) from error
    problems = client.validate(text=post.text, media=media_items(post), options=dict(post.options))
    if problems:
        raise ValidationError({"post": problems})


def _log_attempt(
    entry: ScheduleEntry,
    *,
    outcome: PublishAttempt.Outcome,
    started_at: datetime,
    finished_at: datetime,
    http_status: int | None = None,
    error_code: str = "",
    message: str = "",
) -> None:
    PublishAttempt.objects.create(
        entry=entry,
        dispatch_version=entry.dispatch_version,
        number=entry.attempts,
        started_at=started_at,
        finished_at=finished_at,
        outcome=outcome,
        http_status=http_status,
        error_code=error_code,
        message=message,
    )


def publish_entry(*, entry_id: int, dispatch_version: int) -> PublishOutcome:
    """Claim → call the platform (no transaction open) → record the outcome."""
    entry = ScheduleEntry.objects.select_related("post__account").filter(pk=entry_id).first()
    started_at = timezone.now()
    if entry is None or not entry.claim(dispatch_version=dispatch_version, now=started_at, lease=lease()):
        return PublishOutcome.SKIPPED

    account = entry.post.account
    result: PublishResult | None = None
    error: Exception | None = None
    if account.status == SocialAccount.Status.NEEDS_RECONNECT:
        error = ReconnectNeeded(
            f"{account} needs reconnecting before SoSocial can publish to it.",
            code="needs_reconnect",
        )
    else:
        try:
            result = _call_platform(entry)
        except Exception as raised:  # sorted into outcomes below
            error = raised
    return _record_outcome(entry, result=result, error=error, started_at=started_at)


def _call_platform(entry: ScheduleEntry) -> PublishResult:
    """Publish; on an expired token refresh it and try exactly once more."""
    account = entry.post.account
    client = get_client(account.platform)

    def checkpoint(progress: Mapping[str, str]) -> None:
        _save_progress(entry, progress)

    if account.token_expires_soon(now=timezone.now()):
        # Refresh ahead of expiry rather than spend an attempt on a token about to be refused.
        entry.post.account = account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
    try:
        return client.publish(build_request(entry), checkpoint=checkpoint)
    except TokenExpired as expired:
        entry.post.account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
        try:
            return client.publish(build_request(entry), checkpoint=checkpoint)
        except TokenExpired as again:
            raise ReconnectNeeded(
                f"{account} rejected a freshly refreshed token; reconnect the account.",
                code=again.code or expired.code,
                http_status=again.http_status,
            ) from again


def _save_progress(entry: ScheduleEntry, progress: Mapping[str, str]) -> None:
    if not entry.save_progress(progress, now=timezone.now()):
        # The claim is gone (the lease expired): stop before doing more on the platform.
        raise OutcomeUnknown("SoSocial lost track of this attempt while it was running.", code="claim_lost")


def _record_outcome(
    entry: ScheduleEntry,
    *,
    result: PublishResult | None,
    error: Exception | None,
    started_at: datetime,
) -> PublishOutcome:
    now = timezone.now()
    http_status = result.http_status if result else getattr(error, "http_status", None)
    code = getattr(error, "code", "") or (type(error).__name__ if error else "")
    message = getattr(error, "message", "") or (str(error) if error else "")

    def log(outcome: PublishAttempt.Outcome) -> None:
        _log_attempt(
            entry,
            outcome=outcome,
            started_at=started_at,
            finished_at=now,
            http_status=http_status,
            error_code=code,
            message=message,
        )

    with transaction.atomic():
        if result is not None:
            changed = entry.mark_published(
                platform_post_id=result.platform_post_id, platform_url=result.url, now=now
            )
            if changed:
                log(PublishAttempt.Outcome.PUBLISHED)
            return PublishOutcome.PUBLISHED if changed else PublishOutcome.SKIPPED

        if isinstance(error, RetryableError):
            if entry.attempts < ScheduleEntry.MAX_ATTEMPTS:
                next_at = now + retry_delay(entry.attempts)
                if error.retry_at is not None and error.retry_at > next_at:
                    next_at = error.retry_at  # the platform named a later time: honour it
                if entry.mark_retrying(next_attempt_at=next_at, code=code, message=message, now=now):
                    log(PublishAttempt.Outcome.RETRY)
                    dispatch_if_due(entry, now=now)
                    return PublishOutcome.RETRY
                return PublishOutcome.SKIPPED
            message = f"Gave up after {entry.attempts} attempts. Last error: {message}"
            return _fail(entry, code=code, message=message, now=now, log=log)

        if isinstance(error, PermanentError):
            if isinstance(error, ReconnectNeeded):
                entry.post.account.mark_needs_reconnect(error.message)
            return _fail(entry, code=code, message=message, now=now, log=log)

        if not isinstance(error, PlatformError):
            # A bug or a time limit inside the client: it may have sent the request already.
            logger.exception("Unexpected error publishing entry %s", entry.pk, exc_info=error)
            message = f"Unexpected error while publishing ({code}); checking with the platform."
        if entry.mark_unconfirmed(code=code, message=message, now=now):
            log(PublishAttempt.Outcome.UNCONFIRMED)
            _request_reconcile(entry)
            return PublishOutcome.UNCONFIRMED
        return PublishOutcome.SKIPPED


def _fail(
    entry: ScheduleEntry,
    *,
    code: str,
    message: str,
    now: datetime,
    log: Callable[[PublishAttempt.Outcome], None],
) -> PublishOutcome:
    if entry.mark_failed(code=code, message=message, now=now):
        log(PublishAttempt.Outcome.FAILED)
        return PublishOutcome.FAILED
    return PublishOutcome.SKIPPED


# -- reconciliation ---------------------------------------------------------------------------------
def reconcile_entry(*, entry_id: int) -> ReconcileStatus | None:
    """Ask the platform whether an unconfirmed date went out; settle it if the answer is certain."""
    entry = ScheduleEntry.objects.select_related("post__account").filter(pk=entry_id).first()
    if entry is None or entry.status != Status.UNCONFIRMED:
        return None
    since = entry.scheduled_at - timedelta(minutes=5)
    try:
        answer = get_client(entry.post.account.platform).reconcile(build_request(entry), since=since)
    except PlatformError as error:
        logger.warning("Reconciling entry %s failed: %s", entry.pk, error)
        answer = Reconciliation(status=ReconcileStatus.UNKNOWN, message=error.message)
    now = timezone.now()
    with transaction.atomic():
        if answer.status == ReconcileStatus.PUBLISHED and answer.result is not None:
            entry.mark_published(
                platform_post_id=answer.result.platform_post_id,
                platform_url=answer.result.url,
                now=now,
            )
        elif answer.status == ReconcileStatus.NOT_PUBLISHED:
            if entry.attempts >= ScheduleEntry.MAX_ATTEMPTS:
                entry.mark_failed(
                    code=entry.last_error_code,
                    message=f"Gave up after {entry.attempts} attempts. {entry.last_error_message}",
                    now=now,
                )
            elif entry.mark_retrying(
                next_attempt_at=now,
                code=entry.last_error_code,
                message="The platform has no such post; sending it again.",
                now=now,
            ):
                dispatch_if_due(entry, now=now)
        else:
            entry.mark_reconcile_inconclusive(
                message=answer.message
                or "SoSocial could not confirm whether this went out. Check the account, then "
                "mark it published or send it again.",
                now=now,
            )
    return answer.status


def reconcile_now(*, entry: ScheduleEntry) -> bool:
    """Ask the platform again, on a person's word, whether an unconfirmed date went out."""
    now = timezone.now()
    with transaction.atomic():
        if entry.status != Status.UNCONFIRMED or not entry.request_reconcile(now=now):
            return False
        entry_id = entry.pk
        _after_commit(lambda: _send_reconcile(entry_id, 0))
    return True


# -- the safety net ---------------------------------------------------------------------------------
@dataclass
class SweepReport:
    dispatched: int = 0
    redispatched: int = 0
    leases_expired: int = 0
    reconciles_requested: int = 0


def _in_batches(step: Callable[[], int]) -> int:
    total = 0
    for _ in range(settings.SOSOCIAL_SWEEP_MAX_BATCHES):
        done = step()
        total += done
        if done < settings.SOSOCIAL_SWEEP_BATCH_SIZE:
            break
    return total


def _locked_batch(query: QuerySet[ScheduleEntry], order: str) -> list[ScheduleEntry]:
    # skip_locked: two sweeps (two beat processes by mistake) take disjoint rows instead of waiting.
    return list(
        query.select_for_update(skip_locked=True).order_by(order)[: settings.SOSOCIAL_SWEEP_BATCH_SIZE]
    )


def _dispatch_batch(query: QuerySet[ScheduleEntry], *, now: datetime) -> int:
    with transaction.atomic():
        rows = _locked_batch(query, "next_attempt_at")
        if not rows:
            return 0
        # The rows are locked, so one bulk stamp is as safe as a per-row compare-and-set.
        ScheduleEntry.objects.filter(pk__in=[row.pk for row in rows]).update(
            dispatched_at=now, updated_at=now
        )
        messages = [(row.pk, row.dispatch_version, row.next_attempt_at) for row in rows]

        def send_all() -> None:
            for entry_id, version, eta in messages:
                _send_publish(entry_id, version, eta)

        _after_commit(send_all)
    return len(rows)


def waiting_entries() -> QuerySet[ScheduleEntry]:
    return ScheduleEntry.objects.filter(status__in=ScheduleEntry.WAITING)


def _expire_leases_batch(*, now: datetime) -> int:
    with transaction.atomic():
        rows = _locked_batch(
            ScheduleEntry.objects.filter(status=Status.PUBLISHING, lease_until__lt=now), "lease_until"
        )
        for entry in rows:
            message = (
                "The worker stopped while publishing, so the platform may or may not have the "
                "post. SoSocial is checking before sending anything again."
            )
            if entry.mark_unconfirmed(code="lease_expired", message=message, now=now):
                _log_attempt(
                    entry,
                    outcome=PublishAttempt.Outcome.INTERRUPTED,
                    started_at=now - lease(),
                    finished_at=now,
                    error_code="lease_expired",
                    message=message,
                )
                _request_reconcile(entry)
    return len(rows)


def _rerequest_reconcile_batch(*, now: datetime) -> int:
    with transaction.atomic():
        rows = _locked_batch(
            ScheduleEntry.objects.filter(
                status=Status.UNCONFIRMED, reconciled_at__isnull=True, dispatched_at__lt=now - grace()
            ),
            "dispatched_at",
        )
        for entry in rows:
            if entry.request_reconcile(now=now):
                _request_reconcile(entry)
    return len(rows)


def sweep_schedule() -> SweepReport:
    """Find what should have happened and did not, in bounded batches on the partial indexes."""
    now = timezone.now()
    report = SweepReport()
    # 1. Entries that entered the horizon and have no message yet.
    report.dispatched = _in_batches(
        lambda: _dispatch_batch(
            waiting_entries().filter(dispatched_at__isnull=True, next_attempt_at__lte=now + horizon()),
            now=now,
        )
    )
    # 2. Overdue entries whose message is older than the grace period: Redis lost it. The stamp
    #    from step 1 or from this step keeps a sweep from re-selecting rows it just sent.
    report.redispatched = _in_batches(
        lambda: _dispatch_batch(
            waiting_entries().filter(
                Q(next_attempt_at__lt=now - grace()), Q(dispatched_at__lt=now - grace())
            ),
            now=now,
        )
    )
    # 3. Publishing entries whose worker died: their outcome is unknown until reconciled.
    report.leases_expired = _in_batches(lambda: _expire_leases_batch(now=now))
    # 4. Unconfirmed entries whose reconcile message was lost.
    report.reconciles_requested = _in_batches(lambda: _rerequest_reconcile_batch(now=now))
    if any(vars(report).values()):
        logger.info("Sweep: %s", report)
    return report
