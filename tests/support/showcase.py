"""A lived-in account for the page tour and the screenshots: four platforms, every status, media, a draft."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from platforms.models import SocialAccount
from publishing.models import Post, PostMedia, PublishAttempt, ScheduleEntry

Status = ScheduleEntry.Status


@dataclass
class Showcase:
    user: User
    x: SocialAccount
    page: SocialAccount
    instagram: SocialAccount
    tiktok: SocialAccount
    launch: Post
    failed: ScheduleEntry
    draft: Post


def picture(colour: tuple[int, int, int], label: str) -> ContentFile[bytes]:
    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    for step in range(0, 480, 40):
        draw.line([(0, step), (step, 0)], fill=(255, 255, 255), width=3)
    draw.text((20, 440), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=f"{label}.png")


def _entry(post: Post, when: datetime, status: str = Status.PENDING, **fields: object) -> ScheduleEntry:
    return ScheduleEntry.objects.create(
        post=post, scheduled_at=when, next_attempt_at=when, status=status, **fields
    )


def build_showcase(user: User, *, now: datetime | None = None) -> Showcase:
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    x = SocialAccount.objects.create(
        owner=user, platform="x", platform_account_id="x-1", display_name="@sosocial",
        access_token="t", refresh_token="r", token_expires_at=now + timedelta(hours=2),
    )  # fmt: skip
    page = SocialAccount.objects.create(
        owner=user, platform="facebook", platform_account_id="fb-1", display_name="Corner Bakery",
        access_token="t", token_expires_at=now + timedelta(days=50),
    )  # fmt: skip
    instagram = SocialAccount.objects.create(
        owner=user, platform="instagram", platform_account_id="ig-1", display_name="cornerbakery",
        access_token="t", token_expires_at=now + timedelta(days=50),
    )  # fmt: skip
    tiktok = SocialAccount.objects.create(
        owner=user, platform="tiktok", platform_account_id="tt-1", display_name="bakerytok",
        access_token="t", refresh_token="r", token_expires_at=now - timedelta(hours=1),
    )  # fmt: skip
    revoked = "TikTok revoked SoSocial's access: connect the account again."
    tiktok.mark_needs_reconnect(revoked)
    tiktok.refresh_from_db()

    launch = Post.objects.create(
        owner=user,
        account=x,
        text="Our winter menu is here: cinnamon buns, rye sourdough and hot chocolate. "
        "Come by this weekend! https://example.com/winter",
    )
    _entry(launch, now - timedelta(days=1), Status.PUBLISHED, platform_url="https://x.com/sosocial/status/1",
           published_at=now - timedelta(days=1))  # fmt: skip
    _entry(launch, now + timedelta(days=2, hours=3))

    photo = Post.objects.create(owner=user, account=instagram, text="Fresh out of the oven 🥐 #bakery")
    for position, (colour, name) in enumerate([((196, 98, 45), "croissant"), ((92, 64, 51), "rye")]):
        PostMedia.objects.create(
            post=photo, file=picture(colour, name), position=position, content_type="image/png"
        )
    _entry(photo, now + timedelta(days=1, hours=1))

    video = Post.objects.create(owner=user, account=tiktok, text="How we shape 200 buns before sunrise.")
    failed = _entry(
        video, now - timedelta(hours=3), Status.FAILED, attempts=1, last_error_code="access_token_invalid",
        last_error_message=revoked,
    )  # fmt: skip
    PublishAttempt.objects.create(
        entry=failed, dispatch_version=0, number=1, started_at=now - timedelta(hours=3),
        finished_at=now - timedelta(hours=3), outcome="failed", message=failed.last_error_message,
    )  # fmt: skip

    notice = Post.objects.create(owner=user, account=page, text="We are closed on Monday for the holiday.")
    _entry(notice, now - timedelta(hours=1), Status.UNCONFIRMED, reconciled_at=now,
           last_error_message="Facebook did not answer in time.")  # fmt: skip
    _entry(notice, now + timedelta(days=4), Status.RETRYING, attempts=1,
           last_error_message="Facebook had a server error.")  # fmt: skip

    refused = Post.objects.create(owner=user, account=x, text="Our winter menu is here!")
    _entry(refused, now - timedelta(hours=5), Status.FAILED, attempts=1, last_error_code="x_duplicate",
           last_error_message="X refused it: you already posted this text.")  # fmt: skip

    draft = Post.objects.create(owner=user, account=x, text="Idea: a poll on the next seasonal bun flavour.")
    return Showcase(user, x, page, instagram, tiktok, launch, failed, draft)
