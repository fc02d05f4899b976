"""Platform profiles: how fast the emulated platforms answer and process media.

`fast` (the default) answers at once, plus a fixed `latency_ms`, and processes media in a few
seconds: what unit and integration tests want. `realistic` is what the benchmarks run against:
each call waits a time drawn from a log-normal distribution (writes a 300 ms median, or `latency_ms`
when set; reads 40 % of that; a long tail, 1 in 100 above 1.2 s, capped at 2.5 s), media
processes as long as the platforms report for typical files, and the rate limits are on.
"""

from __future__ import annotations

import math
import random
import threading
from typing import Any

FAST = "fast"
REALISTIC = "realistic"
PROFILES = (FAST, REALISTIC)

WRITE_MEDIAN_MS = 300
READ_SHARE = 0.4
TAIL_SIGMA = 0.6  # p99 = median * e^(2.33 * 0.6), about four times the median
LONGEST_SECONDS = 2.5

# Settings (sandbox.state.Config) each profile sets; anything given with the profile wins.
VALUES: dict[str, dict[str, Any]] = {
    FAST: {
        "rate_limits": True,
        "facebook_video_seconds": 2.0,
        "instagram_image_seconds": 0.5,
        "instagram_video_seconds": 3.0,
        "x_processing_seconds": 2.0,
        "tiktok_processing_seconds": 1.0,
        "tiktok_moderation_seconds": 2.0,
    },
    # Typical processing of a phone-sized file, middle of the ranges platforms report: Instagram
    # images a few seconds and reels 30-120 s, X video 10-60 s, Facebook video 30-120 s, TikTok
    # 20-120 s.
    REALISTIC: {
        "rate_limits": True,
        "facebook_video_seconds": 60.0,
        "instagram_image_seconds": 4.0,
        "instagram_video_seconds": 60.0,
        "x_processing_seconds": 30.0,
        "tiktok_processing_seconds": 60.0,
        "tiktok_moderation_seconds": 30.0,
    },
}

_random = random.Random()  # timings, not secrets
_random_lock = threading.Lock()


def values(name: str) -> dict[str, Any]:
    if name not in VALUES:
        raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    return dict(VALUES[name])


def latency_seconds(profile: str, latency_ms: int, method: str) -> float:
    """How long a platform call waits before it is answered."""
    if profile != REALISTIC:
        return latency_ms / 1000
    median = (latency_ms or WRITE_MEDIAN_MS) / 1000
    if method == "GET":
        median *= READ_SHARE
    with _random_lock:
        drawn = _random.lognormvariate(math.log(median), TAIL_SIGMA)
    return min(drawn, LONGEST_SECONDS)


def seed(value: int) -> None:
    """Repeatable draws (benchmarks, tests)."""
    with _random_lock:
        _random.seed(value)
