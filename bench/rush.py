"""Rush: N text posts, half on X and half on Facebook Pages, due in the same second, against the
sandbox's realistic profile (300 ms median, long tail), through the production worker layout
(Procfile: `worker_publish` with threads, `worker_background`); the reference is a bare loop holding
the same calls in flight on the same sandbox. Scale-out: the same rush with two publish processes.

Targets (issue 11): drained at >= 0.8 of the bare loop, p99 lateness <= 5 s, worker CPU per post
<= 5 ms (Celery included).
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from bench import common, pipeline
from bench.sandbox import Harness, sandbox

PLATFORMS = ("x", "facebook")
PROFILE = "realistic"


def make_posts(harness: Harness, count: int, prefix: str) -> list[Any]:
    """`count` Posts, alternating X and Facebook, over enough accounts of each."""
    from django.contrib.auth.models import User

    from platforms.models import SocialAccount
    from publishing.models import Post

    owner, _ = User.objects.get_or_create(username="bench")
    per_platform = max(5, count // 200)
    accounts = {
        platform: [
            SocialAccount.objects.create(
                owner=owner,
                platform=platform,
                platform_account_id=made["account_id"],
                display_name=made["display_name"],
                access_token=made["access_token"],
                refresh_token=made.get("refresh_token") or "",
            )
            for made in harness.create_accounts(platform, per_platform, f"{prefix}{platform}")
        ]
        for platform in PLATFORMS
    }
    return Post.objects.bulk_create(
        [
            Post(
                owner=owner,
                account=accounts[PLATFORMS[number % 2]][(number // 2) % per_platform],
                text=f"{prefix} {number}",
            )
            for number in range(count)
        ],
        batch_size=2000,
    )


def due_within_a_second(posts: list[Any], first_due: datetime) -> tuple[dict[str, datetime], list[Any]]:
    """One date per post, spread over the second from `first_due`, as "everyone posts at nine" does:
    each post's due time by its text, and the entries."""
    from publishing.models import ScheduleEntry

    due = {post.text: first_due + timedelta(seconds=n / len(posts)) for n, post in enumerate(posts)}
    now = datetime.now(UTC)
    entries = ScheduleEntry.objects.bulk_create(
        [
            ScheduleEntry(
                post=post, scheduled_at=due[post.text], next_attempt_at=due[post.text], created_at=now
            )
            for post in posts
        ],
        batch_size=2000,
    )
    return due, entries


@contextmanager
def production_layout(args: argparse.Namespace, env: dict[str, str], publishers: int) -> Iterator[list[int]]:
    """The Procfile's workers: `publishers` publish processes and one background process."""
    with ExitStack() as stack:
        pids = [
            stack.enter_context(
                common.worker(
                    queues="publish",
                    pool="threads",
                    concurrency=args.concurrency,
                    env=env,
                    name=f"publish{n + 1}",
                )
            ).popen.pid
            for n in range(publishers)
        ]
        stack.enter_context(
            common.worker(
                queues="prepare,maintenance", pool="threads", concurrency=8, env=env, name="background"
            )
        )
        yield pids


def worker_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        used = common.cpu_seconds(pid)
        total += used["worker main"] + used["worker pool"]
    return total


