"""The sandbox in this process, with X accounts, and a harvester that records every X post made.

The harvester moves X posts out of the sandbox's state as they arrive (under its lock) and keeps,
per text, when the create call reached the sandbox (`requested_at`, before its emulated latency)
and when the post was made (`created_at`, after it). Moving them out keeps the sandbox's app-wide
daily count (one pass over the X posts it holds, per create) small during a 10,000-post burst.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sandbox import SandboxServer
from sandbox.client import SandboxClient
from sosocial.devservices import SANDBOX_CREDENTIALS


@dataclass
class Harness:
    server: SandboxServer
    received: dict[str, float] = field(default_factory=dict)  # text -> requested_at (epoch)
    created: dict[str, float] = field(default_factory=dict)  # text -> created_at (epoch)
    duplicates: list[str] = field(default_factory=list)  # texts posted more than once
    stopping: threading.Event = field(default_factory=threading.Event)
    platforms: tuple[str, ...] = ("x",)  # whose posts the harvester records

    @property
    def env(self) -> dict[str, str]:
        return {**self.server.base_urls(), **SANDBOX_CREDENTIALS}

    @property
    def tweets_url(self) -> str:
        return f"{self.server.url}/x/api/2/tweets"

    def create_x_accounts(self, count: int, prefix: str) -> list[dict[str, Any]]:
        return self.create_accounts("x", count, prefix)

    def create_accounts(self, platform: str, count: int, prefix: str) -> list[dict[str, Any]]:
        control = SandboxClient(self.server.url)
        return [
            control.create_account(platform, f"{prefix} {number}", username=f"{prefix}{number}")
            for number in range(count)
        ]

    def harvest(self) -> None:
        state = self.server.state
        with state.lock:
            for post in [post for platform in self.platforms for post in state.posts_of(platform)]:
                state.remove_post(post.id)
                if post.text in self.received:
                    self.duplicates.append(post.text)
                    continue
                self.received[post.text] = post.requested_at
                self.created[post.text] = post.created_at

    def _loop(self) -> None:
        while not self.stopping.wait(0.2):
            self.harvest()

    def count(self, prefix: str) -> int:
        self.harvest()
        return sum(1 for text in list(self.received) if text.startswith(prefix))

    def wait_for(
        self,
        prefix: str,
        expected: int,
        *,
        timeout: float,
        stall: float = 30,
        first_within: float | None = None,
    ) -> bool:
        """Wait until `expected` posts arrived; give up at `timeout` or after `stall` s with none new.

        `stall` counts once the first post arrived; `first_within` bounds the wait for the first one.
        """
        start = time.monotonic()
        deadline = start + timeout
        seen, last_change = 0, start
        while time.monotonic() < deadline:
            now_seen = self.count(prefix)
            if now_seen >= expected:
                return True
            if now_seen != seen:
                seen, last_change = now_seen, time.monotonic()
            stalled = bool(seen) and time.monotonic() - last_change > stall
            never_came = not seen and first_within is not None and time.monotonic() - start > first_within
            if stalled or never_came:
                return False
            time.sleep(0.25)
        return False


@contextmanager
def sandbox(
    latency_ms: int, *, profile: str = "fast", platforms: tuple[str, ...] = ("x",)
) -> Iterator[Harness]:
    # No rate limits (a burst is far over X's), and no duplicate-content refusal, so a post sent
    # twice shows up twice in the record instead of being refused.
    server = SandboxServer(
        port=0,
        latency_ms=latency_ms,
        profile=profile,
        config={"rate_limits": False, "x_duplicate_window_seconds": 0},
    ).start()
    harness = Harness(server, platforms=platforms)
    thread = threading.Thread(target=harness._loop, name="bench-harvester", daemon=True)
    thread.start()
    try:
        yield harness
    finally:
        harness.stopping.set()
        thread.join(5)
        server.stop()
