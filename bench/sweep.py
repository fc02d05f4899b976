"""Sweep scale: `sweep.sweep_schedule()` with 10,000 and with 1,000,000 entries in the table.

Rows are bulk-inserted with `INSERT ... SELECT generate_series` (mostly final or far-future rows,
plus a fixed number of actionable ones), then the sweep is timed idle (nothing to do) and with the
same fixed amount of work, and its SELECTs are shown under EXPLAIN (ANALYZE, BUFFERS).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any

from bench import common

# Every column is named: Django keeps its defaults in Python, so a NOT NULL column added by a
# migration must be given here (the reconciliation checks' and the media preparation's).
#
# Per 1000 rows: 600 final in the past, 399 pending in the future (beyond the horizon), and the
# fixed-size actionable set below is added on top whatever the table size.
INSERT_SQL = """
INSERT INTO publishing_scheduleentry (
    post_id, scheduled_at, status, attempts, next_attempt_at, dispatch_version, dispatched_at,
    lease_until, platform_post_id, platform_url, published_at, platform_state, last_error_code,
    last_error_message, reconciled_at, created_at, updated_at, checks, claimed_by, media_status,
    prep_attempts, prep_error)
SELECT
    %(first_post)s + (g %% %(posts)s),
    t.at, t.status, CASE WHEN t.status = 'pending' THEN 0 ELSE 1 END, t.at, 0,
    CASE WHEN t.status = 'pending' THEN NULL ELSE t.at END,
    NULL, '', '', CASE WHEN t.status = 'published' THEN t.at END, '{}'::jsonb, '', '', NULL,
    now(), now(), 0, '', '', 0, ''
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (
    SELECT
        CASE WHEN g %% 10 < 6 THEN now() - (g %% 525600) * interval '1 minute'
             ELSE now() + interval '1 hour' + (g %% 525600) * interval '1 minute' END AS at,
        CASE WHEN g %% 10 < 4 THEN 'published' WHEN g %% 10 = 4 THEN 'failed'
             WHEN g %% 10 = 5 THEN 'cancelled' ELSE 'pending' END AS status
) AS t
"""

# The fixed work: entries inside the horizon with no message yet (step 1 of the sweep), each at its
# own instant (one live date per post and instant).
ACTIONABLE_SQL = """
INSERT INTO publishing_scheduleentry (
    post_id, scheduled_at, status, attempts, next_attempt_at, dispatch_version, dispatched_at,
    lease_until, platform_post_id, platform_url, published_at, platform_state, last_error_code,
    last_error_message, reconciled_at, created_at, updated_at, checks, claimed_by, media_status,
    prep_attempts, prep_error)
SELECT %(first_post)s + (g %% %(posts)s), t.at, 'pending', 0, t.at, 0,
       NULL, NULL, '', '', NULL, '{}'::jsonb, '', '', NULL, now(), now(), 0, '', '', 0, ''
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (SELECT now() + interval '5 minutes' + g * interval '1 millisecond' AS at) AS t
RETURNING id
"""

# A busy instance's next hour: text dates (posts without media) due within the preparation lead,
# spread over 1-59 minutes from now, their publish messages already sent (`dispatched_at`), so
# steps 1 and 2 leave them alone and what they cost is step 5's (media prepared ahead).
LEAD_TEXT_SQL = """
INSERT INTO publishing_scheduleentry (
    post_id, scheduled_at, status, attempts, next_attempt_at, dispatch_version, dispatched_at,
    lease_until, platform_post_id, platform_url, published_at, platform_state, last_error_code,
    last_error_message, reconciled_at, created_at, updated_at, checks, claimed_by, media_status,
    prep_attempts, prep_error)
SELECT %(first_post)s + (g %% %(posts)s), t.at, 'pending', 0, t.at, 0, now(),
       NULL, '', '', NULL, '{}'::jsonb, '', '', NULL, now(), now(), 0, '', '', 0, ''
FROM generate_series(1, %(count)s) AS g
CROSS JOIN LATERAL (
    SELECT now() + interval '1 minute' + (g * 3480.0 / %(count)s) * interval '1 second' AS at
) AS t
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
        cursor.execute(ACTIONABLE_SQL, {"first_post": first, "posts": len(posts), "count": actionable})
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


