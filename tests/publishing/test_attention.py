"""The Posts page's "needs attention" section and its one-click fixes: reconnect, then retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from platforms.base import ConnectedAccount
from platforms.models import SocialAccount
from platforms.services import connect_accounts
from publishing import selectors
from publishing.models import Post, ScheduleEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
Status = ScheduleEntry.Status
REVOKED = "X revoked SoSocial's access: connect the account again."


def add_entry(post: Post, status: str, when: datetime = NOW, **fields: Any) -> ScheduleEntry:
    fields = {"updated_at": NOW, **fields}
    return ScheduleEntry.objects.create(
        post=post, scheduled_at=when, next_attempt_at=when, status=status, **fields
    )


def reconnect(account: SocialAccount) -> None:
    connected = ConnectedAccount(
        account_id=account.platform_account_id, display_name=account.display_name, access_token="new"
    )
    connect_accounts(owner_id=account.owner_id, platform=account.platform, connected=[connected])


@pytest.fixture
def flagged(alices_account: SocialAccount) -> SocialAccount:
    alices_account.mark_needs_reconnect(REVOKED)
    return alices_account


@time_machine.travel(NOW, tick=False)
def test_reconnecting_turns_the_dates_that_failed_for_it_into_ready_to_retry(
    flagged: SocialAccount, alices_post: Post
) -> None:
    refused = add_entry(alices_post, Status.FAILED, last_error_message=REVOKED, last_error_code="x_401")
    skipped = add_entry(
        alices_post,
        Status.FAILED,
        NOW - timedelta(hours=1),
        last_error_code="needs_reconnect",
        last_error_message="…",
    )
    other = add_entry(
        alices_post,
        Status.FAILED,
        NOW - timedelta(hours=2),
        last_error_code="x_duplicate",
        last_error_message="Duplicate.",
    )

    reconnect(flagged)

    for entry in (refused, skipped):
        entry.refresh_from_db()
        assert entry.last_error_code == ScheduleEntry.RECONNECTED_CODE
        assert "is connected again: retry to send it" in entry.last_error_message
        assert "revoked" not in entry.last_error_message
    other.refresh_from_db()
    assert other.last_error_message == "Duplicate."


@time_machine.travel(NOW, tick=False)
def test_attention_lists_the_account_to_reconnect_then_the_dates_to_retry(
    flagged: SocialAccount, alices_post: Post
) -> None:
    failed = add_entry(alices_post, Status.FAILED, last_error_message=REVOKED)

    before = selectors.needs_attention(owner_id=flagged.owner_id)
    reconnect(flagged)
    after = selectors.needs_attention(owner_id=flagged.owner_id)

    assert [(account, account.failed_dates) for account in before.reconnect] == [(flagged, 1)]  # type: ignore[attr-defined]
    assert (before.retry_ready, before.entries) == ([], [])
    assert after.reconnect == []
    assert [(account, account.failed_dates) for account in after.retry_ready] == [(flagged, 1)]  # type: ignore[attr-defined]
    assert failed not in after.entries


@time_machine.travel(NOW, tick=False)
def test_one_click_retries_every_date_that_failed_while_the_account_needed_reconnecting(
    alices_browser: Client, flagged: SocialAccount, alices_post: Post
) -> None:
    first = add_entry(alices_post, Status.FAILED, last_error_message=REVOKED)
    second = add_entry(alices_post, Status.FAILED, NOW + timedelta(hours=1), last_error_message=REVOKED)
    refused = add_entry(alices_post, Status.FAILED, NOW - timedelta(hours=1), last_error_message="Duplicate.")
    reconnect(flagged)

    response = alices_browser.post(f"/social-accounts/{flagged.pk}/retry/", {"next": "/"})

    assert response["Location"] == "/"
    statuses = {e.pk: e.status for e in ScheduleEntry.objects.all()}
    assert statuses == {first.pk: Status.PENDING, second.pk: Status.PENDING, refused.pk: Status.FAILED}
    assert alices_browser.post(f"/social-accounts/{flagged.pk}/retry/").status_code == 302  # nothing left


def test_bob_cannot_retry_alices_dates(bob: User, flagged: SocialAccount, alices_post: Post) -> None:
    entry = add_entry(alices_post, Status.FAILED, last_error_message=REVOKED)
    reconnect(flagged)
    browser = Client()
    browser.force_login(bob)

    browser.post(f"/social-accounts/{flagged.pk}/retry/")

    entry.refresh_from_db()
    assert entry.status == Status.FAILED


@time_machine.travel(NOW, tick=False)
def test_the_failed_row_of_an_account_to_reconnect_links_to_reconnecting_it(
    alices_browser: Client, flagged: SocialAccount, alices_post: Post
) -> None:
    entry = add_entry(alices_post, Status.FAILED, last_error_message=REVOKED)

    page = alices_browser.get("/").content.decode()

    row = page[page.index(f'id="entry-{entry.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'href="/social-accounts/connect/x/?next=/"' in row
    assert "Retry now" not in row
    assert 'id="attention"' in page
    assert f'id="reconnect-{flagged.pk}"' in page


@time_machine.travel(NOW, tick=False)
def test_attention_comes_first_then_upcoming_by_date_then_drafts_then_the_past(
    alices_browser: Client, alice: User, alices_account: SocialAccount
) -> None:
    def post(text: str, *dates: tuple[str, datetime]) -> Post:
        made = Post.objects.create(owner=alice, account=alices_account, text=text)
        for status, when in dates:
            add_entry(made, status, when)
        return made

    post("published long ago", (Status.PUBLISHED, NOW - timedelta(days=9)))
    post("next week", (Status.PENDING, NOW + timedelta(days=7)))
    post("a draft")
    post("failed today", (Status.FAILED, NOW - timedelta(hours=1)))
    post("tomorrow", (Status.PENDING, NOW + timedelta(days=1)), (Status.PUBLISHED, NOW - timedelta(days=1)))

    page = alices_browser.get("/").content.decode()

    order = ["failed today", "tomorrow", "next week", "a draft", "published long ago"]
    attention = page.index('id="attention"')
    positions = [
        page.index(f'<p class="post-text">{text}', attention if i else 0) for i, text in enumerate(order)
    ]
    assert attention < page.index("failed today")
    assert positions[1:] == sorted(positions[1:])
    assert page.index(">Upcoming</h2>") < page.index(">Drafts</h2>") < page.index(">Sent and past</h2>")


def test_a_filtered_list_leaves_out_the_attention_section(alices_browser: Client, alices_post: Post) -> None:
    add_entry(alices_post, Status.FAILED, last_error_message="Refused.", updated_at=datetime.now(UTC))

    assert 'id="attention"' in alices_browser.get("/").content.decode()
    assert 'id="attention"' not in alices_browser.get("/?status=failed").content.decode()
