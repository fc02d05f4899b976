from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.api.conftest import LATER, add_entry
from tests.support.fakes import FakeClient

pytestmark = pytest.mark.django_db


def compose(account: SocialAccount, **overrides: Any) -> dict[str, Any]:
    return {
        "account": account.pk,
        "text": "Two dates",
        "when": ["2026-12-01T09:30:00+01:00", "2026-12-02T18:00:00Z"],
        **overrides,
    }


def test_alice_creates_a_post_with_two_dates(alices_api: APIClient, alices_account: SocialAccount) -> None:
    response = alices_api.post("/api/posts/", compose(alices_account, options={}), format="json")

    assert response.status_code == 201
    body = response.json()
    assert [entry["scheduled_at"] for entry in body["entries"]] == [
        "2026-12-01T08:30:00Z",
        "2026-12-02T18:00:00Z",
    ]
    assert [entry["status"] for entry in body["entries"]] == ["pending", "pending"]
    assert body["entries"][0]["status_text"] == "Scheduled for 2026-12-01 08:30 UTC."
    assert body["account"] == {
        "id": alices_account.pk,
        "platform": "x",
        "display_name": "@alice",
        "status": "connected",
    }
    assert (body["text"], body["options"], body["editable"]) == ("Two dates", {}, True)
    post = Post.objects.get(pk=body["id"])
    assert list(post.entries.values_list("scheduled_at", flat=True)) == [
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
    ]


def test_alice_composes_for_two_accounts_at_once_and_gets_both_posts(
    alices_api: APIClient, alice: User, alices_account: SocialAccount
) -> None:
    second = SocialAccount.objects.create(
        owner=alice, platform="x", platform_account_id="x2", display_name="@al"
    )
    body = {**compose(alices_account), "accounts": [alices_account.pk, second.pk]}
    del body["account"]

    response = alices_api.post("/api/posts/", body, format="json")

    assert response.status_code == 201
    assert [post["account"]["id"] for post in response.json()] == [alices_account.pk, second.pk]
    [group] = set(Post.objects.values_list("group", flat=True))
    assert group is not None


