from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.api.conftest import LATER, NOW, add_entry
from tests.support.dates import add_attempt

pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status


def status_of(entry: ScheduleEntry) -> str:
    entry.refresh_from_db()
    return entry.status


def test_an_entry_shows_what_happened_to_it(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(
        alices_post,
        "published",
        attempts=1,
        platform_post_id="x-123",
        platform_url="https://x.example/123",
        published_at=LATER,
    )

    response = alices_api.get(f"/api/entries/{entry.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": entry.pk,
        "post": alices_post.pk,
        "account": alices_post.account_id,
        "platform": "x",
        "scheduled_at": "2026-12-01T09:30:00Z",
        "status": "published",
        "status_text": "Published at 2026-12-01 09:30 UTC.",
        "attempts": 1,
        "next_attempt_at": "2026-12-01T09:30:00Z",
        "platform_post_id": "x-123",
        "platform_url": "https://x.example/123",
        "published_at": "2026-12-01T09:30:00Z",
        "last_error_code": "",
        "next_check_at": None,
        "last_error_message": "",
        "media_status": "",
        "prepare_at": None,
        "prepared_until": None,
        "prep_error": "",
        "follow_at": None,
    }


def test_a_retrying_entry_says_why_and_when_it_tries_again(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(
        alices_post,
        "retrying",
        attempts=2,
        last_error_code="rate_limited",
        last_error_message="Too many requests",
    )
    entry.next_attempt_at = datetime(2026, 12, 1, 9, 34, tzinfo=UTC)
    ScheduleEntry.objects.filter(pk=entry.pk).update(next_attempt_at=entry.next_attempt_at)

    text = alices_api.get(f"/api/entries/{entry.pk}/").json()["status_text"]

    assert text == (
        "The platform refused attempt 2 of 4 (Too many requests); trying again at 2026-12-01 09:34 UTC."
    )


def test_alice_lists_her_entries_soonest_first(
    alices_api: APIClient, alices_post: Post, bob: User, bobs_account: SocialAccount
) -> None:
    later = add_entry(alices_post, when=LATER + timedelta(days=1))
    sooner = add_entry(alices_post, when=LATER)
    add_entry(Post.objects.create(owner=bob, account=bobs_account, text="bob's"))

    response = alices_api.get("/api/entries/")

    assert response.status_code == 200
    assert [entry["id"] for entry in response.json()["results"]] == [sooner.pk, later.pk]


def test_the_entry_list_filters_by_status_platform_account_and_dates(
    alices_api: APIClient, alices_post: Post, alice: User
) -> None:
    facebook = SocialAccount.objects.create(
        owner=alice, platform=SocialAccount.Kind.FACEBOOK, platform_account_id="fb", display_name="Page"
    )
    on_x = add_entry(alices_post, "pending", when=datetime(2026, 12, 5, tzinfo=UTC))
    on_facebook = add_entry(
        Post.objects.create(owner=alice, account=facebook, text="fb"),
        "failed",
        when=datetime(2027, 1, 5, tzinfo=UTC),
    )

    def ids(**filters: str | int) -> list[int]:
        response = alices_api.get("/api/entries/", filters)
        assert response.status_code == 200
        return [entry["id"] for entry in response.json()["results"]]

    assert ids(status="failed") == [on_facebook.pk]
    assert ids(platform="x") == [on_x.pk]
    assert ids(account=facebook.pk) == [on_facebook.pk]
    assert ids(date_from="2027-01-01T00:00:00Z") == [on_facebook.pk]
    assert ids(date_to="2027-01-01T00:00:00+00:00") == [on_x.pk]
    # An offset ISO 8601 allows and PostgreSQL does not (past ±15:59) is the same instant in UTC.
    assert ids(date_from="2027-01-01T20:00:00-22:30") == [on_facebook.pk]
    assert ids(date_to="2027-01-01T20:00:00-22:30") == [on_x.pk]


def test_an_invalid_entry_filter_gets_a_400(alices_api: APIClient) -> None:
    response = alices_api.get("/api/entries/", {"status": "lost"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]


# -- actions ----------------------------------------------------------------------------------------
def test_alice_cancels_a_pending_date(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_api.post(f"/api/entries/{entry.pk}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert status_of(entry) == Status.CANCELLED


def test_cancelling_a_published_date_is_a_conflict_not_a_success(
    alices_api: APIClient, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "published")

    response = alices_api.post(f"/api/entries/{entry.pk}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "This date is published, so it cannot be cancelled; "
        "only pending, retrying or paused dates can.",
        "fields": {},
    }
    assert status_of(entry) == Status.PUBLISHED


def test_alice_reschedules_a_failed_date(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "failed", attempts=4, last_error_message="Refused")

    response = alices_api.post(
        f"/api/entries/{entry.pk}/reschedule/", {"when": "2026-12-10T10:00:00+01:00"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["scheduled_at"]) == ("pending", "2026-12-10T09:00:00Z")
    entry.refresh_from_db()
    assert (entry.status, entry.attempts, entry.scheduled_at) == (
        Status.PENDING,
        0,
        datetime(2026, 12, 10, 9, 0, tzinfo=UTC),
    )


def test_rescheduling_into_the_past_is_refused_with_the_reason(
    alices_api: APIClient, alices_post: Post
) -> None:
    entry = add_entry(alices_post)

    response = alices_api.post(
        f"/api/entries/{entry.pk}/reschedule/", {"when": "2026-11-27T10:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"when": ["2026-11-27 10:00 UTC is in the past."]}
    entry.refresh_from_db()
    assert entry.scheduled_at == LATER


def test_rescheduling_a_cancelled_date_is_a_conflict(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "cancelled")

    response = alices_api.post(
        f"/api/entries/{entry.pk}/reschedule/", {"when": "2026-12-10T10:00:00Z"}, format="json"
    )

    assert response.status_code == 409
    assert status_of(entry) == Status.CANCELLED


def test_alice_retries_a_failed_date(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "failed", attempts=4)

    response = alices_api.post(f"/api/entries/{entry.pk}/retry/")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 0)
    assert status_of(entry) == Status.PENDING


def test_retrying_a_pending_date_is_a_conflict(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_api.post(f"/api/entries/{entry.pk}/retry/")

    assert response.status_code == 409
    assert "cannot be retried" in response.json()["error"]["message"]


def test_alice_marks_an_unconfirmed_date_published(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1)

    response = alices_api.post(
        f"/api/entries/{entry.pk}/resolve/",
        {"action": "published", "platform_url": "https://x.example/9"},
        format="json",
    )

    assert response.status_code == 200
    entry.refresh_from_db()
    assert (entry.status, entry.platform_url, entry.published_at) == (
        Status.PUBLISHED,
        "https://x.example/9",
        NOW,
    )


def test_alice_sends_an_unconfirmed_date_again(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1)

    response = alices_api.post(
        f"/api/entries/{entry.pk}/resolve/", {"action": "send_again", "looked": True}, format="json"
    )

    assert response.status_code == 200
    assert status_of(entry) == Status.PENDING


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("resolve", {"action": "send_again"}),
        ("resolve", {"action": "send_again", "looked": False}),
        ("retry", {}),
    ],
)
def test_sending_an_unconfirmed_date_again_before_anyone_looked_is_refused(
    alices_api: APIClient, alices_post: Post, path: str, body: dict[str, object]
) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1)

    response = alices_api.post(f"/api/entries/{entry.pk}/{path}/", body, format="json")

    assert response.status_code == 400
    assert "Look at the account first" in response.json()["error"]["fields"]["looked"][0]
    assert status_of(entry) == Status.UNCONFIRMED


def test_alice_asks_the_platform_again_about_an_unconfirmed_date(
    alices_api: APIClient, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1, reconciled_at=NOW - timedelta(hours=1))

    response = alices_api.post(f"/api/entries/{entry.pk}/resolve/", {"action": "check_again"}, format="json")

    assert response.status_code == 200
    entry.refresh_from_db()
    assert (entry.status, entry.dispatched_at) == (Status.UNCONFIRMED, NOW)


def test_resolving_a_date_that_is_not_unconfirmed_is_a_conflict(
    alices_api: APIClient, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "pending")

    response = alices_api.post(f"/api/entries/{entry.pk}/resolve/", {"action": "published"}, format="json")

    assert response.status_code == 409
    assert status_of(entry) == Status.PENDING


@pytest.mark.parametrize(
    "body", [{}, {"action": "delete"}, {"action": "published", "platform_url": "not a url"}]
)
def test_an_invalid_resolution_gets_a_400(
    alices_api: APIClient, alices_post: Post, body: dict[str, str]
) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1)

    response = alices_api.post(f"/api/entries/{entry.pk}/resolve/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert status_of(entry) == Status.UNCONFIRMED


def test_alice_reads_the_attempts_of_a_date(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post, "retrying", attempts=1)
    add_attempt(
        entry,
        PublishAttempt.Outcome.RETRY,
        NOW,
        http_status=503,
        error_code="unavailable",
        message="Try later",
    )

    response = alices_api.get(f"/api/entries/{entry.pk}/attempts/")

    assert response.status_code == 200
    [attempt] = response.json()["results"]
    assert (attempt["number"], attempt["outcome"], attempt["http_status"], attempt["finished_at"]) == (
        1,
        "retry",
        503,
        "2026-11-28T12:00:02Z",
    )


# -- isolation: bob guesses alice's ids ---------------------------------------------------------------
def test_bob_cannot_see_alices_dates(bobs_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    assert bobs_api.get(f"/api/entries/{entry.pk}/").status_code == 404
    assert bobs_api.get(f"/api/entries/{entry.pk}/attempts/").status_code == 404
    assert bobs_api.get("/api/entries/").json()["count"] == 0


@pytest.mark.parametrize(
    ("action", "status", "body"),
    [
        ("cancel", "pending", {}),
        ("reschedule", "pending", {"when": "2026-12-10T10:00:00Z"}),
        ("retry", "failed", {}),
        ("resolve", "unconfirmed", {"action": "published"}),
        ("resolve", "unconfirmed", {"action": "send_again"}),
    ],
)
def test_bob_cannot_change_alices_dates(
    bobs_api: APIClient, alices_post: Post, action: str, status: str, body: dict[str, str]
) -> None:
    entry = add_entry(alices_post, status)

    response = bobs_api.post(f"/api/entries/{entry.pk}/{action}/", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    entry.refresh_from_db()
    assert (entry.status, entry.scheduled_at) == (status, LATER)


def test_an_entry_still_being_checked_says_when_the_next_check_is(
    alices_api: APIClient, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", attempts=1, next_check_at=NOW + timedelta(minutes=15))

    body = alices_api.get(f"/api/entries/{entry.pk}/").json()

    assert body["next_check_at"] == "2026-11-28T12:15:00Z"
    assert (
        body["status_text"] == "The outcome is unknown; still checking, next check at 2026-11-28 12:15 (UTC)."
    )
