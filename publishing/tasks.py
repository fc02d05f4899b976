"""Thin Celery tasks: ids in, one service call. Retries are scheduled by the service on the row."""

from __future__ import annotations

from celery import shared_task

from publishing import services


@shared_task(name="publishing.publish_entry")
def publish_entry(entry_id: int, dispatch_version: int) -> None:
    services.publish_entry(entry_id=entry_id, dispatch_version=dispatch_version)


@shared_task(name="publishing.reconcile_entry")
def reconcile_entry(entry_id: int) -> None:
    services.reconcile_entry(entry_id=entry_id)


@shared_task(name="publishing.sweep_schedule")
def sweep_schedule() -> None:
    services.sweep_schedule()
