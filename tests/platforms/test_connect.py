from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from tests.support.fakes import FakeClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_browser(alice: User) -> Client:
    browser = Client()
    browser.force_login(alice)
    return browser


def start_login(browser: Client) -> str:
    response = browser.get("/social-accounts/connect/x/")
    assert response.status_code == 302
    return parse_qs(urlparse(response["Location"]).query)["state"][0]


def test_connecting_stores_the_account_with_encrypted_tokens(
    alices_browser: Client, alice: User, fake_x: FakeClient
) -> None:
    state = start_login(alices_browser)

    response = alices_browser.get(
        "/social-accounts/connect/x/callback/", {"state": state, "code": "good-code"}
    )

    assert response.status_code == 302
    account = SocialAccount.objects.get(owner=alice)
    assert (account.platform, account.platform_account_id, account.access_token) == ("x", "fake-1", "tok")
    assert account.status == SocialAccount.Status.CONNECTED


def test_a_callback_with_a_bad_state_is_refused(alices_browser: Client, fake_x: FakeClient) -> None:
    start_login(alices_browser)

    response = alices_browser.get(
        "/social-accounts/connect/x/callback/", {"state": "forged-state", "code": "good-code"}
    )

    assert response.status_code == 400
    assert b"could not be verified" in response.content
    assert not SocialAccount.objects.exists()


def test_a_callback_without_a_login_started_is_refused(alices_browser: Client, fake_x: FakeClient) -> None:
    response = alices_browser.get("/social-accounts/connect/x/callback/", {"state": "s", "code": "good-code"})

    assert response.status_code == 400


def test_a_refused_code_shows_the_platforms_reason(alices_browser: Client, fake_x: FakeClient) -> None:
    state = start_login(alices_browser)

    response = alices_browser.get(
        "/social-accounts/connect/x/callback/", {"state": state, "code": "bad"}, follow=True
    )

    assert b"The platform refused the login." in response.content
    assert not SocialAccount.objects.exists()


def test_reconnecting_replaces_the_tokens_of_the_same_account(
    alices_browser: Client, alices_account: SocialAccount, fake_x: FakeClient
) -> None:
    SocialAccount.objects.filter(pk=alices_account.pk).update(platform_account_id="fake-1")
    alices_account.mark_needs_reconnect("expired")
    state = start_login(alices_browser)

    alices_browser.get("/social-accounts/connect/x/callback/", {"state": state, "code": "good-code"})

    account = SocialAccount.objects.get(pk=alices_account.pk)
    assert (account.access_token, account.status) == ("tok", SocialAccount.Status.CONNECTED)
    assert SocialAccount.objects.count() == 1


def test_bob_cannot_disconnect_alices_account(bob: User, alices_account: SocialAccount) -> None:
    browser = Client()
    browser.force_login(bob)

    response = browser.post(f"/social-accounts/{alices_account.pk}/disconnect/")

    assert response.status_code == 404
    assert SocialAccount.objects.get(pk=alices_account.pk).access_token == "alice-access-token"


def test_disconnecting_forgets_the_tokens(alices_browser: Client, alices_account: SocialAccount) -> None:
    alices_browser.post(f"/social-accounts/{alices_account.pk}/disconnect/")

    account = SocialAccount.objects.get(pk=alices_account.pk)
    assert (account.access_token, account.refresh_token) == ("", "")
    assert account.status == SocialAccount.Status.NEEDS_RECONNECT


def test_the_accounts_page_lists_only_my_accounts_and_never_a_token(
    alices_browser: Client, alices_account: SocialAccount, bob: User
) -> None:
    SocialAccount.objects.create(owner=bob, platform="x", platform_account_id="x-bob", display_name="@bob")

    page = alices_browser.get("/social-accounts/").content.decode()

    assert "@alice" in page
    assert "@bob" not in page
    assert "alice-access-token" not in page
