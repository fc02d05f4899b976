"""Uploads: the type comes from the content, only platform media is kept, under random names."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post
from tests.security.conftest import stored_files
from tests.support.media import image_bytes, nested_moov, png_header_only, video_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x", "media_root")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TOMORROW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

HTML = b"<!doctype html><script>fetch('/api/posts/')</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def compose(account: SocialAccount, *files: SimpleUploadedFile) -> Post:
    return services.compose_post(
        owner_id=account.owner_id, account=account, text="Hi", when=[TOMORROW], media=files
    )


def refusal(account: SocialAccount, upload: SimpleUploadedFile) -> str:
    with pytest.raises(ValidationError) as refused:
        compose(account, upload)
    [message] = refused.value.message_dict["media"]
    return message


ComposeForm = Callable[..., Any]


@pytest.fixture
def alices_compose(alices_browser: Client, alices_account: SocialAccount) -> ComposeForm:
    """Alice's compose form as her browser sends it, in UTC, with one attachment, for her account
    and any others named."""

    def send(
        text: str, upload: SimpleUploadedFile, *others: SocialAccount, dates: str = "2026-11-29 09:00"
    ) -> Any:
        accounts = [alices_account.pk, *(account.pk for account in others)]
        return alices_browser.post(
            "/compose/",
            {"accounts": accounts, "text": text, "dates": dates, "time_zone": "UTC", "attachments": [upload]},
        )

    return send


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("name", "content", "declared"),
    [
        ("holiday.html", HTML, "image/jpeg"),
        ("holiday.jpg", HTML, "image/jpeg"),
        ("logo.svg", SVG, "image/svg+xml"),
        ("logo.png", SVG, "image/png"),
        ("notes.jpg", b"just some text, not a photo\n" * 20, "image/jpeg"),
        ("clip.mp4", bytes(range(256)) * 40, "video/mp4"),
        ("song.mp4", video_bytes(handler=b"soun"), "video/mp4"),
        ("deep.mp4", video_bytes()[:24] + nested_moov(5000), "video/mp4"),
    ],
)
def test_a_file_that_is_not_platform_media_is_refused_and_nothing_is_stored(
    alices_account: SocialAccount, media_root: Path, name: str, content: bytes, declared: str
) -> None:
    message = refusal(alices_account, SimpleUploadedFile(name, content, content_type=declared))

    assert "is not a JPEG, PNG, WebP or GIF image, or an MP4 or MOV video" in message
    assert not Post.objects.exists()
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("name", "content"),
    [("clip.mp4", image_bytes("PNG")), ("photo.png", image_bytes("JPEG")), ("photo.jpg", video_bytes())],
)
def test_a_file_whose_name_lies_about_its_type_is_refused(
    alices_account: SocialAccount, media_root: Path, name: str, content: bytes
) -> None:
    message = refusal(alices_account, SimpleUploadedFile(name, content))

    assert "but is really" in message
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
def test_a_decompression_bomb_is_a_field_error_not_a_crash(
    alices_account: SocialAccount, media_root: Path
) -> None:
    message = refusal(alices_account, SimpleUploadedFile("big.png", png_header_only(20_000, 20_000)))

    assert "more than 50 million pixels" in message
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
def test_an_image_above_the_pixel_cap_is_refused_with_its_size(
    alices_account: SocialAccount, settings: Settings
) -> None:
    settings.SOSOCIAL_MAX_IMAGE_PIXELS = 1000

    message = refusal(alices_account, SimpleUploadedFile("a.png", image_bytes("PNG", (50, 30))))

    assert "(50x30) has more than 0.001 million pixels" in message


@time_machine.travel(NOW, tick=False)
def test_a_video_without_playing_time_is_refused(alices_account: SocialAccount) -> None:
    message = refusal(alices_account, SimpleUploadedFile("clip.mp4", video_bytes(seconds=0)))

    assert "has no playing time" in message


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("name", "content", "detected", "extension"),
    [
        ("IMG 0001.JPG", image_bytes("JPEG"), "image/jpeg", ".jpg"),
        ("diagram.png", image_bytes("PNG"), "image/png", ".png"),
        ("sticker", image_bytes("WEBP"), "image/webp", ".webp"),
        ("wave.gif", image_bytes("GIF"), "image/gif", ".gif"),
        ("clip.mp4", video_bytes(), "video/mp4", ".mp4"),
        ("clip.MOV", video_bytes(brand=b"qt  "), "video/quicktime", ".mov"),
    ],
)
def test_media_is_stored_under_a_random_name_with_the_detected_type(
    alices_account: SocialAccount, media_root: Path, name: str, content: bytes, detected: str, extension: str
) -> None:
    post = compose(alices_account, SimpleUploadedFile(name, content, content_type="application/x-whatever"))

    item = post.media.get()
    assert item.file.name
    stored = Path(item.file.name)
    assert item.content_type == detected
    assert stored.suffix == extension
    assert len(stored.stem) >= 24
    assert name.split(".")[0] not in item.file.name
    assert (media_root / item.file.name).read_bytes() == content


@time_machine.travel(NOW, tick=False)
def test_the_same_file_composed_for_two_accounts_is_stored_once(
    alice: User, alices_compose: ComposeForm, media_root: Path
) -> None:
    second = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="x-2", display_name="@b"
    )

    response = alices_compose("Twice", SimpleUploadedFile("a.jpg", image_bytes()), second)

    assert response.status_code == 302
    names = {post.media.get().file.name for post in Post.objects.all()}
    assert len(names) == 1
    assert len(stored_files(media_root)) == 1


@time_machine.travel(NOW, tick=False)
def test_a_refused_compose_leaves_no_file(alices_compose: ComposeForm, media_root: Path) -> None:
    response = alices_compose(
        "Too late", SimpleUploadedFile("a.jpg", image_bytes()), dates="2020-01-01 10:00"
    )

    assert response.status_code == 200
    assert response.context["form"].errors["dates"]
    assert not Post.objects.exists()
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
def test_a_refused_upload_is_shown_next_to_the_attachments_on_the_page(
    alices_compose: ComposeForm, media_root: Path
) -> None:
    response = alices_compose("Look", SimpleUploadedFile("holiday.jpg", HTML, content_type="image/jpeg"))

    assert response.status_code == 200
    [error] = response.context["form"].errors["attachments"]
    assert error.startswith("holiday.jpg is not a JPEG")
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
def test_an_upload_past_the_cap_is_refused_while_it_is_received(
    alices_compose: ComposeForm, media_root: Path, settings: Settings
) -> None:
    settings.SOSOCIAL_MAX_UPLOAD_BYTES = 20_000
    big = image_bytes("PNG", (400, 400)) + b"\x00" * 60_000

    response = alices_compose("Huge", SimpleUploadedFile("huge.png", big))

    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert any("SoSocial takes at most 19.5\xa0KB of media per post" in error for error in errors)
    assert not Post.objects.exists()
    assert stored_files(media_root) == []


@time_machine.travel(NOW, tick=False)
def test_the_storage_quota_is_a_clear_field_error(
    alices_account: SocialAccount, media_root: Path, settings: Settings
) -> None:
    first = image_bytes("PNG", (200, 200))
    settings.SOSOCIAL_MEDIA_QUOTA_BYTES = len(first) + 100
    compose(alices_account, SimpleUploadedFile("first.png", first))

    message = refusal(alices_account, SimpleUploadedFile("second.png", image_bytes("PNG", (210, 200))))

    assert "would take your media past your" in message
    assert "quota" in message
    assert len(stored_files(media_root)) == 1
