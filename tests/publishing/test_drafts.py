"""Drafts (a post without dates: listed, editable, scheduled later) and a post composed for several
accounts, edited in one place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def alices_page(alice: User) -> SocialAccount:
    return SocialAccount.objects.create(
        owner=alice, platform="facebook", platform_account_id="fb-1", display_name="Alice's Page"
    )


def compose(browser: Client, accounts: list[SocialAccount], **fields: str) -> Post:
    response = browser.post(
        "/compose/", {"accounts": [a.pk for a in accounts], "time_zone": "UTC", "text": "Soon", **fields}
    )
    assert response.status_code == 302, response.context["form"].errors
    return Post.objects.filter(account=accounts[0]).latest("id")


@time_machine.travel(NOW, tick=False)
def test_saving_as_a_draft_keeps_the_post_without_dates_and_lists_it_under_drafts(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    draft = compose(alices_browser, [alices_account], action="draft", dates="2026-12-01 09:00")

    page = alices_browser.get("/").content.decode()

    assert not draft.entries.exists()
    assert ">Drafts</h2>" in page
    assert f'href="/posts/{draft.pk}/edit/"' in page


@time_machine.travel(NOW, tick=False)
def test_scheduling_without_a_date_asks_for_one_or_a_draft(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    response = alices_browser.post(
        "/compose/", {"accounts": [alices_account.pk], "text": "hi", "time_zone": "UTC", "action": "schedule"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["dates"] == ["Add a date, or save the post as a draft."]
    assert not Post.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_draft_is_edited_and_scheduled_later_from_its_page(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    draft = compose(alices_browser, [alices_account], action="draft")

    alices_browser.post(f"/posts/{draft.pk}/edit/", {"text": "Ready now"})
    alices_browser.post(
        f"/posts/{draft.pk}/edit/", {"dates": ["2026-12-01T09:00", "2026-12-02T09:00"], "time_zone": "UTC"}
    )

    draft.refresh_from_db()
    assert draft.text == "Ready now"
    assert list(draft.entries.values_list("scheduled_at", "status")) == [
        (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "pending"),
        (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "pending"),
    ]


@time_machine.travel(NOW, tick=False)
def test_a_post_for_two_accounts_is_edited_in_one_place(
    alices_browser: Client, alices_account: SocialAccount, alices_page: SocialAccount
) -> None:
    first = compose(alices_browser, [alices_account, alices_page], dates="2026-12-01 09:00")
    second = Post.objects.get(account=alices_page)

    page = alices_browser.get(f"/posts/{first.pk}/edit/").content.decode()
    alices_browser.post(f"/posts/{first.pk}/edit/", {"text": "Changed for both"})

    assert "Post to 2 accounts" in page
    assert f'id="dates-{second.pk}"' in page
    assert set(Post.objects.values_list("text", flat=True)) == {"Changed for both"}


@time_machine.travel(NOW, tick=False)
def test_an_edit_skips_the_account_whose_date_went_out_and_says_so(
    alices_browser: Client, alices_account: SocialAccount, alices_page: SocialAccount
) -> None:
    first = compose(alices_browser, [alices_account, alices_page], dates="2026-12-01 09:00")
    sent = Post.objects.get(account=alices_page)
    ScheduleEntry.objects.filter(post=sent).update(status="published")

    page = alices_browser.get(f"/posts/{first.pk}/edit/").content.decode()
    alices_browser.post(f"/posts/{first.pk}/edit/", {"text": "Only for X"})

    assert "not for Facebook Page: Alice&#x27;s Page, which has gone out" in page
    assert Post.objects.get(pk=first.pk).text == "Only for X"
    assert Post.objects.get(pk=sent.pk).text == "Soon"


@time_machine.travel(NOW, tick=False)
def test_two_dates_to_x_warn_that_x_refuses_the_same_text_twice(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    response = alices_browser.post(
        "/compose/",
        {
            "accounts": [alices_account.pk],
            "text": "Same",
            "time_zone": "UTC",
            "dates": "2026-12-01 09:00\n2026-12-02 09:00",
        },
        follow=True,
    )

    assert "X refuses a text it has already published" in response.content.decode()
