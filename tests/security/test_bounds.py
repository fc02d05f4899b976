"""Bad input gets a field error or a 404, never a 500: far dates, huge ids, deep or large JSON bodies,
too many dates, unknown options; and no page renders an unbounded list of one post's dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from pytest_django import Settings
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from platforms.registry import use_client
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.support.fakes import FakeClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HUGE = "9" * 25


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alices_api(alice: User) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    return client


@pytest.fixture
def alices_browser(alice: User) -> Client:
    browser = Client(raise_request_exception=False)
    browser.force_login(alice)
    return browser


def fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return dict(response.json()["error"]["fields"])


# -- ids ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/entries/", "/api/posts/"])
@pytest.mark.parametrize("value", [HUGE, str(2**63), "-" + HUGE])
def test_an_out_of_range_account_filter_is_a_400_naming_it(
    alices_api: APIClient, path: str, value: str
) -> None:
    assert set(fields(alices_api.get(f"{path}?account={value}"))) == {"account"}


@pytest.mark.parametrize(
    "path",
    [f"/api/posts/{HUGE}/", f"/api/entries/{HUGE}/", f"/api/accounts/{HUGE}/", f"/api/entries/{2**63}/"],
)
def test_an_out_of_range_id_in_a_path_is_a_404(alices_api: APIClient, path: str) -> None:
    response = alices_api.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_out_of_range_account_when_composing_is_a_400(alices_api: APIClient) -> None:
    body = {"account": int(HUGE), "text": "hi", "when": ["2026-12-01T09:00:00Z"]}

    assert set(fields(alices_api.post("/api/posts/", body, format="json"))) == {"account"}


@pytest.mark.parametrize(
    "path",
    [f"/?account={HUGE}", f"/posts/{HUGE}/edit/", f"/dates/{HUGE}/cancel/", f"/calendar/?start={HUGE}"],
)
def test_pages_answer_huge_ids_without_a_server_error(alices_browser: Client, path: str) -> None:
    response = alices_browser.post(path) if "/dates/" in path else alices_browser.get(path)

    assert response.status_code in {200, 404}


# -- far dates ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:00Z", "2029-01-01T00:00:00Z", "9999-12-31T23:59:00-05:00", "10000-01-01T00:00:00Z"],
)
def test_the_api_refuses_a_date_too_far_ahead_on_the_field(
    alices_api: APIClient, alices_account: SocialAccount, alices_post: Post, moment: str
) -> None:
    entry = ScheduleEntry.objects.create(
        post=alices_post, scheduled_at=NOW + timedelta(days=1), next_attempt_at=NOW + timedelta(days=1)
    )
    create = {"account": alices_account.pk, "text": "hi", "when": [moment]}

    assert set(fields(alices_api.post("/api/posts/", create, format="json"))) <= {"when", "when.0"}
    assert set(
        fields(alices_api.post(f"/api/posts/{alices_post.pk}/entries/", {"when": [moment]}, format="json"))
    )
    assert set(
        fields(alices_api.post(f"/api/entries/{entry.pk}/reschedule/", {"when": moment}, format="json"))
    ) == {"when"}
    assert not Post.objects.exclude(pk=alices_post.pk).exists()


def test_the_last_allowed_moment_is_two_years_ahead_by_default(
    alices_api: APIClient, alices_account: SocialAccount
) -> None:
    body = {"account": alices_account.pk, "text": "hi", "when": [(NOW + timedelta(days=730)).isoformat()]}
    assert alices_api.post("/api/posts/", body, format="json").status_code == 201

    body["when"] = [(NOW + timedelta(days=730, minutes=1)).isoformat()]
    assert fields(alices_api.post("/api/posts/", body, format="json"))["when"] == [
        "2028-11-27 12:01 UTC is too far ahead: pick a date before 2028-11-27 12:00 UTC."
    ]


@pytest.mark.parametrize("name", ["date_from", "date_to"])
@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z", "0001-01-01T00:00:00%2B05:00"]
)
@pytest.mark.parametrize("path", ["/api/entries/", "/api/posts/"])
def test_the_api_date_filters_refuse_far_dates_on_the_field(
    alices_api: APIClient, name: str, value: str, path: str
) -> None:
    assert set(fields(alices_api.get(f"{path}?{name}={value}"))) == {name}


@pytest.mark.parametrize("query", ["date_from=9999-12-31", "date_to=9999-12-31", "date_from=0001-01-01"])
def test_the_posts_page_shows_a_field_error_for_a_far_date_filter(alices_browser: Client, query: str) -> None:
    response = alices_browser.get(f"/?{query}")

    assert response.status_code == 200
    name = query.split("=")[0]
    assert response.context["filters"].errors[name] == ["Pick a day between 2000-01-01 and 2028-11-28."]


@pytest.mark.parametrize(
    "query", ["start=9999-12-31", "start=0001-01-01", "start=9999-12-31&view=week", "start=10000-01-01"]
)
def test_the_calendar_never_fails_on_a_far_date(alices_browser: Client, query: str) -> None:
    response = alices_browser.get(f"/calendar/?{query}")

    assert response.status_code == 200
    assert response.context["first"] <= NOW.date() <= response.context["last"]


# -- JSON bodies ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/posts/", "/api/token/", "/api/profile/"])
def test_deeply_nested_json_is_a_400_in_the_error_format(alices_api: APIClient, path: str) -> None:
    method = alices_api.put if path == "/api/profile/" else alices_api.post

    response = method(path, "[" * 1000, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert "nested more than 32 levels" in response.json()["error"]["message"]


def test_nesting_is_allowed_up_to_the_limit_and_refused_past_it(alices_api: APIClient) -> None:
    def nested(depth: int) -> str:
        return '{"time_zone": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    at_limit = alices_api.put("/api/profile/", nested(32), content_type="application/json")
    past_it = alices_api.put("/api/profile/", nested(33), content_type="application/json")

    assert at_limit.json()["error"]["code"] == "invalid"  # parsed, then refused as not a string
    assert past_it.json()["error"]["code"] == "parse_error"


def test_anonymous_deep_json_at_the_token_endpoint_is_a_400() -> None:
    response = APIClient(raise_request_exception=False).post(
        "/api/token/", "[" * 100_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_a_body_past_the_size_limit_is_a_413_in_the_error_format(
    alices_api: APIClient, settings: Settings, content_type: str
) -> None:
    settings.SOSOCIAL_API_MAX_BODY_BYTES = 1000
    body = '{"username": "' + "a" * 2000 + '"}' if "json" in content_type else "username=" + "a" * 2000

    response = alices_api.post("/api/token/", body, content_type=content_type)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


# -- how many dates, which options ----------------------------------------------------------------
def _dates(count: int) -> list[str]:
    return [(NOW + timedelta(days=1, minutes=n)).isoformat() for n in range(count)]


def test_the_api_caps_the_dates_of_one_post(alices_api: APIClient, alices_account: SocialAccount) -> None:
    body = {"account": alices_account.pk, "text": "hi", "when": _dates(101)}

    assert fields(alices_api.post("/api/posts/", body, format="json")) == {
        "when": ["At most 100 dates per post; this has 101."]
    }
    body["when"] = _dates(100)
    assert alices_api.post("/api/posts/", body, format="json").status_code == 201


def test_adding_dates_counts_the_ones_a_post_already_has(alices_api: APIClient, alices_post: Post) -> None:
    services.schedule_post(post=alices_post, when=[datetime.fromisoformat(d) for d in _dates(95)])

    response = alices_api.post(
        f"/api/posts/{alices_post.pk}/entries/", {"when": _dates(106)[100:]}, format="json"
    )

    assert fields(response) == {"when": ["A post has at most 100 dates; this one has room for 5."]}
    assert alices_post.entries.count() == 95


def test_the_compose_form_caps_the_dates_of_one_post(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    lines = "\n".join(f"2026-12-{1 + n // 60:02d} {n % 24:02d}:{n % 60:02d}" for n in range(101))

    response = alices_browser.post(
        "/compose/", {"accounts": [alices_account.pk], "text": "hi", "dates": lines, "time_zone": "UTC"}
    )

    assert response.context["form"].errors["dates"] == ["At most 100 dates per post; this has 101."]
    assert not Post.objects.exists()


def test_an_unknown_option_name_is_a_field_error(
    alices_api: APIClient, alices_account: SocialAccount
) -> None:
    body = {"account": alices_account.pk, "text": "hi", "when": _dates(1), "options": {"reply": "no"}}

    assert fields(alices_api.post("/api/posts/", body, format="json")) == {
        "options": ["Unknown option for this platform: reply. Known options: none."]
    }


def test_ten_thousand_option_names_are_refused_and_not_stored(
    alices_api: APIClient, alices_post: Post
) -> None:
    options = {f"name{n}": "x" for n in range(10_000)}

    response = alices_api.patch(f"/api/posts/{alices_post.pk}/", {"options": options}, format="json")

    assert "and 9995 more" in fields(response)["options"][0]
    alices_post.refresh_from_db()
    assert alices_post.options == {}


def test_a_platforms_own_options_are_accepted(alice: User) -> None:
    tiktok = SocialAccount.objects.create(owner=alice, platform="tiktok", platform_account_id="t")
    post = services.create_post(
        owner_id=alice.pk, account=tiktok, text="hi", options={"privacy_level": "SELF_ONLY", "title": "T"}
    )
    assert post.options == {"privacy_level": "SELF_ONLY", "title": "T"}

    with pytest.raises(ValidationError) as refused:
        services.create_post(
            owner_id=alice.pk, account=tiktok, text="hi", options={"link": "https://a.example"}
        )
    assert set(refused.value.message_dict) == {"options"}


# -- pages render a bounded number of one post's dates --------------------------------------------
def test_the_posts_page_shows_a_few_dates_of_a_post_and_links_to_the_rest(
    alices_browser: Client, alices_post: Post
) -> None:
    for n in range(30):
        when = NOW + timedelta(days=1, minutes=n)
        ScheduleEntry.objects.create(post=alices_post, scheduled_at=when, next_attempt_at=when)

    page = alices_browser.get("/").content.decode()

    assert page.count('class="entry"') == 10
    assert "and 20 more dates" in page
    assert f"/posts/{alices_post.pk}/edit/" in page


def test_the_posts_own_page_pages_through_its_dates(alices_browser: Client, alices_post: Post) -> None:
    for n in range(120):
        when = NOW + timedelta(days=1, minutes=n)
        ScheduleEntry.objects.create(post=alices_post, scheduled_at=when, next_attempt_at=when)

    first = alices_browser.get(f"/posts/{alices_post.pk}/edit/")
    last = alices_browser.get(f"/posts/{alices_post.pk}/edit/?dates_page=3")

    assert len(first.context["dates"].object_list) == 50
    assert len(last.context["dates"].object_list) == 20
    assert "Dates 101 to 120 of 120" in last.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "scheduled_at__year=9999&scheduled_at__month=12&scheduled_at__day=31",
        "scheduled_at__year=10000",
        f"scheduled_at__year={HUGE}",
        f"q={HUGE}",
        f"id={HUGE}",
    ],
)
def test_the_admin_list_of_dates_never_fails_on_far_dates_or_huge_ids(admin_user: User, query: str) -> None:
    browser = Client(raise_request_exception=False)
    browser.force_login(admin_user)

    response = browser.get(f"/admin/publishing/scheduleentry/?{query}")

    assert response.status_code in {200, 302}


def test_options_for_several_platforms_go_each_to_the_platform_that_reads_them(
    alice: User, alices_account: SocialAccount
) -> None:
    tiktok = SocialAccount.objects.create(owner=alice, platform="tiktok", platform_account_id="t")
    ids = [alices_account.pk, tiktok.pk]
    when = [NOW + timedelta(days=1)]

    with use_client("tiktok", FakeClient()):
        posts = services.compose_for_accounts(
            owner_id=alice.pk, account_ids=ids, text="hi", when=when, options={"privacy_level": "SELF_ONLY"}
        )
        with pytest.raises(ValidationError) as refused:
            services.compose_for_accounts(
                owner_id=alice.pk, account_ids=ids, text="hi", when=when, options={"reply": "no"}
            )

    assert {post.account.platform: post.options for post in posts} == {
        "x": {},
        "tiktok": {"privacy_level": "SELF_ONLY"},
    }
    assert set(refused.value.message_dict) == {"options"}
    assert Post.objects.count() == 2
