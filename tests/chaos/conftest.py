"""Fault injection on the real pipeline: worker and beat subprocesses, Redis, the database, and the
platform sandbox's X spoken to by the real X client, with the faults aimed at them. Every test ends
with `assert_settled_on_sandbox`: judged from the sandbox's own record of the posts it holds, no
post made twice, and every entry published, failed with a reason, or unconfirmed and then
reconciled; nothing left pending, publishing or retrying.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.db.utils import load_backend
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from kombu import pools
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from sosocial.devservices import free_port, start_embedded_redis
from sosocial.settings import database_config
from tests.integration.conftest import (  # noqa: F401  (fixtures used by the chaos tests)
    BASE_DIR,
    SWEEP_EVERY_SECONDS,
    Process,
    fast_sweep,
    process_env,
    processes,
    short_intervals,
    wait_for,
)
from tests.integration.conftest import StartProcess as IntegrationStartProcess
from tests.support.sandbox_plugin import connect_sandbox_account

Status = ScheduleEntry.Status
StartProcess = IntegrationStartProcess
NOT_SETTLED = (Status.PENDING, Status.PUBLISHING, Status.RETRYING)
CHAOS = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_sweep"),
]
LONG_CHAOS = os.environ.get("SOSOCIAL_LONG_CHAOS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long runs (`long` marker) only run with SOSOCIAL_LONG_CHAOS=1."""
    if LONG_CHAOS:
        return
    skip = pytest.mark.skip(reason="long chaos run: set SOSOCIAL_LONG_CHAOS=1")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


# Natural limits off: a burst is far over X's 100 posts per 15 minutes (test_platform_faults injects
# its 429s), and X's duplicate-content refusal off, so a post sent twice shows up twice in the
# sandbox's record instead of being refused there and hiding the mistake.
BURST_SANDBOX = {"rate_limits": False, "x_duplicate_window_seconds": 0}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return dict(BURST_SANDBOX)


@pytest.fixture
def alices_x(alice: User, control: SandboxClient) -> SocialAccount:
    return connect_sandbox_account(control, owner=alice, platform="x", name="Alice")


@pytest.fixture
def second_x(alice: User, control: SandboxClient) -> SocialAccount:
    return connect_sandbox_account(control, owner=alice, platform="x", name="Alice Two")


# -- a burst of posts -------------------------------------------------------------------------------
def schedule_burst(
    accounts: SocialAccount | Sequence[SocialAccount], count: int, *, in_seconds: float = 2.0
) -> list[ScheduleEntry]:
    """`count` posts of one date each, spread over `accounts`, all due within a few ms of
    `in_seconds` from now (or as soon as scheduled, for a burst slower to schedule than that).
    Each has its own text, which is how X reconciliation, and `sandbox_record`, find it."""
    accounts = [accounts] if isinstance(accounts, SocialAccount) else list(accounts)
    start = datetime.now(UTC) + timedelta(seconds=in_seconds)
    entries: list[ScheduleEntry] = []
    for n in range(count):
        account = accounts[n % len(accounts)]
        post = Post.objects.create(
            owner_id=account.owner_id, account=account, text=f"Burst post {n + 1} of {count}"
        )
        when = max(start + timedelta(milliseconds=n), timezone.now() + timedelta(seconds=0.5))
        entries.extend(services.schedule_post(post=post, when=[when]))
    return entries


def unsettled(entries: Iterable[ScheduleEntry]) -> list[tuple[int, str]]:
    """Entries still on their way: waiting, publishing, or unconfirmed and not yet reconciled."""
    rows = ScheduleEntry.objects.filter(pk__in=[entry.pk for entry in entries]).values_list(
        "pk", "status", "reconciled_at"
    )
    return [
        (pk, status)
        for pk, status, reconciled_at in rows
        if status in NOT_SETTLED or (status == Status.UNCONFIRMED and reconciled_at is None)
    ]


def wait_settled(entries: list[ScheduleEntry], *, timeout: float) -> None:
    try:
        wait_for(lambda: not unsettled(entries), timeout=timeout, what=f"{len(entries)} entries to settle")
    except AssertionError as timed_out:
        left = unsettled(entries)
        raise AssertionError(f"{timed_out}; still unsettled ({len(left)}): {left[:20]}") from None


