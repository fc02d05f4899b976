"""One date's trip to the platform: build the request, claim, publish, record the outcome, follow a
post the platform is still processing, and reconcile a date whose outcome is unknown.

No network call ever happens inside a transaction; every step is safe to run twice.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from platforms.base import (
    MediaItem,
    NotReady,
    OutcomeUnknown,
    PermanentError,
    PlatformClient,
    PlatformError,
    Processing,
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
from platforms.services import flag_refused_tokens, refresh_account_tokens
from publishing import alerts, dispatch, liveness, uploads
from publishing.models import Post, PublishAttempt, ScheduleEntry, post_has_media
from sosocial.db import release_while_waiting

logger = logging.getLogger(__name__)
Status = ScheduleEntry.Status


class PublishOutcome(enum.StrEnum):
    SKIPPED = "skipped"  # not ours: duplicate delivery, old version, final, or not yet due
    PUBLISHED = "published"
    RETRY = "retry"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    PAUSED = "paused"  # the account needs reconnecting: the date waits for it
    PREPARING = "preparing"  # its media is not ready: not claimed, or back to waiting; prepared first
    PROCESSING = "processing"  # accepted; the platform processes the post and a check follows


def media_items(post: Post) -> tuple[MediaItem, ...]:
    return tuple(
        MediaItem(
            url=uploads.public_url(item.file.url),
            content_type=item.content_type,
            path=item.file.path,
        )
        for item in post.media.all()
    )


# Another date recorded as published this long before the search starts may still show in it.
RECONCILE_SLACK = timedelta(minutes=5)


def build_request(entry: ScheduleEntry, *, since: datetime | None = None) -> PublishRequest:
    """The request for `entry`; with `since` (reconciliation), also the platform ids that other dates
    of the same account recorded since then, so a search by text never claims another date's post."""
    # `post_has_media` comes with the entry when publish_entry loads it: no media query for text.
    has_media = getattr(entry, "post_has_media", True)
    return PublishRequest(
        reference=entry.reference,
        account=entry.post.account.credentials(),
        text=entry.post.text,
        scheduled_at=entry.scheduled_at,
        media=media_items(entry.post) if has_media else (),
        options=dict(entry.post.options),
        progress=dict(entry.platform_state),
        taken_post_ids=frozenset() if since is None else _taken_post_ids(entry, since=since),
    )


def _taken_post_ids(entry: ScheduleEntry, *, since: datetime) -> frozenset[str]:
    taken = (
        ScheduleEntry.objects.filter(
            post__account_id=entry.post.account_id, published_at__gte=since - RECONCILE_SLACK
        )
        .exclude(pk=entry.pk)
        .exclude(platform_post_id="")
        .values_list("platform_post_id", flat=True)
    )
    return frozenset(taken)


def check_post(post: Post) -> None:
    """Refuse now what the platform would refuse at publish time, with its reasons."""
    try:
        client = get_client(post.account.platform)
    except PlatformError as error:
        raise ValidationError({"account": error.message}) from error
    problems = client.validate(text=post.text, media=media_items(post), options=dict(post.options))
    if problems:
        raise ValidationError({"post": problems})


ATTEMPT_KEY = ["entry", "dispatch_version", "number"]  # PublishAttempt's uniq_attempt_per_run
ATTEMPT_WRITTEN = ["started_at", "finished_at", "outcome", "http_status", "error_code", "message"]


def log_attempt(
    entry: ScheduleEntry,
    *,
    outcome: PublishAttempt.Outcome,
    started_at: datetime,
    finished_at: datetime,
    http_status: int | None = None,
    error_code: str = "",
    message: str = "",
    run: tuple[int, int] | None = None,
) -> None:
    """`run`: (dispatch_version, attempt number) when the entry has already moved on (a pause)."""
    dispatch_version, number = run or (entry.dispatch_version, entry.attempts)
    # One row per attempt: a late answer from a worker whose lease expired replaces the
    # "interrupted" row the sweep wrote for the same attempt (one INSERT ... ON CONFLICT UPDATE).
    PublishAttempt.objects.bulk_create(
        [
            PublishAttempt(
                entry=entry,
                dispatch_version=dispatch_version,
                number=number,
                started_at=started_at,
                finished_at=finished_at,
                outcome=outcome,
                http_status=http_status,
                error_code=error_code,
                message=message,
            )
        ],
        update_conflicts=True,
        unique_fields=ATTEMPT_KEY,
        update_fields=ATTEMPT_WRITTEN,
    )


