"""Thin Celery tasks on the `maintenance` queue: ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from notifications import services, watch


@shared_task(name="notifications.fan_out")
def fan_out(notification_id: int) -> None:
    services.fan_out(notification_id=notification_id)


@shared_task(name="notifications.deliver")
def deliver(delivery_id: int) -> None:
    services.deliver(delivery_id=delivery_id)


@shared_task(name="notifications.sweep")
def sweep() -> None:
    services.sweep()


@shared_task(name="notifications.send_digests")
def send_digests() -> None:
    """Daily: the summaries people asked for, then the digest emails (which may carry them)."""
    watch.daily_summaries()
    services.send_digests()


@shared_task(name="notifications.check_at_risk")
def check_at_risk() -> None:
    watch.check_at_risk()
