"""Memory: worker RSS idle, with many future entries (beyond the horizon), and with many near ones.

SoSocial only sends a message for an entry within the horizon (10 min), so entries further out
must not grow the worker; entries inside the horizon are held by the worker as ETA messages. The
worker runs the threads pool, as the settings pin it (one process, threads like the Procfile's
publish process), so its RSS is the main process's.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bench import common


def rss_mib(pid: int) -> tuple[float, float]:
    """(main process, main + children) resident set size in MiB."""
    import psutil  # type: ignore[import-untyped]  # no stubs in requirements.txt

    main = psutil.Process(pid)
    total = main.memory_info().rss
    for child in main.children(recursive=True):
        total += child.memory_info().rss
    return main.memory_info().rss / 2**20, total / 2**20


def insert_entries(count: int, when: datetime) -> None:
    from django.contrib.auth.models import User

    from platforms.models import SocialAccount
    from publishing.models import Post, ScheduleEntry

    owner, _ = User.objects.get_or_create(username="bench")
    account, _ = SocialAccount.objects.get_or_create(
        owner=owner, platform="x", platform_account_id="bench-memory", defaults={"display_name": "@m"}
    )
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        posts = Post.objects.bulk_create(
            [Post(owner=owner, account=account, text=f"memory {start + n}") for n in range(size)]
        )
        ScheduleEntry.objects.bulk_create(
            [
                ScheduleEntry(post=post, scheduled_at=when + timedelta(seconds=n), next_attempt_at=when)
                for n, post in enumerate(posts)
            ]
        )


def queue_length() -> int:
    return int(common.redis_client().llen("publish"))


def run(args: argparse.Namespace) -> None:
    from publishing import sweep

    lines: list[str] = []
    common.truncate_tables()
    common.flush_redis()

    def measure(label: str) -> None:
        time.sleep(3)
        main, total = rss_mib(process.popen.pid)
        common.emit(lines, f"{label:<58} worker RSS main={main:6.1f} MiB  main+children={total:6.1f} MiB")

    with common.worker(pool="threads", concurrency=args.concurrency, name="memory") as process:
        measure("idle")
        insert_entries(args.future, datetime.now(UTC) + timedelta(days=1))
        report = sweep.sweep_schedule()
        common.emit(
            lines, f"{args.future} entries due in 1 day inserted; sweep dispatched {report.dispatched}"
        )
        measure(f"with {args.future} entries beyond the horizon")
        insert_entries(args.near, datetime.now(UTC) + timedelta(minutes=9))
        report = sweep.sweep_schedule()
        common.wait_for(lambda: queue_length() == 0, timeout=120, what="the worker to take the ETA messages")
        common.emit(lines, f"{args.near} entries due in 9 min inserted; sweep dispatched {report.dispatched}")
        measure(f"+ {args.near} ETA messages held (inside the horizon)")
    common.flush_redis()
    common.write_section(
        "memory",
        "4. Memory",
        {
            "future entries": args.future,
            "near entries": args.near,
            "worker": f"one process on every queue, --pool threads --concurrency {args.concurrency}",
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()
