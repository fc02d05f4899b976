"""Per-date and per-post actions on the Posts page: each one a POST that calls one service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.support.dates import YEAR, add_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WHEN = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)


def status_of(entry: ScheduleEntry) -> str:
    return ScheduleEntry.objects.get(pk=entry.pk).status


def messages_after(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_cancelling_a_pending_date_cancels_it_and_returns_to_the_same_list(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post)

    response = alices_browser.post(f"/dates/{entry.pk}/cancel/", {"next": "/?status=pending"})

    assert response.status_code == 302
    assert response["Location"] == "/?status=pending"
    assert status_of(entry) == "cancelled"


def test_cancelling_a_date_that_already_went_out_says_so_instead_of_failing(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "published")

    response = alices_browser.post(f"/dates/{entry.pk}/cancel/", follow=True)

    assert response.status_code == 200
    assert messages_after(response) == ["Nothing changed: this date is now published."]
    assert status_of(entry) == "published"


def test_a_next_address_on_another_site_is_ignored(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_browser.post(f"/dates/{entry.pk}/cancel/", {"next": "https://evil.example/"})

    assert response["Location"] == "/"


@time_machine.travel(NOW, tick=False)
def test_rescheduling_reads_the_new_date_in_my_time_zone(
    alices_browser: Client, alice: User, alices_post: Post
) -> None:
    services.set_time_zone(user_id=alice.pk, time_zone="Europe/Paris")
    entry = add_entry(alices_post, "failed", last_error_message="No.")

    alices_browser.post(f"/dates/{entry.pk}/reschedule/", {"when": "2026-12-24T18:00"})

    entry.refresh_from_db()
    assert entry.status == "pending"
    assert entry.scheduled_at == datetime(2026, 12, 24, 17, 0, tzinfo=UTC)


@time_machine.travel(NOW, tick=False)
def test_rescheduling_into_the_past_is_refused_with_a_message(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post)

    response = alices_browser.post(
        f"/dates/{entry.pk}/reschedule/", {"when": "2020-01-01T10:00"}, follow=True
    )

    assert messages_after(response) == ["2020-01-01 10:00 UTC is in the past."]
    assert ScheduleEntry.objects.get(pk=entry.pk).scheduled_at == WHEN


def test_rescheduling_without_a_date_asks_for_one(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_browser.post(f"/dates/{entry.pk}/reschedule/", {"when": ""}, follow=True)

    assert messages_after(response) == ["Pick a new date and time."]


def test_retry_now_sends_a_failed_date_again(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, "failed", attempts=1, last_error_message="No.")

    alices_browser.post(f"/dates/{entry.pk}/retry/")

    entry.refresh_from_db()
    assert entry.status == "pending"
    assert entry.attempts == 0


def test_send_again_sends_an_unconfirmed_date_again(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, "unconfirmed", reconciled_at=WHEN)

    alices_browser.post(f"/dates/{entry.pk}/retry/", {"looked": "on"})

    assert status_of(entry) == "pending"


def test_send_again_before_anyone_looked_at_the_account_is_refused_with_the_reason(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", reconciled_at=WHEN)

    response = alices_browser.post(f"/dates/{entry.pk}/retry/", follow=True)

    assert status_of(entry) == "unconfirmed"
    assert "Look at the account first" in response.content.decode()


def test_the_posts_page_asks_to_confirm_the_look_before_sending_again(
    alices_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post, "unconfirmed", reconciled_at=WHEN)

    page = alices_browser.get("/").content.decode()

    assert '<input type="checkbox" name="looked" required>' in page


def test_retrying_a_published_date_changes_nothing(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, "published")

    response = alices_browser.post(f"/dates/{entry.pk}/retry/", follow=True)

    assert messages_after(response) == ["Nothing changed: this date is now published."]
    assert status_of(entry) == "published"


def test_marking_an_unconfirmed_date_published_keeps_the_link_given(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", reconciled_at=WHEN)

    alices_browser.post(f"/dates/{entry.pk}/confirm/", {"platform_url": "https://x.example/alice/status/9"})

    entry.refresh_from_db()
    assert entry.status == "published"
    assert entry.platform_url == "https://x.example/alice/status/9"


def test_check_again_asks_the_platform_about_an_unconfirmed_date(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", reconciled_at=WHEN)

    response = alices_browser.post(f"/dates/{entry.pk}/reconcile/", follow=True)

    assert messages_after(response) == ["Checking with the platform."]
    assert ScheduleEntry.objects.get(pk=entry.pk).dispatched_at is not None


@pytest.mark.parametrize("action", ["cancel", "reschedule", "retry", "confirm", "reconcile"])
def test_date_actions_refuse_get(alices_browser: Client, alices_post: Post, action: str) -> None:
    entry = add_entry(alices_post)

    assert alices_browser.get(f"/dates/{entry.pk}/{action}/").status_code == 405


@pytest.mark.parametrize("action", ["cancel", "reschedule", "retry", "confirm", "reconcile"])
def test_bob_cannot_act_on_alices_dates(bobs_browser: Client, alices_post: Post, action: str) -> None:
    entry = add_entry(
        alices_post, "unconfirmed" if action in {"confirm", "reconcile", "retry"} else "pending"
    )
    before = status_of(entry)

    response = bobs_browser.post(f"/dates/{entry.pk}/{action}/", {"when": f"{YEAR}-02-01T10:00"})

    assert response.status_code == 404
    assert status_of(entry) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "edit"), ("post", "edit"), ("post", "duplicate"), ("post", "delete")],
)
def test_bob_can_neither_see_nor_change_alices_post(
    bobs_browser: Client, alices_post: Post, method: str, path: str
) -> None:
    response = getattr(bobs_browser, method)(f"/posts/{alices_post.pk}/{path}/", {"text": "Bob was here"})

    assert response.status_code == 404
    assert Post.objects.get(pk=alices_post.pk).text == "Hello from Alice"
    assert Post.objects.count() == 1


def test_bob_does_not_see_alices_dates_on_his_page_or_calendar(
    bobs_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post)

    assert "Hello from Alice" not in bobs_browser.get("/").content.decode()
    assert "Hello from Alice" not in bobs_browser.get(f"/calendar/?start={YEAR}-01-01").content.decode()


def test_editing_changes_the_text_while_nothing_has_gone_out(
    alices_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post)

    response = alices_browser.post(f"/posts/{alices_post.pk}/edit/", {"text": "Better words"})

    assert response.status_code == 302
    assert Post.objects.get(pk=alices_post.pk).text == "Better words"


def test_editing_a_published_post_is_refused_next_to_the_text(
    alices_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post, "published")

    response = alices_browser.post(f"/posts/{alices_post.pk}/edit/", {"text": "Too late"})

    assert response.status_code == 200
    assert "cannot be edited" in response.context["form"].errors["text"][0]
    assert Post.objects.get(pk=alices_post.pk).text == "Hello from Alice"


def test_the_list_offers_edit_only_while_nothing_has_gone_out(
    alices_browser: Client, alices_post: Post, alice: User, alices_account: SocialAccount
) -> None:
    add_entry(alices_post, "published")
    waiting_post = Post.objects.create(owner=alice, account=alices_account, text="Waiting")
    add_entry(waiting_post)

    page = alices_browser.get("/").content.decode()

    assert f"/posts/{alices_post.pk}/edit/" not in page
    assert f"/posts/{waiting_post.pk}/edit/" in page


@time_machine.travel(NOW, tick=False)
def test_a_duplicate_gets_its_own_dates_from_the_edit_page(alices_browser: Client, alices_post: Post) -> None:
    add_entry(alices_post, "published")

    response = alices_browser.post(f"/posts/{alices_post.pk}/duplicate/")
    copy = Post.objects.exclude(pk=alices_post.pk).get()
    assert response["Location"] == f"/posts/{copy.pk}/edit/"
    alices_browser.post(f"/posts/{copy.pk}/edit/", {"dates": "2026-12-01 10:00", "time_zone": "UTC"})

    assert copy.text == "Hello from Alice"
    assert list(copy.entries.values_list("scheduled_at", flat=True)) == [
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    ]


def test_deleting_a_post_removes_it_and_its_dates(alices_browser: Client, alices_post: Post) -> None:
    add_entry(alices_post)

    alices_browser.post(f"/posts/{alices_post.pk}/delete/")

    assert not Post.objects.exists()
    assert not ScheduleEntry.objects.exists()


def test_deleting_a_post_being_published_is_refused_with_a_message(
    alices_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post, "publishing")

    response = alices_browser.post(f"/posts/{alices_post.pk}/delete/", follow=True)

    assert messages_after(response) == [
        "A date of this post is being published or awaits confirmation; settle it first."
    ]
    assert Post.objects.filter(pk=alices_post.pk).exists()


def test_the_posts_page_says_when_the_next_automatic_check_is_in_my_time_zone(
    alices_browser: Client, alices_post: Post
) -> None:
    services.set_time_zone(user_id=alices_post.owner_id, time_zone="Europe/Paris")
    add_entry(alices_post, "unconfirmed", next_check_at=WHEN + timedelta(hours=1))

    page = alices_browser.get("/").content.decode()

    assert f"Still checking, next check at {YEAR}-01-01 11:00 (CET)." in page
