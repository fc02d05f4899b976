"""Surfaces: the Posts page (`/`) and `GET /api/posts/` with many posts, in this process.

Django's test Client with `CaptureQueriesContext`, at each of `--sizes`: response time (median of
`--repeat`) and the number of SQL queries per request, which must not grow with the size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench import common


def make_posts(count: int) -> object:
    from django.contrib.auth.models import User

    from platforms.models import SocialAccount
    from publishing.models import Post, ScheduleEntry

    owner, _ = User.objects.get_or_create(username="bench")
    account = SocialAccount.objects.create(
        owner=owner, platform="x", platform_account_id="bench-surfaces", display_name="@bench"
    )
    base = datetime.now(UTC)
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        posts = Post.objects.bulk_create(
            [Post(owner=owner, account=account, text=f"surface post {start + n}") for n in range(size)]
        )
        ScheduleEntry.objects.bulk_create(
            [
                ScheduleEntry(
                    post=post,
                    scheduled_at=base + timedelta(minutes=start + n),
                    next_attempt_at=base + timedelta(minutes=start + n),
                )
                for n, post in enumerate(posts)
            ]
        )
    return owner


def run(args: argparse.Namespace) -> None:
    lines: list[str] = []
    sizes = [int(size) for size in args.sizes.split(",")]
    for size in sizes:
        measure(size, args.repeat, lines)
    common.write_section(
        "surfaces",
        "5. Surfaces",
        {
            "posts": args.sizes,
            "repeat": args.repeat,
            "client": "django.test.Client, in process, DEBUG as configured",
        },
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()


def measure(size: int, repeat: int, lines: list[str]) -> None:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    common.truncate_tables()
    started = time.monotonic()
    owner = make_posts(size)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publishing_post; ANALYZE publishing_scheduleentry")
    common.emit(
        lines,
        f"{size:,} posts (one date each) for one user created in {time.monotonic() - started:.1f} s",
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)  # type: ignore[arg-type]
    for path in ("/", "/api/posts/"):
        times: list[float] = []
        queries = 0
        status = 0
        size_bytes = 0
        for _ in range(repeat):
            # DEBUG keeps the last 9,000 queries; once full, CaptureQueriesContext counts none.
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                begun = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - begun)
            status, queries, size_bytes = (
                response.status_code,
                len(captured.captured_queries),
                len(response.content),
            )
        common.emit(
            lines,
            f"  {size:,} posts, GET {path}: HTTP {status}, median {statistics.median(times) * 1000:.1f} ms "
            f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}) over {len(times)}, "
            f"{queries} SQL queries, {size_bytes / 1024:.0f} KiB",
        )
