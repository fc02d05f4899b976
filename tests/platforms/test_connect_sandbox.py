"""The platforms' login flow, through the real clients, against the sandbox over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pointed_at_sandbox")]


@pytest.fixture
def alices_browser(alice: User) -> Client:
    browser = Client()
    browser.force_login(alice)
    return browser


def log_in_at_platform(browser: Client, platform: str) -> str:
    """Start connecting, let the platform approve, and return the callback SoSocial gets back."""
    start = browser.get(f"/social-accounts/connect/{platform}/")
    assert start.status_code == 302
    approved = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code in {302, 303}
    callback = urlparse(approved.headers["Location"])
    assert callback.path == f"/social-accounts/connect/{platform}/callback/"
    return f"{callback.path}?{callback.query}"


@pytest.mark.parametrize("platform", ["facebook", "instagram", "x", "tiktok"])
def test_connecting_through_the_sandbox_login_stores_working_accounts(
    alices_browser: Client, alice: User, platform: str
) -> None:
    callback = log_in_at_platform(alices_browser, platform)

    response = alices_browser.get(callback)

    assert response.status_code == 302
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
