"""Posts, their scheduled dates (ScheduleEntry, with its state machine) and the attempt log.

Every status change is a method of ScheduleEntry doing one conditional UPDATE (compare-and-set on
status, dispatch_version and attempts as this instance last saw them). `False` means someone else
changed the row first, which is a normal outcome under at-least-once delivery, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import DurationField, Exists, ExpressionWrapper, F, Func, OuterRef, Q, Value
from django.db.models.expressions import CombinedExpression, RawSQL
from django.db.models.functions import Now
from django.utils import timezone

from platforms import base
from platforms.models import SocialAccount


class Profile(models.Model):
    """A user's preferences: the time zone every date is shown and entered in, and how late a date
    paused for a reconnect may still go out on its own once the account is back."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    time_zone = models.CharField(max_length=64, default="UTC")
    lateness_tolerance_minutes = models.PositiveIntegerField(default=60)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class Post(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    account = models.ForeignKey(SocialAccount, on_delete=models.PROTECT, related_name="posts")
    text = models.TextField(blank=True)
    # Posts composed together for several accounts share a group (one post per account).
    group = models.UUIDField(null=True, blank=True, db_index=True)
    # Per-platform choices (TikTok "privacy_level", a Facebook "link", ...), passed to the client.
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="post_owner_created_idx")]

    def __str__(self) -> str:
        return f"Post {self.pk} to {self.account}"


