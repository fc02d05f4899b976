"""Send the safety-net sweep on the `maintenance` queue, which its own worker process consumes, so it
never waits behind a burst on `publish` (the queue layout is in sosocial/settings.py)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

SWEEP_NAME = "SoSocial safety net: sweep the schedule"


def to_maintenance(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(name=SWEEP_NAME).update(queue="maintenance")


def to_celery(apps: Any, schema_editor: Any) -> None:
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    periodic_task.objects.filter(name=SWEEP_NAME).update(queue="celery")


class Migration(migrations.Migration):
    dependencies = [("publishing", "0006_post_group")]

    operations = [migrations.RunPython(to_maintenance, to_celery)]
