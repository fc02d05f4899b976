"""Media rush: Instagram reels (the sandbox's realistic 60 s processing) and X text posts due in the
same second, through the production worker layout (Procfile: `worker_publish` with threads,
`worker_background` on `prepare,maintenance`); the reference, in the same run, is the same X posts
due alone.

The reels are scheduled `--ahead` seconds before their time (120 s by default, with the default
1-hour preparation lead, so preparation starts at once): long enough for their containers to be
made and processed before it, as a reel scheduled 15 minutes or more ahead is. Lateness is the
sandbox's arrival time of the publishing call (X's create, Instagram's `media_publish`, before its
emulated latency) minus `scheduled_at`.

Targets (issue 11): the X posts' p99 lateness <= 2 s, not delayed by the reels; the reels' final
call p99 <= 2 s after their time; no duplicates.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common, pipeline
from bench.rush import due_within_a_second, production_layout
from bench.sandbox import Harness, sandbox

PROFILE = "realistic"
PUBLISH = "publish"  # Instagram's media_publish, as the sandbox names it in its record
X_ACCOUNTS = 5
NOTE = """The reels are scheduled {ahead:.0f} s before their time with the default preparation lead (1 h),
so their preparation starts at once, as it does for a reel scheduled 15 minutes or more ahead: a
benchmark cannot wait 15 minutes, and the target only needs each container FINISHED before its time
(the line "all ... ready ... before their time"). Lateness is the sandbox's arrival time of the
publishing call (X's create, Instagram's `media_publish`, before its emulated latency) minus
`scheduled_at`. The references run right after on the same layout and sandbox profile: the same X
posts alone, and as many X posts as the mixed run makes calls at the time (a reel's is one call).
"""


def make_reels(harness: Harness, count: int, prefix: str) -> list[Any]:
    """`count` reels, each on its own Instagram account (so a media_publish names its reel by its
    path), with a video attached (the sandbox fetches nothing, so the file need not exist)."""
    from django.contrib.auth.models import User

    from platforms.models import SocialAccount
    from publishing.models import Post, PostMedia

    owner, _ = User.objects.get_or_create(username="bench")
    accounts = [
        SocialAccount.objects.create(
            owner=owner,
            platform="instagram",
            platform_account_id=made["account_id"],
            display_name=made["display_name"],
            access_token=made["access_token"],
        )
        for made in harness.create_accounts("instagram", count, f"{prefix}ig")
    ]
    posts = Post.objects.bulk_create(
        [Post(owner=owner, account=account, text=f"{prefix} reel {n}") for n, account in enumerate(accounts)]
    )
    PostMedia.objects.bulk_create(
        [
            PostMedia(post=post, file=f"media/bench/{prefix}-{n}.mp4", content_type="video/mp4")
            for n, post in enumerate(posts)
        ]
    )
    return posts


def schedule(posts: list[Any], first_due: datetime) -> tuple[dict[str, datetime], list[int]]:
    """One date per post, spread over one second from `first_due` (as "everyone posts at nine"
    does), sent by one sweep: publish messages for all, and preparation for those with media."""
    from publishing import sweep as safety_net

    due, entries = due_within_a_second(posts, first_due)
    safety_net.sweep_schedule()
    return due, [entry.pk for entry in entries]


def interleave(texts: list[Any], reels: list[Any]) -> list[Any]:
    """The reels spread evenly among the text posts."""
    mixed = list(texts)
    step = len(texts) // len(reels) + 1 if reels else 0
    for n, reel in enumerate(reels):
        mixed.insert(n * step, reel)
    return mixed


class Watch:
    """Reads the sandbox's record as it goes (it keeps the last 1,000 requests): every Instagram
    request with its arrival time, and when all the reels' media was first seen ready."""

    def __init__(self, harness: Harness, reel_entries: list[int]) -> None:
        self.harness = harness
        self.reel_entries = reel_entries
        self.instagram: dict[tuple[float, str, str], dict[str, Any]] = {}
        self.all_ready_at: float | None = None
        self.ready_at_due = 0

    def poll(self, first_due: datetime) -> None:
        from publishing.models import ScheduleEntry

        state = self.harness.server.state
        with state.lock:
            for made in state.request_log:
                if made["platform"] == "instagram":
                    self.instagram[(made["received_at"], made["method"], made["path"])] = dict(made)
        if time.time() < first_due.timestamp():
            ready = ScheduleEntry.objects.filter(
                pk__in=self.reel_entries, media_status=ScheduleEntry.MediaStatus.READY
            ).count()
            self.ready_at_due = ready
            if ready == len(self.reel_entries) and self.all_ready_at is None:
                self.all_ready_at = time.time()

    def requests(self) -> list[dict[str, Any]]:
        return sorted(self.instagram.values(), key=lambda made: float(made["received_at"]))


def wait(
    harness: Harness,
    watch: Watch,
    *,
    prefix: str,
    texts: int,
    reels: int,
    first_due: datetime,
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watch.poll(first_due)
        published = {made["path"] for made in watch.requests() if PUBLISH in made["endpoints"]}
        if harness.count(f"{prefix} x") >= texts and len(published) >= reels:
            time.sleep(3)  # the permalink reads after the last media_publish, and any duplicate
            watch.poll(first_due)
            return
        time.sleep(0.5)


def reel_lines(
    lines: list[str], watch: Watch, reels: list[Any], due: dict[str, datetime], label: str
) -> dict[str, float]:
    """The reels' final call: its lateness, how often each was sent, and what else reached
    Instagram for it at or after its time (only the permalink read should)."""
    reel_of = {reel.account.platform_account_id: reel.text for reel in reels}
    sends: Counter[str] = Counter()
    late: list[float] = []
    after_time: Counter[str] = Counter()
    for made in watch.requests():
        account = next((a for a in reel_of if f"/{a}/" in made["path"]), None)
        if PUBLISH in made["endpoints"] and account is not None:
            text = reel_of[account]
            sends[text] += 1
            if sends[text] == 1:
                late.append(made["received_at"] - due[text].timestamp())
    first_due = min(due[reel.text] for reel in reels).timestamp()
    for made in watch.requests():
        if made["received_at"] >= first_due and PUBLISH not in made["endpoints"]:
            after_time["+".join(sorted(set(made["endpoints"]) - {"node"})) or "node"] += 1
    stats = common.percentiles(late)
    twice = sum(1 for n in sends.values() if n > 1)
    if not late:
        common.emit(lines, f"{label}: no media_publish arrived")
        return {}
    common.emit(
        lines,
        f"{label}: {len(late)}/{len(reels)} media_publish arrived, sent twice {twice}; lateness of the "
        f"final call (sandbox receive - scheduled) p50={stats['p50'] * 1000:.0f} ms "
        f"p99={stats['p99'] * 1000:.0f} ms max={stats['max'] * 1000:.0f} ms",
    )
    common.emit(
        lines,
        f"{label}: other Instagram calls from the first reel's time on: "
        + (", ".join(f"{name} {n}" for name, n in sorted(after_time.items())) or "none"),
    )
    return {**stats, "twice": float(twice)}


def reel_breakdown(lines: list[str], watch: Watch, reels: list[Any], entry_ids: list[int]) -> None:
    """Where a reel's lateness goes: due -> its publish task started, then -> media_publish arrived."""
    from publishing.models import PublishAttempt

    account_of = {reel.text: reel.account.platform_account_id for reel in reels}
    sent: dict[str, float] = {}
    for made in watch.requests():
        if PUBLISH in made["endpoints"]:
            sent.setdefault(made["path"].rsplit("/", 2)[-2], made["received_at"])
    to_start: list[float] = []
    in_task: list[float] = []
    rows = PublishAttempt.objects.filter(entry_id__in=entry_ids, number=1).values_list(
        "started_at", "entry__scheduled_at", "entry__post__text"
    )
    for started_at, scheduled_at, text in rows:
        to_start.append((started_at - scheduled_at).total_seconds())
        if account_of.get(text) in sent:
            in_task.append(sent[account_of[text]] - started_at.timestamp())
    for label, values in (
        ("due -> task started", to_start),
        ("task started -> media_publish received", in_task),
    ):
        common.emit_breakdown(lines, f"reels, {label}", values, p95=False)


def instagram_duplicates(harness: Harness) -> int:
    state = harness.server.state
    with state.lock:
        held = Counter(post.text for post in state.posts_of("instagram"))
    return sum(1 for n in held.values() if n > 1)


def mixed_run(args: argparse.Namespace, lines: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    prefix = "mix"
    label_x, label_reels = f"{args.posts} X posts with {args.reels} reels", f"{args.reels} reels"
    common.truncate_tables()
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms, profile=PROFILE, platforms=("x",)) as harness:
        from sandbox.client import SandboxClient

        SandboxClient(harness.server.url).configure(instagram_video_seconds=args.reel_seconds)
        texts = pipeline.make_posts(harness, args.posts, f"{prefix} x", X_ACCOUNTS)
        reels = make_reels(harness, args.reels, prefix)
        with production_layout(args, harness.env, 1) as pids:
            first_due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=args.ahead)
            scheduled = time.time()
            due, entry_ids = schedule(interleave(texts, reels), first_due)
            reel_entries = [pk for pk, text in zip(entry_ids, due, strict=True) if " reel " in text]
            common.emit(
                lines,
                f"Scheduled {args.posts} X posts and {args.reels} reels "
                f"{first_due.timestamp() - scheduled:.0f} s ahead, all due within one second; the sweep "
                "sent their messages and started the reels' preparation",
            )
            common.freeze_garbage_collector()
            watch = Watch(harness, reel_entries)
            cpu_before = common.cpu_seconds(pids[0])
            wait(
                harness,
                watch,
                prefix=prefix,
                texts=args.posts,
                reels=args.reels,
                first_due=first_due,
                timeout=args.ahead + 180,
            )
            cpu = common.cpu_seconds(pids[0])
            load = os.getloadavg()
            if watch.all_ready_at is not None:
                common.emit(
                    lines,
                    f"{label_reels}: all {args.reels} ready "
                    f"{first_due.timestamp() - watch.all_ready_at:.0f} s before their time "
                    f"({watch.all_ready_at - scheduled:.0f} s after scheduling; processing "
                    f"{args.reel_seconds:.0f} s each)",
                )
            else:
                common.emit(lines, f"{label_reels}: {watch.ready_at_due}/{args.reels} ready at their time")
            x_due = {text: when for text, when in due.items() if " reel " not in text}
            x_stats = pipeline.lateness_lines(lines, harness, x_due, label=label_x)
            reel_stats = reel_lines(lines, watch, reels, due, label_reels)
            reel_breakdown(lines, watch, reels, reel_entries)
            x_stats["twice"] = float(sum(1 for text in harness.duplicates if text in x_due))
            reel_stats["held_twice"] = float(instagram_duplicates(harness))
            common.emit(lines, f"entries {pipeline.entry_outcomes(entry_ids)}")
            pipeline.breakdown_lines(lines, harness, [pk for pk in entry_ids if pk not in reel_entries])
            used = (cpu["worker main"] + cpu["worker pool"]) - (
                cpu_before["worker main"] + cpu_before["worker pool"]
            )
            common.emit(
                lines,
                f"publish worker CPU during the run {used:.1f} s; "
                f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            )
    return x_stats, reel_stats


def texts_alone(args: argparse.Namespace, lines: list[str], count: int, prefix: str) -> dict[str, float]:
    """`count` X posts due within one second, with nothing else: the reference."""
    label = f"{count} X posts alone (reference)"
    common.truncate_tables()
    common.flush_redis()
    common.settle_database()
    with sandbox(args.latency_ms, profile=PROFILE, platforms=("x",)) as harness:
        texts = pipeline.make_posts(harness, count, f"{prefix} x", X_ACCOUNTS)
        with production_layout(args, harness.env, 1):
            first_due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
            due, entry_ids = schedule(texts, first_due)
            common.freeze_garbage_collector()
            harness.wait_for(f"{prefix} x", count, timeout=120, first_within=60)
            stats = pipeline.lateness_lines(lines, harness, due, label=label)
            stats["twice"] = float(sum(1 for text in harness.duplicates if text in due))
            load = os.getloadavg()
            common.emit(
                lines,
                f"entries {pipeline.entry_outcomes(entry_ids)}; "
                f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            )
            pipeline.breakdown_lines(lines, harness, entry_ids)
    return stats


def run(args: argparse.Namespace) -> None:
    lines: list[str] = []
    x_mixed, reels = mixed_run(args, lines)
    x_alone = texts_alone(args, lines, args.posts, "alone")
    # As many publishing calls as the mixed run makes at the time (a reel's is one media_publish).
    x_as_many = texts_alone(args, lines, args.posts + args.reels, "many")
    common.emit(lines, "")
    common.emit(lines, "Against the targets:")
    common.emit(
        lines,
        f"- X posts with the reels: p50 {x_mixed.get('p50', float('nan')):.2f} s, p99 "
        f"{x_mixed.get('p99', float('nan')):.2f} s (target p99 <= 2 s); alone: p50 "
        f"{x_alone.get('p50', float('nan')):.2f} s, p99 {x_alone.get('p99', float('nan')):.2f} s "
        "(not delayed by the reels: the two should match)",
    )
    common.emit(
        lines,
        f"- {args.posts + args.reels} X posts alone (as many calls at the time as text posts and reels): "
        f"p50 {x_as_many.get('p50', float('nan')):.2f} s, p99 {x_as_many.get('p99', float('nan')):.2f} s",
    )
    common.emit(
        lines,
        f"- Reels' final call: p50 {reels.get('p50', float('nan')):.2f} s, p99 "
        f"{reels.get('p99', float('nan')):.2f} s after their time (target p99 <= 2 s)",
    )
    duplicates = sum(
        int(stats.get(key, 0))
        for stats in (x_mixed, reels, x_alone, x_as_many)
        for key in ("twice", "held_twice")
    )
    common.emit(lines, f"- Duplicates: {duplicates} (target 0)")
    common.write_section(
        "mediarush",
        "Media rush (reels prepared ahead and text posts due together)",
        {
            "posts": f"{args.posts} X text posts and {args.reels} Instagram reels (one per account), "
            f"due within one second, scheduled {args.ahead:.0f} s ahead",
            "workers": f"Procfile layout: worker_publish --pool threads --concurrency {args.concurrency}, "
            "worker_background --pool threads --concurrency 8",
            "sandbox": f"--profile {PROFILE}, write median {args.latency_ms or 300} ms, reels processed in "
            f"{args.reel_seconds:.0f} s; rate limits and X duplicate check off",
            "database": common.connection_settings(),
        },
        NOTE.format(ahead=args.ahead) + "\n```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()
