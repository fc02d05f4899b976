"""The platform sandbox's X failing in each way while a burst publishes with the real X client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from publishing import services
from publishing.models import ScheduleEntry
from sandbox.client import SandboxClient
from tests.chaos.conftest import CHAOS, StartProcess, assert_settled, wait_settled
from tests.support.sandbox_plugin import connect_sandbox_account

pytestmark = CHAOS
Status = ScheduleEntry.Status


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    """X's own limits and duplicate check on, unlike the bursts' sandbox (tests/chaos/conftest.py)."""
    return {"x_processing_seconds": 0.5}


def test_x_failing_in_each_way_during_a_burst_settles_every_post_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = connect_sandbox_account(control, owner=alice, platform="x", name="Alice on X")
    old_token = account.access_token
    # Faults are taken by create_post requests in arrival order, whichever entry sends them.
    control.fault("x", "server_error")
    control.fault("x", "rate_limit", retry_after_seconds=2)
    control.fault("x", "expired_token")
    control.fault("x", "commit_then_drop")
    control.fault("x", "drop_before_commit")
    control.fault("x", "slow", seconds=1)
    control.fault("x", "permanent")
    when = datetime.now(UTC) + timedelta(seconds=2)
    posts = [
        services.compose_post(owner_id=alice.pk, account=account, text=f"Chaos on X number {n}", when=[when])
        for n in range(12)
    ]
    entries = [post.entries.get() for post in posts]
    processes("worker")
    processes("beat")

    wait_settled(entries, timeout=45)
    live = control.posts("x", account_id=account.platform_account_id, status="published")
    reference_of_text = {entry.post.text: entry.reference for entry in entries}
    outcome = assert_settled(entries, (reference_of_text[str(post["text"])] for post in live))

    # Even X's "duplicate content" refusal is checked on the timeline rather than believed: nothing
    # of that post was there, so it was sent again. Every post is out, each once.
    assert outcome.failed == []
    assert len(outcome.published) == 12
    assert len(live) == 12
    for entry in outcome.published:
        assert entry.platform_post_id in {str(post["id"]) for post in live}
    account.refresh_from_db()
    assert account.access_token != old_token
    assert account.status == SocialAccount.Status.CONNECTED
    # Every fault was hit: each kind of failure really happened.
    assert control.faults() == []
