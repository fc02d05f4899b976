"""One instant once, edits that lock their dates, and late answers recorded as they are."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import IntegrityError, connections, transaction
from django.test import Client
from pytest_django import Settings

from platforms.models import SocialAccount
from publishing import pipeline, services, sweep
from publishing.models import Post, PublishAttempt, ScheduleEntry
from tests.support.dates import FAR, YEAR, add_entry
from tests.support.fakes import FakeClient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
Status = ScheduleEntry.Status
WHEN = FAR


# -- one instant once ---------------------------------------------------------------------------
def test_the_database_refuses_two_live_dates_of_a_post_at_one_instant(alices_post: Post) -> None:
    add_entry(alices_post, "cancelled", WHEN)
    ScheduleEntry.objects.create(post=alices_post, scheduled_at=WHEN, next_attempt_at=WHEN)

    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduleEntry.objects.create(post=alices_post, scheduled_at=WHEN, next_attempt_at=WHEN)


def test_scheduling_an_instant_the_post_already_holds_is_refused_on_the_dates_field(
    alices_post: Post,
) -> None:
    services.schedule_post(post=alices_post, when=[WHEN])

    with pytest.raises(ValidationError) as refused:
        services.schedule_post(
            post=alices_post, when=[WHEN.astimezone(timezone_paris()), WHEN + timedelta(days=1)]
        )

    assert refused.value.message_dict == {"when": [f"{YEAR}-01-01 09:00 UTC is already a date of this post."]}
    assert alices_post.entries.count() == 1


def test_rescheduling_onto_an_instant_the_post_holds_is_refused(alices_post: Post) -> None:
    services.schedule_post(post=alices_post, when=[WHEN, WHEN + timedelta(days=1)])
    later = alices_post.entries.get(scheduled_at=WHEN + timedelta(days=1))

    with pytest.raises(ValidationError) as refused:
        services.reschedule_entry(entry=later, when=WHEN)

    assert "already a date of this post" in refused.value.message_dict["when"][0]


def test_two_local_times_one_dst_change_apart_are_one_instant_and_refused(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    # In Paris 02:30 on 28 March 2027 does not exist; read as 01:30 UTC, it is also 03:30 local.
    response = alices_browser.post(
        "/compose/",
        {
            "accounts": [alices_account.pk],
            "text": "Spring forward",
            "dates": "2027-03-28 02:30\n2027-03-28 03:30",
            "time_zone": "Europe/Paris",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["dates"]
    assert not Post.objects.exists()


def timezone_paris() -> ZoneInfo:
    return ZoneInfo("Europe/Paris")


# -- edits lock their dates -----------------------------------------------------------------------
def test_an_edit_clears_a_waiting_dates_platform_handles_so_the_next_attempt_starts_afresh(
    alices_post: Post,
) -> None:
    retrying = add_entry(
        alices_post, "retrying", WHEN, attempts=1, platform_state={"container_id": "old-text"}
    )

    services.update_post(post=alices_post, text="New words")

    assert ScheduleEntry.objects.get(pk=retrying.pk).platform_state == {}


def test_an_edit_after_the_claim_is_refused_and_the_saved_text_is_what_went_out(
    alices_post: Post, fake_x: FakeClient
) -> None:
    entry = add_entry(alices_post, "pending", datetime(2026, 1, 1, tzinfo=UTC))
    assert ScheduleEntry.claim_by_id(entry.pk, dispatch_version=0, lease=timedelta(minutes=5), claimant="")

    with pytest.raises(ValidationError):
        services.update_post(post=alices_post, text="Too late")

    assert Post.objects.get(pk=alices_post.pk).text == "Hello from Alice"


# -- claims and late answers ----------------------------------------------------------------------
def test_the_claim_names_its_worker_and_takes_its_lease_from_the_database_clock(
    alices_post: Post, fake_x: FakeClient
) -> None:
    entry = add_entry(alices_post, "pending", datetime(2026, 1, 1, tzinfo=UTC))
    fake_x.outcomes = [RuntimeError("stop here")]
    seen: dict[str, object] = {}

    def publish(request: object, *, checkpoint: object) -> object:
        row = ScheduleEntry.objects.get(pk=entry.pk)
        seen.update(claimed_by=row.claimed_by, lease_until=row.lease_until)
        raise RuntimeError("stop here")

    fake_x.publish = publish  # type: ignore[method-assign,assignment]
    with time_machine.travel(datetime(2020, 1, 1, tzinfo=UTC), tick=False):
        pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0)

    assert str(seen["claimed_by"]).split(":")[1].isdigit()
    # The worker's clock says 2020; the lease was set on the database's clock, not on it.
    assert isinstance(seen["lease_until"], datetime)
    assert seen["lease_until"].year >= 2026


def test_a_late_success_after_the_lease_expired_is_recorded_as_published(
    alices_post: Post, fake_x: FakeClient
) -> None:
    entry = add_entry(alices_post, "pending", datetime(2026, 1, 1, tzinfo=UTC))

    def slow_publish(request: object, *, checkpoint: object) -> object:
        # Meanwhile the lease expired and the sweep logged the attempt as interrupted.
        ScheduleEntry.objects.filter(pk=entry.pk).update(lease_until=datetime(2026, 1, 1, tzinfo=UTC))
        assert sweep.sweep_schedule().leases_expired == 1
        from platforms.base import PublishResult

        return PublishResult(platform_post_id="late-1", url="https://x.example/late-1")

    fake_x.publish = slow_publish  # type: ignore[method-assign,assignment]

    assert pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0) == pipeline.PublishOutcome.PUBLISHED

    entry.refresh_from_db()
    assert (entry.status, entry.platform_post_id) == (Status.PUBLISHED, "late-1")
    assert list(PublishAttempt.objects.filter(entry=entry).values_list("number", "outcome")) == [
        (1, "published")
    ]


def test_a_duplicate_refusal_from_the_platform_is_checked_not_taken_as_published(
    alices_post: Post, fake_x: FakeClient
) -> None:
    from platforms.base import OutcomeUnknown

    entry = add_entry(alices_post, "pending", datetime(2026, 1, 1, tzinfo=UTC))
    fake_x.outcomes = [OutcomeUnknown("The platform says this is a duplicate.", code="duplicate")]

    assert (
        pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0) == pipeline.PublishOutcome.UNCONFIRMED
    )
    assert ScheduleEntry.objects.get(pk=entry.pk).platform_post_id == ""


def test_a_lease_shorter_than_the_hard_time_limit_stops_the_start(settings: Settings) -> None:
    settings.SOSOCIAL_LEASE_SECONDS = 100
    settings.CELERY_TASK_TIME_LIMIT = 120

    with pytest.raises(SystemCheckError, match="SOSOCIAL_LEASE_SECONDS"):
        call_command("check")


on_postgres = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: SQLite has no row locks for two connections to race on",
)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_racing_an_edit_waits_for_it_and_sends_what_the_edit_saved(
    alices_post: Post, fake_x: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = add_entry(alices_post, "pending", datetime(2026, 1, 1, tzinfo=UTC))
    edit_holds_the_dates = threading.Event()
    check = pipeline.check_post

    def slow_check(post: Post) -> None:
        check(post)
        if threading.current_thread().name == "edit":
            edit_holds_the_dates.set()
            time.sleep(0.5)  # the worker's claim arrives now, while the edit is not committed

    monkeypatch.setattr(pipeline, "check_post", slow_check)
    outcome: dict[str, object] = {}

    def edit() -> None:
        try:
            services.update_post(post=Post.objects.get(pk=alices_post.pk), text="What the page saved")
            outcome["edit"] = "saved"
        finally:
            connections.close_all()

    def work() -> None:
        try:
            edit_holds_the_dates.wait(5)
            outcome["publish"] = pipeline.publish_entry(entry_id=entry.pk, dispatch_version=0)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, name="edit"), threading.Thread(target=work, name="work")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert outcome == {"edit": "saved", "publish": pipeline.PublishOutcome.PUBLISHED}
    assert [call.text for call in fake_x.publish_calls] == ["What the page saved"]
