"""The Posts page: statuses in words, the user's time zone, live refresh, filters and pages."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.support.dates import YEAR, add_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
WHEN = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)


def row(page: str, entry: ScheduleEntry) -> str:
    start = page.index(f'id="entry-{entry.pk}"')
    return page[start : page.index("</tr>", start)]


def test_a_pending_date_shows_its_time_in_my_time_zone(
    alices_browser: Client, alice: User, alices_post: Post
) -> None:
    services.set_time_zone(user_id=alice.pk, time_zone="America/New_York")
    entry = add_entry(alices_post)

    page = alices_browser.get("/").content.decode()

    assert "America/New_York" in page
    assert f"Goes out {date(YEAR, 1, 1):%a} 1 Jan, 04:00." in row(page, entry)


def test_a_retrying_date_says_which_attempt_comes_next_and_when(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(
        alices_post,
        "retrying",
        attempts=2,
        last_error_message="The platform had a server error.",
    )
    ScheduleEntry.objects.filter(pk=entry.pk).update(next_attempt_at=WHEN + timedelta(minutes=2))

    text = row(alices_browser.get("/").content.decode(), entry)

    assert "Attempt 3 of 4 at 09:02:00." in text
    assert "The platform had a server error." in text


def test_a_published_date_links_to_the_live_post(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, "published", platform_url="https://x.example/alice/status/1")

    text = row(alices_browser.get("/").content.decode(), entry)

    assert '<a href="https://x.example/alice/status/1">View the live post</a>' in text


def test_a_failed_date_gives_the_reason_and_offers_retry_and_reschedule(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "failed", last_error_message="X says this is a duplicate post.")

    text = row(alices_browser.get("/").content.decode(), entry)

    assert "X says this is a duplicate post." in text
    assert f"/dates/{entry.pk}/retry/" in text
    assert f"/dates/{entry.pk}/reschedule/" in text
    assert f"/dates/{entry.pk}/cancel/" not in text


def test_an_unconfirmed_date_says_what_to_check_and_offers_both_answers(
    alices_browser: Client, alices_post: Post
) -> None:
    entry = add_entry(alices_post, "unconfirmed", reconciled_at=WHEN, last_error_message="No answer.")

    text = row(alices_browser.get("/").content.decode(), entry)

    assert "Check X: @alice for this post" in text
    assert f"/dates/{entry.pk}/confirm/" in text
    assert f"/dates/{entry.pk}/retry/" in text


@pytest.mark.parametrize(
    ("status", "words"),
    [("publishing", "Sending to the platform now."), ("cancelled", "Will not be sent.")],
)
def test_the_other_statuses_are_said_in_words(
    alices_browser: Client, alices_post: Post, status: str, words: str
) -> None:
    entry = add_entry(alices_post, status)

    assert words in row(alices_browser.get("/").content.decode(), entry)


def test_the_list_polls_itself_while_a_date_may_still_change(
    alices_browser: Client, alices_post: Post
) -> None:
    add_entry(alices_post, "pending")

    page = alices_browser.get("/?status=pending").content.decode()

    assert 'hx-get="/?status=pending" hx-trigger="every 2s"' in page
    assert "publishing/htmx.min.js" in page


def test_the_list_stops_polling_once_every_date_is_settled(alices_browser: Client, alices_post: Post) -> None:
    add_entry(alices_post, "published")
    add_entry(alices_post, "unconfirmed", when=WHEN + timedelta(days=1), reconciled_at=WHEN)

    page = alices_browser.get("/").content.decode()

    # (The header's notification count polls on every page; the list itself must not.)
    posts = page.split('<div id="posts"', 1)[1].split(">", 1)[0]
    assert "hx-trigger" not in posts


def test_a_poll_gets_only_the_list_fragment(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, "publishing")

    response = alices_browser.get("/", headers={"HX-Request": "true"})

    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="posts"')
    assert "<html" not in fragment
    assert f'id="entry-{entry.pk}"' in fragment


def make_posts(owner: User, account: SocialAccount, count: int) -> None:
    for n in range(count):
        # Every other post shares a group, so the "composed together" lookup is counted too.
        group = uuid.UUID(int=n // 2 + 1)
        post = Post.objects.create(owner=owner, account=account, text=f"Post {n}", group=group)
        add_entry(post, "pending")
        add_entry(post, "failed", when=WHEN + timedelta(days=1), last_error_message="No.")


@pytest.mark.parametrize("htmx", [False, True])
def test_the_page_needs_the_same_number_of_queries_for_one_post_or_ten(
    alices_browser: Client, alice: User, alices_account: SocialAccount, htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    make_posts(alice, alices_account, 1)
    with CaptureQueriesContext(connection) as one:
        assert alices_browser.get("/", headers=headers).status_code == 200
    make_posts(alice, alices_account, 9)
    with CaptureQueriesContext(connection) as ten:
        page = alices_browser.get("/", headers=headers).content.decode()

    assert page.count('class="post"') == 10
    assert len(ten.captured_queries) == len(one.captured_queries)


def test_filters_narrow_the_list_by_status_platform_account_and_dates(
    alices_browser: Client, alice: User, alices_account: SocialAccount
) -> None:
    other_account = SocialAccount.objects.create(
        owner=alice, platform="tiktok", platform_account_id="t", display_name="@alice_tt"
    )
    failed_post = Post.objects.create(owner=alice, account=alices_account, text="Failed one")
    add_entry(failed_post, "failed", when=datetime(YEAR, 3, 10, 12, 0, tzinfo=UTC))
    tiktok_post = Post.objects.create(owner=alice, account=other_account, text="TikTok one")
    add_entry(tiktok_post, "pending", when=datetime(YEAR, 5, 1, 12, 0, tzinfo=UTC))

    def shown(query: str) -> list[str]:
        page = alices_browser.get(f"/?{query}").content.decode()
        return [text for text in ("Failed one", "TikTok one") if text in page]

    assert shown("status=failed") == ["Failed one"]
    assert shown("platform=tiktok") == ["TikTok one"]
    assert shown(f"account={alices_account.pk}") == ["Failed one"]
    assert shown(f"date_from={YEAR}-04-01") == ["TikTok one"]
    assert shown(f"date_to={YEAR}-03-10") == ["Failed one"]
    assert shown(f"date_from={YEAR}-03-10&date_to={YEAR}-05-01") == ["Failed one", "TikTok one"]


def test_another_users_account_is_not_a_filter_choice(
    alices_browser: Client, bob: User, alices_post: Post
) -> None:
    bobs_account = SocialAccount.objects.create(
        owner=bob, platform="x", platform_account_id="b", display_name="@b"
    )

    response = alices_browser.get(f"/?account={bobs_account.pk}")

    assert "account" in response.context["filters"].errors
    assert "@b" not in response.content.decode()


def test_the_list_is_paged_twenty_posts_at_a_time_keeping_the_filters(
    alices_browser: Client, alice: User, alices_account: SocialAccount
) -> None:
    make_posts(alice, alices_account, 25)

    first = alices_browser.get("/?status=failed").content.decode()
    second = alices_browser.get("/?status=failed&page=2").content.decode()

    assert first.count('class="post"') == 20
    assert "Page 1 of 2" in first
    assert 'href="?status=failed&amp;page=2"' in first
    assert second.count('class="post"') == 5


def test_the_posts_page_needs_signing_in() -> None:
    response = Client().get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
