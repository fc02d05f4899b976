"""The notification list in a real browser: a failure appears there, and in the header's count,
without a reload. Runs a worker subprocess on the test database and the sink as platform "x"."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post
from tests.integration.conftest import Process
from tests.support.sink import Fault, SinkServer

CHROMIUM = Path("/usr/bin/chromium")
SETTLE_MS = 30_000

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install chromium); CI always runs this test",
    ),
]
StartProcess = Callable[[str], Process]


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    # As in test_browser.py: Playwright's sync API runs an event loop in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()
        connections.close_all()


def test_a_failure_appears_in_the_notification_list_without_a_reload(
    browser_page: Page,
    live_server: LiveServer,
    alice: User,
    alices_x: SocialAccount,
    sink: SinkServer,
    processes: StartProcess,
) -> None:
    processes("worker")
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{live_server.url}/")
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
