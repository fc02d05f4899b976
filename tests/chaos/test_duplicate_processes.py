"""Two workers and two beat processes started by mistake during a burst: still no duplicates."""

from __future__ import annotations

from platforms.models import SocialAccount
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from tests.chaos.conftest import (
    CHAOS,
    StartProcess,
    assert_settled_on_sandbox,
    posts_held,
    schedule_burst,
    slow_every_create,
    wait_settled,
)
from tests.integration.conftest import wait_for

pytestmark = CHAOS
COUNT = 100


def test_two_workers_and_two_beats_publish_each_date_once(
    alices_x: SocialAccount, sandbox: SandboxServer, control: SandboxClient, processes: StartProcess
) -> None:
    slow_every_create(control, 0.03)
    processes("worker")
    processes("beat")
    entries = schedule_burst(alices_x, COUNT)
    processes("worker")  # the mistakes: a second worker and a second beat join mid-burst
    processes("beat")
    wait_for(lambda: posts_held(sandbox) >= 1, timeout=20, what="the burst to start")

    wait_settled(entries, timeout=60)
    outcome = assert_settled_on_sandbox(entries, control)
    assert len(outcome.published) == COUNT
