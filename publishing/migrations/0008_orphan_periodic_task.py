"""Create the periodic task that settles dates whose worker died (every 30 seconds).

The sweep does the same every 5 minutes; this keeps a dead worker's dates from waiting more than
about a minute (a heartbeat's lifetime plus this interval) before they are reconciled.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAME = "SoSocial: settle dates of dead workers"
TASK = "publishing.settle_orphans"
INTERVAL_SECONDS = 30
EXPIRES_SECONDS = 25


def create_task(apps: Any, schema_editor: Any) -> None:
    interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_schedule.objects.get_or_create(every=INTERVAL_SECONDS, period="seconds")
    periodic_task.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "expire_seconds": EXPIRES_SECONDS,
            "queue": "celery",
            "enabled": True,
        },
    )


def delete_task(apps: Any, schema_editor: Any) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0007_reconcile_checks_claimant_one_instant"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_task, delete_task)]
