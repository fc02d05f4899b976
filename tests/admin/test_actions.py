from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from publishing.models import Post, ScheduleEntry
from tests.admin.conftest import NOW
from tests.support.broker import Broker
from tests.support.dates import entry_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
Status = ScheduleEntry.Status
CHANGELIST = reverse("admin:publishing_scheduleentry_changelist")


def run_action(client: Client, action: str, *entries: ScheduleEntry) -> list[str]:
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [entry.pk for entry in entries]}
    )
    assert response.status_code == 302
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_retry_moves_a_failed_date_back_to_pending_and_sends_its_message(
    admin_client: Client,
    alices_post: Post,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    failed = entry_at(alices_post, NOW - timedelta(hours=1), status=Status.FAILED, attempts=4)
    published = entry_at(alices_post, NOW - timedelta(hours=1), status=Status.PUBLISHED, attempts=1)

    with django_capture_on_commit_callbacks(execute=True):
        notes = run_action(admin_client, "retry_now", failed, published)

    failed.refresh_from_db()
    published.refresh_from_db()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == (Status.PENDING, 0, NOW)
    assert published.status == Status.PUBLISHED
    assert [(m.task, m.args, m.due) for m in broker.messages()] == [
        ("publishing.publish_entry", (failed.pk, 1), NOW)
    ]
    assert notes == [
        "1 date(s) queued again; 1 skipped (not failed, or changed meanwhile; an unconfirmed date is "
        "sent again only after someone looked at the account)."
    ]


def test_cancel_cancels_waiting_dates_and_skips_the_rest(admin_client: Client, alices_post: Post) -> None:
    pending = entry_at(alices_post, NOW + timedelta(days=1))
    retrying = entry_at(alices_post, NOW - timedelta(minutes=5), status=Status.RETRYING, attempts=1)
    publishing = entry_at(alices_post, NOW - timedelta(minutes=1), status=Status.PUBLISHING, attempts=1)

    notes = run_action(admin_client, "cancel", pending, retrying, publishing)

    statuses = [ScheduleEntry.objects.get(pk=e.pk).status for e in (pending, retrying, publishing)]
    assert statuses == [Status.CANCELLED, Status.CANCELLED, Status.PUBLISHING]
    assert notes == [
        "2 date(s) cancelled; 1 skipped (not pending, retrying or paused, or changed meanwhile)."
    ]


def test_reconcile_asks_the_platform_about_unconfirmed_dates_only(
    admin_client: Client,
    alices_post: Post,
    broker: Broker,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    unconfirmed = entry_at(
        alices_post,
        NOW - timedelta(hours=2),
        status=Status.UNCONFIRMED,
        attempts=1,
        dispatched_at=NOW - timedelta(hours=2),
        reconciled_at=NOW - timedelta(hours=1),
    )
    pending = entry_at(alices_post, NOW + timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        notes = run_action(admin_client, "reconcile", unconfirmed, pending)

    unconfirmed.refresh_from_db()
    assert unconfirmed.dispatched_at == NOW
    assert [(m.task, m.args) for m in broker.messages("maintenance")] == [
        ("publishing.reconcile_entry", (unconfirmed.pk,))
    ]
    assert notes == ["1 date(s) sent for reconciliation; 1 skipped (not unconfirmed, or changed meanwhile)."]


def test_an_action_that_changes_everything_reports_no_skips(admin_client: Client, alices_post: Post) -> None:
    pending = entry_at(alices_post, NOW + timedelta(days=1))

    notes = run_action(admin_client, "cancel", pending)

    assert notes == ["1 date(s) cancelled."]


def test_retry_skips_an_unconfirmed_date_nobody_looked_at(admin_client: Client, alices_post: Post) -> None:
    unconfirmed = entry_at(alices_post, NOW - timedelta(hours=1), status=Status.UNCONFIRMED, attempts=1)

    notes = run_action(admin_client, "retry_now", unconfirmed)

    assert ScheduleEntry.objects.get(pk=unconfirmed.pk).status == Status.UNCONFIRMED
    assert "0 date(s) queued again; 1 skipped" in notes[0]


def test_send_again_after_looking_requeues_an_unconfirmed_date(
    admin_client: Client, alices_post: Post
) -> None:
    unconfirmed = entry_at(alices_post, NOW - timedelta(hours=1), status=Status.UNCONFIRMED, attempts=1)

    notes = run_action(admin_client, "send_again_looked", unconfirmed)

    assert ScheduleEntry.objects.get(pk=unconfirmed.pk).status == Status.PENDING
    assert notes == ["1 date(s) queued again."]
