"""Shared by `ontime` and `burst`: users, accounts and posts pointed at the sandbox, and the figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bench import common
from bench.sandbox import Harness


def make_posts(harness: Harness, count: int, prefix: str, accounts: int) -> list[Any]:
    """`count` unsaved-then-bulk-created Posts with unique texts, spread over sandbox X accounts."""
    from django.contrib.auth.models import User

    from platforms.models import SocialAccount
    from publishing.models import Post

    owner, _ = User.objects.get_or_create(username="bench")
    rows = [
        SocialAccount.objects.create(
            owner=owner,
            platform="x",
            platform_account_id=made["account_id"],
            display_name=made["display_name"],
            access_token=made["access_token"],
            refresh_token=made.get("refresh_token") or "",
        )
        for made in harness.create_x_accounts(accounts, prefix)
    ]
    return Post.objects.bulk_create(
        [
            Post(owner=owner, account=rows[number % len(rows)], text=f"{prefix} {number}")
            for number in range(count)
        ],
        batch_size=2000,
    )


def lateness_lines(
    lines: list[str], harness: Harness, due: dict[str, datetime], *, label: str
) -> dict[str, float]:
    """Sandbox receive time (before its latency) minus scheduled time, per post; percentiles and
    throughput."""
    late = [
        harness.received[text] - when.timestamp() for text, when in due.items() if text in harness.received
    ]
    missing = len(due) - len(late)
    twice = sum(1 for text in harness.duplicates if text in due)
    stats = common.percentiles(late)
    first_due = min(when.timestamp() for when in due.values())
    arrivals = sorted(harness.received[text] for text in due if text in harness.received)
    if not arrivals:
        common.emit(lines, f"{label}: nothing arrived ({missing} missing)")
        return {}
    span = arrivals[-1] - first_due
    common.emit(
        lines,
        f"{label}: {len(late)}/{len(due)} arrived, missing {missing}, published twice {twice}; "
        "lateness (sandbox receive - "
        f"scheduled) p50={stats['p50'] * 1000:.0f} ms p95={stats['p95'] * 1000:.0f} ms "
        f"p99={stats['p99'] * 1000:.0f} ms max={stats['max'] * 1000:.0f} ms "
        f"mean={stats['mean'] * 1000:.0f} ms; first due -> last received {span:.2f} s = "
        f"{len(late) / span if span > 0 else float('nan'):.1f} posts/s",
    )
    return {**stats, "span": span, "arrived": len(late)}


def entry_outcomes(entry_ids: Sequence[int]) -> str:
    from django.db.models import Count

    from publishing.models import ScheduleEntry

    counts = (
        ScheduleEntry.objects.filter(pk__in=entry_ids).values("status").annotate(n=Count("id")).order_by()
    )
    return ", ".join(f"{row['status']}={row['n']}" for row in counts)


def breakdown_lines(lines: list[str], harness: Harness, entry_ids: Sequence[int]) -> None:
    """Where the lateness goes: due -> the task starts (timer, pool, first SELECT), then the task
    starts -> the platform call arrives (claim, checkpoint, building the request)."""
    from publishing.models import PublishAttempt

    to_start: list[float] = []
    in_task: list[float] = []
    late: list[tuple[float, float, float, float]] = []  # (lateness, due, to start, in task)
    rows = PublishAttempt.objects.filter(entry_id__in=entry_ids, number=1).values_list(
        "started_at", "entry__scheduled_at", "entry__post__text"
    )
    for started_at, scheduled_at, text in rows:
        to_start.append((started_at - scheduled_at).total_seconds())
        if text in harness.received:
            in_task.append(harness.received[text] - started_at.timestamp())
            late.append(
                (
                    harness.received[text] - scheduled_at.timestamp(),
                    scheduled_at.timestamp(),
                    to_start[-1],
                    in_task[-1],
                )
            )
    for label, values in (
        ("due -> task started (negative: started and claimed ahead)", to_start),
        ("task started -> call received (claim, wait for the time, call)", in_task),
    ):
        common.emit_breakdown(lines, label, values)
    if late:
        first_due = min(due for _, due, _, _ in late)
        worst = sorted(late, reverse=True)[:8]
        common.emit(
            lines,
            "  latest 8 (due at +s: late = to start + in task, ms): "
            + "; ".join(
                f"+{due - first_due:.2f}: {total * 1000:.0f} = {start * 1000:.0f} + {task * 1000:.0f}"
                for total, due, start, task in worst
            ),
        )
