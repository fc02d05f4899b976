"""The accounts page's health column, and signing in and out through the real forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from publishing.models import Post, PublishAttempt, ScheduleEntry

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def log_attempt(post: Post, outcome: str, finished_at: datetime) -> None:
    entry = ScheduleEntry.objects.create(post=post, scheduled_at=finished_at, next_attempt_at=finished_at)
    PublishAttempt.objects.create(
        entry=entry,
        dispatch_version=0,
        number=1,
        started_at=finished_at,
        finished_at=finished_at,
        outcome=outcome,
    )


def account_row(page: str, account: SocialAccount) -> str:
    start = page.index(f'id="account-{account.pk}"')
    return page[start : page.index("</article>", start)]


@time_machine.travel(NOW, tick=False)
def test_each_account_counts_its_failures_of_the_last_day(alices_browser: Client, alices_post: Post) -> None:
    log_attempt(alices_post, "failed", NOW - timedelta(hours=2))
    log_attempt(alices_post, "retry", NOW - timedelta(hours=3))
    log_attempt(alices_post, "published", NOW - timedelta(hours=1))
    log_attempt(alices_post, "failed", NOW - timedelta(days=2))

    response = alices_browser.get("/social-accounts/")

    [account] = response.context["accounts"]
    assert account.failures_last_24h == 2
    row = account_row(response.content.decode(), account)
    assert f'class="failures warning"><a href="/?account={account.pk}">2</a>' in row


@time_machine.travel(NOW, tick=False)
def test_a_token_about_to_lapse_is_flagged_and_an_expired_one_asks_for_reconnecting(
    alices_browser: Client, alice: User
) -> None:
    soon = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="1", display_name="@soon",
        token_expires_at=NOW + timedelta(hours=5),
    )  # fmt: skip
    expired = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="2", display_name="@expired",
        token_expires_at=NOW - timedelta(hours=1),
    )  # fmt: skip
    later = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="3", display_name="@later",
        token_expires_at=NOW + timedelta(days=30),
    )  # fmt: skip

    page = alices_browser.get("/social-accounts/").content.decode()

    assert "(in 5\xa0hours): reconnect soon" in account_row(page, soon)
    assert "expired 2026-11-28 11:00: reconnect" in account_row(page, expired)
    assert "warning" not in account_row(page, later).split('class="token"')[1].split("</dd>")[0]


@time_machine.travel(NOW, tick=False)
def test_a_two_hour_token_with_a_refresh_token_is_healthy_until_the_account_needs_reconnecting(
    alices_browser: Client, alice: User
) -> None:
    x = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="1", display_name="@x",
        refresh_token="r", token_expires_at=NOW + timedelta(hours=2),
    )  # fmt: skip
    tiktok = SocialAccount.objects.create(
        owner=alice, platform="tiktok", platform_account_id="2", display_name="tok",
        refresh_token="r", token_expires_at=NOW - timedelta(minutes=5),
    )  # fmt: skip

    page = alices_browser.get("/social-accounts/").content.decode()

    for account in (x, tiktok):
        token = account_row(page, account).split('class="token"')[1].split("</dd>")[0]
        assert "renews itself" in token
        assert "warning" not in token
    tiktok.mark_needs_reconnect("TikTok revoked SoSocial's access.")
    page = alices_browser.get("/social-accounts/").content.decode()
    assert "expired 2026-11-28 11:55: reconnect" in account_row(page, tiktok)


def test_an_account_that_needs_reconnecting_says_why(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    alices_account.mark_needs_reconnect("X revoked SoSocial's access.")

    page = alices_browser.get("/social-accounts/").content.decode()

    assert "Needs reconnecting: X revoked SoSocial&#x27;s access." in account_row(page, alices_account)


def test_the_accounts_page_lists_only_my_accounts(alices_browser: Client, bob: User) -> None:
    SocialAccount.objects.create(owner=bob, platform="x", platform_account_id="b", display_name="@bobby")

    assert "@bobby" not in alices_browser.get("/social-accounts/").content.decode()


def test_signing_in_and_out_through_the_forms(alice: User) -> None:
    browser = Client()

    signed_in = browser.post("/accounts/login/", {"username": "alice", "password": "alice-password-1"})
    posts_page = browser.get("/")
    signed_out = browser.post("/accounts/logout/")

    assert signed_in["Location"] == "/"
    assert posts_page.status_code == 200
    assert signed_out["Location"] == "/accounts/login/"
    assert browser.get("/").status_code == 302