def captured_sweep(*, keep: bool = True) -> tuple[float, Any, list[dict[str, str]]]:
    """One sweep: its time, its report and the statements it sent (`sql`, `time` in seconds);
    rolled back unless `keep`."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from publishing import sweep

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        report = sweep.sweep_schedule()
        seconds = time.perf_counter() - started
        transaction.set_rollback(not keep)
    common.flush_redis()
    return seconds, report, list(captured.captured_queries)


def explain(queries: list[dict[str, str]], *, only: str = "", kinds: tuple[str, ...] = ("SELECT",)) -> str:
    """EXPLAIN (ANALYZE) each distinct statement on the entries among `queries` that starts with
    one of `kinds` (and contains `only`), each in a transaction rolled back."""
    from django.db import connection, transaction

    plans: list[str] = []
    seen: set[str] = set()
    for query in queries:
        sql = query["sql"]
        if not sql.startswith(kinds) or "publishing_scheduleentry" not in sql or only not in sql:
            continue
        key = re.sub(r"'[^']*'::timestamptz", "", sql)  # the same statement at another instant
        if key in seen:
            continue
        seen.add(key)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        plans.append(f"{sql}\n{plan}")
    return "\n\n".join(plans)


def scans(plans: str) -> str:
    """How the plans read the entries: every index named, and whether any table is read in full."""
    used = sorted(set(re.findall(r"Index (?:Only )?Scan using (\w+) on publishing_scheduleentry", plans)))
    sequential = "Seq Scan on publishing_scheduleentry" in plans
    return f"entry indexes used: {', '.join(used) or 'none'}; sequential scan of the entries: {sequential}"


def shorten(sql: str) -> str:
    """A statement's kind and its WHERE clause, without the column list."""
    kind, _, rest = sql.partition(" ")
    where = rest.split(" WHERE ", 1)[1] if " WHERE " in rest else rest
    where = where.replace('"publishing_scheduleentry".', "")
    return f"{kind} ... WHERE {where[:200]}"


# What step 5 (media prepared ahead) reads: waiting dates with no prepare message pending.
STEP_5 = '"prep_sent_at" IS NULL'
SELECT_AND_UPDATE = ("SELECT", "UPDATE")


def lead_case(count: int, repeat: int, lines: list[str]) -> str:
    """`count` text dates inside the preparation lead, added to the table as the sizes left it: the
    first sweep after they entered the lead, then `repeat` sweeps after it, with step 5's EXPLAIN."""
    from django.db import connection, transaction

    from publishing.models import Post

    first = Post.objects.order_by("pk").values_list("pk", flat=True)[0]
    posts = Post.objects.count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LEAD_TEXT_SQL, {"first_post": first, "posts": posts, "count": count})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE publishing_scheduleentry")
    _, _, queries = captured_sweep(keep=False)
    before = explain(queries, only=STEP_5, kinds=SELECT_AND_UPDATE)
    seconds, report, queries = captured_sweep()
    common.emit(
        lines,
        f"+ {count:,} text dates due within the next hour (inside the preparation lead, their "
        f"messages sent): first sweep after they entered the lead {seconds * 1000:.1f} ms, "
        f"{len(queries)} queries, report={report}",
    )
    times: list[float] = []
    counts: set[int] = set()
    for _ in range(repeat):
        seconds, report, queries = captured_sweep()
        times.append(seconds)
        counts.add(len(queries))
    common.emit(
        lines,
        f"  each sweep after it: median={statistics.median(times) * 1000:.2f} ms (min "
        f"{min(times) * 1000:.2f}, max {max(times) * 1000:.2f}) over {repeat}, queries per sweep "
        f"{sorted(counts)}, report={report}",
    )
    after = explain(queries, only=STEP_5, kinds=SELECT_AND_UPDATE)
    slowest = sorted(queries, key=lambda query: -float(query["time"]))[:3]
    common.emit(lines, "  slowest statements of the last sweep:")
    for query in slowest:
        common.emit(lines, f"    {float(query['time']) * 1000:6.2f} ms  {shorten(query['sql'])}")
    common.emit(lines, f"  step 5 before the first sweep: {scans(before)}")
    common.emit(lines, f"  step 5 after it: {scans(after)}")
    return (
        f"Step 5's statements with {count:,} text dates inside the lead, before the first sweep looked at "
        f"them:\n\n```\n{before}\n```\n\nand at the sweeps after it:\n\n```\n{after}\n```\n"
    )


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
            reset_actionable(ids)
            _, _, queries = captured_sweep()
            plans = explain(queries)
    small, large = min(sizes), max(sizes)
    if small != large:
        for label, index in (("idle", 0), (f"dispatching {args.actionable}", 1)):
            ratio = medians[large][index] / medians[small][index]
            common.emit(lines, f"ratio {large:,}/{small:,} ({label}): {ratio:.2f}  (target <= 1.5)")
    common.emit(lines, f"EXPLAIN of every sweep SELECT at {large:,} rows: {scans(plans)}")
    lead = lead_case(args.lead_text, args.repeat, lines) if args.lead_text else ""
    print(plans)
    print(lead)
    body = "```\n" + "\n".join(lines) + "\n```\n\nEXPLAIN (ANALYZE, BUFFERS) of the sweep's SELECTs at "
    body += f"{large:,} rows:\n\n```\n{plans}\n```\n"
    if lead:
        body += "\n" + lead
    common.write_section(
        "sweep",
        "1. Sweep scale",
        {
            "sizes": args.sizes,
            "actionable rows": args.actionable,
            "repeat": args.repeat,
            "mix": "60% final (past), 40% pending beyond the horizon (up to 1 year ahead)",
            "text dates inside the lead": f"{args.lead_text:,} (added at {large:,} rows)",
        },
        body,
    )
    common.truncate_tables()
