from __future__ import annotations

import gc
import os
from importlib.metadata import version
from typing import Any

import redis.exceptions
from celery import Celery, Task
from celery.signals import (
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sosocial.settings")


def patch_kombu_redis_released_connection() -> bool:
    """Make a Redis channel whose connection was already released fail with a *connection* error.

    Workaround for kombu 5.7 with celery 5.7 (no fixed release yet; remove this when an upgrade makes
    tests/chaos/test_redis_faults.py::test_the_worker_keeps_running_through_a_redis_restart pass
    without it). No upstream issue covers this 5.7 path (searched); the same AttributeError from
    `_connparams` on a released connection was reported before: https://github.com/celery/kombu/issues/582

    When Redis goes away, `Consumer.on_connection_error_after_connected` first calls
    `connection.collect()`: closing the consuming channel fails half way with a ConnectionError
    (its BRPOP reply or a fanout queue delete cannot be read from a dead server), so the channel is
    left not `closed`, and `collect()` then releases the transport (`transport.client = None`).
    Celery then calls `connection.close()`, which closes the same default channel again; that
    reaches `QoS.restore_unacked_once()` -> `Channel._connparams()`, which reads
    `self.connection.client.hostname` on `None`. An AttributeError is not one of the transport's
    connection errors, so `ignore_errors` lets it through and the worker exits with "Unrecoverable
    error" instead of reconnecting. (Acking an old message on that channel later fails the same way.)

    A channel whose connection has been released can reach no server, which is what a connection
    error means: raising redis' ConnectionError there lets kombu and celery handle it the way they
    already handle a dead broker (`maybe_close_channel` and `ignore_errors` swallow it, the consumer
    reconnects, `ack_log_error` logs "Couldn't ack"). Nothing is restored or acked instead: the
    unacked messages stay where Redis has them, in its unacked hash if Redis kept its data (any
    worker re-queues them after `visibility_timeout`) or nowhere if it restarted empty; either way
    the sweep re-dispatches every due entry that is not done and the ScheduleEntry claim absorbs
    any duplicate delivery (docs/reliability.md). Only `connection.client is None` takes the new
    path; every live channel goes to kombu's own code unchanged.

    Applied to kombu 5.7.x only: returns whether the patch is (now) installed.
    """
    if version("kombu").split(".")[:2] != ["5", "7"]:
        return False
    channel_cls: Any = kombu_redis.Channel
    original = channel_cls._connparams
    if getattr(original, "sosocial_released_connection_guard", False):
        return True

    def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            raise redis.exceptions.ConnectionError(
                "kombu Redis channel used after its broker connection was released"
            )
        params: dict[str, Any] = original(self, asynchronous=asynchronous)
        return params

    _connparams.sosocial_released_connection_guard = True  # type: ignore[attr-defined]
    channel_cls._connparams = _connparams
    return True


patch_kombu_redis_released_connection()

app = Celery("sosocial")
# Every Celery setting lives in settings.py under the CELERY_ prefix, each with its reason.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task: Task[Any, Any] | None = None, **kwargs: Any) -> None:
    """Before and after each task, drop a database connection that is unusable (it raised, or the
    database restarted) or older than CONN_MAX_AGE, as Django does before and after each request.

    Not for eager calls: they run inside the caller's transaction.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
@worker_process_init.connect
def freeze_startup_objects(**kwargs: Any) -> None:
    """Move everything loaded at start-up (Django, Celery, the clients) out of the collector's reach.

    A worker holds some 100 MB of long-lived objects; each full collection walked all of them and
    paused a pool process for 80-120 ms, in the middle of publishing (docs/benchmarks.md). Run in
    the main process before it forks the pool (children inherit the frozen set, and their memory
    stays shared) and in each child once it is set up.
    """
    gc.collect()
    gc.freeze()


@worker_init.connect
def refuse_unsafe_settings(**kwargs: Any) -> None:
    """A worker does not start when a system check fails (a lease shorter than the task's time
    limit would let two workers publish one date); Celery itself only prints the checks."""
    from django.core import checks
    from django.core.management.base import SystemCheckError

    errors = [message for message in checks.run_checks() if message.is_serious()]
    if errors:
        raise SystemCheckError("\n".join(str(error) for error in errors))


@worker_ready.connect
def watch_the_broker(**kwargs: Any) -> None:
    """Each worker notices within seconds that Redis lost its data (publishing/broker_watch.py)."""
    from django.conf import settings

    from publishing.broker_watch import RESEND_TASK, BrokerWatch

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    watch = BrokerWatch(
        client,
        interval=settings.SOSOCIAL_BROKER_CHECK_SECONDS,
        on_loss=lambda: app.send_task(RESEND_TASK),
    )
    watch.start()
    worker_shutdown.connect(lambda **_: watch.stop(), weak=False)
