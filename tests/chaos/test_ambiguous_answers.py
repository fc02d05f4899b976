"""Answers that do not say whether a post was made, on every call that can publish, on every
platform: the platform makes the post and then answers a 5xx ("commit then 5xx"), drops the
connection ("commit then drop"), or answers after the worker's time limit ("commit then slow").
Each date must end with its post on the sandbox exactly once and the entry published with its
link: the client reports the outcome as unknown, and reconciliation finds the post.

Judged from the sandbox's own record (its published posts with each post's text).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox.client import SandboxClient
from tests.chaos.conftest import BURST_SANDBOX, CHAOS, StartProcess, wait_settled
from tests.integration.conftest import SHORT_INTERVALS
from tests.support.media import image_bytes, video_bytes
from tests.support.sandbox_plugin import connect_sandbox_account

pytestmark = CHAOS
Status = ScheduleEntry.Status
JPEG = image_bytes("JPEG", (400, 400))
VIDEO = video_bytes(brand=b"mp42", padding=4096)
# The worker's soft time limit ends an attempt whose answer comes later than this, mid-request.
TIME_LIMIT = float(SHORT_INTERVALS["CELERY_TASK_SOFT_TIME_LIMIT"])
# Each kind, with what the sandbox needs to do it: the post is made in every case.
AMBIGUOUS = {
    "commit_then_error": {},
    "commit_then_drop": {},
    "slow": {"seconds": TIME_LIMIT + 2},
}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    # Processing done at once, so a publish that waits for it stays inside the time limit.
    return {
        **BURST_SANDBOX,
        "facebook_video_seconds": 0.0,
        "instagram_image_seconds": 0.0,
        "tiktok_processing_seconds": 0.0,
        "tiktok_moderation_seconds": 0.0,
        "tiktok_private_post_ids": True,
    }


def account_on(platform: str, alice: User, control: SandboxClient) -> SocialAccount:
    return connect_sandbox_account(control, owner=alice, platform=platform, name=f"Alice on {platform}")


def compose(account: SocialAccount, text: str, media: Sequence[tuple[str, bytes, str]] = ()) -> Post:
    options = {"privacy_level": "SELF_ONLY"} if account.platform == "tiktok" else {}
    return services.compose_post(
        owner_id=account.owner_id,
        account=account,
        text=text,
        when=[datetime.now(UTC) + timedelta(seconds=2)],
        options=options,
        media=[SimpleUploadedFile(name, content, content_type=kind) for name, content, kind in media],
    )


def one_per_kind(
    control: SandboxClient,
    account: SocialAccount,
    call: str,
    template: str,
    media: Sequence[tuple[str, bytes, str]] = (),
) -> list[Post]:
    """A post for each ambiguous kind, that kind armed on `call` for the post's text
    (`template` with the kind in place of `{kind}`)."""
    posts = []
    for kind, params in AMBIGUOUS.items():
        text = template.format(kind=kind)
        control.fault(account.platform, kind, call, match_text=text, **params)
        posts.append(compose(account, text, media))
    return posts


def photo(name: str = "bread.jpg") -> tuple[str, bytes, str]:
    return (name, JPEG, "image/jpeg")


def video() -> tuple[str, bytes, str]:
    return ("clip.mp4", VIDEO, "video/mp4")


def run_and_assert_each_published_once_with_its_link(
    processes: StartProcess,
    posts: list[Post],
    control: SandboxClient,
    account: SocialAccount,
    *,
    timeout: float = 90,
) -> None:
    """Starts the worker and beat on the posts composed so far, and judges the outcome."""
    processes("worker")
    processes("beat")
    entries = [post.entries.get() for post in posts]
    wait_settled(entries, timeout=timeout)
    live = control.posts(account.platform, account_id=account.platform_account_id, status="published")
    for post in posts:
        entry = post.entries.get()
        copies = [item for item in live if item["text"] == post.text]
        assert len(copies) == 1, f"{post.text!r} is on {account.platform} {len(copies)} times"
        assert entry.status == Status.PUBLISHED, (post.text, entry.status, entry.last_error_message)
        assert entry.platform_url, post.text
        assert entry.platform_post_id, post.text
    assert control.faults() == []  # every fault was met by the call it was aimed at


def test_x_post_create_committed_then_unanswered_is_published_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("x", alice, control)
    posts = one_per_kind(control, account, "create_post", "On X, {kind} on the create")
    run_and_assert_each_published_once_with_its_link(processes, posts, control, account)


def test_facebook_feed_photo_album_and_video_committed_then_unanswered_are_published_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("facebook", alice, control)
    shapes: dict[str, list[tuple[str, bytes, str]]] = {
        "feed": [],
        "photo": [photo()],
        "album": [photo("a.jpg"), photo("b.jpg")],
        "video": [video()],
    }
    posts = []
    for shape, media in shapes.items():
        template = f"On Facebook, a {shape} post, {{kind}} on the call that publishes it"
        posts += one_per_kind(control, account, "create_post", template, media)

    run_and_assert_each_published_once_with_its_link(processes, posts, control, account, timeout=120)


def test_instagram_media_publish_committed_then_unanswered_is_published_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("instagram", alice, control)
    # media_publish names only the container, so the faults are met in arrival order, one each.
    posts = []
    for kind, params in AMBIGUOUS.items():
        control.fault("instagram", kind, "publish", **params)
        posts.append(compose(account, f"On Instagram, one of three ({kind} armed)", [photo()]))
    run_and_assert_each_published_once_with_its_link(processes, posts, control, account)


def test_an_instagram_publish_that_lands_after_the_time_limit_is_published_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("instagram", alice, control)
    control.fault("instagram", "commit_late", "publish", seconds=TIME_LIMIT + 4)
    post = compose(account, "On Instagram, a publish slower than the worker", [photo()])

    run_and_assert_each_published_once_with_its_link(processes, [post], control, account)


def test_tiktok_video_init_and_last_chunk_committed_then_unanswered_are_published_once(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("tiktok", alice, control)
    posts = one_per_kind(control, account, "video_init", "On TikTok, {kind} on the video init", [video()])
    # The upload carries no text: these are met by the first three uploads, in arrival order.
    for kind, params in AMBIGUOUS.items():
        control.fault("tiktok", kind, "upload", method="PUT", **params)
        posts.append(compose(account, f"On TikTok, one of three ({kind} armed on a last chunk)", [video()]))
    run_and_assert_each_published_once_with_its_link(processes, posts, control, account, timeout=120)


@pytest.mark.parametrize("kind", list(AMBIGUOUS))
def test_a_tiktok_photo_init_without_an_answer_is_left_to_the_user_honestly(
    kind: str, alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    # TikTok names a photo post only by the publish_id its init answers with; without it there is
    # nothing SoSocial may ask about (no listing of the account's posts with these scopes). The
    # honest end is "unconfirmed, check the account", never "published" or "sent again".
    account = account_on("tiktok", alice, control)
    text = f"On TikTok, photos, {kind} on the init"
    control.fault("tiktok", kind, "photo_init", match_text=text, **AMBIGUOUS[kind])
    post = compose(account, text, [photo("a.jpg"), photo("b.jpg")])
    processes("worker")
    processes("beat")

    entry = post.entries.get()
    wait_settled([entry], timeout=60)
    entry.refresh_from_db()
    live = control.posts("tiktok", account_id=account.platform_account_id)
    assert len(live) == 1  # made once, never sent again
    assert entry.status == Status.UNCONFIRMED
    assert entry.reconciled_at is not None
    assert "cannot tell whether TikTok accepted these photos" in entry.last_error_message
    assert control.faults() == []
