"""Create the safety-net periodic task (every 5 minutes).

A data migration rather than CELERY_BEAT_SCHEDULE: DatabaseScheduler writes that setting back on
every start and never deletes what it wrote, while this row can be edited in the admin.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SWEEP_NAME = "SoSocial safety net: sweep the schedule"
SWEEP_TASK = "publishing.sweep_schedule"
SWEEP_INTERVAL_SECONDS = 300
# Below the interval, so a sweep stuck in a backed-up queue is dropped, not run twice in a row.
SWEEP_EXPIRES_SECONDS = 240


def create_sweep(apps: Any, schema_editor: Any) -> None:
    interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_schedule.objects.get_or_create(every=SWEEP_INTERVAL_SECONDS, period="seconds")
    periodic_task.objects.update_or_create(
        name=SWEEP_NAME,
        defaults={
            "task": SWEEP_TASK,
            "interval": every,
            "expire_seconds": SWEEP_EXPIRES_SECONDS,
            "queue": "celery",
            "enabled": True,
        },
    )


def delete_sweep(apps: Any, schema_editor: Any) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_sweep, delete_sweep)]
