"""The notification list in a real browser: a failure appears there, and in the header's count,
without a reload. Runs a worker subprocess on the test database and the sink as platform "x"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post
from tests.integration.conftest import Process
from tests.support.browser import OpenPage, needs_chromium, sign_in
from tests.support.sink import Fault, SinkServer

SETTLE_MS = 30_000

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]
StartProcess = Callable[[str], Process]


def test_a_failure_appears_in_the_notification_list_without_a_reload(
    open_page: OpenPage,
    live_server: LiveServer,
    alice: User,
    alices_x: SocialAccount,
    sink: SinkServer,
    processes: StartProcess,
) -> None:
    processes("worker")
    page = open_page()
    sign_in(page, username="alice", password="alice-password-1")
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#notifications")).to_contain_text("Nothing to report.")
    page.evaluate("window.stillTheSamePage = true")

    post = Post.objects.create(owner=alice, account=alices_x, text="Doors open at nine")
    [entry] = services.schedule_post(post=post, when=[datetime.now(UTC) + timedelta(seconds=2)])
    sink.inject(Fault(kind="status", status=400, reference=entry.reference))

    notification = page.locator(".notification-date_failed")
    expect(notification).to_be_visible(timeout=SETTLE_MS)
    expect(notification.locator(".title")).to_contain_text("Doors open at nine")
    expect(notification.locator(".body")).to_contain_text("The sink refused the post.")
    assert page.evaluate("window.stillTheSamePage") is True, "the page reloaded instead of refreshing"

    notification.locator("a.action").click()
    page.wait_for_url(f"{live_server.url}/?status=failed#entry-{entry.pk}")
    expect(page.locator(f"#entry-{entry.pk} .status")).to_have_text("Failed")
