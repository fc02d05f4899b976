"""On time with media, through the Procfile's workers (a publish worker on `publish`, a background
worker on `prepare,maintenance`) and the sandbox. Judged from the sandbox's own record: what it
received and when (`received_at`, its clock, before its emulated latency), and its containers'
processing; never from what the client says. Orderings and call sets only, no wall time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from platforms.meta import PERMANENT_SUBCODES
from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from sandbox.state import InstagramContainer
from tests.integration.conftest import StartProcess, wait_for
from tests.support.media import video_bytes
from tests.support.sandbox_plugin import connect_sandbox_account, sandbox_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = ScheduleEntry.Status
Media = ScheduleEntry.MediaStatus
# Instagram's endpoints as the sandbox names them in its record of requests.
CREATE, STATUS, PUBLISH, MEDIA = "create_container", "container_status", "publish", "media"


@pytest.fixture
def platform_env(sandbox: SandboxServer, pointed_at_sandbox: None) -> dict[str, str]:
    """The sandbox here, not the sink tests/integration/conftest.py gives the other modules."""
    return sandbox_env(sandbox)


@pytest.fixture
def alices_instagram(alice: User, control: SandboxClient) -> SocialAccount:
    return connect_sandbox_account(control, owner=alice, platform="instagram", name="Alice's bakery")


@pytest.fixture
def alices_x(alice: User, control: SandboxClient) -> SocialAccount:
    return connect_sandbox_account(control, owner=alice, platform="x", name="Alice")


@pytest.fixture
def procfile_workers(processes: StartProcess) -> Callable[..., None]:
    """The Procfile's two worker processes (background with a small concurrency)."""

    def start(*, publish_slots: int = 2) -> None:
        processes("worker_publish", concurrency=publish_slots)
        processes("worker_background", concurrency=2)

    return start


def schedule_reel(account: SocialAccount, caption: str, *, at: datetime) -> ScheduleEntry:
    reel = SimpleUploadedFile("reel.mp4", video_bytes(seconds=12), content_type="video/mp4")
    post = services.compose_post(
        owner_id=account.owner_id, account=account, text=caption, when=[at], media=[reel]
    )
    return post.entries.get()


def schedule_text(account: SocialAccount, text: str, *, at: datetime) -> ScheduleEntry:
    post = Post.objects.create(owner_id=account.owner_id, account=account, text=text)
    (entry,) = services.schedule_post(post=post, when=[at])
    return entry


def fresh(entry: ScheduleEntry) -> ScheduleEntry:
    return ScheduleEntry.objects.get(pk=entry.pk)


def received(sandbox: SandboxServer, platform: str) -> list[dict[str, Any]]:
    """The sandbox's record of the requests it received for `platform`, in arrival order."""
    with sandbox.state.lock:
        log = [dict(made) for made in sandbox.state.request_log if made["platform"] == platform]
    return sorted(log, key=lambda made: float(made["received_at"]))


def named(requests: list[dict[str, Any]], endpoint: str) -> list[dict[str, Any]]:
    return [made for made in requests if endpoint in made["endpoints"]]


def the_container(sandbox: SandboxServer) -> InstagramContainer:
    with sandbox.state.lock:
        sandbox.state.settle()
        (container,) = sandbox.state.instagram_containers.values()
        return container


def test_a_status_check_never_sleeps_in_a_publish_slot(
    alices_instagram: SocialAccount,
    alices_x: SocialAccount,
    control: SandboxClient,
    sandbox: SandboxServer,
    procfile_workers: Callable[..., None],
) -> None:
    control.configure(instagram_video_seconds=15.0)  # a slow container: a reel Instagram processes
    procfile_workers(publish_slots=1)
    due = datetime.now(UTC) + timedelta(seconds=3)
    # The reel first in the one publish slot's queue, the text post right behind it.
    reel = schedule_reel(alices_instagram, "Our new reel", at=due)
    text = schedule_text(alices_x, "Fresh bread at nine", at=due + timedelta(milliseconds=200))

    wait_for(
        lambda: fresh(reel).status == Status.PUBLISHED and fresh(text).status == Status.PUBLISHED,
        timeout=50,
        what="the reel and the text post to publish",
    )

    container = the_container(sandbox)
    assert container.ready_at is not None
    [x_create] = named(received(sandbox, "x"), "create_post")
    instagram = received(sandbox, "instagram")
    [media_publish] = named(instagram, PUBLISH)
    # The text post reached the platform while Instagram was still processing the reel, and the
    # reel went out once, only after its container finished.
    assert x_create["received_at"] < container.ready_at
    assert media_publish["received_at"] >= container.ready_at
    assert media_publish["received_at"] > x_create["received_at"]
    assert [post["text"] for post in control.posts("x")] == ["Fresh bread at nine"]
    [live_reel] = control.posts("instagram")
    assert (live_reel["kind"], live_reel["text"]) == ("reel", "Our new reel")
    assert fresh(reel).platform_post_id == str(live_reel["id"])


