"""On time: `--rate` posts due per second for `--seconds`, through the production worker layout
(the Procfile's publish and background processes, threads pool) to the sandbox, with durable
commits and the claim ahead of each date's time (`SOSOCIAL_CLAIM_AHEAD_MS`).

Posts are scheduled ahead with `services.schedule_post` (so each message carries its eta), then
lateness is the sandbox's receive time of the X create call minus the entry's scheduled time.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from bench import common, pipeline
from bench.rush import production_layout
from bench.sandbox import sandbox

PREFIX = "ontime"


def run(args: argparse.Namespace) -> None:
    from django.conf import settings

    from publishing import services

    total = args.rate * args.seconds
    lines: list[str] = []
    common.truncate_tables()
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms) as harness:
        # This process validates posts with the X client too: point its settings at the sandbox.
        settings.SOSOCIAL_PLATFORMS["x"]["api_url"] = harness.env["X_API_URL"]
        posts = pipeline.make_posts(harness, total, PREFIX, accounts=max(10, total // 100))
        with production_layout(args, harness.env, publishers=1):
            # Leave time to schedule them all (about 10 ms each here) before the first is due.
            lead = 5 + total * 0.012
            first = datetime.now(UTC) + timedelta(seconds=lead)
            due: dict[str, datetime] = {}
            entry_ids: list[int] = []
            started = time.monotonic()
            for number, post in enumerate(posts):
                when = first + timedelta(seconds=number / args.rate)
                entry_ids += [entry.pk for entry in services.schedule_post(post=post, when=[when])]
                due[post.text] = when
            scheduling = time.monotonic() - started
            common.emit(
                lines,
                f"scheduled {total} posts with schedule_post in {scheduling:.1f} s "
                f"({total / scheduling:.0f}/s); the first is due {lead - scheduling:.1f} s later",
            )
            wait = (first - datetime.now(UTC)).total_seconds() + args.seconds + 60
            common.freeze_garbage_collector()
            harness.wait_for(PREFIX, total, timeout=wait, first_within=lead + 60)
            time.sleep(1)
            stats = pipeline.lateness_lines(
                lines, harness, due, label=f"SoSocial, {args.rate}/s for {args.seconds} s"
            )
            pipeline.breakdown_lines(lines, harness, entry_ids)
            common.emit(lines, f"entries: {pipeline.entry_outcomes(entry_ids)}")
    reference = timed_loop(args, lines)
    common.emit(
        lines,
        f"Against the target (p99 <= 5 ms): SoSocial p99 {stats.get('p99', float('nan')) * 1000:.0f} ms, "
        f"the bare timed loop p99 {reference.get('p99', float('nan')) * 1000:.0f} ms",
    )
    common.write_section(
        "ontime",
        "2. On time",
        {
            "rate": f"{args.rate}/s",
            "seconds": args.seconds,
            "posts": total,
            "workers": f"Procfile layout: worker_publish --pool threads --concurrency {args.concurrency}, "
            "worker_background --pool threads --concurrency 8",
            "claim ahead": f"{settings.SOSOCIAL_CLAIM_AHEAD_MS:g} ms",
            "commits": "durable (synchronous_commit as the server has it)",
            "sandbox latency": f"{args.latency_ms} ms",
            "sandbox rate_limits and duplicate check": "off",
            "X accounts": max(10, total // 100),
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()


def timed_loop(args: argparse.Namespace, lines: list[str]) -> dict[str, float]:
    """The reference: the same calls at the same times with nothing around them (threads that sleep
    until each time, then POST with a kept session), against the same sandbox set-up."""
    import requests

    prefix = "timed"
    total = args.rate * args.seconds
    with sandbox(args.latency_ms) as harness:
        accounts = harness.create_x_accounts(max(10, total // 100), prefix)
        local = threading.local()
        first = datetime.now(UTC) + timedelta(seconds=3)
        due = {f"{prefix} {n}": first + timedelta(seconds=n / args.rate) for n in range(total)}

        def call(number: int) -> None:
            session: requests.Session | None = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            text = f"{prefix} {number}"
            wait = due[text].timestamp() - time.time()
            if wait > 0:
                time.sleep(wait)
            account = accounts[number % len(accounts)]
            session.post(
                harness.tweets_url,
                json={"text": text},
                headers={"Authorization": f"Bearer {account['access_token']}"},
                timeout=30,
            ).raise_for_status()

        common.freeze_garbage_collector()
        # As many in flight as the publish process has threads; each waits for its time.
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(call, range(total)))
        harness.wait_for(prefix, total, timeout=30, first_within=30)
        return pipeline.lateness_lines(lines, harness, due, label="Bare timed loop (reference)")
