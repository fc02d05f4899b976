"""`python -m bench <name> [flags]`: run one benchmark (or `all`) and update docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import time

from bench import common

# The timed runs first: the million-row inserts of `sweep` and `memory` leave the disk writing for
# minutes after, and PostgreSQL's COMMITs then waited up to 0.8 s in the next run.
NAMES = ("rush", "mediarush", "cost", "ontime", "burst", "surfaces", "sweep", "memory")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = top.add_subparsers(dest="name", required=True)

    def workers(p: argparse.ArgumentParser) -> None:
        p.add_argument("--pool", default="prefork", choices=["prefork", "threads"])
        p.add_argument("--concurrency", type=int, default=8)
        p.add_argument("--latency-ms", type=int, default=50, help="sandbox response latency")

    p = sub.add_parser("sweep", help="sweep_schedule() run time at several table sizes, with EXPLAIN")
    p.add_argument("--sizes", default="10000,1000000", help="comma-separated row counts")
    p.add_argument("--actionable", type=int, default=200, help="rows the sweep must dispatch each time")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument(
        "--lead-text", type=int, default=100_000, help="text dates due in the next hour (step 5), 0: none"
    )

    p = sub.add_parser("ontime", help="posts due at a steady rate through the Procfile's workers")
    p.add_argument("--rate", type=int, default=50, help="posts due per second")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--concurrency", type=int, default=64, help="threads of the publish process")
    p.add_argument("--latency-ms", type=int, default=50, help="sandbox response latency")

    p = sub.add_parser("burst", help="N posts due at the same second, against two baselines")
    p.add_argument("--posts", type=int, default=10_000)
    p.add_argument("--skip-baselines", action="store_true")
    workers(p)

    p = sub.add_parser("rush", help="N posts on X and Facebook due in one second, production layout")
    p.add_argument("--posts", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=64, help="threads per publish process")
    p.add_argument("--latency-ms", type=int, default=300, help="sandbox write latency median")
    p.add_argument("--skip-scale-out", action="store_true", help="only one publish process")

    p = sub.add_parser("mediarush", help="Instagram reels prepared ahead and X posts due together")
    p.add_argument("--posts", type=int, default=200, help="X text posts")
    p.add_argument("--reels", type=int, default=20, help="Instagram reels, one per account")
    p.add_argument("--reel-seconds", type=float, default=60.0, help="the sandbox's reel processing")
    p.add_argument("--ahead", type=float, default=120.0, help="seconds between scheduling and the time")
    p.add_argument("--concurrency", type=int, default=64, help="threads of the publish process")
    p.add_argument("--latency-ms", type=int, default=300, help="sandbox write latency median")

    p = sub.add_parser("cost", help="SoSocial's own CPU and queries per text post, with a cProfile")
    p.add_argument("--posts", type=int, default=500)
    p.add_argument("--top", type=int, default=25, help="functions shown from the profile")
    p.add_argument("--label", default="", help="section suffix, e.g. -before")

    p = sub.add_parser("memory", help="worker RSS idle vs with many future entries")
    p.add_argument("--future", type=int, default=1_000_000, help="entries beyond the horizon")
    p.add_argument("--near", type=int, default=10_000, help="entries inside the horizon (contrast)")
    # The settings pin the threads pool (celery's `--pool prefork`, its default, yields to them).
    p.add_argument("--concurrency", type=int, default=64, help="threads of the worker (publish's)")

    p = sub.add_parser("surfaces", help="Posts page and GET /api/posts/ with many posts")
    p.add_argument("--sizes", default="1000,100000", help="comma-separated post counts")
    p.add_argument("--repeat", type=int, default=5)

    p = sub.add_parser("all", help="every benchmark with its defaults (or --quick sizes)")
    p.add_argument("--quick", action="store_true", help="small sizes: a few minutes in all")
    return top


QUICK = {
    "sweep": ["--sizes", "10000,100000", "--repeat", "5", "--lead-text", "10000"],
    "ontime": ["--seconds", "10"],
    "burst": ["--posts", "1000"],
    "rush": ["--posts", "500"],
    "mediarush": ["--posts", "50", "--reels", "5", "--reel-seconds", "20", "--ahead", "45"],
    "cost": ["--posts", "200"],
    "memory": ["--future", "20000", "--near", "2000"],
    "surfaces": ["--sizes", "1000,10000", "--repeat", "3"],
}


def main() -> None:
    args = parser().parse_args()
    common.configure_environment()
    common.ensure_database()
    if args.name == "all":
        for name in NAMES:
            sub_args = parser().parse_args([name, *(QUICK[name] if args.quick else [])])
            print(f"\n=== {name} ===", flush=True)
            started = time.monotonic()
            importlib.import_module(f"bench.{name}").run(sub_args)
            print(f"[bench] {name} took {time.monotonic() - started:.0f} s")
        return
    importlib.import_module(f"bench.{args.name}").run(args)


if __name__ == "__main__":
    main()
