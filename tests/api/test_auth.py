from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from publishing.models import Post

pytestmark = pytest.mark.django_db


def test_alice_gets_a_token_with_her_password(anonymous_api: APIClient, alice: User) -> None:
    response = anonymous_api.post(
        "/api/token/", {"username": "alice", "password": "alice-password-1"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    stored = AuthToken.objects.get(user=alice)
    assert set(body) == {"token", "expiry"}
    assert body["token"].startswith(stored.token_key)
    assert stored.digest != body["token"]  # only a digest is stored
    assert body["expiry"] == stored.expiry.isoformat().replace("+00:00", "Z")
    assert stored.expiry - timezone.now() == timedelta(days=30)


def test_the_token_endpoint_takes_a_form_too(anonymous_api: APIClient, alice: User) -> None:
    response = anonymous_api.post(
        "/api/token/",
        "username=alice&password=alice-password-1",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert AuthToken.objects.filter(user=alice).count() == 1


def test_a_wrong_password_gets_no_token(anonymous_api: APIClient, alice: User) -> None:
    response = anonymous_api.post("/api/token/", {"username": "alice", "password": "guess"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["message"] == "Unable to log in with provided credentials."
    assert not AuthToken.objects.exists()


def test_a_token_authenticates_alice(anonymous_api: APIClient, alices_post: Post, alice: User) -> None:
    _, token = AuthToken.objects.create(user=alice)
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = anonymous_api.get("/api/posts/")

    assert response.status_code == 200
    assert [post["id"] for post in response.json()["results"]] == [alices_post.pk]


def test_a_token_stops_working_when_it_expires(anonymous_api: APIClient, alice: User) -> None:
    _, token = AuthToken.objects.create(user=alice, expiry=timedelta(hours=1))
    anonymous_api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anonymous_api.get("/api/posts/").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        response = anonymous_api.get("/api/posts/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not AuthToken.objects.filter(user=alice).exists()


def test_a_session_authenticates_alice(anonymous_api: APIClient, alices_post: Post) -> None:
    # django-axes counts sign-ins per request, so the test client's login needs one.
    assert anonymous_api.login(request=HttpRequest(), username="alice", password="alice-password-1")

    response = anonymous_api.get(f"/api/posts/{alices_post.pk}/")

    assert response.status_code == 200


def test_a_session_write_needs_the_csrf_token(alice: User, alices_post: Post) -> None:
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.delete(f"/api/posts/{alices_post.pk}/")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    assert Post.objects.filter(pk=alices_post.pk).exists()


def test_nobody_reads_anything_without_signing_in(anonymous_api: APIClient, alices_post: Post) -> None:
    response = anonymous_api.get("/api/posts/")

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }


def test_a_bad_token_is_refused(anonymous_api: APIClient) -> None:
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anonymous_api.get("/api/accounts/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_too_many_requests_are_throttled(alices_api: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"})

    statuses = [alices_api.get("/api/posts/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = alices_api.get("/api/posts/")
    assert response.json()["error"]["code"] == "throttled"
    assert response["Retry-After"] == "60"


def test_an_unknown_method_gets_the_same_error_format(alices_api: APIClient, alices_post: Post) -> None:
    response = alices_api.put(f"/api/posts/{alices_post.pk}/", {"text": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
