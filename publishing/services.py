"""Users' actions: create, compose, schedule, cancel, reschedule, retry, confirm, edit, duplicate and
delete posts, and the profile. The page and the API both call these, so each rule is checked once.

A service answering False means the date moved on first (it published, or the user clicked twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from platforms.models import SocialAccount
from publishing import bounds, dispatch, pipeline, uploads
from publishing.models import Post, PostMedia, Profile, ScheduleEntry

Status = ScheduleEntry.Status
OWN_ACCOUNTS = "Choose one of your own accounts."


def _validate_dates(when: Sequence[datetime], *, now: datetime, field: str = "when") -> list[datetime]:
    if not when:
        raise ValidationError({field: "Pick at least one date."})
    errors = bounds.date_problems(when, now=now)
    if errors:
        raise ValidationError({field: errors})
    # As UTC instants: two datetimes sharing a tzinfo compare by wall time, so two local times one
    # DST change apart (02:30 that does not exist and 03:30) would look different.
    instants = [moment.astimezone(UTC) for moment in when]
    if len(set(instants)) != len(instants):
        raise ValidationError({field: ["The same date is listed twice."]})
    return sorted(instants)


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
        raise ValidationError({"account": OWN_ACCOUNTS})
    _check_options(account.platform, options or {})
    post = Post.objects.create(
        owner_id=owner_id, account=account, text=text, options=dict(options or {}), group=group
    )
    for position, upload in enumerate(media):
        stored = uploads.store(upload, owner_id=owner_id)
        PostMedia.objects.create(
            post=post, file=stored.name, content_type=stored.content_type, position=position
        )
    return post


def _check_options(platform: str, options: Mapping[str, str]) -> None:
    problem = bounds.options_problem(platform, options)
    if problem:
        raise ValidationError({"options": problem})


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
    """Create a post with its media and schedule it: all of it, or nothing if any check refuses.

    Without dates it is a draft: kept as written, checked against its platform once it is scheduled.
    """
    with uploads.keep_only_saved(), transaction.atomic():
        post = create_post(
            owner_id=owner_id, account=account, text=text, options=options, media=media, group=group
        )
        if when:
            schedule_post(post=post, when=when)
    return post


def compose_for_accounts(
    *,
    owner_id: int,
    account_ids: Sequence[int],
    text: str,
    when: Sequence[datetime],
    options: Mapping[str, str] | None = None,
    media: Sequence[UploadedFile[Any]] = (),
) -> list[Post]:
    """One post per account, grouped, in one transaction: if any account refuses, none is saved.

    The refusal gathers every account's problems; dates are refused alike for every account, so
    they are said once, while platform checks name the account they concern.
    """
    found = SocialAccount.objects.in_bulk(list(account_ids))
    accounts = [found.get(account_id) for account_id in dict.fromkeys(account_ids)]
    if not accounts:
        raise ValidationError({"account": "Choose at least one account."})
    group = uuid4() if len(accounts) > 1 else None
    problems: dict[str, list[str]] = {}
    posts: list[Post] = []
    # Options are for whichever chosen platform reads them (a TikTok privacy level beside an X
    # account): each post keeps its platform's; a name no chosen platform reads is refused.
    platforms = {account.platform for account in accounts if account is not None}
    unread = set.intersection(*(set(bounds.unknown_options(p, options or {})) for p in platforms or {""}))
    if unread:
        problems["options"] = [str(bounds.options_problem(next(iter(platforms), ""), sorted(unread)))]
    with uploads.keep_only_saved(), transaction.atomic():
        for account in accounts:
            try:
                if account is None:  # said like another user's account: ids are not a leak
                    raise ValidationError({"account": OWN_ACCOUNTS})
                posts.append(
                    compose_post(
                        owner_id=owner_id,
                        account=account,
                        text=text,
                        when=when,
                        options=bounds.options_for(account.platform, options or {}),
                        media=media,
                        group=group,
                    )
                )
            except ValidationError as refused:
                for field, messages in refused.message_dict.items():
                    for problem in messages:
                        alike = field in ("when", "account", uploads.FIELD) or len(accounts) == 1
                        said = problem if alike else f"{account}: {problem}"
                        if said not in problems.setdefault(field, []):
                            problems[field].append(said)
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise ValidationError(problems)
    return posts


TAKEN = "{moment:%Y-%m-%d %H:%M} UTC is already a date of this post."


def _refuse_taken(post: Post, dates: Sequence[datetime], *, field: str = "when") -> None:
    """One instant once: a live date at the same instant would publish the post twice."""
    taken = set(
        post.entries.exclude(status=Status.CANCELLED)
        .filter(scheduled_at__in=list(dates))
        .values_list("scheduled_at", flat=True)
    )
    if taken:
        raise ValidationError({field: [TAKEN.format(moment=moment) for moment in sorted(taken)]})


def schedule_post(*, post: Post, when: Sequence[datetime]) -> list[ScheduleEntry]:
    """Add one schedule entry per date; those due within the horizon get their message at commit."""
    now = timezone.now()
    dates = _validate_dates(when, now=now)
    room = bounds.max_dates_per_post() - post.entries.count()
    if len(dates) > room:
        raise ValidationError(
            {"when": f"A post has at most {bounds.max_dates_per_post()} dates; this one has room for {room}."}
        )
    pipeline.check_post(post)
    try:
        with transaction.atomic():
            _refuse_taken(post, dates)
            media = post.media.exists()
            # A text post's dates have nothing to prepare from the start: the sweep never looks
            # at them for preparation (its step 5 reads dates not looked at yet).
            preparation = ScheduleEntry.MediaStatus.NONE if media else ScheduleEntry.MediaStatus.NO_MEDIA
            entries = [
                ScheduleEntry.objects.create(
                    post=post,
                    scheduled_at=moment,
                    next_attempt_at=moment,
                    media_status=preparation,
                    created_at=now,
                    updated_at=now,
                )
                for moment in dates
            ]
            for entry in entries:
                dispatch.dispatch_if_due(entry, now=now)
                dispatch.prepare_if_due(entry, now=now, media=media)
    except IntegrityError:  # a second request added the same instant meanwhile
        _refuse_taken(post, dates)
        raise
    return entries


def cancel_entry(*, entry: ScheduleEntry) -> bool:
    return entry.cancel(now=timezone.now())


def reschedule_entry(*, entry: ScheduleEntry, when: datetime) -> bool:
    now = timezone.now()
    _validate_dates([when], now=now)
    if when != entry.scheduled_at:
        _refuse_taken(entry.post, [when])
    try:
        with transaction.atomic():
            if not entry.reschedule(when=when, now=now):
                return False
            dispatch.dispatch_if_due(entry, now=now)
            dispatch.prepare_if_due(entry, now=now)
    except IntegrityError:
        _refuse_taken(entry.post, [when])
        raise
    return True


LOOK_FIRST = (
    "SoSocial does not know yet whether this date went out. Look at the account first; if the post "
    "is not there, confirm that you checked and send it again."
)


def retry_entry(*, entry: ScheduleEntry, looked: bool = False) -> bool:
    """Retry a failed date now, or send an unconfirmed one again once the user has looked at the
    account (`looked`): no reconciliation answered "not published" for it, so the platform may
    have it."""
    if entry.status in ScheduleEntry.RETRY_NEEDS_LOOK and not looked:
        raise ValidationError({"looked": LOOK_FIRST})
    now = timezone.now()
    with transaction.atomic():
        if not entry.requeue(now=now, looked=looked):
            return False
        dispatch.dispatch_if_due(entry, now=now)
        dispatch.prepare_if_due(entry, now=now)
    return True


def confirm_published(*, entry: ScheduleEntry, platform_url: str = "", platform_post_id: str = "") -> bool:
    """The user saw an unconfirmed date on the platform: record it as published."""
    if entry.status != Status.UNCONFIRMED:
        return False
    return entry.mark_published(
        platform_post_id=platform_post_id, platform_url=platform_url, now=timezone.now()
    )


def _refuse_if_published(post: Post, action: str) -> None:
    if post.entries.filter(status__in=ScheduleEntry.LOCKING).exists():
        raise ValidationError(
            {"post": f"This post has a date that is published or being published, so it cannot be {action}."}
        )


def update_post(*, post: Post, text: str | None = None, options: Mapping[str, str] | None = None) -> Post:
    """Edit a post while none of its dates has gone out; the platform checks run again.

    The dates are locked first: a worker's claim waits for this edit, then reads the saved text; a
    date claimed before makes the edit refused. Handles a client saved for an earlier attempt (an
    Instagram container holds the old text) are cleared, so the next attempt starts afresh; media
    prepared ahead is prepared again (a preparation still running is turned into a no-op).
    """
    with transaction.atomic():
        list(post.entries.select_for_update().order_by("pk").values_list("pk", flat=True))
        _refuse_if_published(post, "edited")
        if text is not None:
            post.text = text
        if options is not None:
            _check_options(post.account.platform, options)
            post.options = dict(options)
        pipeline.check_post(post)
        post.save(update_fields=["text", "options", "updated_at"])
        now = timezone.now()
        post.entries.exclude(status__in=ScheduleEntry.LOCKING).exclude(platform_state={}).update(
            platform_state={}, updated_at=now
        )
        prepared = (
            post.entries.exclude(status__in=ScheduleEntry.LOCKING)
            .exclude(status=Status.CANCELLED)
            .exclude(media_status="", prep_sent_at__isnull=True)
        )
        if not post.media.exists():  # nothing of a text post was prepared: its dates stay as they are
            prepared = prepared.exclude(media_status=ScheduleEntry.MediaStatus.NO_MEDIA)
        for entry in prepared:
            if entry.reset_preparation(now=now):
                dispatch.dispatch_if_due(entry, now=now)
                dispatch.prepare_if_due(entry, now=now)
    return post


def posts_together(post: Post) -> list[Post]:
    """The post and those composed with it for other accounts (one post per account), in id order."""
    if post.group is None:
        return [post]
    return list(
        Post.objects.filter(owner_id=post.owner_id, group=post.group).select_related("account").order_by("id")
    )


def _locked(post: Post) -> bool:
    return post.entries.filter(status__in=ScheduleEntry.LOCKING).exists()


def update_together(*, post: Post, text: str) -> list[Post]:
    """Edit the text of a post and of every post composed with it that has not gone out yet, all or
    none; each platform checks its own. Returns the posts changed (those gone out keep their text)."""
    members = posts_together(post)
    editable = [member for member in members if not _locked(member)]
    if post not in editable:
        _refuse_if_published(post, "edited")
    problems: list[str] = []
    with transaction.atomic():
        for member in editable:
            try:
                update_post(post=member, text=text)
            except ValidationError as refused:
                for messages in refused.message_dict.values():
                    problems.extend(
                        messages if len(editable) == 1 else [f"{member.account}: {m}" for m in messages]
                    )
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise ValidationError({"post": problems})
    return editable


def schedule_together(*, post: Post, when: Sequence[datetime]) -> list[ScheduleEntry]:
    """Add the same dates to a post and to each post composed with it, all or none."""
    entries: list[ScheduleEntry] = []
    with transaction.atomic():
        for member in posts_together(post):
            entries.extend(schedule_post(post=member, when=when))
    return entries


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
    if post.entries.filter(status__in=ScheduleEntry.UNSETTLED).exists():
        raise ValidationError(
            {"post": "A date of this post is being published or awaits confirmation; settle it first."}
        )
    post.delete()


def resume_account(*, account: SocialAccount) -> tuple[int, int]:
    """The account is reconnected: its paused dates still within the owner's lateness tolerance go
    out (at their time, or now); later ones wait for the owner's word. Returns (resumed, held)."""
    now = timezone.now()
    tolerance = timedelta(minutes=profile_for(account.owner_id).lateness_tolerance_minutes)
    resumed = held = 0
    with transaction.atomic():
        for entry in ScheduleEntry.objects.filter(post__account_id=account.pk, status=Status.PAUSED):
            if entry.scheduled_at >= now - tolerance:
                if entry.resume(now=now):
                    dispatch.dispatch_if_due(entry, now=now)
                    dispatch.prepare_if_due(entry, now=now)
                    resumed += 1
            elif entry.hold_until_confirmed(
                message=f"{account} is reconnected, but this date passed more than "
                f"{_minutes(tolerance)} ago. Send it now, reschedule it or cancel it.",
                now=now,
            ):
                held += 1
    return resumed, held


