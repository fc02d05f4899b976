"""Sweep scale: `sweep.sweep_schedule()` with 10,000 and with 1,000,000 entries in the table.

Rows are bulk-inserted with `INSERT ... SELECT generate_series` (mostly final or far-future rows,
plus a fixed number of actionable ones), then the sweep is timed idle (nothing to do) and with the
same fixed amount of work, and its SELECTs are shown under EXPLAIN (ANALYZE, BUFFERS).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench import common

# Per 1000 rows: 600 final in the past, 399 pending in the future (beyond the horizon), and the
# fixed-size actionable set below is added on top whatever the table size.
INSERT_SQL = """
INSERT INTO publishing_scheduleentry (
    post_id, scheduled_at, status, attempts, next_attempt_at, dispatch_version, dispatched_at,
    lease_until, platform_post_id, platform_url, published_at, platform_state, last_error_code,
    last_error_message, reconciled_at, created_at, updated_at)
SELECT
    %(first_post)s + (g %% %(posts)s),
    t.at, t.status, CASE WHEN t.status = 'pending' THEN 0 ELSE 1 END, t.at, 0,
    CASE WHEN t.status = 'pending' THEN NULL ELSE t.at END,
    NULL, '', '', CASE WHEN t.status = 'published' THEN t.at END, '{}'::jsonb, '', '', NULL,
    now(), now()
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN g %% 10 < 6 THEN now() - (g %% 525600) * interval '1 minute'
             ELSE now() + interval '1 hour' + (g %% 525600) * interval '1 minute' END AS at,
        CASE WHEN g %% 10 < 4 THEN 'published' WHEN g %% 10 = 4 THEN 'failed'
             WHEN g %% 10 = 5 THEN 'cancelled' ELSE 'pending' END AS status
) AS t
"""

# The fixed work: entries inside the horizon with no message yet (step 1 of the sweep).
ACTIONABLE_SQL = """
INSERT INTO publishing_scheduleentry (
    post_id, scheduled_at, status, attempts, next_attempt_at, dispatch_version, dispatched_at,
    lease_until, platform_post_id, platform_url, published_at, platform_state, last_error_code,
    last_error_message, reconciled_at, created_at, updated_at)
SELECT %(first_post)s, now() + interval '5 minutes', 'pending', 0, now() + interval '5 minutes', 0,
       NULL, NULL, '', '', NULL, '{}'::jsonb, '', '', NULL, now(), now()
FROM generate_series(1, %(count)s)
RETURNING id
"""


def setup_rows(total: int, actionable: int) -> tuple[int, list[int]]:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from platforms.models import SocialAccount
    from publishing.models import Post

    common.truncate_tables()
    owner, _ = User.objects.get_or_create(username="bench")
    account = SocialAccount.objects.create(
        owner=owner,
        platform="x",
        platform_account_id="bench",
        display_name="@bench",
        access_token="bench-token",  # noqa: S106
    )
    posts = Post.objects.bulk_create(
        [Post(owner=owner, account=account, text=f"bench {i}") for i in range(1000)], batch_size=1000
    )
    first = min(post.pk for post in posts)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(INSERT_SQL, {"first_post": first, "posts": len(posts), "count": total - actionable})
        cursor.execute(ACTIONABLE_SQL, {"first_post": first, "count": actionable})
        ids = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE publishing_scheduleentry")
    return round(time.perf_counter() - started), ids


def reset_actionable(ids: list[int]) -> None:
    from publishing.models import ScheduleEntry

    ScheduleEntry.objects.filter(pk__in=ids).update(dispatched_at=None)


def time_sweeps(repeat: int, ids: list[int]) -> tuple[list[float], list[float], Any]:
    from publishing import sweep

    idle: list[float] = []
    busy: list[float] = []
    report = None
    sweep.sweep_schedule()  # warm-up: connection, plan cache
    reset_actionable(ids)
    sweep.sweep_schedule()
    common.flush_redis()
    for _ in range(repeat):
        reset_actionable(ids)
        started = time.perf_counter()
        report = sweep.sweep_schedule()
        busy.append(time.perf_counter() - started)
        started = time.perf_counter()
        sweep.sweep_schedule()
        idle.append(time.perf_counter() - started)
        common.flush_redis()
    return idle, busy, report


def explain(ids: list[int]) -> str:
    """EXPLAIN the exact SELECTs one sweep (with work to do) sends."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from publishing import sweep

    reset_actionable(ids)
    with CaptureQueriesContext(connection) as captured:
        sweep.sweep_schedule()
    common.flush_redis()
    plans: list[str] = []
    seen: set[str] = set()
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.startswith("SELECT") or "publishing_scheduleentry" not in sql:
            continue
        shape = sql.split(" WHERE ")[1] if " WHERE " in sql else sql
        key = shape[:120]
        if key in seen:
            continue
        seen.add(key)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        plans.append(f"{sql}\n{plan}")
    return "\n\n".join(plans)


def run(args: argparse.Namespace) -> None:
    sizes = [int(size) for size in args.sizes.split(",")]
    lines: list[str] = []
    medians: dict[int, tuple[float, float]] = {}
    plans = ""
    for size in sizes:
        seconds, ids = setup_rows(size, args.actionable)
        idle, busy, report = time_sweeps(args.repeat, ids)
        medians[size] = (statistics.median(idle), statistics.median(busy))
        common.emit(
            lines,
            f"rows={size:>9,}  insert+analyze={seconds:>4} s  "
            f"idle sweep median={medians[size][0] * 1000:7.2f} ms (min {min(idle) * 1000:.2f}, "
            f"max {max(idle) * 1000:.2f})  sweep dispatching {args.actionable}: median="
            f"{medians[size][1] * 1000:7.2f} ms (min {min(busy) * 1000:.2f}, max {max(busy) * 1000:.2f})"
            f"  last report={report}",
        )
        if size == max(sizes):
            plans = explain(ids)
    small, large = min(sizes), max(sizes)
    if small != large:
        for label, index in (("idle", 0), (f"dispatching {args.actionable}", 1)):
            ratio = medians[large][index] / medians[small][index]
            common.emit(lines, f"ratio {large:,}/{small:,} ({label}): {ratio:.2f}  (target <= 1.5)")
    uses_index = "entry_waiting_due_idx" in plans
    common.emit(lines, f"EXPLAIN at {large:,} rows uses entry_waiting_due_idx: {uses_index}")
    print(plans)
    body = "```\n" + "\n".join(lines) + "\n```\n\nEXPLAIN (ANALYZE, BUFFERS) of the sweep's SELECTs at "
    body += f"{large:,} rows:\n\n```\n{plans}\n```\n"
    common.write_section(
        "sweep",
        "1. Sweep scale",
        {
            "sizes": args.sizes,
            "actionable rows": args.actionable,
            "repeat": args.repeat,
            "mix": "60% final (past), 40% pending beyond the horizon (up to 1 year ahead)",
        },
        body,
    )
    common.truncate_tables()
