"""One refresh per account at a time, across worker processes, against the sandbox's rotating
refresh tokens (a used refresh token is refused, as X's is)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from tests.integration.conftest import Process, wait_for
from tests.support.sandbox_plugin import connect_sandbox_account, sandbox_env

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
StartProcess = Callable[[str], Process]
Status = ScheduleEntry.Status


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks between worker processes need PostgreSQL")


@pytest.fixture
def platform_env(sandbox: SandboxServer, pointed_at_sandbox: None) -> dict[str, str]:
    return sandbox_env(sandbox)


def test_two_workers_hitting_one_expired_token_refresh_it_once_and_both_posts_go_out(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = connect_sandbox_account(control, owner=alice, platform="x", name="Alice")
    control.advance(7300)  # past the access token's two hours: every call now gets a 401
    # A slow refresh answer: a second refresh would start while the first is under way.
    control.fault("x", "slow", endpoint="token", seconds=1.0)
    when = datetime.now(UTC) + timedelta(seconds=3)
    posts = [
        services.compose_post(owner_id=alice.pk, account=account, text=f"Same token, post {n}", when=[when])
        for n in (1, 2)
    ]
    processes("worker")
    processes("worker")

    wait_for(
        lambda: all(post.entries.get().status in (Status.PUBLISHED, Status.FAILED) for post in posts),
        timeout=40,
        what="both posts to settle",
    )

    assert [Post.objects.get(pk=post.pk).entries.get().status for post in posts] == [Status.PUBLISHED] * 2
    account.refresh_from_db()
    assert account.status == SocialAccount.Status.CONNECTED
    refreshes = [made for made in control.requests_made("x") if made["path"].endswith("oauth2/token")]
    assert len(refreshes) == 1
    assert len(control.posts("x", account_id=account.platform_account_id)) == 2
