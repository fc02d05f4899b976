from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from pytest_django import Settings

from publishing import dispatch
from publishing.apps import lead_within_media_expiry

BASE_DIR = Path(__file__).resolve().parents[2]


def test_production_values_of_the_pipeline_are_pinned() -> None:
    assert settings.SOSOCIAL_RETRY_DELAYS == [60, 120, 240]
    assert [dispatch.retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert dispatch.horizon().total_seconds() == 600
    assert settings.SOSOCIAL_SWEEP_INTERVAL_SECONDS == 300
    # At least twice the sweep interval: even a sweep that runs late sends an entry before it is due.
    assert dispatch.horizon().total_seconds() >= 2 * settings.SOSOCIAL_SWEEP_INTERVAL_SECONDS


def test_media_is_prepared_an_hour_ahead_well_inside_the_platforms_24_hour_expiry() -> None:
    assert dispatch.lead().total_seconds() == 3600
    assert lead_within_media_expiry() == []


def test_a_lead_the_platforms_would_not_keep_prepared_media_for_stops_the_start(settings: Settings) -> None:
    settings.SOSOCIAL_PREPARE_LEAD_SECONDS = 24 * 3600

    [refused] = lead_within_media_expiry()

    assert refused.id == "publishing.E002"


def test_the_lease_outlives_the_task_time_limit() -> None:
    assert (
        settings.SOSOCIAL_LEASE_SECONDS
        > settings.CELERY_TASK_TIME_LIMIT
        > settings.CELERY_TASK_SOFT_TIME_LIMIT
    )


def test_the_lease_outlives_a_platform_request_that_is_never_answered() -> None:
    assert settings.SOSOCIAL_HTTP_READ_TIMEOUT == 30
    # Under the threads pool no time limit ends a task: the claim-ahead wait, then the call.
    assert settings.SOSOCIAL_LEASE_SECONDS > settings.SOSOCIAL_CLAIM_AHEAD_MS / 1000 + 2 * (
        settings.SOSOCIAL_HTTP_CONNECT_TIMEOUT + settings.SOSOCIAL_HTTP_READ_TIMEOUT
    )


def test_a_date_is_claimed_half_a_second_ahead_of_its_time() -> None:
    assert settings.SOSOCIAL_CLAIM_AHEAD_MS == 500
    assert dispatch.claim_ahead().total_seconds() == 0.5


def test_redis_never_redelivers_a_message_a_worker_may_still_hold() -> None:
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest_wait = (
        settings.SOSOCIAL_HORIZON_SECONDS
        + settings.CELERY_TASK_TIME_LIMIT
        + max(settings.SOSOCIAL_RETRY_DELAYS)
    )
    assert visibility > longest_wait


def test_celery_is_configured_for_at_least_once_delivery() -> None:
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_IGNORE_RESULT is True
    assert settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS is True
    assert settings.CELERY_TASK_ROUTES["publishing.publish_entry"] == {"queue": "publish"}


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "sosocial.settings", **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_with_the_development_secret() -> None:
    refused = run_settings(
        {"SOSOCIAL_ENV": "production", "SECRET_KEY": "django-insecure-sosocial-development-only-key"}
    )

    assert refused.returncode != 0
    assert "production refuses the development secret" in refused.stderr


def test_production_starts_with_a_real_secret_and_encryption_key() -> None:
    started = run_settings(
        {
            "SOSOCIAL_ENV": "production",
            "SECRET_KEY": "a-real-secret-" + "x" * 40,
            "FIELD_ENCRYPTION_KEYS": "zB1DUoV3Rl0j1MPzOOpBMWvOa2vZjM_Sn1OVI0TB7lU=",
            "ALLOWED_HOSTS": "sosocial.example",
            "DATABASE_URL": "postgres://sosocial@db.example:5432/sosocial",
            "SOSOCIAL_PUBLIC_BASE_URL": "https://sosocial.example",
        }
    )

    assert started.returncode == 0, started.stderr