def _minutes(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes} min"


def send_paused_now(*, owner_id: int) -> int:
    """The owner's word for every paused date whose account is connected again: send them now."""
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        for entry in ScheduleEntry.objects.filter(
            post__owner_id=owner_id,
            status=Status.PAUSED,
            post__account__status=SocialAccount.Status.CONNECTED,
        ):
            if entry.resume(now=now):
                dispatch.dispatch_if_due(entry, now=now)
                dispatch.prepare_if_due(entry, now=now)
                sent += 1
    return sent


def set_lateness_tolerance(*, user_id: int, minutes: int) -> Profile:
    if not 0 <= minutes <= 7 * 24 * 60:
        raise ValidationError({"lateness_tolerance_minutes": "Give between 0 minutes and one week."})
    profile = profile_for(user_id)
    profile.lateness_tolerance_minutes = minutes
    profile.save(update_fields=["lateness_tolerance_minutes"])
    return profile


# Why a date fails when its account is flagged before the call (pipeline.publish_entry).
NEEDS_RECONNECT = "needs_reconnect"


def note_account_reconnected(*, account: SocialAccount, reason: str = "") -> int:
    """The account is connected again: its dates that failed for want of it now say so, ready to
    retry (their old reason, "reconnect the account", would be stale). Returns how many."""
    cause = Q(last_error_code=NEEDS_RECONNECT)
    if reason:
        cause |= Q(last_error_message=reason)
    return (
        ScheduleEntry.objects.filter(post__account=account, status=Status.FAILED)
        .filter(cause)
        .update(
            last_error_code=ScheduleEntry.RECONNECTED_CODE,
            last_error_message=(
                f"This date failed while {account} needed reconnecting. It is connected again: "
                "retry to send it."
            ),
            updated_at=timezone.now(),
        )
    )


def retry_account_failures(*, owner_id: int, account_id: int) -> int:
    """Send again, now, every date of the account that failed while it needed reconnecting."""
    failed = ScheduleEntry.objects.filter(
        post__owner_id=owner_id,
        post__account_id=account_id,
        status=Status.FAILED,
        last_error_code=ScheduleEntry.RECONNECTED_CODE,
    ).select_related("post__account")
    return sum(retry_entry(entry=entry) for entry in failed)


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