@pytest.mark.usefixtures("fast_sweep")
def test_a_reel_prepared_ahead_is_ready_before_its_time_and_then_only_media_publish_is_called(
    alices_instagram: SocialAccount,
    control: SandboxClient,
    sandbox: SandboxServer,
    procfile_workers: Callable[..., None],
    processes: StartProcess,
) -> None:
    control.configure(instagram_video_seconds=2.0)
    procfile_workers()
    processes("beat")  # the sweep sends the publish message when the date enters the horizon
    reel = schedule_reel(alices_instagram, "Baked ahead", at=datetime.now(UTC) + timedelta(seconds=25))
    assert fresh(reel).media_status == Media.PREPARING

    wait_for(lambda: fresh(reel).media_status == Media.READY, timeout=25, what="the reel's media to be ready")
    seen_ready = timezone.now()
    container = the_container(sandbox)
    assert seen_ready < reel.scheduled_at
    assert container.status_code == "FINISHED"
    prepared = fresh(reel)
    assert prepared.status == Status.PENDING
    assert prepared.prepared_until is not None
    assert prepared.prepared_until > reel.scheduled_at
    assert prepared.platform_state["container_id"] == container.id

    wait_for(lambda: fresh(reel).status == Status.PUBLISHED, timeout=30, what="the reel to publish")

    instagram = received(sandbox, "instagram")
    moment = reel.scheduled_at.timestamp()
    ahead = [made for made in instagram if made["received_at"] < moment]
    at_the_time = [made for made in instagram if made["received_at"] >= moment]
    # Ahead: the container made once and its status read until FINISHED; nothing published.
    assert [made["endpoints"] for made in named(ahead, CREATE)] == [[CREATE]]
    assert {endpoint for made in ahead for endpoint in made["endpoints"]} == {CREATE, STATUS, "node"}
    assert named(ahead, STATUS)[-1]["received_at"] >= container.ready_at
    # At the time: media_publish, then the new post's permalink read (the client reads it after).
    assert [(made["method"], made["endpoints"]) for made in at_the_time] == [
        ("POST", sorted(["create_post", PUBLISH])),
        ("GET", sorted([MEDIA, "node"])),
    ]
    published = fresh(reel)
    assert at_the_time[0]["path"].endswith(f"/{alices_instagram.platform_account_id}/media_publish")
    assert at_the_time[1]["path"].endswith(f"/{published.platform_post_id}")
    [live_reel] = control.posts("instagram")
    assert published.platform_post_id == str(live_reel["id"])
    assert published.platform_url == live_reel["permalink"]


def test_a_preparation_failure_is_on_the_posts_page_before_the_time(
    alice: User,
    alices_instagram: SocialAccount,
    control: SandboxClient,
    sandbox: SandboxServer,
    procfile_workers: Callable[..., None],
) -> None:
    control.configure(instagram_video_seconds=2.0)
    # Instagram takes the container, then fails processing it: unsupported video format.
    control.fault("instagram", "processing_failed", CREATE, match_text="A reel Instagram refuses")
    procfile_workers()
    reel = schedule_reel(
        alices_instagram, "A reel Instagram refuses", at=datetime.now(UTC) + timedelta(minutes=3)
    )

    wait_for(lambda: fresh(reel).status == Status.FAILED, timeout=30, what="the preparation to fail")
    browser = Client()
    browser.force_login(alice)
    page = browser.get(reverse("publishing:post_list")).content.decode()
    looked_at = timezone.now()

    reason = PERMANENT_SUBCODES[2207026]
    failed = fresh(reel)
    assert looked_at < reel.scheduled_at
    assert reason in failed.last_error_message
    assert f'<span class="reason">{escape(failed.last_error_message)}</span>' in page
    assert the_container(sandbox).status_code == "ERROR"
    assert not named(received(sandbox, "instagram"), PUBLISH)
    assert control.posts("instagram") == []
