"""On time: `--rate` posts due per second for `--seconds`, through real workers to the sandbox.

Posts are scheduled ahead with `services.schedule_post` (so each message carries its eta), then
lateness is the sandbox's receive time of the X create call minus the entry's scheduled time.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bench import common, pipeline
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
        with common.worker(pool=args.pool, concurrency=args.concurrency, env=harness.env, name="ontime"):
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
            pipeline.lateness_lines(lines, harness, due, label=f"{args.rate}/s for {args.seconds} s")
            pipeline.breakdown_lines(lines, harness, entry_ids)
            common.emit(lines, f"entries: {pipeline.entry_outcomes(entry_ids)}")
    common.write_section(
        "ontime",
        "2. On time",
        {
            "rate": f"{args.rate}/s",
            "seconds": args.seconds,
            "posts": total,
            "worker": f"--pool {args.pool} --concurrency {args.concurrency}",
            "sandbox latency": f"{args.latency_ms} ms",
            "sandbox rate_limits and duplicate check": "off",
            "X accounts": max(10, total // 100),
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()
