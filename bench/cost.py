"""SoSocial's own cost per post: one thread publishing N text posts through `pipeline.publish_entry`
against the sandbox in this process (no latency), under cProfile, with the queries counted.

What it shows is the publish path without Celery: the claim, the request built, the HTTP call, the
outcome recorded. The figures are the publishing thread's own CPU per post (the sandbox answers from
other threads and is not counted), the queries per post, and where that CPU goes (cProfile with a
per-thread CPU clock, so waiting on the database or the network costs nothing).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench import common, pipeline
from bench.sandbox import sandbox


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from publishing import pipeline as publish
    from publishing.models import ScheduleEntry

    lines: list[str] = []
    common.truncate_tables()
    with sandbox(0) as harness:
        _point_clients_at(harness.env)
        posts = pipeline.make_posts(harness, args.posts * 2 + 20, "cost", accounts=10)
        due = datetime.now(UTC) - timedelta(seconds=1)
        entries = ScheduleEntry.objects.bulk_create(
            [ScheduleEntry(post=post, scheduled_at=due, next_attempt_at=due) for post in posts]
        )
        warm, timed, profiled = entries[:20], entries[20 : 20 + args.posts], entries[20 + args.posts :]
        for entry in warm:  # connections, client sessions, imports
            publish.publish_entry(entry_id=entry.pk, dispatch_version=0)

        common.freeze_garbage_collector()
        started, cpu_started = time.monotonic(), time.thread_time()
        with CaptureQueriesContext(connection) as queries:
            for entry in timed:
                publish.publish_entry(entry_id=entry.pk, dispatch_version=0)
        cpu = (time.thread_time() - cpu_started) * 1000 / len(timed)
        wall = (time.monotonic() - started) * 1000 / len(timed)
        kinds = Counter(_kind(query["sql"]) for query in queries.captured_queries)
        common.emit(
            lines,
            f"{len(timed)} text posts on X, one thread: its CPU {cpu:.2f} ms per post, wall "
            f"{wall:.2f} ms per post",
        )
        common.emit(
            lines,
            f"queries per post: {len(queries.captured_queries) / len(timed):.1f} ("
            + ", ".join(f"{kind} {count / len(timed):.1f}" for kind, count in kinds.most_common())
            + ")",
        )
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        for entry in profiled:
            publish.publish_entry(entry_id=entry.pk, dispatch_version=0)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"sosocial|publishing|platforms", args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        common.emit(
            lines,
            f"cProfile (thread CPU) of {len(profiled)} more: SoSocial's functions by cumulative time, "
            f"then the top {args.top} by own time:",
        )
        for line in out.getvalue().splitlines():
            if line.strip() and not line.startswith(("   Ordered", "         ")):
                short = line.replace(f"{common.BASE_DIR}/.venv/lib/", "").replace(f"{common.BASE_DIR}/", "")
                common.emit(lines, "  " + short.rstrip()[:150])
        common.emit(lines, f"entries: {pipeline.entry_outcomes([e.pk for e in entries])}")
    common.write_section(
        f"cost{args.label}",
        f"SoSocial's own cost per post{f' ({args.label.lstrip(chr(45))})' if args.label else ''}",
        {"posts": args.posts, "sandbox latency": "0 ms", "database": common.connection_settings()},
        "```\n" + "\n".join(lines) + "\n```\n",
    )
    common.truncate_tables()


def _kind(sql: str) -> str:
    words = sql.split()
    if not words:
        return "?"
    word = words[0].upper()
    if word == "SELECT" and "FOR UPDATE" in sql.upper():
        return "SELECT FOR UPDATE"
    if word == "UPDATE" and "RETURNING" in sql.upper():
        return "UPDATE RETURNING"
    return word


def _point_clients_at(env: dict[str, str]) -> None:
    """This process's clients talk to the in-process sandbox, as a worker's would."""
    import copy

    from django.conf import settings

    platforms = copy.deepcopy(settings.SOSOCIAL_PLATFORMS)
    platforms["x"]["api_url"] = env["X_API_URL"]
    platforms["x"]["authorize_url"] = env["X_AUTHORIZE_URL"]
    platforms["x"]["web_url"] = env["X_WEB_URL"]
    platforms["x"]["client_id"] = env["X_CLIENT_ID"]
    platforms["x"]["client_secret"] = env["X_CLIENT_SECRET"]
    settings.SOSOCIAL_PLATFORMS = platforms