@dataclass
class Outcome:
    published: list[ScheduleEntry] = field(default_factory=list)
    failed: list[ScheduleEntry] = field(default_factory=list)
    unconfirmed: list[ScheduleEntry] = field(default_factory=list)
    paused: list[ScheduleEntry] = field(default_factory=list)  # their account needs reconnecting


def assert_settled(entries: list[ScheduleEntry], received: Iterable[str]) -> Outcome:
    """The end state every chaos test requires, judged from the platform's own record (`received`,
    one reference per post it holds)."""
    counts = Counter(received)
    duplicates = {reference: n for reference, n in counts.items() if n > 1}
    assert not duplicates, f"published more than once: {duplicates}"
    outcome = Outcome()
    for entry in ScheduleEntry.objects.filter(pk__in=[e.pk for e in entries]).order_by("pk"):
        got = counts.get(entry.reference, 0)
        if entry.status == Status.PUBLISHED:
            assert got == 1, f"{entry.reference} is published but the platform has it {got} times"
            assert entry.platform_post_id, entry.reference
            outcome.published.append(entry)
        elif entry.status == Status.FAILED:
            assert got == 0, f"{entry.reference} failed but the platform has it"
            assert entry.last_error_message, f"{entry.reference} failed without a reason"
            outcome.failed.append(entry)
        elif entry.status == Status.UNCONFIRMED:
            assert entry.reconciled_at is not None, f"{entry.reference} unconfirmed, never reconciled"
            assert entry.last_error_message, entry.reference
            outcome.unconfirmed.append(entry)
        elif entry.status == Status.PAUSED:
            assert got == 0, f"{entry.reference} is paused but the platform has it"
            assert entry.last_error_message, f"{entry.reference} paused without a reason"
            outcome.paused.append(entry)
        else:
            raise AssertionError(f"{entry.reference} left {entry.status}")
    settled = [outcome.published, outcome.failed, outcome.unconfirmed, outcome.paused]
    assert sum(map(len, settled)) == len(entries)
    return outcome


def sandbox_record(control: SandboxClient, entries: list[ScheduleEntry]) -> dict[str, list[str]]:
    """Reference -> ids of the X posts the sandbox holds for it, from its control API; a post that
    no entry sent fails the test."""
    reference_of = {
        entry.post.text: entry.reference
        for entry in ScheduleEntry.objects.filter(pk__in=[e.pk for e in entries]).select_related("post")
    }
    record: dict[str, list[str]] = {}
    for post in control.posts("x"):
        text = str(post["text"])
        assert text in reference_of, f"the sandbox has a post no entry sent: {text!r}"
        record.setdefault(reference_of[text], []).append(str(post["id"]))
    return record


def assert_settled_on_sandbox(entries: list[ScheduleEntry], control: SandboxClient) -> Outcome:
    """`assert_settled` from the sandbox's record, and each published entry names its own post."""
    record = sandbox_record(control, entries)
    outcome = assert_settled(entries, (ref for ref, ids in record.items() for _ in ids))
    for entry in outcome.published:
        assert record[entry.reference] == [entry.platform_post_id], entry.reference
    return outcome


@dataclass
class Burst:
    """A burst of X posts to the test's sandbox, judged from the sandbox's own record."""

    sandbox: SandboxServer
    control: SandboxClient

    def slow_creates(self, seconds: float) -> None:
        """Every X create answers `seconds` late, after the post exists: most of each request is then
        spent past the commit, where a kill or an outage leaves the outcome unknown."""
        self.control.fault("x", "slow", count=1_000_000, seconds=seconds)

    def schedule(
        self, accounts: SocialAccount | Sequence[SocialAccount], count: int, *, in_seconds: float = 2.0
    ) -> list[ScheduleEntry]:
        return schedule_burst(accounts, count, in_seconds=in_seconds)

    def held(self) -> int:
        """How many posts the sandbox holds (from its state: cheap enough to poll)."""
        with self.sandbox.state.lock:
            return len(self.sandbox.state.posts)

    def wait_held(self, count: int, *, timeout: float) -> None:
        wait_for(lambda: self.held() >= count, timeout=timeout, what=f"{count} posts on the sandbox")

    def settled(self, entries: list[ScheduleEntry], *, timeout: float) -> Outcome:
        """Waits for every entry to settle, then `assert_settled_on_sandbox`."""
        wait_settled(entries, timeout=timeout)
        return assert_settled_on_sandbox(entries, self.control)


