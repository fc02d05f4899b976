"""The Posts page in a real browser: Chromium signs in, composes, and watches dates settle live.

Runs the integration stack (a Celery worker and beat subprocess on the test database, the sink as
platform "x") behind pytest-django's live server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.integration.conftest import Process, wait_for
from tests.support.browser import OpenPage, needs_chromium, sign_in
from tests.support.sink import Fault, SinkServer

# Dates are a few seconds ahead, with retries and sweeps shortened: 30 s is ample.
SETTLE_MS = 30_000

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]
StartProcess = Callable[[str], Process]


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.usefixtures("fast_sweep")
def test_a_composed_post_publishes_live_and_a_refused_date_is_retried_from_the_page(
    open_page: OpenPage,
    live_server: LiveServer,
    alice: User,
    alices_x: SocialAccount,
    sink: SinkServer,
    processes: StartProcess,
) -> None:
    processes("worker")
    processes("beat")
    page = open_page()

    sign_in(page, username="alice", password="alice-password-1")

    page.goto(f"{live_server.url}/compose/")
    page.check(f"input[name=accounts][value='{alices_x.pk}']")
    page.fill("#id_text", "Hello from the browser")
    expect(page.locator("#char-counts [data-platform=x]")).to_have_text("X: 22 / 280")
    page.select_option("#id_time_zone", "UTC")
    page.get_by_role("button", name="Add another date").click()
    rows = page.locator(".date-rows input")
    # Dates a few seconds ahead need seconds, which the pickers hide unless their step allows them.
    rows.evaluate_all("inputs => inputs.forEach(input => { input.step = 1; })")
    now = datetime.now(UTC)
    first_at, second_at = now + timedelta(seconds=6), now + timedelta(seconds=12)
    rows.nth(0).fill(at(first_at))
    rows.nth(1).fill(at(second_at))
    page.click("button:has-text('Schedule')")
    page.wait_for_url(f"{live_server.url}/")

    first, second = ScheduleEntry.objects.filter(post__owner=alice).order_by("scheduled_at")
    assert Post.objects.filter(owner=alice).count() == 1
    # The platform refuses the second date's first attempt, for good (a 400, not a retry).
    sink.inject(Fault(kind="status", status=400, reference=second.reference))
    page.evaluate("window.stillTheSamePage = true")

    expect(page.locator(f"#entry-{first.pk} .status")).to_have_text("Published", timeout=SETTLE_MS)
    live_link = page.locator(f"#entry-{first.pk} .details a")
    expect(live_link).to_have_attribute("href", f"{sink.url}/posts/1")
    expect(page.locator(f"#entry-{second.pk} .status")).to_have_text("Failed", timeout=SETTLE_MS)
    expect(page.locator(f"#entry-{second.pk} .reason")).to_have_text("The sink refused the post.")
    assert page.evaluate("window.stillTheSamePage") is True, "the page reloaded instead of refreshing"

    page.locator(f"#entry-{second.pk}").get_by_role("button", name="Retry now").click()

    expect(page.locator(f"#entry-{second.pk} .status")).to_have_text("Published", timeout=SETTLE_MS)
    wait_for(lambda: len(sink.posts) == 2, timeout=5, what="the sink to hold both posts")
    assert [post.reference for post in sink.posts] == [first.reference, second.reference]