def test_composing_for_several_accounts_saves_none_if_one_is_not_alices(
    alices_api: APIClient, alices_account: SocialAccount, bobs_account: SocialAccount
) -> None:
    body = {**compose(alices_account), "accounts": [alices_account.pk, bobs_account.pk]}
    del body["account"]

    response = alices_api.post("/api/posts/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"account": ["Choose one of your own accounts."]}
    assert not Post.objects.exists()


@pytest.mark.parametrize("accounts", [{}, {"accounts": [1]}])
def test_it_takes_either_account_or_accounts_not_both_nor_neither(
    alices_api: APIClient, alices_account: SocialAccount, accounts: dict[str, Any]
) -> None:
    body = {**compose(alices_account), **accounts}
    if not accounts:
        del body["account"]

    response = alices_api.post("/api/posts/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"account": ["Give either `account` or `accounts`."]}


def test_a_date_without_an_offset_is_refused_instead_of_guessed(
    alices_api: APIClient, alices_account: SocialAccount
) -> None:
    response = alices_api.post(
        "/api/posts/", compose(alices_account, when=["2026-12-01T09:30:00"]), format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["when.0"]
    assert "time zone offset" in error["fields"]["when.0"][0]
    assert not Post.objects.exists()


def test_a_date_in_the_past_gets_the_services_reason(
    alices_api: APIClient, alices_account: SocialAccount
) -> None:
    response = alices_api.post(
        "/api/posts/", compose(alices_account, when=["2020-01-01T10:00:00Z"]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"when": ["2020-01-01 10:00 UTC is in the past."]}
    assert not Post.objects.exists()


def test_a_post_without_dates_is_a_draft_scheduled_later(
    alices_api: APIClient, alices_account: SocialAccount
) -> None:
    body = {"account": alices_account.pk, "text": "Later"}

    created = alices_api.post("/api/posts/", body, format="json")
    scheduled = alices_api.post(
        f"/api/posts/{created.json()['id']}/entries/", {"when": ["2026-12-01T09:30:00Z"]}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["entries"] == []
    assert scheduled.status_code == 201
    assert [entry["status"] for entry in scheduled.json()] == ["pending"]


def test_adding_no_dates_to_a_post_is_refused(alices_api: APIClient, alices_post: Post) -> None:
    response = alices_api.post(f"/api/posts/{alices_post.pk}/entries/", {"when": []}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"when": ["Pick at least one date."]}


def test_a_platform_refusal_is_reported_on_the_post_and_nothing_is_saved(
    alices_api: APIClient, alices_account: SocialAccount, fake_x: FakeClient
) -> None:
    fake_x.validate = lambda **kwargs: ["X allows 280 characters; this post has 300."]  # type: ignore[method-assign]

    response = alices_api.post("/api/posts/", compose(alices_account, text="x" * 300), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"post": ["X allows 280 characters; this post has 300."]}
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"text": "no account", "when": ["2026-12-01T09:30:00Z"]},
        {"account": "abc", "text": "hi", "when": ["2026-12-01T09:30:00Z"]},
        {"account": 1, "text": "hi", "when": "not a list"},
        {"account": 1, "text": "hi", "when": ["tomorrow"]},
        {"account": 1, "text": "hi", "when": ["2026-13-45T99:00:00Z"]},
        {"account": 1, "text": ["not", "text"], "when": ["2026-12-01T09:30:00Z"]},
        {"account": 1, "text": "hi", "options": "not a dict", "when": ["2026-12-01T09:30:00Z"]},
    ],
)
def test_garbled_input_gets_a_400_with_field_reasons_never_a_500(
    alices_api: APIClient, alices_account: SocialAccount, body: dict[str, Any]
) -> None:
    response = alices_api.post("/api/posts/", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]


def test_a_body_that_is_not_json_gets_a_parse_error(alices_api: APIClient) -> None:
    response = alices_api.post("/api/posts/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert response.json()["error"]["fields"] == {}


def test_bob_cannot_post_to_alices_account(
    bobs_api: APIClient, alices_account: SocialAccount, bob: User
) -> None:
    response = bobs_api.post("/api/posts/", compose(alices_account), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"account": ["Choose one of your own accounts."]}
    assert not Post.objects.exists()


def test_alice_lists_only_her_posts_newest_first(
    alices_api: APIClient, alices_account: SocialAccount, bobs_account: SocialAccount, bob: User
) -> None:
    older = Post.objects.create(owner=alices_account.owner, account=alices_account, text="older")
    newer = Post.objects.create(owner=alices_account.owner, account=alices_account, text="newer")
    Post.objects.create(owner=bob, account=bobs_account, text="bob's")

    response = alices_api.get("/api/posts/")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [post["id"] for post in response.json()["results"]] == [newer.pk, older.pk]


def test_the_post_list_is_paginated(alices_api: APIClient, alices_account: SocialAccount) -> None:
    for number in range(3):
        Post.objects.create(owner=alices_account.owner, account=alices_account, text=f"post {number}")

    response = alices_api.get("/api/posts/", {"page_size": 2, "page": 2})

    assert response.json()["count"] == 3
    assert [post["text"] for post in response.json()["results"]] == ["post 0"]
    assert response.json()["next"] is None


def test_the_post_list_filters_by_date_status_platform_and_account(
    alices_api: APIClient, alices_account: SocialAccount, alice: User
) -> None:
    facebook = SocialAccount.objects.create(
        owner=alice, platform=SocialAccount.Kind.FACEBOOK, platform_account_id="fb", display_name="Page"
    )
    december = Post.objects.create(owner=alice, account=alices_account, text="december")
    add_entry(december, "pending", when=datetime(2026, 12, 5, tzinfo=UTC))
    january = Post.objects.create(owner=alice, account=facebook, text="january")
    add_entry(january, "failed", when=datetime(2027, 1, 5, tzinfo=UTC))

    def texts(**filters: Any) -> list[str]:
        response = alices_api.get("/api/posts/", filters)
        assert response.status_code == 200
        return [post["text"] for post in response.json()["results"]]

    assert texts(date_from="2027-01-01T00:00:00Z") == ["january"]
    assert texts(date_to="2027-01-01T00:00:00Z") == ["december"]
    assert texts(status="failed") == ["january"]
    assert texts(platform="x") == ["december"]
    assert texts(account=facebook.pk) == ["january"]
    assert texts() == ["january", "december"]


@pytest.mark.parametrize(
    "filters", [{"status": "bogus"}, {"platform": "myspace"}, {"date_from": "yesterday"}, {"account": "x"}]
)
def test_an_invalid_filter_gets_a_400(alices_api: APIClient, filters: dict[str, str]) -> None:
    response = alices_api.get("/api/posts/", filters)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(filters)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"page": 0}, "Ensure this value is greater than or equal to 1."),
        ({"page": "last"}, "A valid integer is required."),
        ({"page": 2}, "There is no page 2: That page contains no results"),
        ({"page_size": 0}, "Ensure this value is greater than or equal to 1."),
        ({"page_size": 201}, "Ensure this value is less than or equal to 200."),
        ({"page_size": "all"}, "A valid integer is required."),
    ],
)
def test_a_page_that_cannot_be_given_is_a_400_naming_it(
    alices_api: APIClient, alices_post: Post, query: dict[str, Any], message: str
) -> None:
    # DRF answered these with a 404 the schema did not document, or silently used the default size.
    response = alices_api.get("/api/posts/", query)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {next(iter(query)): [message]}


