"""Brute force on the three ways in (login page, admin login, /api/token/) is locked out, says so, and
ends after the cool-off; API tokens are stored as digests, expire, and are revoked from the profile."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from pytest_django import Settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db

RIGHT = "alice-password-1"


@pytest.fixture(autouse=True)
def three_tries(settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client: Client, path: str, password: str, address: str = "10.0.0.1") -> Any:
    if path == "/api/token/":
        return client.post(
            path,
            {"username": "alice", "password": password},
            content_type="application/json",
            REMOTE_ADDR=address,
        )
    return client.post(path, {"username": "alice", "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/api/token/"])
def test_it_locks_out_after_the_failure_limit_and_the_right_password_works_after_the_cool_off(
    alice: User, path: str
) -> None:
    alice.is_staff = True  # the admin login only lets staff in
    alice.save()
    browser = Client()

    answers = [sign_in(browser, path, f"guess-{n}").status_code for n in range(3)]
    locked = sign_in(browser, path, RIGHT)

    assert answers[-1] == 429
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    text = locked.content.decode()
    assert "Too many failed sign-ins" in text
    assert "try again in 15 minutes" in text
    if path == "/api/token/":
        assert locked.json()["error"]["code"] == "locked_out"
    assert not AuthToken.objects.exists()

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1), tick=False):
        after = sign_in(browser, path, RIGHT)

    assert after.status_code == (200 if path == "/api/token/" else 302)


def test_a_locked_username_stays_locked_from_another_address(alice: User) -> None:
    browser = Client()
    for n in range(3):
        sign_in(browser, "/accounts/login/", f"guess-{n}", address=f"10.0.0.{n + 1}")

    assert sign_in(browser, "/accounts/login/", RIGHT, address="10.9.9.9").status_code == 429


def test_with_address_locking_a_forged_forwarded_for_header_does_not_reset_the_count(
    alice: User, settings: Settings
) -> None:
    settings.AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
    browser = Client()
    for n in range(3):
        browser.post(
            "/api/token/",
            {"username": f"someone-{n}", "password": "guess"},
            content_type="application/json",
            REMOTE_ADDR="10.0.0.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )

    response = sign_in(browser, "/api/token/", RIGHT, address="10.0.0.7")

    assert response.status_code == 429


def test_by_default_failures_on_other_usernames_from_one_address_do_not_lock_alice_out(alice: User) -> None:
    browser = Client()
    for n in range(3):
        sign_in_as = {"username": f"someone-{n}", "password": "guess"}
        browser.post("/accounts/login/", sign_in_as, REMOTE_ADDR="10.0.0.7")

    assert sign_in(browser, "/accounts/login/", RIGHT, address="10.0.0.7").status_code == 302


def test_a_right_password_before_the_limit_clears_the_failures(alice: User) -> None:
    browser = Client()
    sign_in(browser, "/accounts/login/", "guess-1")
    sign_in(browser, "/accounts/login/", "guess-2")
    assert sign_in(browser, "/accounts/login/", RIGHT).status_code == 302
    browser.logout()

    sign_in(browser, "/accounts/login/", "guess-3")
    assert sign_in(browser, "/accounts/login/", RIGHT).status_code == 302


# -- tokens -------------------------------------------------------------------------------------------
def test_a_token_is_stored_only_as_a_digest(alice: User) -> None:
    response = APIClient().post("/api/token/", {"username": "alice", "password": RIGHT}, format="json")

    token = response.json()["token"]
    [stored] = AuthToken.objects.filter(user=alice).values_list("digest", "token_key")
    assert token not in stored
    assert len(token) >= 64


def test_an_expired_token_is_refused(alice: User) -> None:
    _, token = AuthToken.objects.create(user=alice, expiry=timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1), tick=False):
        response = api.get("/api/posts/")

    assert response.status_code == 401


def test_the_profile_page_lists_my_tokens_and_revokes_one(alice: User, bob: User) -> None:
    mine, my_token = AuthToken.objects.create(user=alice)
    other, _ = AuthToken.objects.create(user=alice)
    bobs, _ = AuthToken.objects.create(user=bob)
    browser = Client()
    browser.force_login(alice)

    page = browser.get("/profile/").content.decode()

    assert page.count('class="token"') == 2
    assert mine.token_key[:8] in page
    assert bobs.token_key[:8] not in page
    assert f"{mine.expiry:%Y}" in page

    browser.post("/profile/tokens/revoke/", {"token_key": mine.token_key})
    browser.post("/profile/tokens/revoke/", {"token_key": bobs.token_key})  # not hers: nothing happens

    assert set(AuthToken.objects.values_list("token_key", flat=True)) == {other.token_key, bobs.token_key}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {my_token}")
    assert api.get("/api/posts/").status_code == 401


# -- throttles on the shared cache -----------------------------------------------------------------
def _cache_backend(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", "from sosocial import settings; print(settings.CACHES['default']['BACKEND'])"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_the_cache_is_redis_whenever_redis_url_is_set() -> None:
    assert (
        _cache_backend(REDIS_URL="redis://127.0.0.1:6399/5") == "django.core.cache.backends.redis.RedisCache"
    )
    assert _cache_backend() == "django.core.cache.backends.locmem.LocMemCache"


def test_throttle_counts_live_in_the_shared_cache(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"})
    cache.clear()
    api = APIClient()
    api.force_authenticate(alice)
    api.get("/api/posts/")

    assert cache.get(f"throttle_user_{alice.pk}") is not None
    # The tests run with REDIS_URL set (an embedded Redis when nothing else is), as production does.
    assert isinstance(caches["default"], RedisCache)


def test_a_cache_outage_lets_requests_through_rather_than_failing_them(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("cache down")

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"})
    monkeypatch.setattr(cache, "get", down)
    api = APIClient()
    api.force_authenticate(alice)

    assert api.get("/api/posts/").status_code == 200