@pytest.fixture
def burst(sandbox: SandboxServer, control: SandboxClient) -> Burst:
    return Burst(sandbox, control)


# -- a Redis server of our own, to kill and flush ---------------------------------------------------
class OwnRedis:
    """A throwaway Redis (no persistence) on a free port: never the shared one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def start(self) -> OwnRedis:
        self.popen = start_embedded_redis(self.port)
        return self

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(10)

    def restart(self, *, down_for: float = 1.0) -> None:
        self.kill()
        time.sleep(down_for)
        self.start()

    def stop(self) -> None:
        self.kill()


def use_broker(url: str) -> None:
    """Point this test process's Celery app at `url` (as tests/publishing/test_schedule.py does)."""
    pools.reset()
    current_app.conf["broker_url"] = url
    current_app._pool = None  # type: ignore[attr-defined]
    current_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def own_redis(settings: Settings) -> Iterator[OwnRedis]:
    server = OwnRedis().start()
    previous = current_app.conf.broker_url
    settings.REDIS_URL = server.url
    settings.CELERY_BROKER_URL = server.url
    use_broker(server.url)
    yield server
    use_broker(previous)
    server.stop()


# -- a PostgreSQL cluster of our own, to restart ----------------------------------------------------
def postgres_binary(name: str) -> str | None:
    """`initdb`, `pg_ctl`: Debian keeps them off PATH, under /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda path: int(path.split("/")[4]))
    return found[-1] if found else shutil.which(name)


class OwnPostgres:
    """A throwaway PostgreSQL cluster (no fsync) on a free port: never the shared server, which the
    test run itself and other people use. initdb refuses root, so as root it runs as `postgres`."""

    DATABASE = "sosocial_chaos"

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sosocial-chaos-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.DATABASE}"

    def _run(self, name: str, *args: str) -> None:
        binary = postgres_binary(name)
        assert binary, f"no {name} binary"
        command = [binary, *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> OwnPostgres:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                      "--locale", "C", "--no-sync")  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options, "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """`fast`: roll back and disconnect every session, as a restart for maintenance does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, *, down_for: float) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def create_database(self) -> None:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {self.DATABASE}")
        env = {**os.environ, "DATABASE_URL": self.url}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True, timeout=120
        )

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_postgres(transactional_db: None) -> Iterator[OwnPostgres]:
    """A migrated throwaway database, and this test process's default connection pointed at it
    (services and assertions use it; `process_env` then gives it to the workers and beat)."""
    if postgres_binary("initdb") is None or postgres_binary("pg_ctl") is None:
        assert os.environ.get("SOSOCIAL_REQUIRE_POSTGRES") != "1", "no PostgreSQL binaries (initdb, pg_ctl)"
        pytest.skip("needs PostgreSQL's initdb and pg_ctl")
    server = OwnPostgres().start()
    shared = connections["default"]
    try:
        server.create_database()
        shared.close()
        own = connections.configure_settings(
            {"default": database_config(server.url, settings.DATABASE_CONN_MAX_AGE)}
        )["default"]
        connections["default"] = load_backend(own["ENGINE"]).DatabaseWrapper(own, "default")
        try:
            yield server
        finally:
            connections["default"].close()
            connections["default"] = shared
    finally:
        server.destroy()


def sweep_every_second() -> None:
    """`fast_sweep` for a database set up after the test's own (`own_postgres`)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_EVERY_SECONDS, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="SoSocial safety net: sweep the schedule",
        defaults={"task": "publishing.sweep_schedule", "interval": every, "queue": "maintenance"},
    )
    PeriodicTasks.update_changed()
