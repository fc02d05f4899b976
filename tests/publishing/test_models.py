from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from publishing.models import Post, ScheduleEntry

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)

on_postgres = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite has no row locks for two connections to race on",
)


def make_entry(post: Post, *, when: datetime = NOW, **fields: object) -> ScheduleEntry:
    return ScheduleEntry.objects.create(post=post, scheduled_at=when, next_attempt_at=when, **fields)


@pytest.mark.django_db
def test_it_claims_a_due_entry_once(alices_post: Post) -> None:
    entry = make_entry(alices_post)
    duplicate = ScheduleEntry.objects.get(pk=entry.pk)

    assert entry.claim(dispatch_version=0, now=NOW, lease=LEASE)
    assert not duplicate.claim(dispatch_version=0, now=NOW, lease=LEASE)

    entry.refresh_from_db()
    assert entry.status == ScheduleEntry.Status.PUBLISHING
    assert entry.attempts == 1
    assert entry.lease_until == NOW + LEASE


@pytest.mark.django_db
def test_it_does_not_claim_an_entry_before_it_is_due(alices_post: Post) -> None:
    entry = make_entry(alices_post, when=NOW + timedelta(seconds=1))

    assert not entry.claim(dispatch_version=0, now=NOW, lease=LEASE)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == ScheduleEntry.Status.PENDING


@pytest.mark.django_db
def test_cancel_makes_the_old_message_claim_nothing(alices_post: Post) -> None:
    entry = make_entry(alices_post)
    stale = ScheduleEntry.objects.get(pk=entry.pk)

    assert entry.cancel(now=NOW)

    assert entry.dispatch_version == 1
    assert not stale.claim(dispatch_version=0, now=NOW, lease=LEASE)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == ScheduleEntry.Status.CANCELLED


@pytest.mark.django_db
def test_reschedule_makes_the_old_message_claim_nothing_and_the_new_one_claim(alices_post: Post) -> None:
    entry = make_entry(alices_post)
    later = NOW + timedelta(hours=1)

    assert entry.reschedule(when=later, now=NOW)

    old_message = ScheduleEntry.objects.get(pk=entry.pk)
    assert not old_message.claim(dispatch_version=0, now=later, lease=LEASE)
    new_message = ScheduleEntry.objects.get(pk=entry.pk)
    assert new_message.claim(dispatch_version=1, now=later, lease=LEASE)


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(ScheduleEntry.FINAL))
def test_a_final_entry_cannot_be_claimed(alices_post: Post, status: str) -> None:
    entry = make_entry(alices_post, status=status)

    assert not entry.claim(dispatch_version=0, now=NOW, lease=LEASE)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == status


@pytest.mark.django_db
def test_a_published_entry_cannot_be_cancelled_rescheduled_or_requeued(alices_post: Post) -> None:
    entry = make_entry(alices_post, status=ScheduleEntry.Status.PUBLISHED)

    assert not entry.cancel(now=NOW)
    assert not entry.reschedule(when=NOW + timedelta(days=1), now=NOW)
    assert not entry.requeue(now=NOW)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == ScheduleEntry.Status.PUBLISHED


@pytest.mark.django_db
def test_an_unconfirmed_entry_cannot_be_cancelled(alices_post: Post) -> None:
    entry = make_entry(alices_post, status=ScheduleEntry.Status.UNCONFIRMED)

    assert not entry.cancel(now=NOW)


@pytest.mark.django_db
def test_an_outcome_is_recorded_only_by_the_claim_that_made_it(alices_post: Post) -> None:
    entry = make_entry(alices_post)
    assert entry.claim(dispatch_version=0, now=NOW, lease=LEASE)
    # The lease expired and the entry was sent again; the first worker then reports late.
    first_worker = ScheduleEntry.objects.get(pk=entry.pk)
    ScheduleEntry.objects.filter(pk=entry.pk).update(status=ScheduleEntry.Status.RETRYING, attempts=2)

    assert not first_worker.mark_failed(code="x", message="late", now=NOW)
    assert ScheduleEntry.objects.get(pk=entry.pk).status == ScheduleEntry.Status.RETRYING


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_connections_claiming_one_entry_at_once_produce_one_winner(alices_post: Post) -> None:
    entry = make_entry(alices_post)
    first_has_claimed = threading.Event()
    results: dict[str, bool] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = ScheduleEntry.objects.get(pk=entry.pk).claim(
                    dispatch_version=0, now=NOW, lease=LEASE
                )
                first_has_claimed.set()
                # Hold the row lock while the second connection tries its UPDATE.
                threading.Event().wait(0.5)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            # Read before the first commits: both saw the entry pending.
            seen = ScheduleEntry.objects.get(pk=entry.pk)
            first_has_claimed.wait(5)
            results["second"] = seen.claim(dispatch_version=0, now=NOW, lease=LEASE)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert connection.vendor == "postgresql"
    assert sorted(results.values()) == [False, True]
    assert results["first"] is True
    claimed = ScheduleEntry.objects.get(pk=entry.pk)
    assert claimed.status == ScheduleEntry.Status.PUBLISHING
    assert claimed.attempts == 1


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("pending", {"cancel", "reschedule"}),
        ("retrying", {"cancel", "reschedule"}),
        ("failed", {"reschedule", "retry"}),
        ("unconfirmed", {"retry", "resolve"}),
        ("publishing", set()),
        ("published", set()),
        ("cancelled", set()),
    ],
)
def test_each_status_says_which_actions_it_allows(status: str, actions: set[str]) -> None:
    assert ScheduleEntry(status=status).actions == actions


def test_the_allowed_statuses_read_as_a_sentence() -> None:
    assert ScheduleEntry.allowed_statuses("reschedule") == "pending, retrying, failed or paused"
    assert ScheduleEntry.allowed_statuses("resolve") == "unconfirmed"


def test_the_attempt_is_counted_against_the_real_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScheduleEntry, "MAX_ATTEMPTS", 6)
    entry = ScheduleEntry(status="retrying", attempts=2)

    assert (entry.attempt_text, entry.next_attempt_text) == ("attempt 2 of 6", "attempt 3 of 6")
