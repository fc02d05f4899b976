from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.support.dates import YEAR
from tests.support.fakes import FakeClient
from tests.support.media import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def alices_second_account(alice: User) -> SocialAccount:
    return SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="x-alice-2", display_name="@alice_two"
    )


@time_machine.travel(NOW, tick=False)
def composed(accounts: list[SocialAccount], **fields: Any) -> dict[str, Any]:
    """The compose form as a browser sends it."""
    return {"accounts": [account.pk for account in accounts], "time_zone": "UTC", **fields}


def test_composing_schedules_each_date_in_the_chosen_time_zone(
    alices_browser: Client, alices_account: SocialAccount, settings: Settings, tmp_path: object
) -> None:
    settings.MEDIA_ROOT = tmp_path
    response = alices_browser.post(
        "/compose/",
        {
            "accounts": [alices_account.pk],
            "text": "Two dates",
            "dates": "2026-12-01 09:30\n2026-12-02 18:00",
            "time_zone": "Europe/Paris",
            "attachments": [SimpleUploadedFile("a.jpg", image_bytes(), content_type="image/jpeg")],
        },
    )

    assert response.status_code == 302
    post = Post.objects.get(owner__username="alice")
    assert list(post.entries.values_list("scheduled_at", flat=True)) == [
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
    ]
    assert post.media.get().content_type == "image/jpeg"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("dates", "problem"),
    [
        ("2020-01-01 10:00", "2020-01-01 10:00 UTC is in the past."),
        (
            "next tuesday",
            "“next tuesday” is not a date and time like 2026-12-01 09:30 "
            "(or with its offset: 2026-12-01 09:30 +01:00).",
        ),
    ],
)
def test_a_wrong_date_is_shown_next_to_the_dates_and_nothing_is_saved(
    alices_browser: Client, alices_account: SocialAccount, dates: str, problem: str
) -> None:
    response = alices_browser.post("/compose/", composed([alices_account], text="hi", dates=dates))

    assert response.status_code == 200
    assert response.context["form"].errors["dates"] == [problem]
    assert not Post.objects.exists()


def test_a_platform_refusal_is_shown_next_to_the_text(
    alices_browser: Client, alices_account: SocialAccount, fake_x: FakeClient
) -> None:
    fake_x.validate = lambda **kwargs: ["X allows 280 characters; this post has 300."]  # type: ignore[method-assign]

    response = alices_browser.post(
        "/compose/",
        composed([alices_account], text="x" * 300, dates=f"{YEAR}-01-01 10:00"),
    )

    assert response.context["form"].errors["text"] == ["X allows 280 characters; this post has 300."]
    assert not ScheduleEntry.objects.exists()


def test_bob_cannot_post_to_alices_account(bob: User, alices_account: SocialAccount) -> None:
    browser = Client()
    browser.force_login(bob)

    response = browser.post(
        "/compose/",
        composed([alices_account], text="hi", dates=f"{YEAR}-01-01 10:00"),
    )

    assert response.status_code == 200
    assert "accounts" in response.context["form"].errors
    assert not Post.objects.exists()


def test_the_posts_page_shows_only_my_posts(
    alices_browser: Client, alices_post: Post, bob: User, alices_account: SocialAccount
) -> None:
    bobs_account = SocialAccount.objects.create(
        owner=bob, platform="x", platform_account_id="b", display_name="@b"
    )
    Post.objects.create(owner=bob, account=bobs_account, text="Bob's secret plan")

    page = alices_browser.get("/").content.decode()

    assert "Hello from Alice" in page
    assert "Bob&#x27;s secret plan" not in page
    assert "Bob's secret plan" not in page


@time_machine.travel(NOW, tick=False)
def test_composing_for_two_accounts_makes_one_post_each_with_the_same_dates(
    alices_browser: Client, alices_account: SocialAccount, alices_second_account: SocialAccount
) -> None:
    response = alices_browser.post(
        "/compose/",
        composed([alices_account, alices_second_account], text="To both", dates="2026-12-01 09:30"),
    )

    assert response.status_code == 302
    posts = Post.objects.filter(owner__username="alice")
    assert sorted(posts.values_list("account__display_name", flat=True)) == ["@alice", "@alice_two"]
    assert ScheduleEntry.objects.filter(post__in=posts).count() == 2
    [group] = set(posts.values_list("group", flat=True))
    assert group is not None
    page = alices_browser.get("/").content.decode()
    assert "Composed together with X: @alice_two." in page
    assert "Composed together with X: @alice." in page


@time_machine.travel(NOW, tick=False)
def test_when_one_account_refuses_nothing_is_saved_and_the_reason_names_the_account(
    alices_browser: Client,
    alices_account: SocialAccount,
    alices_second_account: SocialAccount,
    fake_x: FakeClient,
) -> None:
    fake_x.validate = lambda **kwargs: ["Too long."]  # type: ignore[method-assign]
    SocialAccount.objects.filter(pk=alices_account.pk).update(platform="facebook")

    response = alices_browser.post(
        "/compose/",
        composed([alices_account, alices_second_account], text="To both", dates="2026-12-01 09:30"),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["text"] == ["X: @alice_two: Too long."]
    assert not Post.objects.exists()


def test_the_compose_page_starts_in_my_time_zone_and_knows_each_accounts_platform(
    alices_browser: Client, alice: User, alices_account: SocialAccount
) -> None:
    services.set_time_zone(user_id=alice.pk, time_zone="Asia/Tokyo")

    response = alices_browser.get("/compose/")

    assert response.context["form"]["time_zone"].value() == "Asia/Tokyo"
    assert response.context["platforms"] == {str(alices_account.pk): {"platform": "x", "name": "X: @alice"}}
    assert 'id="char-counts"' in response.content.decode()


def test_the_compose_page_needs_signing_in() -> None:
    response = Client().get("/compose/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
