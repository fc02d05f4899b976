"""Paused dates on the Posts page, and the lateness tolerance on the profile page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from publishing.models import Post, Profile, ScheduleEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
WHEN = datetime(2099, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def alices_browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def paused(post: Post, **fields: str) -> ScheduleEntry:
    # One minute apart: a post holds one live date per instant.
    when = WHEN + timedelta(minutes=post.entries.count())
    return ScheduleEntry.objects.create(
        post=post,
        scheduled_at=when,
        next_attempt_at=when,
        status="paused",
        last_error_message="Paused: X: @alice needs reconnecting (Revoked.). Reconnect it to publish.",
        **fields,
    )


def test_a_date_paused_for_a_reconnect_says_so_and_links_to_the_accounts(
    alices_browser: Client, alices_post: Post, alices_account: SocialAccount
) -> None:
    alices_account.mark_needs_reconnect("Revoked.")
    entry = paused(alices_post)

    page = alices_browser.get("/").content.decode()

    assert "Paused: reconnect the account" in page
    assert "1 date paused until you" in page
    row = page[page.index(f'id="entry-{entry.pk}"') :]
    assert 'href="/social-accounts/">Reconnect the account</a>' in row[: row.index("</tr>")]
    assert "Send 1 now" not in page


def test_late_paused_dates_go_out_on_one_click(
    alices_browser: Client, alices_post: Post, alices_account: SocialAccount
) -> None:
    late = [paused(alices_post, last_error_code=ScheduleEntry.LATE_AFTER_RECONNECT) for _ in range(3)]

    assert "Send 3 now" in alices_browser.get("/").content.decode()
    response = alices_browser.post("/dates/paused/send/", {"next": "/"}, follow=True)

    assert "Sending 3 paused dates now." in response.content.decode()
    assert set(
        ScheduleEntry.objects.filter(pk__in=[e.pk for e in late]).values_list("status", flat=True)
    ) == {"pending"}


def test_the_profile_page_sets_the_lateness_tolerance(alices_browser: Client, alice: User) -> None:
    response = alices_browser.post("/profile/", {"time_zone": "UTC", "lateness_tolerance_minutes": "30"})

    assert response.status_code == 302
    assert Profile.objects.get(user=alice).lateness_tolerance_minutes == 30
    refused = alices_browser.post("/profile/", {"time_zone": "UTC", "lateness_tolerance_minutes": "-5"})
    assert refused.status_code == 200
    assert "errorlist" in refused.content.decode()