@pytest.mark.parametrize("name", ["status", "platform", "account", "date_from", "page"])
def test_an_empty_filter_is_refused_rather_than_ignored(
    alices_api: APIClient, alices_post: Post, name: str
) -> None:
    response = alices_api.get(f"/api/posts/?{name}=")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {name: ["Leave it out rather than empty."]}


@pytest.mark.parametrize("path", ["/api/posts/abc/", "/api/accounts/-1/", "/api/entries/0.5/cancel/"])
def test_an_api_url_no_route_matches_is_a_404_in_the_error_format(alices_api: APIClient, path: str) -> None:
    response = alices_api.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_a_url_outside_the_api_still_gets_the_404_page(alices_api: APIClient) -> None:
    response = alices_api.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_option_name_with_a_null_character_is_a_400_not_a_500(
    alices_api: APIClient, alices_post: Post
) -> None:
    # PostgreSQL cannot store a NUL in JSON text; DRF checked the option values but not their names.
    response = alices_api.patch(f"/api/posts/{alices_post.pk}/", {"options": {"a\x00b": "c"}}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "options": ["Option names cannot contain the null character."]
    }
    alices_post.refresh_from_db()
    assert alices_post.options == {}


@pytest.mark.parametrize("text", [1.5, True, 7])
def test_text_that_is_not_a_string_is_a_400_not_a_guess(
    alices_api: APIClient, alices_post: Post, text: object
) -> None:
    response = alices_api.patch(
        f"/api/posts/{alices_post.pk}/", {"text": text, "options": {"reply": 1}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "text": ["Not a valid string."],
        "options.reply": ["Not a valid string."],
    }


def test_a_form_encoded_body_is_refused_rather_than_half_read(
    alices_api: APIClient, alices_post: Post
) -> None:
    # A form cannot carry `options`; DRF dropped it and saved the text alone.
    response = alices_api.patch(
        f"/api/posts/{alices_post.pk}/", {"text": "New words", "options.reply": "no"}, format="multipart"
    )

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    alices_post.refresh_from_db()
    assert alices_post.text == "Hello from Alice"


def test_alice_reads_her_post(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_api.get(f"/api/posts/{alices_post.pk}/")

    assert response.status_code == 200
    assert response.json()["text"] == "Hello from Alice"
    assert [item["id"] for item in response.json()["entries"]] == [entry.pk]


def test_alice_edits_her_post_while_nothing_has_gone_out(alices_api: APIClient, alices_post: Post) -> None:
    add_entry(alices_post)

    response = alices_api.patch(
        f"/api/posts/{alices_post.pk}/", {"text": "Better words", "options": {}}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["text"] == "Better words"
    alices_post.refresh_from_db()
    assert (alices_post.text, alices_post.options) == ("Better words", {})


def test_a_published_post_cannot_be_edited(alices_api: APIClient, alices_post: Post) -> None:
    add_entry(alices_post, "published")

    response = alices_api.patch(f"/api/posts/{alices_post.pk}/", {"text": "Too late"}, format="json")

    assert response.status_code == 400
    assert "cannot be edited" in response.json()["error"]["fields"]["post"][0]
    alices_post.refresh_from_db()
    assert alices_post.text == "Hello from Alice"


def test_alice_deletes_her_post_and_its_dates(alices_api: APIClient, alices_post: Post) -> None:
    entry = add_entry(alices_post)

    response = alices_api.delete(f"/api/posts/{alices_post.pk}/")

    assert response.status_code == 204
    assert not Post.objects.filter(pk=alices_post.pk).exists()
    assert not ScheduleEntry.objects.filter(pk=entry.pk).exists()


def test_a_post_being_published_cannot_be_deleted(alices_api: APIClient, alices_post: Post) -> None:
    add_entry(alices_post, "publishing")

    response = alices_api.delete(f"/api/posts/{alices_post.pk}/")

    assert response.status_code == 400
    assert "settle it first" in response.json()["error"]["fields"]["post"][0]
    assert Post.objects.filter(pk=alices_post.pk).exists()


def test_alice_duplicates_a_post_without_its_dates(alices_api: APIClient, alices_post: Post) -> None:
    add_entry(alices_post, "published")

    response = alices_api.post(f"/api/posts/{alices_post.pk}/duplicate/")

    assert response.status_code == 201
    assert response.json()["id"] != alices_post.pk
    assert (response.json()["text"], response.json()["entries"]) == ("Hello from Alice", [])


def test_alice_adds_dates_to_a_post(alices_api: APIClient, alices_post: Post) -> None:
    response = alices_api.post(
        f"/api/posts/{alices_post.pk}/entries/", {"when": ["2026-12-24T18:00:00+01:00"]}, format="json"
    )

    assert response.status_code == 201
    assert [entry["scheduled_at"] for entry in response.json()] == ["2026-12-24T17:00:00Z"]
    assert alices_post.entries.get().status == ScheduleEntry.Status.PENDING


def test_adding_a_date_twice_is_refused(alices_api: APIClient, alices_post: Post) -> None:
    when = LATER.isoformat()

    response = alices_api.post(f"/api/posts/{alices_post.pk}/entries/", {"when": [when, when]}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"when": ["The same date is listed twice."]}
    assert not alices_post.entries.exists()


# -- isolation: bob guesses alice's ids ---------------------------------------------------------------
def test_bob_cannot_see_alices_post(bobs_api: APIClient, alices_post: Post) -> None:
    add_entry(alices_post)

    assert bobs_api.get(f"/api/posts/{alices_post.pk}/").status_code == 404
    assert bobs_api.get("/api/posts/").json()["count"] == 0


def test_bob_cannot_edit_alices_post(bobs_api: APIClient, alices_post: Post) -> None:
    response = bobs_api.patch(f"/api/posts/{alices_post.pk}/", {"text": "Bob was here"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    alices_post.refresh_from_db()
    assert alices_post.text == "Hello from Alice"


def test_bob_cannot_delete_alices_post(bobs_api: APIClient, alices_post: Post) -> None:
    assert bobs_api.delete(f"/api/posts/{alices_post.pk}/").status_code == 404
    assert Post.objects.filter(pk=alices_post.pk).exists()


def test_bob_cannot_duplicate_alices_post(bobs_api: APIClient, alices_post: Post) -> None:
    assert bobs_api.post(f"/api/posts/{alices_post.pk}/duplicate/").status_code == 404
    assert Post.objects.count() == 1


def test_bob_cannot_add_dates_to_alices_post(bobs_api: APIClient, alices_post: Post) -> None:
    response = bobs_api.post(
        f"/api/posts/{alices_post.pk}/entries/", {"when": [LATER.isoformat()]}, format="json"
    )

    assert response.status_code == 404
    assert not alices_post.entries.exists()


def test_a_post_that_does_not_exist_is_a_404(alices_api: APIClient) -> None:
    assert alices_api.get("/api/posts/999999/").status_code == 404


def test_adding_an_instant_the_post_already_holds_is_refused_on_its_field(
    alices_api: APIClient, alices_post: Post
) -> None:
    first = alices_api.post(
        f"/api/posts/{alices_post.pk}/entries/", {"when": ["2026-12-24T18:00:00+01:00"]}, format="json"
    )
    again = alices_api.post(
        f"/api/posts/{alices_post.pk}/entries/", {"when": ["2026-12-24T17:00:00Z"]}, format="json"
    )

    assert first.status_code == 201
    assert again.status_code == 400
    assert again.json()["error"]["fields"] == {
        "when": ["2026-12-24 17:00 UTC is already a date of this post."]
    }
    assert alices_post.entries.count() == 1


@pytest.mark.parametrize("ids", [{"account": -(2**63) - 1}, {"accounts": [0]}, {"accounts": [-(2**70)]}])
def test_an_account_id_below_one_is_a_field_error(
    alices_api: APIClient, alices_account: SocialAccount, ids: dict[str, Any]
) -> None:
    body = {**compose(alices_account), **ids}
    if "accounts" in ids:
        del body["account"]

    response = alices_api.post("/api/posts/", body, format="json")

    assert response.status_code == 400
    assert next(iter(response.json()["error"]["fields"])).startswith(next(iter(ids)))
    assert not Post.objects.exists()
