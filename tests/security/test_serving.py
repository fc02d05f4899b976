"""Media is served as the image or video it is, never as a page; the app's pages carry a CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import uploads
from publishing.models import Post, PostMedia
from tests.support.media import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def test_a_stored_image_is_served_with_its_type_nosniff_and_a_sandbox(alice: User) -> None:
    stored = uploads.store(SimpleUploadedFile("cat.png", image_bytes("PNG")), owner_id=alice.pk)

    response = Client().get(f"/media/{stored.name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'inline; filename="{Path(stored.name).name}"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == image_bytes("PNG")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["media/2026/11/holiday.html", "media/2026/11/logo.svg", "media/x/notes"])
def test_a_file_of_any_other_type_is_never_served_even_if_it_is_on_disk(media_root: Path, name: str) -> None:
    target = media_root / name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"<script>alert(1)</script>")

    response = Client().get(f"/media/{name}")

    assert response.status_code == 404
    assert b"alert" not in response.content


def test_an_old_upload_with_html_inside_a_jpg_name_is_still_served_as_an_image(media_root: Path) -> None:
    target = media_root / "media" / "old.jpg"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"<html><script>alert(1)</script>")

    response = Client().get("/media/media/old.jpg")

    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_path_outside_the_media_folder_is_not_found(media_root: Path) -> None:
    (media_root.parent / "secret.png").write_bytes(image_bytes("PNG"))

    response = Client().get("/media/../secret.png")
    escaped = Client().get("/media/%2e%2e/secret.png")

    assert response.status_code == 404
    assert escaped.status_code == 404


def test_platforms_get_media_links_on_the_media_host_when_one_is_set(
    alices_post: Post, settings: Settings
) -> None:
    settings.MEDIA_URL = "https://media.example.com/media/"
    PostMedia.objects.create(post=alices_post, file="media/2026/11/abc.jpg", content_type="image/jpeg")

    from publishing.pipeline import media_items

    [item] = media_items(alices_post)

    assert item.url == "https://media.example.com/media/media/2026/11/abc.jpg"


@pytest.mark.usefixtures("fake_x")
@pytest.mark.parametrize("page", ["/", "/compose/", "/calendar/", "/social-accounts/", "/accounts/login/"])
def test_the_apps_pages_have_a_csp_that_runs_no_inline_code(
    alices_browser: Client, alices_account: SocialAccount, page: str
) -> None:
    response = alices_browser.get(page, follow=True)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    html = response.content.decode()
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html)
        if "src=" not in tag and "application/json" not in tag
    ]
    assert inline_scripts == []
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None
