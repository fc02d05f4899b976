"""The at-risk check: a token that cannot be refreshed is found a day before the date, not at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail

from notifications import services
from notifications.events import Event
from notifications.models import Delivery, Notification
from notifications.watch import check_at_risk, daily_summaries
from platforms.base import ReconnectNeeded
from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.notifications.conftest import choose_channels
from tests.support.fakes import FakeClient
from tests.support.receiver import WebhookReceiver

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def launch(alices_post: Post, alices_account: SocialAccount) -> ScheduleEntry:
    # The token lapses tonight; the launch is tomorrow morning.
    SocialAccount.objects.filter(pk=alices_account.pk).update(token_expires_at=NOW + timedelta(hours=6))
    when = NOW + timedelta(hours=23)
    return ScheduleEntry.objects.create(post=alices_post, scheduled_at=when, next_attempt_at=when)


def test_a_refused_refresh_a_day_ahead_warns_on_every_enabled_channel(
    launch: ScheduleEntry, fake_x: FakeClient, alice: User, receiver: WebhookReceiver
) -> None:
    services.create_webhook(user_id=alice.pk, url=receiver.url, format="json")
    fake_x.refresh_answer = ReconnectNeeded(
        "invalid_grant: the refresh token was revoked", code="invalid_grant"
    )

    report = check_at_risk()

    assert report.warned == 1
    warning = Notification.objects.get(user=alice)
    assert warning.event == Event.DATE_AT_RISK
    assert warning.in_app is True
    assert "revoked" in warning.body
    assert "2026-11-29 11:00 UTC" in warning.title
    services.fan_out(notification_id=warning.pk)
    assert len(mail.outbox) == 1
    assert "revoked" in str(mail.outbox[0].body)
    assert len(receiver.received) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert SocialAccount.objects.get(pk=launch.post.account_id).status == SocialAccount.Status.NEEDS_RECONNECT


def test_the_warning_is_given_once_per_incident(launch: ScheduleEntry, fake_x: FakeClient) -> None:
    fake_x.refresh_answer = ReconnectNeeded("revoked", code="invalid_grant")

    check_at_risk()
    check_at_risk()

    assert Notification.objects.count() == 1


def test_a_token_that_refreshes_needs_no_warning(launch: ScheduleEntry, fake_x: FakeClient) -> None:
    report = check_at_risk()

    assert (report.refreshed, report.warned) == (1, 0)
    assert SocialAccount.objects.get(pk=launch.post.account_id).access_token == "fresh-access"
    assert not Notification.objects.exists()


def test_dates_beyond_a_day_are_not_checked_yet(
    alices_post: Post, alices_account: SocialAccount, fake_x: FakeClient
) -> None:
    SocialAccount.objects.filter(pk=alices_account.pk).update(token_expires_at=NOW + timedelta(hours=6))
    when = NOW + timedelta(days=3)
    ScheduleEntry.objects.create(post=alices_post, scheduled_at=when, next_attempt_at=when)
    fake_x.refresh_answer = ReconnectNeeded("revoked", code="invalid_grant")

    assert check_at_risk().checked == 0
    assert not Notification.objects.exists()


def test_the_daily_summary_goes_only_to_those_who_asked_and_once_a_day(
    alices_post: Post, alice: User, bob: User
) -> None:
    choose_channels(alice, Event.DAILY_SUMMARY, in_app=True, email=True)
    ScheduleEntry.objects.create(
        post=alices_post,
        scheduled_at=NOW - timedelta(hours=2),
        next_attempt_at=NOW - timedelta(hours=2),
        status="published",
        published_at=NOW - timedelta(hours=2),
        platform_url="https://x.example/1",
    )

    assert daily_summaries() == 1
    assert daily_summaries() == 0

    [summary] = Notification.objects.filter(event=Event.DAILY_SUMMARY)
    assert summary.user == alice
    assert "1 published, 0 failed" in summary.title
    assert "https://x.example/1" in summary.body
