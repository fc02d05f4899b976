"""Burst: N posts due at the same second; time to drain, against two baselines on the same sandbox.

(a) a bare loop of the same HTTP call (threads, the same concurrency as the worker);
(b) a naive Celery task making the same call with no bookkeeping (`bench/naive.py`).
SoSocial's entries are bulk-created and sent by `sweep_schedule()` (each with eta = T).
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests

from bench import common, pipeline
from bench.sandbox import sandbox


def sosocial_burst(args: argparse.Namespace, lines: list[str]) -> dict[str, float]:
    from publishing import sweep as safety_net
    from publishing.models import ScheduleEntry

    prefix = "burst"
    common.truncate_tables()
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms) as harness:
        posts = pipeline.make_posts(harness, args.posts, prefix, accounts=max(10, args.posts // 100))
        with common.worker(
            pool=args.pool, concurrency=args.concurrency, env=harness.env, name="burst"
        ) as process:
            lead = 5 + args.posts * 0.0015
            due_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead + 1)
            now = datetime.now(UTC)
            entries = ScheduleEntry.objects.bulk_create(
                [
                    ScheduleEntry(post=post, scheduled_at=due_at, next_attempt_at=due_at, created_at=now)
                    for post in posts
                ],
                batch_size=2000,
            )
            started = time.monotonic()
            report = safety_net.sweep_schedule()
            sweep = time.monotonic() - started
            common.emit(
                lines,
                f"SoSocial: sweep_schedule() sent {report.dispatched} messages in {sweep:.2f} s "
                f"({report.dispatched / sweep:.0f}/s); all due at {due_at:%H:%M:%S} UTC, "
                f"{(due_at - datetime.now(UTC)).total_seconds():.1f} s after the sweep ended",
            )
            common.freeze_garbage_collector()
            cpu_before = common.cpu_seconds(process.popen.pid)
            harness.wait_for(prefix, args.posts, timeout=lead + 120 + args.posts / 10, first_within=lead + 60)
            common.emit(
                lines,
                common.cpu_line("SoSocial", cpu_before, common.cpu_seconds(process.popen.pid), args.posts),
            )
            due = {post.text: due_at for post in posts}
            stats = pipeline.lateness_lines(lines, harness, due, label="SoSocial workers")
            common.emit(lines, f"SoSocial entries: {pipeline.entry_outcomes([e.pk for e in entries])}")
    return stats


def bare_loop(args: argparse.Namespace, lines: list[str]) -> None:
    prefix = "bare"
    with sandbox(args.latency_ms) as harness:
        accounts = harness.create_x_accounts(max(10, args.posts // 100), prefix)
        local = threading.local()

        def call(number: int) -> None:
            session: requests.Session | None = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            token = accounts[number % len(accounts)]["access_token"]
            session.post(
                harness.tweets_url,
                json={"text": f"{prefix} {number}"},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).raise_for_status()

        cpu_before = common.cpu_seconds(None)
        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(call, range(args.posts)))
        wall = time.monotonic() - started
        cpu_after = common.cpu_seconds(None)
        arrived = harness.count(prefix)
        common.emit(
            lines,
            f"(a) bare loop, {args.concurrency} threads: {arrived}/{args.posts} in {wall:.2f} s = "
            f"{args.posts / wall:.1f} calls/s",
        )
        common.emit(
            lines,
            common.cpu_line(
                "(a) bare loop (callers and sandbox in this process)", cpu_before, cpu_after, args.posts
            ),
        )


def naive_celery(args: argparse.Namespace, lines: list[str]) -> None:
    from bench.naive import naive_post

    prefix = "naive"
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms) as harness:
        accounts = harness.create_x_accounts(max(10, args.posts // 100), prefix)
        with common.worker(
            app="bench.naive",
            queues="bench_naive",
            pool=args.pool,
            concurrency=args.concurrency,
            env=harness.env,
            name="naive",
        ) as process:
            lead = 5 + args.posts * 0.001
            due_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead + 1)
            started = time.monotonic()
            for number in range(args.posts):
                token = accounts[number % len(accounts)]["access_token"]
                naive_post.apply_async(args=(harness.tweets_url, token, f"{prefix} {number}"), eta=due_at)
            common.emit(
                lines, f"(b) naive Celery: enqueued {args.posts} in {time.monotonic() - started:.2f} s"
            )
            common.freeze_garbage_collector()
            cpu_before = common.cpu_seconds(process.popen.pid)
            harness.wait_for(prefix, args.posts, timeout=lead + 120 + args.posts / 10, first_within=lead + 60)
            common.emit(
                lines,
                common.cpu_line(
                    "(b) naive Celery", cpu_before, common.cpu_seconds(process.popen.pid), args.posts
                ),
            )
            due = {f"{prefix} {number}": due_at for number in range(args.posts)}
            pipeline.lateness_lines(lines, harness, due, label="(b) naive Celery task")


def run(args: argparse.Namespace) -> None:
    lines: list[str] = []
    sosocial_burst(args, lines)
    if not args.skip_baselines:
        bare_loop(args, lines)
        naive_celery(args, lines)
    # A non-default pool or concurrency gets its own section, beside the default run's figures.
    variant = "" if (args.pool, args.concurrency) == ("prefork", 8) else f"-{args.pool}{args.concurrency}"
    if not common.keeps_connections():
        variant += "-new-connections"
    common.write_section(
        f"burst{variant}",
        "3. Burst" + (f" ({variant.lstrip('-')})" if variant else ""),
        {
            "posts": args.posts,
            "worker": f"--pool {args.pool} --concurrency {args.concurrency}",
            "sandbox latency": f"{args.latency_ms} ms",
            "sandbox rate_limits and duplicate check": "off",
            "X accounts": max(10, args.posts // 100),
            "worker database connections": common.connection_settings(),
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()
