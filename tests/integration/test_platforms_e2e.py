"""End to end on the four real clients: a real worker publishes to the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from tests.integration.conftest import Process, wait_for
from tests.support.media import image_bytes, video_bytes
from tests.support.sandbox_plugin import connect_sandbox_account, sandbox_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
StartProcess = Callable[[str], Process]
Status = ScheduleEntry.Status
JPEG = image_bytes("JPEG", (400, 400))
FAST = {
    "instagram_image_seconds": 1.0,
    "x_processing_seconds": 0.5,
    "tiktok_processing_seconds": 0.5,
    "tiktok_moderation_seconds": 0.5,
    "tiktok_private_post_ids": True,
}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return FAST


@pytest.fixture
def platform_env(sandbox: SandboxServer, pointed_at_sandbox: None) -> dict[str, str]:
    """The sandbox here, not the sink tests/integration/conftest.py gives the other modules."""
    return sandbox_env(sandbox)


@pytest.fixture
def accounts(alice: User, control: SandboxClient) -> dict[str, SocialAccount]:
    return {
        platform: connect_sandbox_account(
            control, owner=alice, platform=platform, name=f"Alice on {platform}"
        )
        for platform in ("facebook", "instagram", "x", "tiktok")
    }


def compose(account: SocialAccount, text: str, *, seconds: float = 1.5, **kwargs: object) -> Post:
    return services.compose_post(
        owner_id=account.owner_id,
        account=account,
        text=text,
        when=[datetime.now(UTC) + timedelta(seconds=seconds)],
        **kwargs,  # type: ignore[arg-type]
    )


def entry_of(post: Post) -> ScheduleEntry:
    return post.entries.get()


def all_settled(posts: list[Post]) -> Callable[[], bool]:
    return lambda: all(entry_of(post).status == Status.PUBLISHED for post in posts)


def published_on(control: SandboxClient, account: SocialAccount) -> list[dict[str, object]]:
    return control.posts(account.platform, account_id=account.platform_account_id, status="published")


def test_each_platform_gets_its_scheduled_post_once_with_the_id_and_link_stored(
    accounts: dict[str, SocialAccount], control: SandboxClient, processes: StartProcess, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    video.write_bytes(video_bytes(brand=b"mp42", padding=21 * 1024 * 1024))
    posts = {
        "facebook": compose(accounts["facebook"], "Fresh bread at nine"),
        "instagram": compose(
            accounts["instagram"],
            "Fresh bread #bakery",
            media=[SimpleUploadedFile("bread.jpg", JPEG, content_type="image/jpeg")],
        ),
        "x": compose(
            accounts["x"],
            "Fresh bread https://example.com/bread",
            media=[SimpleUploadedFile("bread.jpg", JPEG, content_type="image/jpeg")],
        ),
        "tiktok": compose(
            accounts["tiktok"],
            "Kneading time",
            options={"privacy_level": "SELF_ONLY"},
            media=[SimpleUploadedFile("clip.mp4", video.read_bytes(), content_type="video/mp4")],
        ),
    }
    processes("worker")

    wait_for(all_settled(list(posts.values())), timeout=60, what="all four platforms to publish")

    for platform, post in posts.items():
        [live] = published_on(control, accounts[platform])
        entry = entry_of(post)
        assert entry.platform_post_id == str(live["id"]), platform
        assert entry.platform_url, platform
        assert live["text"] == post.text, platform
    instagram = control.requests_made("instagram")
    created = next(i for i, r in enumerate(instagram) if "create_container" in r["endpoints"])
    published = next(i for i, r in enumerate(instagram) if "publish" in r["endpoints"])
    # The container's status was read (it takes a second to finish) before media_publish.
    assert created < published
    assert any(r["method"] == "GET" for r in instagram[created:published])
    tiktok_uploads = [r for r in control.requests_made("tiktok") if r["method"] == "PUT"]
    assert len(tiktok_uploads) == 2
    x_paths = [r["path"] for r in control.requests_made("x")]
    assert any("/2/media/upload" in path for path in x_paths)


def test_a_post_committed_before_the_connection_dropped_is_reconciled_on_each_platform(
    accounts: dict[str, SocialAccount], control: SandboxClient, processes: StartProcess
) -> None:
    for platform in accounts:
        # On Instagram the call that publishes is media_publish; a lost container answer is retried.
        control.fault(platform, "commit_then_drop", "publish" if platform == "instagram" else "create_post")
    posts = {
        "facebook": compose(accounts["facebook"], "Dropped on Facebook"),
        "instagram": compose(
            accounts["instagram"],
            "Dropped on Instagram",
            media=[SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg")],
        ),
        "x": compose(accounts["x"], "Dropped on X"),
        "tiktok": compose(
            accounts["tiktok"],
            "Dropped on TikTok",
            options={"privacy_level": "SELF_ONLY"},
            media=[SimpleUploadedFile("c.mp4", video_bytes(padding=4096), content_type="video/mp4")],
        ),
    }
    processes("worker")

    wait_for(all_settled(list(posts.values())), timeout=60, what="reconciliation on all four platforms")

    for platform, post in posts.items():
        assert len(published_on(control, accounts[platform])) == 1, platform
        outcomes = list(entry_of(post).publish_attempts.values_list("outcome", flat=True))
        # Instagram's client re-reads the container after a lost media_publish answer and finds it
        # PUBLISHED within the same attempt; the others settle through reconciliation.
        assert outcomes[0] == ("published" if platform == "instagram" else "unconfirmed"), platform


@pytest.mark.parametrize("platform", ["x", "tiktok"])
def test_an_expired_access_token_is_refreshed_and_the_post_goes_out(
    platform: str, accounts: dict[str, SocialAccount], control: SandboxClient, processes: StartProcess
) -> None:
    account = accounts[platform]
    old_token = account.access_token
    control.fault(platform, "expired_token")
    options = {"privacy_level": "SELF_ONLY"} if platform == "tiktok" else {}
    media = (
        [SimpleUploadedFile("c.mp4", video_bytes(padding=4096), content_type="video/mp4")]
        if platform == "tiktok"
        else []
    )
    post = compose(account, f"Fresh token on {platform}", options=options, media=media)
    processes("worker")

    # TikTok's post is then processed, its status read by follow-up messages 10 s apart.
    wait_for(all_settled([post]), timeout=60, what="the publish after refreshing")

    account.refresh_from_db()
    assert account.access_token != old_token
    assert account.status == SocialAccount.Status.CONNECTED
    assert len(published_on(control, account)) == 1


def test_a_revoked_authorisation_pauses_the_entry_and_flags_the_account(
    accounts: dict[str, SocialAccount], control: SandboxClient, processes: StartProcess
) -> None:
    account = accounts["x"]
    control.fault("x", "revoked_token")
    post = compose(account, "Nobody will see this")
    processes("worker")

    wait_for(lambda: entry_of(post).status == Status.PAUSED, timeout=30, what="the entry to pause")

    account.refresh_from_db()
    assert account.status == SocialAccount.Status.NEEDS_RECONNECT
    assert entry_of(post).last_error_message
    assert published_on(control, account) == []
