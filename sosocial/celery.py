from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sosocial.settings")

app = Celery("sosocial")
# Every Celery setting lives in settings.py under the CELERY_ prefix, each with its reason.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
