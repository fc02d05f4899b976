"""The Posts page in a browser: a date that failed for want of a connected account is fixed from
the page (reconnect, then retry in one click); deleting asks first, and says what stays live."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Dialog, expect
from pytest_django.live_server_helper import LiveServer

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.support.browser import OpenPage, needs_chromium, save_screenshot
from tests.support.showcase import Showcase

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]
REVOKED = "X revoked SoSocial's access: connect the account again."


def connected_through_the_sandbox(user: User) -> SocialAccount:
    """Connect the sandbox's X account the way a person does, so reconnecting finds the same one."""
    browser = Client()
    browser.force_login(user)
    start = browser.get("/social-accounts/connect/x/")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlparse(approved.headers["Location"])
    browser.get(f"{callback.path}?{callback.query}")
    return SocialAccount.objects.get(owner=user, platform="x")


@pytest.mark.usefixtures("pointed_at_sandbox")
def test_a_failed_date_is_fixed_by_reconnecting_then_one_retry(
    open_page: OpenPage, live_server: LiveServer, alice: User
) -> None:
    account = connected_through_the_sandbox(alice)
    account.mark_needs_reconnect(REVOKED)
    post = Post.objects.create(owner=alice, account=account, text="Doors open at nine")
    when = timezone.now() - timedelta(hours=1)
    failed = ScheduleEntry.objects.create(
        post=post, scheduled_at=when, next_attempt_at=when, status="failed",
        last_error_code="x_401", last_error_message=REVOKED,
    )  # fmt: skip
    page = open_page(user=alice)
    page.goto("/")
    expect(page.locator(f"#entry-{failed.pk} .reason")).to_have_text(REVOKED)

    page.locator("#attention").get_by_role("link", name=f"Reconnect {account.display_name}").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_text(f"Connected {account.display_name}.")).to_be_visible()
    expect(page.locator(f"#entry-{failed.pk} .reason")).to_contain_text("is connected again: retry")
    page.locator(f"#retry-account-{account.pk}").get_by_role("button", name="Retry 1 failed date").click()

    expect(page.get_by_text("Sending 1 date again now.")).to_be_visible()
    failed.refresh_from_db()
    assert failed.status == "pending"
    expect(page.locator("#attention")).to_have_count(0)


def test_deleting_a_published_post_says_it_stays_live_and_deletes_once_confirmed(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = open_page(user=showcase.user)
    page.goto("/")
    questions: list[str] = []

    def answer(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.locator(f"#post-{showcase.launch.pk}").get_by_role("button", name="Delete").click()

    expect(page.get_by_text("Deleted.")).to_be_visible()
    assert questions == [
        "Delete this post from SoSocial? What was already published stays live on X; delete it there "
        "if you want it gone."
    ]
    assert not Post.objects.filter(pk=showcase.launch.pk).exists()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_needs_attention_comes_first_with_each_fix_beside_it(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase, width: str
) -> None:
    page = open_page(user=showcase.user, width=width)
    page.goto("/")

    attention = page.locator("#attention")
    expect(attention.get_by_role("link", name="Reconnect bakerytok")).to_be_visible()
    expect(attention.get_by_role("button", name="Retry now")).to_be_visible()
    expect(attention.get_by_role("button", name="Mark published")).to_be_visible()
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("Needs attention")
    assert headings[1:] == ["Upcoming", "Drafts", "Sent and past"]
    save_screenshot(page, f"posts-attention-{width}")
