"""One date's trip to the platform: build the request, claim, publish, record the outcome, and
reconcile a date whose outcome is unknown.

No network call ever happens inside a transaction; every step is safe to run twice.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
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
from publishing import dispatch
from publishing.models import Post, PostMedia, PublishAttempt, ScheduleEntry
from sosocial.db import release_while_waiting

logger = logging.getLogger(__name__)
Status = ScheduleEntry.Status


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


def log_attempt(
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
    entry = (
        ScheduleEntry.objects.select_related("post__account")
        .annotate(post_has_media=Exists(PostMedia.objects.filter(post=OuterRef("post"))))
        .filter(pk=entry_id)
        .first()
    )
    started_at = timezone.now()
    if entry is None or not entry.claim(
        dispatch_version=dispatch_version, now=started_at, lease=dispatch.lease()
    ):
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
    request = build_request(entry)
    release_while_waiting()
    try:
        return client.publish(request, checkpoint=checkpoint)
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
        log_attempt(
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
        return PublishOutcome.FAILED
    return PublishOutcome.SKIPPED


def reconcile_entry(*, entry_id: int) -> ReconcileStatus | None:
    """Ask the platform whether an unconfirmed date went out; settle it if the answer is certain."""
    entry = ScheduleEntry.objects.select_related("post__account").filter(pk=entry_id).first()
    if entry is None or entry.status != Status.UNCONFIRMED:
        return None
    since = entry.scheduled_at - timedelta(minutes=5)
    try:
        request = build_request(entry)
        release_while_waiting()
        answer = get_client(entry.post.account.platform).reconcile(request, since=since)
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
                dispatch.dispatch_if_due(entry, now=now)
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
        dispatch.after_commit(lambda: dispatch.send_reconcile(entry_id, 0))
    return True
