"""The platforms' login flow, through the real clients, against the sandbox over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from tests.support.logins import connect, log_in_at_platform

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pointed_at_sandbox")]


@pytest.fixture
def alices_browser(alice: User) -> Client:
    browser = Client()
    browser.force_login(alice)
    return browser


@pytest.mark.parametrize("platform", ["facebook", "instagram", "x", "tiktok"])
def test_connecting_through_the_sandbox_login_stores_working_accounts(
    alices_browser: Client, alice: User, platform: str
) -> None:
    connect(alices_browser, platform)  # choosing every Page where a login gives several

    accounts = list(SocialAccount.objects.filter(owner=alice, platform=platform))
    assert accounts
    assert all(account.access_token and account.status == "connected" for account in accounts)


@pytest.mark.parametrize("platform", ["facebook", "x", "tiktok"])
def test_a_callback_whose_state_was_tampered_with_is_refused(alices_browser: Client, platform: str) -> None:
    callback = urlparse(log_in_at_platform(alices_browser, platform))
    query = parse_qs(callback.query)
    query["state"] = ["tampered"]

    response = alices_browser.get(callback.path, {key: values[0] for key, values in query.items()})

    assert response.status_code == 400
    assert not SocialAccount.objects.exists()


def test_a_login_with_several_pages_connects_only_the_pages_chosen(
    alices_browser: Client, alice: User
) -> None:
    chooser = alices_browser.get(log_in_at_platform(alices_browser, "facebook"))["Location"]
    choices = alices_browser.get(chooser).context["choices"]
    assert len(choices) > 1
    assert not SocialAccount.objects.exists()  # nothing connected before the choice

    refused = alices_browser.post(chooser, {})
    response = alices_browser.post(chooser, {"account_id": [choices[0]["account_id"]]})

    assert refused.context["error"] == "Choose at least one."
    assert response["Location"] == "/social-accounts/"
    [page] = SocialAccount.objects.filter(owner=alice)
    assert page.platform_account_id == choices[0]["account_id"]
    assert alices_browser.get(chooser)["Location"] == "/social-accounts/"  # the choice is used up


def test_connecting_from_the_posts_page_returns_there(alices_browser: Client, alice: User) -> None:
    start = alices_browser.get("/social-accounts/connect/x/?next=/%3Fpage%3D1")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlparse(approved.headers["Location"])

    response = alices_browser.get(f"{callback.path}?{callback.query}")

    assert response["Location"] == "/?page=1"
    assert SocialAccount.objects.filter(owner=alice, platform="x").exists()


def test_a_next_address_on_another_site_is_ignored_after_connecting(alices_browser: Client) -> None:
    start = alices_browser.get("/social-accounts/connect/x/?next=https://evil.example/")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlparse(approved.headers["Location"])

    assert alices_browser.get(f"{callback.path}?{callback.query}")["Location"] == "/social-accounts/"