def interrupt(entry: ScheduleEntry, *, code: str, message: str, now: datetime, started_at: datetime) -> bool:
    """A claimant that died mid-publish (lease expired, or its process gone): unknown, so check."""
    if not entry.mark_unconfirmed(code=code, message=message, now=now):
        return False
    log_attempt(
        entry,
        outcome=PublishAttempt.Outcome.INTERRUPTED,
        started_at=started_at,
        finished_at=now,
        error_code=code,
        message=message,
    )
    dispatch.request_reconcile(entry)
    return True


WORKER_LOST = (
    "The worker stopped while publishing, so the platform may or may not have the post. "
    "SoSocial is checking before sending anything again."
)


def settle_orphan(entry: ScheduleEntry) -> bool:
    """Reconcile now a publishing date whose claimant is certainly dead, not after its lease."""
    if entry.status != Status.PUBLISHING or liveness.is_alive(entry.claimed_by) is not False:
        return False
    now = timezone.now()
    with transaction.atomic():
        return interrupt(entry, code="worker_lost", message=WORKER_LOST, now=now, started_at=entry.updated_at)


def publish_entry(*, entry_id: int, dispatch_version: int) -> PublishOutcome:
    """Claim → read the post and account → wait for the date's time → call the platform (no
    transaction open) → record.

    The message arrives `dispatch.claim_ahead()` early, so the claim's commit is done before the
    time and the call is made at it.

    Claiming before reading means an edit saved before the claim is what goes out, and an edit
    after it is refused (services.update_post locks the dates).
    """
    started_at = timezone.now()
    me = liveness.claimant()
    claimed = ScheduleEntry.claim_by_id(
        entry_id,
        dispatch_version=dispatch_version,
        lease=dispatch.lease(),
        claimant=me,
        ahead=dispatch.claim_ahead(),
        sent_at=started_at,
    )
    entry = (
        ScheduleEntry.objects.select_related("post__account")
        .annotate(post_has_media=post_has_media())
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        return PublishOutcome.SKIPPED
    if not claimed:
        if dispatch.awaits_media(entry, dispatch_version=dispatch_version):
            return PublishOutcome.PREPARING
        # A redelivered message whose date is still held by a worker that died: settle it now.
        if entry.claimed_by != me:
            settle_orphan(entry)
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


Called = TypeVar("Called")


def call_client(
    entry: ScheduleEntry,
    call: Callable[[PlatformClient, PublishRequest], Called],
    *,
    not_before: datetime | None = None,
) -> Called:
    """Call the platform for `entry` (no transaction open), not before `not_before` (a claim made
    ahead of the date's time); on an expired token refresh it and try exactly once more."""
    account = entry.post.account
    client = get_client(account.platform)
    if account.token_expires_soon(now=timezone.now()):
        # Refresh ahead of expiry rather than spend an attempt on a token about to be refused.
        entry.post.account = account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
    request = build_request(entry)
    release_while_waiting()
    if not_before is not None:
        wait_for_time(not_before)
    try:
        return call(client, request)
    except TokenExpired as expired:
        entry.post.account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
        try:
            return call(client, build_request(entry))
        except TokenExpired as again:
            raise ReconnectNeeded(
                f"{account} rejected a freshly refreshed token; reconnect the account.",
                code=again.code or expired.code,
                http_status=again.http_status,
            ) from again


def _call_platform(entry: ScheduleEntry) -> PublishResult:
    """Publish, at the date's time, with the handles a client saves checkpointed on the claimed
    attempt."""

    def checkpoint(progress: Mapping[str, str]) -> None:
        _save_progress(entry, progress)

    return call_client(
        entry,
        lambda client, request: client.publish(request, checkpoint=checkpoint),
        not_before=entry.next_attempt_at,
    )


def wait_for_time(due: datetime) -> None:
    """The claim committed ahead of the date's time: make the call at the time, not before.

    Never longer than the claim-ahead setting, whatever this worker's clock says."""
    wait = min((due - timezone.now()).total_seconds(), dispatch.claim_ahead().total_seconds())
    if wait > 0:
        time.sleep(wait)


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

    run = (entry.dispatch_version, entry.attempts)  # the attempt this outcome belongs to

    def log(outcome: PublishAttempt.Outcome) -> None:
        log_attempt(
            entry,
            outcome=outcome,
            started_at=started_at,
            finished_at=now,
            http_status=http_status,
            error_code=code,
            message=message,
            run=run,
        )

    with transaction.atomic():
        if result is not None:
            changed = entry.mark_published(
                platform_post_id=result.platform_post_id, platform_url=result.url, now=now
            )
            if changed:
                log(PublishAttempt.Outcome.PUBLISHED)
            return PublishOutcome.PUBLISHED if changed else PublishOutcome.SKIPPED

        if isinstance(error, NotReady):
            # Nothing went out: no attempt spent; prepared first, then claimed again.
            if entry.back_to_preparing(at=now + error.check_in, now=now):
                dispatch.send_preparation(entry)
                return PublishOutcome.PREPARING
            return PublishOutcome.SKIPPED

        if isinstance(error, Processing):
            if entry.mark_processing(check_at=now + error.check_in, lease=dispatch.lease(), now=now):
                dispatch.request_follow(entry)
                return PublishOutcome.PROCESSING
            return PublishOutcome.SKIPPED

        if isinstance(error, RetryableError):
            if entry.attempts < ScheduleEntry.MAX_ATTEMPTS:
                next_at = now + dispatch.retry_delay(entry.attempts)
                if error.retry_at is not None and error.retry_at > next_at:
                    next_at = error.retry_at  # the platform named a later time: honour it
                if entry.mark_retrying(next_attempt_at=next_at, code=code, message=message, now=now):
                    log(PublishAttempt.Outcome.RETRY)
                    dispatch.dispatch_if_due(entry, now=now)
                    return PublishOutcome.RETRY
                return PublishOutcome.SKIPPED
            message = f"Gave up after {entry.attempts} attempts. Last error: {message}"
            return _fail(entry, code=code, message=message, now=now, log=log)

        if isinstance(error, ReconnectNeeded):
            return pause_for_reconnect(entry, code=code, message=message, now=now, log=log)

        if isinstance(error, PermanentError):
            return _fail(entry, code=code, message=message, now=now, log=log)

        if not isinstance(error, PlatformError):
            # A bug or a time limit inside the client: it may have sent the request already.
            logger.exception("Unexpected error publishing entry %s", entry.pk, exc_info=error)
            message = f"Unexpected error while publishing ({code}); checking with the platform."
        if entry.mark_unconfirmed(code=code, message=message, now=now):
            log(PublishAttempt.Outcome.UNCONFIRMED)
            dispatch.request_reconcile(entry)
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
        alerts.date_failed(entry)
        return PublishOutcome.FAILED
    return PublishOutcome.SKIPPED


def pause_for_reconnect(
    entry: ScheduleEntry,
    *,
    code: str,
    message: str,
    now: datetime,
    log: Callable[[PublishAttempt.Outcome], None],
) -> PublishOutcome:
    """One revoked token pauses the account's dates instead of failing them one by one; the call
    that flagged the account tells its owner, once."""
    account = entry.post.account
    flagged = False
    if account.status != SocialAccount.Status.NEEDS_RECONNECT:
        # Flag only if the refused token is still the stored one: another worker may have refreshed
        # meanwhile, and then the account is healthy and this date fails on its own.
        flagged = flag_refused_tokens(account, rejected_token=account.access_token, reason=message)
        account.refresh_from_db(fields=["status", "status_reason", "needs_reconnect_since"])
        if not flagged and account.status != SocialAccount.Status.NEEDS_RECONNECT:
            return _fail(entry, code=code, message=message, now=now, log=log)
    reason = account.status_reason or message
    held = f"Paused: {account} needs reconnecting ({reason}). Reconnect it to publish."
    if not entry.pause(code=code, message=held, now=now):
        return PublishOutcome.SKIPPED
    log(PublishAttempt.Outcome.PAUSED)
    others = ScheduleEntry.pause_waiting_of_account(account_id=account.pk, code=code, message=held, now=now)
    if flagged:
        alerts.account_needs_reconnect(account, paused=others + 1)
    return PublishOutcome.PAUSED


def follow_entry(*, entry_id: int) -> PublishOutcome:
    """Read the status of a post the platform was processing, and record it as publishing does.

    The client is asked to publish again with the handles it saved: it reads the status (one call,
    nothing sent again). Taking the check is a compare-and-set, so a duplicate message does nothing.
    """
    started_at = timezone.now()
    entry = (
        ScheduleEntry.objects.select_related("post__account")
        .annotate(post_has_media=post_has_media())
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or not entry.is_processing or entry.follow_at is None:
        return PublishOutcome.SKIPPED
    if entry.follow_at > started_at + CLOCK_SLACK:
        return PublishOutcome.SKIPPED  # an earlier message; the row names a later check
    if not entry.take_follow(lease=dispatch.lease(), claimant=liveness.claimant()):
        return PublishOutcome.SKIPPED
    result: PublishResult | None = None
    error: Exception | None = None
    try:
        result = _call_platform(entry)
    except ReconnectNeeded as refused:
        # The platform accepted the post: pausing would send it again once the account is back.
        # Reconciliation asks instead (and flags the account if it is refused too).
        error = OutcomeUnknown(refused.message, code=refused.code, http_status=refused.http_status)
    except Exception as raised:  # sorted into outcomes by _record_outcome
        error = raised
    return _record_outcome(entry, result=result, error=error, started_at=started_at)


def reconcile_entry(*, entry_id: int) -> ReconcileStatus | None:
    """Ask the platform whether an unconfirmed date went out; settle it if the answer is certain.

    An answer that cannot tell (or an error asking) schedules the next check, minutes then hours
    apart, until the platform's window for the attempt closes; only then is the user asked. A
    check the user asked for ("check again") answers them once.
    """
    entry = ScheduleEntry.objects.select_related("post__account").filter(pk=entry_id).first()
    if entry is None or entry.status != Status.UNCONFIRMED:
        return None
    if entry.next_check_at is not None and entry.next_check_at > timezone.now() + CLOCK_SLACK:
        return None  # an earlier message; the row names a later check, which has its own
    client = get_client(entry.post.account.platform)
    since = entry.scheduled_at - timedelta(minutes=5)
    try:
        answer = _ask_platform(entry, client, since=since)
    except ReconnectNeeded as error:
        flag_refused_tokens(
            entry.post.account, rejected_token=entry.post.account.access_token, reason=error.message
        )
        answer = Reconciliation(
            status=ReconcileStatus.UNKNOWN,
            message=f"{error.message} SoSocial cannot check until the account is reconnected.",
        )
        return _settle(entry, answer, give_up=True)
    except PlatformError as error:
        logger.warning("Reconciling entry %s failed: %s", entry.pk, error)
        answer = Reconciliation(status=ReconcileStatus.UNKNOWN, message=error.message)
    return _settle(
        entry, answer, give_up=entry.reconciled_at is not None, window=dispatch.check_window(client)
    )


def _ask_platform(entry: ScheduleEntry, client: PlatformClient, *, since: datetime) -> Reconciliation:
    """Reconcile, refreshing the token as publishing does (ahead of expiry, and once if refused)."""
    account = entry.post.account
    if account.token_expires_soon(now=timezone.now()):
        entry.post.account = account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
    request = build_request(entry, since=since)
    release_while_waiting()
    try:
        return client.reconcile(request, since=since)
    except TokenExpired:
        entry.post.account = refresh_account_tokens(
            account=account, client=client, rejected_token=account.access_token
        )
        return client.reconcile(build_request(entry, since=since), since=since)


# A check message may arrive this much before its time (the sender's and this clock differ).
CLOCK_SLACK = timedelta(seconds=5)
INCONCLUSIVE = (
    "SoSocial could not confirm whether this went out. Check the account, then mark it published "
    "or confirm it is not there and send it again."
)


def _settle(
    entry: ScheduleEntry, answer: Reconciliation, *, give_up: bool, window: timedelta | None = None
) -> ReconcileStatus:
    now = timezone.now()
    with transaction.atomic():
        if answer.status == ReconcileStatus.PUBLISHED and answer.result is not None:
            if entry.mark_published(
                platform_post_id=answer.result.platform_post_id,
                platform_url=answer.result.url,
                now=now,
            ):
                alerts.date_resolved(entry)
        elif answer.status == ReconcileStatus.NOT_PUBLISHED:
            if entry.attempts >= ScheduleEntry.MAX_ATTEMPTS:
                if entry.mark_failed(
                    code=entry.last_error_code,
                    message=f"Gave up after {entry.attempts} attempts. {entry.last_error_message}",
                    now=now,
                ):
                    alerts.date_failed(entry)
            elif entry.mark_retrying(
                next_attempt_at=now,
                code=entry.last_error_code,
                message="The platform has no such post; sending it again.",
                now=now,
            ):
                alerts.date_resolved(entry)
                dispatch.dispatch_if_due(entry, now=now)
        else:
            hopeless = give_up or answer.final
            at = None if hopeless or window is None else dispatch.next_check(entry, now=now, window=window)
            if at is None:
                if entry.mark_reconcile_inconclusive(message=answer.message or INCONCLUSIVE, now=now):
                    alerts.date_unconfirmed(entry)
            elif entry.schedule_check(at=at, now=now):
                dispatch.dispatch_check_if_due(entry, now=now)
    return answer.status


def reconcile_now(*, entry: ScheduleEntry) -> bool:
    """Ask the platform again, on a person's word, whether an unconfirmed date went out."""
    now = timezone.now()
    with transaction.atomic():
        if entry.status != Status.UNCONFIRMED or not entry.request_reconcile(now=now, at=now):
            return False
        dispatch.request_reconcile(entry)
    return True
