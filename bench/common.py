"""What every benchmark shares: the environment, Django setup, workers, the sandbox, the report."""

from __future__ import annotations

import gc
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
# BENCH_DOC sends the sections elsewhere (a trial run that should not replace the recorded figures).
DOC = Path(os.environ.get("BENCH_DOC") or BASE_DIR / "docs" / "benchmarks.md")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sosocial_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
LOG_DIR = BASE_DIR / "var" / "bench"


def configure_environment() -> None:
    """Point this process (and the workers it starts) at the benchmark database and Redis db 14."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sosocial.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if not os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")


def ensure_database() -> None:
    """Create the database if it is missing (psycopg, on the server's `postgres` db) and migrate."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    name = str(config["NAME"])
    with psycopg.connect(
        host=str(config.get("HOST") or "127.0.0.1"),
        port=int(config.get("PORT") or 5432),
        user=str(config.get("USER") or "postgres"),
        password=str(config.get("PASSWORD") or "") or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')  # name comes from the operator's own URL
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


def flush_redis() -> None:
    """Empty the benchmark's own Redis database (db 14 by default), never any other."""
    redis_client().flushdb()


def truncate_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE publishing_publishattempt, publishing_postmedia, publishing_scheduleentry, "
            "publishing_post, platforms_socialaccount RESTART IDENTITY CASCADE"
        )


def settle_database() -> None:
    """Write out what earlier steps left dirty (a million-row insert) before a timed run.

    Without it, the checkpoint of the sweep benchmark's rows fell inside the next run and its
    COMMITs waited 0.7-0.8 s for the disk.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # needs a superuser or pg_checkpoint (PostgreSQL 15)
    os.sync()  # and whatever else the system still has to write


# -- the machine and the report -----------------------------------------------------------------------
def machine() -> str:
    import psutil  # type: ignore[import-untyped]  # no stubs in requirements.txt

    memory_gib = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or platform.machine()
    return (
        f"nproc {os.cpu_count()}, {memory_gib:.1f} GiB RAM, {cpu}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, PostgreSQL {postgres_version()}, Redis {redis_version()}"
    )


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        row = cursor.fetchone()
    return str(row[0]) if row else "?"


def redis_version() -> str:
    return str(redis_client().info("server").get("redis_version", "?"))


def freeze_garbage_collector() -> None:
    """Keep this process's collector off what it holds so far.

    The sandbox (standing in for the platform) runs in this process; a full collection over the
    benchmark's own objects paused it for 25-60 ms, which would be charged to SoSocial's lateness.
    """
    gc.collect()
    gc.freeze()


def connection_settings() -> str:
    """The settings that decide how a worker keeps its database connections between tasks."""
    from django.conf import settings

    return (
        f"DATABASE_POOL_SIZE={settings.DATABASE_POOL_SIZE} "
        f"DATABASE_CONN_MAX_AGE={settings.DATABASE_CONN_MAX_AGE} "
        f"CELERY_DB_REUSE_MAX={settings.CELERY_DB_REUSE_MAX}"
    )


def keeps_connections() -> bool:
    from django.conf import settings

    return bool(
        settings.DATABASE_POOL_SIZE or (settings.DATABASE_CONN_MAX_AGE and settings.CELERY_DB_REUSE_MAX)
    )


def command_line() -> str:
    return "python -m bench " + shlex.join(sys.argv[1:])


def write_section(name: str, title: str, settings: Mapping[str, object], body: str) -> None:
    """Replace (or append) the `name` section of docs/benchmarks.md."""
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    lines = [
        begin,
        f"## {title}",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}",
        "- Settings: " + ", ".join(f"{key}={value}" for key, value in settings.items()),
        f"- Command: `{command_line()}`",
        "",
        body.rstrip(),
        end,
    ]
    section = "\n".join(lines)
    text = DOC.read_text() if DOC.exists() else HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text)
    print(f"[bench] wrote section '{name}' of {DOC}")


HEADER = """# Benchmarks

Run with `make bench` (all of them at full size, about 20 minutes on 2 CPUs), `make bench
BENCH="all --quick"` (small sizes, a few minutes) or `.venv/bin/python -m bench <name> [flags]`
(`rush`, `mediarush`, `cost`, `ontime`, `burst`, `surfaces`, `sweep`, `memory`; see
`python -m bench <name> --help`).
They need PostgreSQL (`DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/sosocial_bench`,
created and migrated if missing) and Redis (`REDIS_URL`, default `redis://127.0.0.1:6379/14`; that
database is flushed). Each benchmark rewrites its own section below with the figures it printed.
They are not part of `make test`.
"""


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def emit_breakdown(lines: list[str], label: str, values: Sequence[float], *, p95: bool = True) -> None:
    """One line of a lateness breakdown (seconds in, milliseconds out); nothing when empty."""
    stats = percentiles(values)
    if not stats:
        return
    middle = f" p95={stats['p95'] * 1000:.1f} ms" if p95 else ""
    emit(
        lines,
        f"  {label}: p50={stats['p50'] * 1000:.1f} ms{middle} p99={stats['p99'] * 1000:.1f} ms "
        f"max={stats['max'] * 1000:.1f} ms (n={len(values)})",
    )


def emit(lines: list[str], line: str) -> None:
    print(line, flush=True)
    lines.append(line)


# -- CPU accounting -------------------------------------------------------------------------------------
def cpu_seconds(worker_pid: int | None) -> dict[str, float]:
    """CPU time (user + system) used so far by the worker tree, PostgreSQL, Redis and this process
    (which runs the sandbox standing in for the platform)."""
    import psutil

    def used(process: Any) -> float:
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return 0.0
        return float(times.user + times.system)

    groups = {"worker main": 0.0, "worker pool": 0.0, "postgres": 0.0, "redis": 0.0}
    if worker_pid is not None:
        main = psutil.Process(worker_pid)
        groups["worker main"] = used(main)
        groups["worker pool"] = sum(used(child) for child in main.children(recursive=True))
    for process in psutil.process_iter(["name"]):
        name = process.info["name"] or ""
        if name.startswith("postgres"):
            groups["postgres"] += used(process)
        elif name.startswith("redis-server"):
            groups["redis"] += used(process)
    groups["sandbox (this process)"] = used(psutil.Process())
    return groups


def cpu_line(label: str, before: Mapping[str, float], after: Mapping[str, float], posts: int) -> str:
    """CPU milliseconds per post by group, and the throughput those would allow on every CPU."""
    per_post = {name: (after[name] - before[name]) * 1000 / posts for name in after}
    total = sum(per_post.values())
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in per_post.items())
    ceiling = (os.cpu_count() or 1) * 1000 / total if total else float("inf")
    return (
        f"{label}: CPU per post {total:.1f} ms ({parts}); {os.cpu_count()} CPUs allow at most "
        f"{ceiling:.0f} posts/s"
    )


# -- worker processes ---------------------------------------------------------------------------------
@dataclass
class Worker:
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise TimeoutError(f"Timed out after {timeout} s waiting for {what}")


@contextmanager
def worker(
    *,
    app: str = "sosocial",
    queues: str = "publish,prepare,maintenance",
    pool: str = "prefork",
    concurrency: int = 8,
    env: Mapping[str, str] | None = None,
    name: str = "bench",
) -> Iterator[Worker]:
    """A real `celery worker` subprocess in its own process group, stopped on exit."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "--queues", queues, "--pool", pool, "--concurrency", str(concurrency),
        "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
    ]  # fmt: skip
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process = Worker(popen, log)
    try:
        wait_for(lambda: worker_ready(app, name) or popen.poll() is not None, timeout=60, what="the worker")
        if popen.poll() is not None:
            raise RuntimeError(f"worker exited:\n{process.output()}")
        yield process
    finally:
        process.stop()


def worker_ready(app: str, name: str) -> bool:
    """Ask the worker over the broker (the log is at WARNING, so `ready.` is not printed)."""
    from celery import Celery

    # Not the current app: dispatch.send_publish() sends through current_app, with SoSocial's routes.
    client = Celery(broker=os.environ["REDIS_URL"], set_as_current=False)
    try:
        replies = client.control.ping(timeout=0.5) or []
    finally:
        client.close()
    return any(name in host for reply in replies for host in reply)
