"""The safety net, every few minutes: find what should have happened and did not.

Messages lost to Redis, workers that died mid-publish, media not prepared ahead and reconcile
requests that never arrived are all found from the rows, in bounded batches on the partial indexes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from publishing import dispatch, liveness, pipeline
from publishing.models import PostMedia, ScheduleEntry

logger = logging.getLogger(__name__)
Status = ScheduleEntry.Status


@dataclass
class SweepReport:
    dispatched: int = 0
    redispatched: int = 0
    leases_expired: int = 0
    reconciles_requested: int = 0
    preparations: int = 0


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
                dispatch.send_publish(entry_id, version, eta)

        dispatch.after_commit(send_all)
    return len(rows)


def waiting_entries() -> QuerySet[ScheduleEntry]:
    return ScheduleEntry.objects.filter(status__in=ScheduleEntry.WAITING)


def _expire_leases_batch() -> int:
    with transaction.atomic():
        # The database's clock: the lease was written on it (ScheduleEntry.claim_by_id).
        rows = _locked_batch(
            ScheduleEntry.objects.filter(status=Status.PUBLISHING, lease_until__lt=Now()), "lease_until"
        )
        now = timezone.now()
        for entry in rows:
            pipeline.interrupt(
                entry,
                code="lease_expired",
                message=pipeline.WORKER_LOST,
                now=now,
                started_at=now - dispatch.lease(),
            )
    return len(rows)


def settle_orphans() -> int:
    """Publishing dates whose worker process is certainly dead: reconciled now, not after the lease.

    Few rows are ever publishing at once (the partial index), and each claimant is asked once.
    """
    with transaction.atomic():
        rows = _locked_batch(
            ScheduleEntry.objects.filter(status=Status.PUBLISHING).exclude(claimed_by=""), "lease_until"
        )
        alive = {name: liveness.is_alive(name) for name in {row.claimed_by for row in rows}}
        settled = 0
        now = timezone.now()
        for entry in rows:
            if alive[entry.claimed_by] is False:
                settled += pipeline.interrupt(
                    entry,
                    code="worker_lost",
                    message=pipeline.WORKER_LOST,
                    now=now,
                    started_at=entry.updated_at,
                )
    return settled


def _prepare_batch(query: QuerySet[ScheduleEntry], order: str, *, now: datetime) -> int:
    with transaction.atomic():
        rows = _locked_batch(query, order)
        for entry in rows:
            # A step the platform asked for later keeps its time; one due or lost goes now.
            at = max(entry.prepare_at or now, now)
            dispatch.request_preparation(entry, at=at, now=now)
    return len(rows)


def _mark_no_media_batch(moment: datetime) -> int:
    with transaction.atomic():
        return ScheduleEntry.mark_no_media(due_by=moment, limit=settings.SOSOCIAL_SWEEP_BATCH_SIZE)


def unprepared_within(moment: datetime) -> QuerySet[ScheduleEntry]:
    """Waiting dates of posts with media, due by `moment`, that nothing has looked at yet: not
    ready and with no prepare message (on `entry_unprepared_idx`)."""
    return ScheduleEntry.objects.filter(ScheduleEntry.unprepared(), next_attempt_at__lte=moment).filter(
        Exists(PostMedia.objects.filter(post_id=OuterRef("post_id")))
    )


def preparing_entries() -> QuerySet[ScheduleEntry]:
    return waiting_entries().filter(media_status=ScheduleEntry.MediaStatus.PREPARING)


def _checks_batch(query: QuerySet[ScheduleEntry], *, now: datetime) -> int:
    with transaction.atomic():
        rows = _locked_batch(query, "next_check_at")
        for entry in rows:
            if entry.request_reconcile(now=now):
                dispatch.request_reconcile(entry)
    return len(rows)


def checking_entries() -> QuerySet[ScheduleEntry]:
    return ScheduleEntry.objects.filter(status=Status.UNCONFIRMED, reconciled_at__isnull=True)


def sweep_schedule() -> SweepReport:
    """Find what should have happened and did not, in bounded batches on the partial indexes."""
    now = timezone.now()
    report = SweepReport()
    # 1. Entries that entered the horizon and have no message yet.
    report.dispatched = _in_batches(
        lambda: _dispatch_batch(
            waiting_entries().filter(
                dispatched_at__isnull=True, next_attempt_at__lte=now + dispatch.horizon()
            ),
            now=now,
        )
    )
    # 2. Overdue entries whose message is older than the grace period: Redis lost it. The stamp
    #    from step 1 or from this step keeps a sweep from re-selecting rows it just sent. A date
    #    whose media is still being prepared is left out: its message is sent once it is ready.
    report.redispatched = _in_batches(
        lambda: _dispatch_batch(
            waiting_entries()
            .filter(
                Q(next_attempt_at__lt=now - dispatch.grace()), Q(dispatched_at__lt=now - dispatch.grace())
            )
            .exclude(media_status=ScheduleEntry.MediaStatus.PREPARING),
            now=now,
        )
    )
    # 3. Publishing entries whose worker died: their outcome is unknown until reconciled.
    report.leases_expired = _in_batches(_expire_leases_batch) + settle_orphans()
    # 4. Unconfirmed entries whose next check entered the horizon with no message yet, then those
    #    whose check message is older than the grace period (lost).
    report.reconciles_requested = _in_batches(
        lambda: _checks_batch(
            checking_entries().filter(
                dispatched_at__isnull=True, next_check_at__lte=now + dispatch.horizon()
            ),
            now=now,
        )
    ) + _in_batches(
        lambda: _checks_batch(
            checking_entries().filter(
                next_check_at__lt=now - dispatch.grace(), dispatched_at__lt=now - dispatch.grace()
            ),
            now=now,
        )
    )
    # 5. Dates that entered the lead and were not looked at yet: those without media are marked as
    #    having nothing to prepare (so each is looked at once, and the next SELECT reads dates with
    #    media only), those with media get a prepare message; then preparations whose message is
    #    older than the grace period (lost).
    _in_batches(lambda: _mark_no_media_batch(now + dispatch.lead()))
    report.preparations = _in_batches(
        lambda: _prepare_batch(unprepared_within(now + dispatch.lead()), "next_attempt_at", now=now)
    ) + _in_batches(
        lambda: _prepare_batch(
            preparing_entries().filter(
                prepare_at__lt=now - dispatch.grace(), prep_sent_at__lt=now - dispatch.grace()
            ),
            "prepare_at",
            now=now,
        )
    )
    if any(vars(report).values()):
        logger.info("Sweep: %s", report)
    return report


def resend_horizon() -> int:
    """After the broker lost its data (publishing/broker_watch.py): send every waiting date inside
    the horizon again at once, so those due after the broker is back go out on time, and every
    pending preparation step (at its time)."""
    now = timezone.now()
    _in_batches(
        lambda: _prepare_batch(preparing_entries().filter(prep_sent_at__lt=now), "prepare_at", now=now)
    )
    return _in_batches(
        lambda: _dispatch_batch(
            # Rows this call stamped (dispatched_at == now) are not selected again by the next batch.
            waiting_entries().filter(
                Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now),
                next_attempt_at__lte=now + dispatch.horizon(),
            ),
            now=now,
        )
    )
