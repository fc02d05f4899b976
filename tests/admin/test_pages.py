from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing.models import Post, PostMedia, Profile, PublishAttempt, ScheduleEntry
from tests.support.dates import add_attempt

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status


@pytest.fixture
def alices_entry(alices_post: Post) -> ScheduleEntry:
    entry = ScheduleEntry.objects.create(
        post=alices_post,
        scheduled_at=NOW,
        next_attempt_at=NOW,
        status=Status.FAILED,
        attempts=1,
        last_error_code="duplicate_content",
    )
    add_attempt(
        entry,
        PublishAttempt.Outcome.FAILED,
        NOW,
        http_status=403,
        error_code="duplicate_content",
        message="You already said that",
    )
    return entry


@pytest.fixture
def alices_media(alices_post: Post, settings: Settings, tmp_path: Path) -> PostMedia:
    settings.MEDIA_ROOT = tmp_path
    return PostMedia.objects.create(
        post=alices_post,
        file=SimpleUploadedFile("cat.png", b"\x89PNG", content_type="image/png"),
        content_type="image/png",
    )


@pytest.fixture
def alices_profile(alice: User) -> Profile:
    return Profile.objects.create(user=alice, time_zone="Europe/Paris")


def changelist(model: str) -> str:
    return reverse(f"admin:{model}_changelist")


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("publishing_post", "?q=Hello&account__platform__exact=x"),
        ("publishing_postmedia", "?q=alice&content_type__exact=image/png"),
        ("publishing_scheduleentry", "?q=Hello&status__exact=failed&post__account__platform__exact=x"),
        (
            "publishing_scheduleentry",
            "?scheduled_at__year=2026&scheduled_at__month=11&last_error_code__exact=duplicate_content",
        ),
        (
            "publishing_publishattempt",
            "?q=duplicate&outcome__exact=failed&entry__post__account__platform__exact=x",
        ),
        ("publishing_profile", "?q=alice&time_zone__exact=Europe/Paris"),
        ("platforms_socialaccount", "?q=alice&platform__exact=x&status__exact=connected"),
    ],
)
@pytest.mark.usefixtures("alices_entry", "alices_media", "alices_profile")
def test_each_changelist_renders_with_its_filters_and_search(
    admin_client: Client, model: str, query: str
) -> None:
    plain = admin_client.get(changelist(model))
    filtered = admin_client.get(changelist(model) + query)

    assert plain.status_code == 200
    assert filtered.status_code == 200
    # The filtered page still lists the one matching row (Django shows "1 result" for a search).
    assert filtered.context["cl"].result_count == 1


def test_each_change_page_renders(
    admin_client: Client,
    alices_entry: ScheduleEntry,
    alices_media: PostMedia,
    alices_profile: Profile,
    alices_account: SocialAccount,
) -> None:
    attempt = alices_entry.publish_attempts.get()
    pages = [
        reverse("admin:publishing_post_change", args=[alices_entry.post_id]),
        reverse("admin:publishing_postmedia_change", args=[alices_media.pk]),
        reverse("admin:publishing_scheduleentry_change", args=[alices_entry.pk]),
        reverse("admin:publishing_publishattempt_change", args=[attempt.pk]),
        reverse("admin:publishing_profile_change", args=[alices_profile.pk]),
        reverse("admin:platforms_socialaccount_change", args=[alices_account.pk]),
    ]

    assert [admin_client.get(page).status_code for page in pages] == [200] * len(pages)


def test_a_post_page_shows_its_dates_and_media_inline(
    admin_client: Client, alices_entry: ScheduleEntry, alices_media: PostMedia
) -> None:
    page = admin_client.get(reverse("admin:publishing_post_change", args=[alices_entry.post_id]))

    html = page.content.decode()
    assert "duplicate_content" in html
    assert "cat" in str(alices_media.file.name)
    assert str(alices_media.file.name) in html


def test_a_date_page_shows_its_attempts_inline_and_no_editable_status(
    admin_client: Client, alices_entry: ScheduleEntry
) -> None:
    page = admin_client.get(reverse("admin:publishing_scheduleentry_change", args=[alices_entry.pk]))

    html = page.content.decode()
    assert "You already said that" in html
    assert 'name="status"' not in html


def test_saving_a_date_page_changes_nothing(admin_client: Client, alices_entry: ScheduleEntry) -> None:
    url = reverse("admin:publishing_scheduleentry_change", args=[alices_entry.pk])

    response = admin_client.post(url, {"status": "pending", "attempts": "0"})

    alices_entry.refresh_from_db()
    assert response.status_code == 403
    assert (alices_entry.status, alices_entry.attempts) == (Status.FAILED, 1)


def test_there_is_no_page_to_add_a_date_or_an_attempt(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:publishing_scheduleentry_add")).status_code == 403
    assert admin_client.get(reverse("admin:publishing_publishattempt_add")).status_code == 403


def test_an_account_page_never_shows_its_tokens(admin_client: Client, alices_account: SocialAccount) -> None:
    pages = [
        changelist("platforms_socialaccount"),
        changelist("platforms_socialaccount") + "?q=alice",
        reverse("admin:platforms_socialaccount_change", args=[alices_account.pk]),
        reverse("admin:platforms_socialaccount_history", args=[alices_account.pk]),
        reverse("admin:platforms_socialaccount_delete", args=[alices_account.pk]),
    ]

    for page in pages:
        response = admin_client.get(page)
        html = response.content.decode()
        assert response.status_code == 200, page
        assert "alice-access-token" not in html, page
        assert "alice-refresh-token" not in html, page
        assert 'name="access_token"' not in html, page
        assert 'name="refresh_token"' not in html, page


def test_renaming_an_account_keeps_tokens_refreshed_meanwhile(
    admin_client: Client, alices_account: SocialAccount
) -> None:
    url = reverse("admin:platforms_socialaccount_change", args=[alices_account.pk])
    admin_client.get(url)
    # A worker refreshes the tokens while the operator has the page open.
    SocialAccount.objects.filter(pk=alices_account.pk).update(
        access_token="rotated-access", refresh_token="rotated-refresh"
    )

    response = admin_client.post(url, {"display_name": "@alice_renamed"})

    account = SocialAccount.objects.get(pk=alices_account.pk)
    assert response.status_code == 302
    assert account.display_name == "@alice_renamed"
    assert (account.access_token, account.refresh_token) == ("rotated-access", "rotated-refresh")


def test_the_admin_index_links_to_the_dashboard(admin_client: Client) -> None:
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert reverse("admin:publishing_scheduleentry_dashboard") in html


def test_the_dates_list_links_to_the_dashboard(admin_client: Client) -> None:
    html = admin_client.get(changelist("publishing_scheduleentry")).content.decode()

    assert reverse("admin:publishing_scheduleentry_dashboard") in html
