"""Thin Celery tasks: ids in, one call. Retries are scheduled on the row, not by Celery."""

from __future__ import annotations

from celery import shared_task

from publishing import media_lifecycle, pipeline, preparation, sweep


@shared_task(name="publishing.publish_entry")
def publish_entry(entry_id: int, dispatch_version: int) -> None:
    pipeline.publish_entry(entry_id=entry_id, dispatch_version=dispatch_version)


@shared_task(name="publishing.prepare_entry")
def prepare_entry(entry_id: int, dispatch_version: int) -> None:
    preparation.prepare_entry(entry_id=entry_id, dispatch_version=dispatch_version)


@shared_task(name="publishing.follow_entry")
def follow_entry(entry_id: int) -> None:
    pipeline.follow_entry(entry_id=entry_id)


@shared_task(name="publishing.reconcile_entry")
def reconcile_entry(entry_id: int) -> None:
    pipeline.reconcile_entry(entry_id=entry_id)


@shared_task(name="publishing.sweep_schedule")
def sweep_schedule() -> None:
    sweep.sweep_schedule()


@shared_task(name="publishing.settle_orphans")
def settle_orphans() -> None:
    sweep.settle_orphans()


@shared_task(name="publishing.purge_media")
def purge_media() -> None:
    media_lifecycle.purge_media()


@shared_task(name="publishing.resend_horizon")
def resend_horizon() -> None:
    sweep.resend_horizon()
