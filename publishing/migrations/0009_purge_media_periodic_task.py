"""Create the periodic task that deletes the media of finished posts (hourly), like 0002's sweep."""

from __future__ import annotations

from typing import Any

from django.db import migrations

PURGE_NAME = "SoSocial media retention: delete media of finished posts"
PURGE_TASK = "publishing.purge_media"
PURGE_INTERVAL_SECONDS = 3600
PURGE_EXPIRES_SECONDS = 3000


def create_purge(apps: Any, schema_editor: Any) -> None:
    interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_schedule.objects.get_or_create(every=PURGE_INTERVAL_SECONDS, period="seconds")
    periodic_task.objects.update_or_create(
        name=PURGE_NAME,
        defaults={
            "task": PURGE_TASK,
            "interval": every,
            "expire_seconds": PURGE_EXPIRES_SECONDS,
            "queue": "celery",
            "enabled": True,
        },
    )


def delete_purge(apps: Any, schema_editor: Any) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=PURGE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0008_orphan_periodic_task"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_purge, delete_purge)]