def sosocial_rush(args: argparse.Namespace, lines: list[str], publishers: int) -> dict[str, float]:
    from publishing import sweep as safety_net

    prefix = f"rush{publishers}"
    label = (
        f"SoSocial, {publishers} publish process{'es' if publishers > 1 else ''} x {args.concurrency} threads"
    )
    common.truncate_tables()
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms, profile=PROFILE, platforms=PLATFORMS) as harness:
        posts = make_posts(harness, args.posts, prefix)
        with production_layout(args, harness.env, publishers) as pids:
            lead = 5 + args.posts * 0.002
            first_due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead + 1)
            due, entries = due_within_a_second(posts, first_due)
            report = safety_net.sweep_schedule()
            common.emit(lines, f"{label}: the sweep sent {report.dispatched} messages; all due within 1 s")
            common.freeze_garbage_collector()
            cpu_before = worker_cpu(pids)
            harness.wait_for(prefix, args.posts, timeout=lead + 120 + args.posts / 10, first_within=lead + 60)
            cpu = (worker_cpu(pids) - cpu_before) * 1000 / args.posts
            stats = pipeline.lateness_lines(lines, harness, due, label=label)
            common.emit(lines, f"{label}: publish workers' CPU per post {cpu:.2f} ms (Celery included)")
            common.emit(lines, f"{label}: entries {pipeline.entry_outcomes([e.pk for e in entries])}")
            pipeline.breakdown_lines(lines, harness, [e.pk for e in entries])
    return {**stats, "cpu": cpu}


def bare_loop(args: argparse.Namespace, lines: list[str]) -> dict[str, float]:
    """The same calls with nothing around them: `concurrency` threads, each its own session."""
    prefix = "bare"
    with sandbox(args.latency_ms, profile=PROFILE, platforms=PLATFORMS) as harness:
        accounts = {
            platform: harness.create_accounts(platform, max(5, args.posts // 200), f"{prefix}{platform}")
            for platform in PLATFORMS
        }
        graph = f"{harness.server.base_urls()['FACEBOOK_GRAPH_URL']}/v25.0"
        local = threading.local()

        def call(number: int) -> None:
            session: requests.Session | None = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            platform = PLATFORMS[number % 2]
            account = accounts[platform][(number // 2) % len(accounts[platform])]
            text = f"{prefix} {number}"
            if platform == "x":
                response = session.post(
                    harness.tweets_url,
                    json={"text": text},
                    headers={"Authorization": f"Bearer {account['access_token']}"},
                    timeout=30,
                )
            else:
                response = session.post(
                    f"{graph}/{account['account_id']}/feed",
                    data={"message": text, "access_token": account["access_token"]},
                    timeout=30,
                )
            response.raise_for_status()

        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(call, range(args.posts)))
        wall = time.monotonic() - started
        arrived = harness.count(prefix)
        rate = args.posts / wall
        common.emit(
            lines,
            f"Bare loop, {args.concurrency} calls in flight: {arrived}/{args.posts} in {wall:.2f} s = "
            f"{rate:.1f} calls/s",
        )
    return {"rate": rate}


def rate_of(stats: dict[str, float]) -> float:
    return stats["arrived"] / stats["span"] if stats.get("span") else 0.0


def run(args: argparse.Namespace) -> None:
    lines: list[str] = []
    one = sosocial_rush(args, lines, publishers=1)
    two = sosocial_rush(args, lines, publishers=2) if not args.skip_scale_out else {}
    loop = bare_loop(args, lines)
    common.emit(lines, "")
    common.emit(lines, "Against the targets:")
    for name, stats in (("1 publish process", one), ("2 publish processes", two)):
        if not stats:
            continue
        share = rate_of(stats) / loop["rate"]
        common.emit(
            lines,
            f"- {name}: {rate_of(stats):.1f} posts/s = {share:.2f} of the bare loop (target >= 0.8), "
            f"p99 lateness {stats.get('p99', float('nan')):.2f} s (target <= 5 s), worker CPU per post "
            f"{stats['cpu']:.2f} ms (target <= 5 ms)",
        )
    common.write_section(
        "rush",
        "Rush (1 vs 2 publish processes, against a bare loop)",
        {
            "posts": f"{args.posts} (half X, half Facebook), due within one second",
            "workers": f"Procfile layout: worker_publish --pool threads --concurrency {args.concurrency}, "
            "worker_background --pool threads --concurrency 8",
            "sandbox": f"--profile {PROFILE}, write median {args.latency_ms or 300} ms; rate limits and "
            "X duplicate check off",
            "database": common.connection_settings(),
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()
