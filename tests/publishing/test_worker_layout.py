"""The production worker layout, pinned: the Procfile's worker processes, their pool and queues,
the task routes, and the database pool their threads share."""

from __future__ import annotations

import shlex
from pathlib import Path

from django.conf import settings

from sosocial.settings import database_config

BASE_DIR = Path(__file__).resolve().parents[2]


def procfile(name: str = "Procfile") -> dict[str, list[str]]:
    lines = (BASE_DIR / name).read_text().splitlines()
    return {kind: shlex.split(command) for kind, _, command in (line.partition(": ") for line in lines)}


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_publish_worker_holds_64_calls_in_flight_in_threads_on_the_publish_queue_only() -> None:
    worker = procfile()["worker_publish"]

    assert worker[:4] == ["celery", "-A", "sosocial", "worker"]
    assert option(worker, "--queues") == "publish"
    assert option(worker, "--pool") == "threads"
    assert option(worker, "--concurrency") == "${PUBLISH_CONCURRENCY:-64}"


def test_the_background_worker_takes_preparation_and_maintenance_off_the_publish_queue() -> None:
    worker = procfile()["worker_background"]

    assert option(worker, "--queues") == "prepare,maintenance"
    assert option(worker, "--pool") == "threads"
    assert option(worker, "--hostname") != option(procfile()["worker_publish"], "--hostname")


def test_the_safety_net_and_reconciliation_never_share_a_queue_with_publishing() -> None:
    routes = settings.CELERY_TASK_ROUTES

    assert routes["publishing.publish_entry"] == {"queue": "publish"}
    assert routes["publishing.sweep_schedule"] == {"queue": "maintenance"}
    assert routes["publishing.reconcile_entry"] == {"queue": "maintenance"}
    assert settings.CELERY_TASK_DEFAULT_QUEUE == "maintenance"


def test_media_preparation_and_status_checks_go_to_the_prepare_queue_of_the_background_worker() -> None:
    routes = settings.CELERY_TASK_ROUTES

    assert routes["publishing.prepare_entry"] == {"queue": "prepare"}
    assert routes["publishing.follow_entry"] == {"queue": "prepare"}
    for name in ("Procfile", "Procfile.dev"):
        background = procfile(name)["worker_background"]
        assert "prepare" in option(background, "--queues").split(","), name
        assert "prepare" not in option(procfile(name)["worker_publish"], "--queues").split(","), name


def test_every_queue_a_task_is_sent_to_is_consumed_by_a_worker_in_both_procfiles() -> None:
    sent_to = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    sent_to.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    for name in ("Procfile", "Procfile.dev"):
        workers = [command for kind, command in procfile(name).items() if kind.startswith("worker")]
        consumed = {queue for command in workers for queue in option(command, "--queues").split(",")}
        assert sent_to <= consumed, name


def test_a_worker_without_command_line_options_still_runs_64_threads() -> None:
    assert settings.CELERY_WORKER_POOL == "threads"
    assert settings.CELERY_WORKER_CONCURRENCY == 64
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_on_postgresql_64_threads_share_a_pool_of_32_connections() -> None:
    config = database_config("postgres://u@db:5432/sosocial", 300, settings.DATABASE_POOL_SIZE)

    assert config["OPTIONS"]["pool"]["max_size"] == 32
    assert config["CONN_MAX_AGE"] == 0  # Django refuses persistent connections beside a pool
    assert config["CONN_HEALTH_CHECKS"] is True  # the pool tests a connection before lending it


def test_without_a_pool_a_connection_is_kept_between_tasks() -> None:
    config = database_config("postgres://u@db:5432/sosocial", 300, 0)

    assert "pool" not in config.get("OPTIONS", {})
    assert config["CONN_MAX_AGE"] == 300
