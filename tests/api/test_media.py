"""Posts with photos and videos through the API (multipart/form-data), and the API's index."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pytest_django import Settings
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post

pytestmark = pytest.mark.django_db


def jpeg(name: str, colour: tuple[int, int, int] = (200, 120, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (1080, 1080), colour).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def alices_instagram(alice: User) -> SocialAccount:
    return SocialAccount.objects.create(
        owner=alice, platform="instagram", platform_account_id="ig-1", display_name="alice.bakes",
        access_token="token",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: object) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_an_instagram_post_is_created_with_its_photos_in_order(
    alices_api: APIClient, alices_instagram: SocialAccount
) -> None:
    response = alices_api.post(
        "/api/posts/",
        {
            "account": alices_instagram.pk,
            "text": "Fresh bread",
            "when": ["2026-12-01T09:30:00Z"],
            "media": [jpeg("first.jpg"), jpeg("second.jpg", (40, 80, 160))],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    post = Post.objects.get(pk=response.json()["id"])
    assert [item.content_type for item in post.media.all()] == ["image/jpeg", "image/jpeg"]
    assert [item.position for item in post.media.all()] == [0, 1]
    assert len(response.json()["media"]) == 2


def test_an_instagram_post_without_media_is_refused_with_the_platforms_reason(
    alices_api: APIClient, alices_instagram: SocialAccount
) -> None:
    response = alices_api.post(
        "/api/posts/",
        {"account": alices_instagram.pk, "text": "No photo", "when": ["2026-12-01T09:30:00Z"]},
        format="multipart",
    )

    assert response.status_code == 400
    reasons = json.dumps(response.json()["error"]["fields"])
    assert "Instagram posts need a photo or a video. Add one." in reasons
    assert not Post.objects.exists()


def test_options_come_as_json_text_in_a_multipart_body(
    alices_api: APIClient, alice: User, alices_account: SocialAccount
) -> None:
    page = SocialAccount.objects.create(
        owner=alice, platform=SocialAccount.Kind.FACEBOOK, platform_account_id="fb-alice", access_token="t"
    )
    response = alices_api.post(
        "/api/posts/",
        {
            "account": page.pk,
            "text": "Hi",
            "options": json.dumps({"link": "https://alice.example"}),
            "media": [jpeg("a.jpg")],
        },
        format="multipart",
    )
    garbled = alices_api.post(
        "/api/posts/", {"account": alices_account.pk, "options": "{not json"}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    assert Post.objects.get().options == {"link": "https://alice.example"}
    assert garbled.status_code == 400
    assert garbled.json()["error"]["fields"] == {"options": ["Give the options as a JSON object."]}


def test_the_api_index_lists_its_endpoints(anonymous_api: APIClient) -> None:
    response = anonymous_api.get("/api/")

    assert response.status_code == 200
    endpoints = {endpoint["path"]: endpoint["methods"] for endpoint in response.json()["endpoints"]}
    assert endpoints["/api/posts/"] == ["GET", "POST"]
    assert endpoints["/api/entries/<int:entry_id>/reschedule/"] == ["POST"]
    assert response.json()["docs"].endswith("/api/docs/")
