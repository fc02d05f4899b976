"""Real processes for end-to-end tests: Celery worker and beat subprocesses on the real broker and
the test database, publishing to the sink over HTTP. Intervals are shortened through the same
environment variables production uses (tests/publishing/test_settings.py pins the real values).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import pytest
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from pytest_django import Settings

from platforms.models import SocialAccount
from tests.support.broker import Broker
from tests.support.sink import SinkServer

BASE_DIR = Path(__file__).resolve().parents[2]
SHORT_INTERVALS = {
    "SOSOCIAL_RETRY_DELAYS": "1,2,4",
    "SOSOCIAL_HORIZON_SECONDS": "5",
    "SOSOCIAL_SWEEP_GRACE_SECONDS": "2",
    "SOSOCIAL_LEASE_SECONDS": "6",
    "SOSOCIAL_RECONCILE_DELAY_SECONDS": "0.5",
    "SOSOCIAL_RECONCILE_CHECK_DELAYS": "1,2,4,8",
    "SOSOCIAL_BROKER_CHECK_SECONDS": "0.5",
    "CELERY_TASK_SOFT_TIME_LIMIT": "4",
    "CELERY_TASK_TIME_LIMIT": "5",
    "SOSOCIAL_HTTP_READ_TIMEOUT": "4",
}
SWEEP_EVERY_SECONDS = 1
# The Procfile's worker processes by the queues they consume; `worker` consumes them all.
WORKER_QUEUES = {
    "worker": "publish,prepare,maintenance",
    "worker_publish": "publish",
    "worker_background": "prepare,maintenance",
}


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: the machine or container died mid-task."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class StartProcess(Protocol):
    def __call__(self, kind: str, concurrency: int = 2) -> Process: ...


@pytest.fixture
def sink() -> Iterator[SinkServer]:
    server = SinkServer().start()
    yield server
    server.stop()


@pytest.fixture
def short_intervals(settings: Settings) -> None:
    """The test process schedules with the same shortened intervals the subprocesses use."""
    settings.SOSOCIAL_RETRY_DELAYS = [int(v) for v in SHORT_INTERVALS["SOSOCIAL_RETRY_DELAYS"].split(",")]
    settings.SOSOCIAL_HORIZON_SECONDS = float(SHORT_INTERVALS["SOSOCIAL_HORIZON_SECONDS"])
    settings.SOSOCIAL_SWEEP_GRACE_SECONDS = float(SHORT_INTERVALS["SOSOCIAL_SWEEP_GRACE_SECONDS"])
    settings.SOSOCIAL_LEASE_SECONDS = float(SHORT_INTERVALS["SOSOCIAL_LEASE_SECONDS"])
    settings.SOSOCIAL_RECONCILE_DELAY_SECONDS = float(SHORT_INTERVALS["SOSOCIAL_RECONCILE_DELAY_SECONDS"])
    settings.SOSOCIAL_RECONCILE_CHECK_DELAYS = [
        float(v) for v in SHORT_INTERVALS["SOSOCIAL_RECONCILE_CHECK_DELAYS"].split(",")
    ]


@pytest.fixture
def platform_env(sink: SinkServer) -> dict[str, str]:
    """Where the worker's platform clients go: X is the sink here; test modules may override."""
    return {
        "SOSOCIAL_PLATFORM_CLIENTS": '{"x": "tests.support.sink.SinkClient"}',
        "SOSOCIAL_SINK_URL": sink.url,
    }


@pytest.fixture
def process_env(
    platform_env: dict[str, str], transactional_db: None, short_intervals: None, settings: Settings
) -> dict[str, str]:
    return {
        **os.environ,
        **SHORT_INTERVALS,
        # Notification email from a test's worker goes nowhere unless the test starts an SMTP server.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        **platform_env,
        "DATABASE_URL": test_database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def processes(process_env: dict[str, str], tmp_path: Path) -> Iterator[StartProcess]:
    """Start `worker` (every queue), `worker_publish`, `worker_background` or `beat` processes, each
    like its Procfile line with a small concurrency; every one still running is stopped after the test."""
    started: list[Process] = []

    def start(kind: str, concurrency: int = 2) -> Process:
        name = f"{kind}{len(started) + 1}"
        log = tmp_path / f"{name}.log"
        if kind in WORKER_QUEUES:
            command = [
                "worker",
                "--queues", WORKER_QUEUES[kind],
                "--pool", "threads",
                "--concurrency", str(concurrency),
                "--hostname", f"{name}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            ready = "ready."
        else:
            command = ["beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]
            ready = "beat: Starting..."
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "sosocial", *command, "--loglevel", "INFO"],
                cwd=BASE_DIR,
                env=process_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        started.append(process)
        wait_for(lambda: ready in process.output() or popen.poll() is not None, timeout=30, what=f"{name}")
        assert popen.poll() is None, process.output()
        return process

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def fast_sweep(transactional_db: None) -> None:
    """The migration's 300 s safety net, run every second (the flush between tests removes it)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_EVERY_SECONDS, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="SoSocial safety net: sweep the schedule",
        defaults={"task": "publishing.sweep_schedule", "interval": every, "queue": "maintenance"},
    )
    PeriodicTasks.update_changed()


@pytest.fixture
def alices_x(alices_account: SocialAccount) -> SocialAccount:
    """Alice's X account; the chaos tests replace it with one on the sandbox."""
    return alices_account


@pytest.fixture
def clean_broker() -> Broker:
    broker = Broker()
    broker.redis.flushall()
    return broker
