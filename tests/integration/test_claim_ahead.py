"""Claim ahead, end to end: a real worker claims each date before its time and the sandbox receives
the platform call at the time, never before it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from tests.integration.conftest import StartProcess
from tests.support.sandbox_plugin import connect_sandbox_account, sandbox_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = ScheduleEntry.Status


@pytest.fixture
def platform_env(sandbox: SandboxServer, pointed_at_sandbox: None) -> dict[str, str]:
    """The sandbox here, not the sink tests/integration/conftest.py gives the other modules."""
    return sandbox_env(sandbox)


@pytest.fixture
def accounts(alice: User, control: SandboxClient) -> list[SocialAccount]:
    return [
        connect_sandbox_account(control, owner=alice, platform=platform, name=f"Alice on {platform}")
        for platform in ("x", "facebook")
    ]


def test_claim_ahead_the_platform_call_is_not_made_before_the_scheduled_instant(
    accounts: list[SocialAccount], control: SandboxClient, processes: StartProcess
) -> None:
    processes("worker_publish", concurrency=8)
    first = datetime.now(UTC) + timedelta(seconds=3)
    posts: list[Post] = [
        services.compose_post(
            owner_id=accounts[0].owner_id,
            account=accounts[number % 2],
            text=f"Bread at nine, batch {number}",
            when=[first + timedelta(milliseconds=150 * number)],
        )
        for number in range(6)
    ]
    entries = {post.entries.get().pk: post for post in posts}

    # Watch the rows from another connection: a claim is seen only once it has committed.
    seen_claimed: dict[int, float] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = dict(ScheduleEntry.objects.filter(pk__in=entries).values_list("pk", "status"))
        now = time.time()
        for pk, status in rows.items():
            if status == Status.PUBLISHING:
                seen_claimed.setdefault(pk, now)
        if all(status == Status.PUBLISHED for status in rows.values()):
            break
        time.sleep(0.02)

    for pk, post in entries.items():
        entry = ScheduleEntry.objects.get(pk=pk)
        assert entry.status == Status.PUBLISHED
        [live] = [
            made
            for made in control.posts(post.account.platform, account_id=post.account.platform_account_id)
            if made["text"] == post.text
        ]
        due = entry.scheduled_at.timestamp()
        # The sandbox's record of when the create call reached it: at the instant, not before.
        assert live["requested_at"] >= due, (post.account.platform, live["requested_at"] - due)
        # The claim had committed (another connection saw it) before the instant.
        assert seen_claimed[pk] < due, (post.account.platform, seen_claimed[pk] - due)
