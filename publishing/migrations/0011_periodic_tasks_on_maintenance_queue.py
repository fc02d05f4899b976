"""Send SoSocial's own periodic tasks on the `maintenance` queue, which its own worker process
consumes, so none waits behind a burst on `publish` (the queue layout is in sosocial/settings.py)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

NAMES = [
    "SoSocial safety net: sweep the schedule",
    "SoSocial: settle dates of dead workers",
    "SoSocial media retention: delete media of finished posts",
]


def to_maintenance(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(name__in=NAMES).update(queue="maintenance")


def to_celery(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(name__in=NAMES).update(queue="celery")


class Migration(migrations.Migration):
    dependencies = [("publishing", "0010_paused_dates_and_lateness_tolerance")]

    operations = [migrations.RunPython(to_maintenance, to_celery)]