class PostMedia(models.Model):
    """An image or video attached to a post, kept with Django's storage API (local files by default)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="media/%Y/%m/")
    content_type = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["post", "position", "id"]
        verbose_name_plural = "post media"

    def __str__(self) -> str:
        return self.file.name or f"media {self.pk}"


class ScheduleEntry(models.Model):
    """One scheduled date of a post: the row that decides what happens and records what did."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PUBLISHING = "publishing", "Publishing"
        RETRYING = "retrying", "Retrying"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        UNCONFIRMED = "unconfirmed", "Unconfirmed"
        PAUSED = "paused", "Paused: reconnect the account"

    class MediaStatus(models.TextChoices):
        """Where a post with media stands in its preparation ahead of the date (publishing.preparation).
        A date of a post without media is created NO_MEDIA (services.schedule_post); one reset to
        NONE (UNPREPARED: a retry, a reschedule, an edit of a post with media) is marked NO_MEDIA
        again by the sweep when it enters the lead, so each is looked at once."""

        NONE = "", "Not prepared"
        PREPARING = "preparing", "Preparing media"
        READY = "ready", "Media ready"
        NO_MEDIA = "no_media", "No media to prepare"

    WAITING: ClassVar[frozenset[str]] = frozenset({Status.PENDING, Status.RETRYING})
    FINAL: ClassVar[frozenset[str]] = frozenset({Status.PUBLISHED, Status.FAILED, Status.CANCELLED})
    # A date in one of these has gone out or may have: its post can no longer be edited.
    LOCKING: ClassVar[frozenset[str]] = frozenset({Status.PUBLISHING, Status.PUBLISHED, Status.UNCONFIRMED})
    # The error code of a date that failed because its account needed reconnecting, once the
    # account is connected again (services.note_account_reconnected): ready to retry.
    RECONNECTED_CODE: ClassVar[str] = "account_reconnected"
    # A date in one of these is not settled yet: its post cannot be deleted.
    UNSETTLED: ClassVar[frozenset[str]] = frozenset({Status.PUBLISHING, Status.UNCONFIRMED})
    # Which statuses each user action starts from; the transitions below, the pages, the API and
    # the admin all read this table. "resolve" covers mark published, send again and check again.
    ALLOWS: ClassVar[Mapping[str, frozenset[str]]] = {
        "cancel": WAITING | {Status.PAUSED},
        "reschedule": WAITING | {Status.FAILED, Status.PAUSED},
        "retry": frozenset({Status.FAILED, Status.UNCONFIRMED}),
        "resolve": frozenset({Status.UNCONFIRMED}),
    }
    # Sending these again needs the user's word that they looked at the account and the post is not
    # there: the platform may have it, and no reconciliation answered "not published".
    RETRY_NEEDS_LOOK: ClassVar[frozenset[str]] = frozenset({Status.UNCONFIRMED})
    # One first attempt plus up to three retries.
    MAX_ATTEMPTS: ClassVar[int] = 4
    # Error code of a paused date whose account is back but which is too late to go out unasked.
    LATE_AFTER_RECONNECT: ClassVar[str] = "late_after_reconnect"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="entries")
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Attempts made in the current run (reset when the user reschedules or retries).
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due: scheduled_at at first, then the retry time.
    next_attempt_at = models.DateTimeField()
    # Bumped by cancel, reschedule and requeue: a message naming an older version claims nothing.
    dispatch_version = models.PositiveIntegerField(default=0)
    # When the current message (publish, or reconcile while unconfirmed) was sent; null = none yet.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    platform_post_id = models.CharField(max_length=200, blank=True, default="")
    platform_url = models.URLField(max_length=500, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    # Handles a client saved mid-publish (container id, publish_id) to find its work after a crash.
    platform_state = models.JSONField(default=dict, blank=True)
    last_error_code = models.CharField(max_length=100, blank=True, default="")
    last_error_message = models.TextField(blank=True, default="")
    # Set when reconciliation has given up asking on its own: the user decides from then on.
    reconciled_at = models.DateTimeField(null=True, blank=True)
    # Since when the outcome is unknown, the next automatic check, and how many were made: checks
    # back off from minutes to hours until the platform forgets the attempt (dispatch.next_check).
    unconfirmed_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveSmallIntegerField(default=0)
    # Which worker process holds the claim (publishing.liveness), so a dead one is noticed early.
    # Empty while the platform processes an accepted post (`follow_at`): no worker holds it then.
    claimed_by = models.CharField(max_length=200, blank=True, default="")
    # Media prepared ahead of the date: where it stands, when the next prepare message is due and
    # when it was sent (null: none pending; the sweep re-sends one that was lost), until when the
    # platform keeps the prepared media, and the transient failures of this preparation so far.
    media_status = models.CharField(max_length=16, choices=MediaStatus.choices, blank=True, default="")
    prepare_at = models.DateTimeField(null=True, blank=True)
    prep_sent_at = models.DateTimeField(null=True, blank=True)
    prepared_until = models.DateTimeField(null=True, blank=True)
    prep_attempts = models.PositiveSmallIntegerField(default=0)
    prep_error = models.TextField(blank=True, default="")
    # Publishing, accepted by the platform, which is processing the post: when its status is read.
    follow_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_at", "id"]
        verbose_name_plural = "schedule entries"
        indexes = [
            # The sweep's queries touch only rows that are still waiting, publishing or unchecked,
            # so these partial indexes stay small however many final rows the table holds.
            models.Index(
                fields=["next_attempt_at"],
                name="entry_waiting_due_idx",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(
                fields=["lease_until"],
                name="entry_publishing_lease_idx",
                condition=Q(status="publishing"),
            ),
            models.Index(
                fields=["next_check_at"],
                name="entry_checking_idx",
                condition=Q(status="unconfirmed", reconciled_at__isnull=True),
            ),
            models.Index(
                fields=["prepare_at"],
                name="entry_preparing_idx",
                condition=Q(status__in=["pending", "retrying"], media_status="preparing"),
            ),
            # Step 5 of the sweep: dates nothing has looked at for preparation yet. A text date
            # leaves it once looked at (NO_MEDIA), so the step's cost follows the dates entering
            # the lead, not those inside it.
            models.Index(
                fields=["next_attempt_at"],
                name="entry_unprepared_idx",
                condition=Q(
                    status__in=["pending", "retrying"],
                    media_status__in=["", "preparing"],
                    prep_sent_at__isnull=True,
                ),
            ),
            models.Index(fields=["post", "scheduled_at"], name="entry_post_scheduled_idx"),
        ]
        constraints = [
            # One instant once: two live dates of a post at one instant would publish it twice.
            models.UniqueConstraint(
                fields=["post", "scheduled_at"],
                condition=~Q(status="cancelled"),
                name="uniq_live_entry_instant",
            )
        ]

    def __str__(self) -> str:
        return f"Entry {self.pk} ({self.status}) at {self.scheduled_at:%Y-%m-%d %H:%M} UTC"

    # -- reading --------------------------------------------------------------------------------
    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING

    @property
    def actions(self) -> frozenset[str]:
        """The user actions this date's status allows (keys of ALLOWS)."""
        return frozenset(action for action, statuses in self.ALLOWS.items() if self.status in statuses)

    @classmethod
    def allowed_statuses(cls, action: str) -> str:
        """The statuses `action` starts from, in words: "pending, retrying or failed"."""
        labels = [value for value, _ in cls.Status.choices if value in cls.ALLOWS[action]]
        return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"

    @property
    def is_moving(self) -> bool:
        """The worker or the sweep may still change this date on its own (a page keeps polling)."""
        if self.status == self.Status.UNCONFIRMED:
            return self.reconciled_at is None  # still being checked until reconciliation answers
        return self.status in {self.Status.PENDING, self.Status.PUBLISHING, self.Status.RETRYING}

    @property
    def checking_text(self) -> str:
        """While reconciliation still asks on its own: when it asks next, in the reader's time zone."""
        if self.next_check_at is None or self.next_check_at <= timezone.now():
            return "SoSocial is checking with the platform before sending it again."
        local = timezone.localtime(self.next_check_at)
        return f"still checking, next check at {local:%Y-%m-%d %H:%M} ({local.tzname()})."

    @property
    def is_processing(self) -> bool:
        """The platform accepted the publishing call and is processing the post; a check is due."""
        return self.status == self.Status.PUBLISHING and self.follow_at is not None

    def media_is_ready(self, *, now: datetime) -> bool:
        """Prepared ahead and still kept by the platform (a post without media is never asked)."""
        return self.media_status == self.MediaStatus.READY and (
            self.prepared_until is None or self.prepared_until > now
        )

    @classmethod
    def ready_to_publish(cls) -> Q:
        """The claim's extra condition: a post with media is claimed only once its media is prepared
        and not expired (on the database's clock); a post without media is never held back."""
        return Q(_ReadyToPublish(cls.MediaStatus.READY))

    def _preparation(self, at: Callable[[datetime | None], str]) -> str:
        if self.status not in self.WAITING:
            return ""
        if self.media_status == self.MediaStatus.READY:
            return "Media ready."
        if self.media_status != self.MediaStatus.PREPARING:
            return ""
        if self.prep_error:
            return f"Preparing the media failed ({self.prep_error}); trying again at {at(self.prepare_at)}."
        platform = self.post.account.get_platform_display()
        return f"Preparing the media ({platform} is processing it), ready before the time."

    @property
    def preparation_text(self) -> str:
        """Where a waiting date's media stands, in the reader's time zone ("" for a post without)."""
        return self._preparation(_local)

    @property
    def processing_text(self) -> str:
        platform = self.post.account.get_platform_display()
        return f"{platform} is processing the post; next check at {_local(self.follow_at)}."

    @property
    def attempt_text(self) -> str:
        """The attempt under way or just made, against the real limit: "attempt 2 of 4"."""
        return f"attempt {self.attempts} of {self.MAX_ATTEMPTS}"

    @property
    def next_attempt_text(self) -> str:
        return f"attempt {self.attempts + 1} of {self.MAX_ATTEMPTS}"

    def describe(self) -> str:
        """One sentence a person can act on, the same whichever client shows it (dates in UTC)."""
        tries = self.attempt_text
        reason = self.last_error_message or self.last_error_code
        preparation = self._preparation(_utc)
        after = f" {preparation}" if preparation else ""
        match self.status:
            case self.Status.PENDING:
                return f"Scheduled for {_utc(self.scheduled_at)}.{after}"
            case self.Status.PUBLISHING if self.is_processing:
                platform = self.post.account.get_platform_display()
                return (
                    f"Publishing — {platform} is processing the post; next check at {_utc(self.follow_at)}."
                )
            case self.Status.PUBLISHING:
                return f"Publishing now ({tries})."
            case self.Status.RETRYING:
                return (
                    f"The platform refused {tries} ({reason}); trying again at "
                    f"{_utc(self.next_attempt_at)}.{after}"
                )
            case self.Status.PUBLISHED:
                return f"Published at {_utc(self.published_at)}."
            case self.Status.FAILED:
                return f"Not published: {reason or 'unknown error'}"
            case self.Status.CANCELLED:
                return "Cancelled; it will not be published."
            case self.Status.UNCONFIRMED if self.reconciled_at is not None:
                return (
                    f"SoSocial could not confirm whether this went out: {self.last_error_message} "
                    "Check the account, then mark it published, or confirm it is not there and send "
                    "it again."
                )
            case self.Status.UNCONFIRMED:
                return f"The outcome is unknown; {self.checking_text}"
            case self.Status.PAUSED:
                return self.last_error_message or "Paused until the account is reconnected."
        return str(self.get_status_display())

    @property
    def reference(self) -> str:
        """Stable name of this date for the platform clients (the same across attempts)."""
        return f"sosocial-entry-{self.pk}"

    # -- transitions ----------------------------------------------------------------------------
    def _transition(
        self,
        allowed: Iterable[str],
        *,
        extra: Q | None = None,
        **changes: Any,
    ) -> bool:
        """Compare-and-set: apply `changes` only if the row still is as this instance saw it."""
        changes.setdefault("updated_at", timezone.now())
        query = ScheduleEntry.objects.filter(
            pk=self.pk,
            status__in=list(allowed),
            dispatch_version=self.dispatch_version,
            attempts=self.attempts,
        )
        if extra is not None:
            query = query.filter(extra)
        if query.update(**changes) != 1:
            return False
        computed = [name for name, value in changes.items() if hasattr(value, "resolve_expression")]
        for name, value in changes.items():
            if name not in computed:
                setattr(self, name, value)
        if computed:  # written by the database (its clock): read back what it wrote
            self.refresh_from_db(fields=computed)
        return True

    @classmethod
    def claim_by_id(
        cls,
        entry_id: int,
        *,
        dispatch_version: int,
        lease: timedelta,
        claimant: str,
        ahead: timedelta = timedelta(0),
        sent_at: datetime | None = None,
    ) -> bool:
        """Take an entry due within `ahead` for one publish attempt before reading it; one claimer of
        a version wins.

        Due time and lease are read on the database's clock, so workers' clocks cannot disagree.
        A post with media is claimed only once its media is prepared (`ready_to_publish`).
        A concurrent edit holds the row lock (services.update_post): the claim waits for it, and
        the post is read after, so what goes out is what the edit saved. With `ahead` the claim
        commits before the date's time and the caller waits for it (publishing/pipeline.py).

        `sent_at`: for a post without media the next call is the one that publishes, so the moment
        it is sent (`platforms.base.SENT_AT`, kept if an earlier attempt saved it) is written with
        the claim instead of by the client in a second commit before the call.
        """
        changes: dict[str, Any] = {}
        if sent_at is not None:
            changes["platform_state"] = _SentAtOfTextPost(sent_at)
        return (
            cls.objects.filter(
                pk=entry_id,
                status__in=list(cls.WAITING),
                dispatch_version=dispatch_version,
                next_attempt_at__lte=_database_now_plus(ahead),
            )
            .filter(cls.ready_to_publish())
            .update(
                status=cls.Status.PUBLISHING,
                attempts=F("attempts") + 1,
                lease_until=_database_now_plus(lease),
                claimed_by=claimant,
                updated_at=Now(),
                **changes,
            )
            == 1
        )

    def claim(
        self, *, dispatch_version: int, lease: timedelta, now: datetime | None = None, claimant: str = ""
    ) -> bool:
        """Take this entry as this instance saw it; `now` None means the database's clock."""
        if dispatch_version != self.dispatch_version:
            return False
        return self._transition(
            self.WAITING,
            extra=Q(next_attempt_at__lte=Now() if now is None else now) & self.ready_to_publish(),
            status=self.Status.PUBLISHING,
            attempts=self.attempts + 1,
            lease_until=_database_now_plus(lease) if now is None else now + lease,
            claimed_by=claimant,
            updated_at=now or timezone.now(),
        )

    def mark_dispatched(self, *, now: datetime) -> bool:
        """Record that a message for the current version is being sent (not a status change)."""
        return self._transition(self.WAITING, dispatched_at=now, updated_at=now)

    def save_progress(self, progress: Mapping[str, str], *, now: datetime) -> bool:
        """Persist a client's handles during the attempt this instance claimed."""
        merged = {**self.platform_state, **progress}
        return self._transition([self.Status.PUBLISHING], platform_state=merged, updated_at=now)

    def mark_published(self, *, platform_post_id: str, platform_url: str, now: datetime) -> bool:
        # Also from unconfirmed: a late but real success, or reconciliation finding the post.
        return self._transition(
            [self.Status.PUBLISHING, self.Status.UNCONFIRMED],
            status=self.Status.PUBLISHED,
            platform_post_id=platform_post_id,
            platform_url=platform_url,
            published_at=now,
            lease_until=None,
            follow_at=None,
            last_error_code="",
            last_error_message="",
            updated_at=now,
        )

    def mark_retrying(self, *, next_attempt_at: datetime, code: str, message: str, now: datetime) -> bool:
        # From unconfirmed when reconciliation proved the earlier attempt did not go out.
        return self._transition(
            [self.Status.PUBLISHING, self.Status.UNCONFIRMED],
            status=self.Status.RETRYING,
            next_attempt_at=next_attempt_at,
            dispatched_at=None,
            lease_until=None,
            follow_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    def mark_failed(self, *, code: str, message: str, now: datetime) -> bool:
        return self._transition(
            [self.Status.PUBLISHING, self.Status.UNCONFIRMED],
            status=self.Status.FAILED,
            lease_until=None,
            follow_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    def mark_unconfirmed(self, *, code: str, message: str, now: datetime) -> bool:
        """The platform may have published: hold the entry until reconciliation says what happened.

        `dispatched_at` is stamped because a reconcile message is sent when this commits.
        """
        return self._transition(
            [self.Status.PUBLISHING],
            status=self.Status.UNCONFIRMED,
            lease_until=None,
            follow_at=None,
            dispatched_at=now,
            reconciled_at=None,
            unconfirmed_at=now,
            next_check_at=now + timedelta(seconds=settings.SOSOCIAL_RECONCILE_DELAY_SECONDS),
            checks=0,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    def schedule_check(self, *, at: datetime, now: datetime) -> bool:
        """Reconciliation could not tell yet: check again at `at` (the sweep sends a later one)."""
        return self._transition(
            [self.Status.UNCONFIRMED],
            extra=Q(reconciled_at__isnull=True),
            next_check_at=at,
            checks=self.checks + 1,
            dispatched_at=None,
            updated_at=now,
        )

    def mark_reconcile_inconclusive(self, *, message: str, now: datetime) -> bool:
        """Reconciliation could not tell, and has stopped asking on its own: the user decides."""
        return self._transition(
            [self.Status.UNCONFIRMED],
            reconciled_at=now,
            next_check_at=None,
            checks=self.checks + 1,
            last_error_message=message,
            updated_at=now,
        )

    def request_reconcile(self, *, now: datetime, at: datetime | None = None) -> bool:
        """Stamp that a reconcile message is being sent (for `at`, if given); no status change."""
        moved: dict[str, Any] = {} if at is None else {"next_check_at": at}
        return self._transition([self.Status.UNCONFIRMED], dispatched_at=now, updated_at=now, **moved)

    def pause(self, *, code: str, message: str, now: datetime) -> bool:
        """Hold a date whose account needs reconnecting: it neither fails nor goes out until then.

        From publishing too (the claimed attempt met the revoked token); the version bump turns
        any message already sent into a no-op, and the sweep never touches paused dates.
        """
        return self._transition(
            [*self.WAITING, self.Status.PUBLISHING],
            status=self.Status.PAUSED,
            attempts=0,
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            prep_sent_at=None,
            lease_until=None,
            follow_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    @classmethod
    def pause_waiting_of_account(cls, *, account_id: int, code: str, message: str, now: datetime) -> int:
        """Pause every waiting date of one account in one conditional UPDATE; returns how many."""
        return cls.objects.filter(post__account_id=account_id, status__in=list(cls.WAITING)).update(
            status=cls.Status.PAUSED,
            attempts=0,
            dispatch_version=models.F("dispatch_version") + 1,
            dispatched_at=None,
            prep_sent_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    def resume(self, *, now: datetime) -> bool:
        """Back to pending after the account was reconnected: at its time, or now if that passed."""
        return self._transition(
            [self.Status.PAUSED],
            status=self.Status.PENDING,
            next_attempt_at=max(self.scheduled_at, now),
            attempts=0,
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            # A prepare message of the old version claims nothing: the next one is sent afresh.
            prep_sent_at=None,
            prep_attempts=0,
            prep_error="",
            last_error_code="",
            last_error_message="",
            updated_at=now,
        )

    def hold_until_confirmed(self, *, message: str, now: datetime) -> bool:
        """Still paused after the reconnect: too late to go out without the person's word."""
        return self._transition(
            [self.Status.PAUSED],
            last_error_code=self.LATE_AFTER_RECONNECT,
            last_error_message=message,
            updated_at=now,
        )

    def cancel(self, *, now: datetime) -> bool:
        return self._transition(
            self.ALLOWS["cancel"],
            status=self.Status.CANCELLED,
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            updated_at=now,
        )

    def reschedule(self, *, when: datetime, now: datetime) -> bool:
        """Move a waiting, paused or failed date to `when` as a fresh run of attempts.

        Media prepared ahead is kept if the platform still keeps it at `when`; else it is prepared
        again (the platform discards what it no longer needs on its own)."""
        keep = self.media_status == self.MediaStatus.READY and (
            self.prepared_until is None or self.prepared_until > when
        )
        preparation = {"prep_sent_at": None} if keep else UNPREPARED
        return self._transition(
            self.ALLOWS["reschedule"],
            status=self.Status.PENDING,
            scheduled_at=when,
            next_attempt_at=when,
            attempts=0,
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            last_error_code="",
            last_error_message="",
            updated_at=now,
            **preparation,
        )

    def requeue(self, *, now: datetime, looked: bool = False) -> bool:
        """Retry a failed date now, or send an unconfirmed one again on the user's word (`looked`)."""
        allowed = self.ALLOWS["retry"] if looked else self.ALLOWS["retry"] - self.RETRY_NEEDS_LOOK
        return self._transition(
            allowed,
            status=self.Status.PENDING,
            next_attempt_at=now,
            attempts=0,
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            reconciled_at=None,
            unconfirmed_at=None,
            next_check_at=None,
            checks=0,
            platform_state={},
            updated_at=now,
            **UNPREPARED,  # its handles are gone with platform_state: prepared again
        )

    def reset_preparation(self, *, now: datetime) -> bool:
        """The post was edited: what was prepared holds the old text or media, so a not yet sent
        date starts its preparation afresh. The version bump turns a prepare call still running into
        a no-op (its checkpoint and outcome match nothing), and its publish message is sent again."""
        return self._transition(
            [*self.WAITING, self.Status.PAUSED, self.Status.FAILED],
            dispatch_version=self.dispatch_version + 1,
            dispatched_at=None,
            platform_state={},
            updated_at=now,
            **UNPREPARED,
        )

    # -- preparing media ahead (publishing.preparation) ------------------------------------------
    @classmethod
    def unprepared(cls) -> Q:
        """Waiting dates nothing has looked at for preparation yet: not marked NO_MEDIA, not ready,
        no prepare message pending (a paused date keeps PREPARING without one). The condition of
        `entry_unprepared_idx`, so the sweep's step 5 reads that index alone."""
        return Q(
            status__in=list(cls.WAITING),
            media_status__in=[cls.MediaStatus.NONE, cls.MediaStatus.PREPARING],
            prep_sent_at__isnull=True,
        )

    @classmethod
    def mark_no_media(cls, *, due_by: datetime, limit: int) -> int:
        """Up to `limit` of the waiting dates due by `due_by` that nothing has looked at yet and
        whose post has no media, earliest first: nothing to prepare, so the sweep does not look at
        them again (one conditional UPDATE; an edit, a retry or a reschedule puts them back to
        NONE). `updated_at` stays: nothing the person sees moved. Returns how many."""
        text = Q(cls.unprepared(), media_status=cls.MediaStatus.NONE) & ~Q(
            Exists(PostMedia.objects.filter(post_id=OuterRef("post_id")))
        )
        # Rows another transaction holds (an edit) are skipped, left for the next sweep: no wait,
        # no deadlock against a multi-row lock (inside a transaction, where this is called).
        first = (
            cls.objects.filter(text, next_attempt_at__lte=due_by)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
        )
        return cls.objects.filter(text, pk__in=first.values("pk")[:limit]).update(
            media_status=cls.MediaStatus.NO_MEDIA
        )

    def request_preparation(self, *, at: datetime, now: datetime) -> bool:
        """A prepare message for `at` is being sent (when this commits); `prep_sent_at` lets the
        sweep tell a pending message from a lost one."""
        return self._transition(
            self.WAITING,
            media_status=self.MediaStatus.PREPARING,
            prepare_at=at,
            prep_sent_at=now,
            updated_at=now,
        )

    def save_preparation(self, progress: Mapping[str, str], *, now: datetime) -> bool:
        """Persist a client's handles while preparing, only if the date still waits as this
        instance saw it (an edit, a reschedule or a cancel bumps the version first)."""
        merged = {**self.platform_state, **progress}
        return self._transition(
            self.WAITING,
            extra=Q(media_status=self.MediaStatus.PREPARING),
            platform_state=merged,
            updated_at=now,
        )

    def mark_prepared(self, *, until: datetime | None, now: datetime) -> bool:
        return self._transition(
            self.WAITING,
            extra=Q(media_status=self.MediaStatus.PREPARING),
            media_status=self.MediaStatus.READY,
            prepared_until=until,
            prepare_at=None,
            prep_sent_at=None,
            prep_attempts=0,
            prep_error="",
            updated_at=now,
        )

    def retry_preparation(self, *, at: datetime, message: str, now: datetime) -> bool:
        """Preparing failed for a reason that may pass: try again at `at` (its message is sent when
        this commits)."""
        return self._transition(
            self.WAITING,
            extra=Q(media_status=self.MediaStatus.PREPARING),
            prepare_at=at,
            prep_sent_at=now,
            prep_attempts=self.prep_attempts + 1,
            prep_error=message,
            updated_at=now,
        )

    def fail_preparation(self, *, code: str, message: str, now: datetime) -> bool:
        """The platform refused the media: the date fails now, before its time, with the reason."""
        return self._transition(
            self.WAITING,
            status=self.Status.FAILED,
            prepare_at=None,
            prep_sent_at=None,
            last_error_code=code,
            last_error_message=message,
            updated_at=now,
        )

    def back_to_preparing(self, *, at: datetime, now: datetime) -> bool:
        """The publishing call found the media still processing and published nothing: the date
        waits again (no attempt spent) while a prepare message checks at `at`. `dispatched_at`
        stays: its publish message is sent when the media is ready (the sweep re-sends none)."""
        attempts = self.attempts - 1
        return self._transition(
            [self.Status.PUBLISHING],
            status=self.Status.PENDING if attempts == 0 else self.Status.RETRYING,
            attempts=attempts,
            lease_until=None,
            claimed_by="",
            media_status=self.MediaStatus.PREPARING,
            prepared_until=None,
            prepare_at=at,
            prep_sent_at=now,
            updated_at=now,
        )

    def mark_processing(self, *, check_at: datetime, lease: timedelta, now: datetime) -> bool:
        """The platform accepted the publishing call and processes the post (TikTok, a Facebook
        video): still publishing, its status read at `check_at` by a follow message. No worker
        holds it meanwhile (`claimed_by` cleared, so no dead-worker check settles it); the lease
        covers the check, and if that message is lost the sweep reconciles the date after it."""
        return self._transition(
            [self.Status.PUBLISHING],
            follow_at=check_at,
            lease_until=check_at + lease,
            claimed_by="",
            updated_at=now,
        )

    def take_follow(self, *, lease: timedelta, claimant: str) -> bool:
        """Take a due status check of a post the platform processes: one taker per check, holding
        it like a claim (lease and claimant) while it reads the status."""
        return self._transition(
            [self.Status.PUBLISHING],
            extra=Q(follow_at__isnull=False, claimed_by=""),
            follow_at=None,
            claimed_by=claimant,
            lease_until=_database_now_plus(lease),
        )


# What a date holds when nothing of its media is prepared (yet, or any more).
UNPREPARED: Mapping[str, Any] = {
    "media_status": ScheduleEntry.MediaStatus.NONE,
    "prepare_at": None,
    "prep_sent_at": None,
    "prepared_until": None,
    "prep_attempts": 0,
    "prep_error": "",
}


class _SentAtOfTextPost(Func):
    """`platform_state` with `platforms.base.SENT_AT` set to `moment`, for a post without media
    whose state has no such key yet; else `platform_state` as it is. Written as SQL (a Case over
    an Exists costs more to compile than the rest of the claim)."""

    output_field = models.JSONField()

    def __init__(self, moment: datetime) -> None:
        super().__init__(F("platform_state"), Value(base.SENT_AT), Value(moment.isoformat()))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # `||`: the right operand wins for a key both have, so what the row holds is kept.
        merged = "(jsonb_build_object({key}::text, {value}::text) || {state})"
        return self._as_template(compiler, connection, merged)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # json_patch(target, patch): the patch (what the row holds) wins.
        return self._as_template(compiler, connection, "json_patch(json_object({key}, {value}), {state})")

    def _as_template(self, compiler: Any, connection: Any, merged: str) -> Any:
        state, key, value = (compiler.compile(expression) for expression in self.source_expressions)
        merged = merged.format(key=key[0], value=value[0], state=state[0])
        sql = f"CASE WHEN {_post_has_media_sql(connection)} THEN {state[0]} ELSE {merged} END"
        return sql, (*state[1], *key[1], *value[1], *state[1])


class _ReadyToPublish(Func):
    """`ScheduleEntry.ready_to_publish` as SQL: ready media not expired on the database's clock, or
    a post without media (a Q over an Exists cost the claim more to compile than the claim itself)."""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, ready: str) -> None:
        super().__init__(F("media_status"), F("prepared_until"), Now(), Value(ready))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # type: ignore[override]
        (status, p1), (until, p2), (now, p3), (ready, p4) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        sql = (
            f"(({status} = {ready} AND ({until} IS NULL OR {until} > {now})) "
            f"OR NOT {_post_has_media_sql(connection)})"
        )
        return sql, (*p1, *p4, *p2, *p2, *p3)


def _post_has_media_sql(connection: Any) -> str:
    quote = connection.ops.quote_name
    media, entry = quote(PostMedia._meta.db_table), quote(ScheduleEntry._meta.db_table)
    post_id, entry_post_id = (
        quote(PostMedia._meta.get_field("post").column),
        quote(ScheduleEntry._meta.get_field("post").column),
    )
    # Only table and column names from the models, quoted: no value from outside.
    return f"EXISTS (SELECT 1 FROM {media} WHERE {media}.{post_id} = {entry}.{entry_post_id})"  # noqa: S608


def post_has_media() -> RawSQL:
    """Whether an entry's post has media, as an annotation of a ScheduleEntry query (written as SQL:
    an Exists over a subquery costs more to compile than the rest of the publishing read)."""
    from django.db import connection

    return RawSQL(_post_has_media_sql(connection), (), output_field=models.BooleanField())  # noqa: S611


def _database_now_plus(duration: timedelta) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(
        Now() + Value(duration, output_field=DurationField()), output_field=models.DateTimeField()
    )


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _local(moment: datetime | None) -> str:
    """A moment in the reader's time zone (the middleware activates it), with the zone named."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} ({local.tzname()})"


class PublishAttempt(models.Model):
    """One try at publishing a date: the log a user and an operator read when something fails."""

    class Outcome(models.TextChoices):
        PUBLISHED = "published", "Published"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"
        UNCONFIRMED = "unconfirmed", "Outcome unknown"
        INTERRUPTED = "interrupted", "Interrupted (worker stopped)"
        PAUSED = "paused", "Paused (account needs reconnecting)"

    # What a person reads of an attempt, in the admin and the API alike.
    SHOWN: ClassVar[tuple[str, ...]] = (
        "dispatch_version",
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "http_status",
        "error_code",
        "message",
    )

    entry = models.ForeignKey(ScheduleEntry, on_delete=models.CASCADE, related_name="publish_attempts")
    dispatch_version = models.PositiveIntegerField()
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["entry", "started_at", "id"]
        # The dashboard reads the last day's attempts.
        indexes = [models.Index(fields=["started_at"], name="attempt_started_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "dispatch_version", "number"], name="uniq_attempt_per_run"
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of entry {self.entry_id}: {self.outcome}"
