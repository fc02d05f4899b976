"""An account whose token is revoked pauses its dates, tells its owner once, and resumes on reconnect."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from pytest_django import DjangoCaptureOnCommitCallbacks as RunOnCommit

from notifications.events import Event
from notifications.models import Notification
from platforms.base import ConnectedAccount, ReconnectNeeded
from platforms.models import SocialAccount
from platforms.services import connect_accounts
from publishing import pipeline, services, sweep, tasks
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.support.broker import Broker
from tests.support.fakes import FakeClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db
Status = ScheduleEntry.Status
TASKS: dict[str, Callable[..., None]] = {
    "publishing.publish_entry": tasks.publish_entry,
    "publishing.reconcile_entry": tasks.reconcile_entry,
}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def run_due_messages(broker: Broker, on_commit: RunOnCommit) -> None:
    """Run every publish message that is due, as a worker would (and what they send, after commit)."""
    while True:
        due = [m for m in broker.messages("publish") if m.eta is None or m.eta <= datetime.now(UTC)]
        broker.flush()
        if not due:
            return
        with on_commit(execute=True):
            for message in due:
                TASKS[message.task](*message.args)


def statuses(post: Post) -> Counter[str]:
    return Counter(post.entries.values_list("status", flat=True))


def test_a_revoked_token_pauses_ten_dates_tells_once_and_resumes_those_within_the_tolerance(
    alice: User,
    alices_account: SocialAccount,
    alices_post: Post,
    fake_x: FakeClient,
    broker: Broker,
    clock: time_machine.Traveller,
    django_capture_on_commit_callbacks: RunOnCommit,
) -> None:
    run = django_capture_on_commit_callbacks
    dates = [NOW + timedelta(minutes=1 + 10 * i) for i in range(10)]  # 12:01, 12:11, ... 13:31
    with run(execute=True):
        services.schedule_post(post=alices_post, when=dates)
    fake_x.outcomes = [ReconnectNeeded("X revoked SoSocial's access.", code="x_revoked", http_status=401)]

    clock.move_to(NOW + timedelta(minutes=1))
    run_due_messages(broker, run)
    with run(execute=True):
        sweep.sweep_schedule()
    run_due_messages(broker, run)

    assert statuses(alices_post) == {Status.PAUSED: 10}
    assert len(fake_x.publish_calls) == 1
    [told] = Notification.objects.filter(user=alice)
    assert told.event == Event.ACCOUNT_NEEDS_RECONNECT
    assert "10 scheduled date(s) wait" in told.body
    assert told.action_url == "/social-accounts/"
    assert SocialAccount.objects.get(pk=alices_account.pk).status == SocialAccount.Status.NEEDS_RECONNECT

    # Hours later the sweep still leaves them paused: nothing fails, nothing is sent.
    clock.move_to(NOW + timedelta(minutes=100))
    with run(execute=True):
        sweep.sweep_schedule()
    run_due_messages(broker, run)
    assert statuses(alices_post) == {Status.PAUSED: 10}
    assert Notification.objects.count() == 1

    # Reconnected at 13:40: 12:41 to 13:31 are within the hour and go out now; the four before wait.
    with run(execute=True):
        connect_accounts(
            owner_id=alice.pk,
            platform="x",
            connected=[
                ConnectedAccount(account_id="x-alice", display_name="@alice", access_token="new-token")
            ],
        )
    run_due_messages(broker, run)

    assert statuses(alices_post) == {Status.PUBLISHED: 6, Status.PAUSED: 4}
    held = alices_post.entries.filter(status=Status.PAUSED)
    assert sorted(e.scheduled_at for e in held) == dates[:4]
    assert all(e.last_error_code == ScheduleEntry.LATE_AFTER_RECONNECT for e in held)

    # One click sends the late ones.
    with run(execute=True):
        assert services.send_paused_now(owner_id=alice.pk) == 4
    run_due_messages(broker, run)

    assert statuses(alices_post) == {Status.PUBLISHED: 10}
    published = PublishAttempt.objects.filter(outcome=PublishAttempt.Outcome.PUBLISHED)
    assert Counter(published.values_list("entry_id", flat=True)) == {
        e.pk: 1 for e in alices_post.entries.all()
    }
    assert Counter(r.reference for r in fake_x.publish_calls[1:]) == {
        e.reference: 1 for e in alices_post.entries.all()
    }
    assert Notification.objects.count() == 1


def test_a_date_on_an_account_already_flagged_is_paused_not_failed_and_not_told_again(
    alices_account: SocialAccount, alices_post: Post, fake_x: FakeClient, clock: time_machine.Traveller
) -> None:
    alices_account.mark_needs_reconnect("You disconnected this account.")
    entry = ScheduleEntry.objects.create(post=alices_post, scheduled_at=NOW, next_attempt_at=NOW)

    outcome = pipeline.publish_entry(entry_id=entry.pk, dispatch_version=entry.dispatch_version)

    assert outcome == pipeline.PublishOutcome.PAUSED
    entry.refresh_from_db()
    assert entry.status == Status.PAUSED
    assert "reconnect" in entry.last_error_message.lower()
    assert fake_x.publish_calls == []
    assert not Notification.objects.exists()
