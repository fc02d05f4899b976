"""A naive Celery task making the same X create call as SoSocial, with no bookkeeping at all.

Run by the `burst` benchmark as `celery -A bench.naive worker --queues bench_naive ...`; it never
imports Django, reads no row and writes none.
"""

from __future__ import annotations

import os

import requests
from celery import Celery

app = Celery("bench_naive", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
app.conf.update(
    task_default_queue="bench_naive",
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
    broker_transport_options={"visibility_timeout": 3600},
)
_session = requests.Session()


@app.task(name="bench.naive_post")
def naive_post(url: str, token: str, text: str) -> None:
    response = _session.post(
        url, json={"text": text}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
