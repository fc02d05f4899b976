"""Create the notifications' periodic tasks on the maintenance queue (editable in the admin)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TASKS = [
    # (name, task, every seconds, expires seconds)
    ("SoSocial notifications: send what was left behind", "notifications.sweep", 300, 240),
    ("SoSocial notifications: warn about dates at risk", "notifications.check_at_risk", 900, 840),
    ("SoSocial notifications: daily digest emails", "notifications.send_digests", 86400, 3600),
]


def create_tasks(apps: Any, schema_editor: Any) -> None:
    interval_schedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds, expires in TASKS:
        every, _ = interval_schedule.objects.get_or_create(every=seconds, period="seconds")
        periodic_task.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every,
                "expire_seconds": expires,
                "queue": "maintenance",
                "enabled": True,
            },
        )


def delete_tasks(apps: Any, schema_editor: Any) -> None:
    names = [name for name, *_ in TASKS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_tasks, delete_tasks)]
