"""Preparing ahead through the real clients against the sandbox: at the time, only the final call."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from platforms.base import AccountCredentials, MediaItem, NotReady
from platforms.instagram import InstagramClient
from sandbox.client import SandboxClient
from tests.platforms.conftest import publish_request

pytestmark = pytest.mark.usefixtures("pointed_at_sandbox")

REEL = MediaItem(url="https://media.example.com/reel.mp4", content_type="video/mp4")


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return {"instagram_video_seconds": 60.0}  # a reel as slow as on Instagram; the clock is moved


def test_a_reel_prepared_ahead_is_published_with_media_publish_alone(control: SandboxClient) -> None:
    alice = control.create_account("instagram", "Alice", username="alice.reels")
    account = AccountCredentials(
        platform="instagram", account_id=alice["account_id"], access_token=alice["access_token"]
    )
    request = publish_request(account, "Our new reel", scheduled_at=datetime.now(UTC), media=(REEL,))
    client = InstagramClient()
    progress: dict[str, str] = {}

    steps = 0
    while steps < 20:  # as the pipeline does: prepare, and after NotReady wait its check_in
        steps += 1
        try:
            ready = client.prepare(replace(request, progress=dict(progress)), checkpoint=progress.update)
        except NotReady as waiting:
            control.advance(waiting.check_in.total_seconds())
            continue
        break
    before = len(control.requests_made("instagram"))
    result = client.publish(replace(request, progress=dict(progress)), checkpoint=progress.update)

    assert ready.expires_at is not None
    assert steps > 2  # made, then read while Instagram processed, then FINISHED
    at_the_time = [made["endpoints"] for made in control.requests_made("instagram")[before:]]
    assert "publish" in at_the_time[0]  # media_publish first, then only the permalink read
    assert all("publish" not in endpoints for endpoints in at_the_time[1:])
    assert result.platform_post_id
    [post] = control.posts("instagram", account_id=alice["account_id"])
    assert post["kind"] == "reel"
