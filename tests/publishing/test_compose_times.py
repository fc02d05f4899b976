"""Typed times: an offset on the line wins; a time the clocks skip is refused with the nearest ones that
exist; a time they pass twice asks which (offering both offsets); messages name the zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from platforms.models import SocialAccount
from publishing.models import Post, Profile, ScheduleEntry
from publishing.times import TimeProblem, parse_local

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def alices_browser(alice: User) -> Client:
    browser = Client()
    browser.force_login(alice)
    return browser


def compose(browser: Client, account: SocialAccount, dates: str, zone: str) -> object:
    return browser.post(
        "/compose/", {"accounts": [account.pk], "text": "hi", "dates": dates, "time_zone": zone}
    )


@pytest.mark.parametrize(
    ("zone", "typed", "before", "after"),
    [
        (PARIS, "2027-03-28 02:30", "2027-03-28 01:59", "2027-03-28 03:00"),
        (NEW_YORK, "2027-03-14 02:30", "2027-03-14 01:59", "2027-03-14 03:00"),
    ],
)
def test_it_refuses_a_time_the_clocks_skip_and_names_the_nearest_ones(
    zone: ZoneInfo, typed: str, before: str, after: str
) -> None:
    with pytest.raises(TimeProblem) as refused:
        parse_local(typed, zone)

    message = str(refused.value)
    assert f"{typed} does not exist in {zone.key}" in message
    assert f"The nearest times are {before} and {after}." in message


@pytest.mark.parametrize(
    ("zone", "typed", "first", "second"),
    [
        (PARIS, "2027-10-31 02:30", "2027-10-31 02:30 +02:00", "2027-10-31 02:30 +01:00"),
        (NEW_YORK, "2027-11-07 01:30", "2027-11-07 01:30 -04:00", "2027-11-07 01:30 -05:00"),
    ],
)
def test_it_asks_which_of_a_time_the_clocks_pass_twice(
    zone: ZoneInfo, typed: str, first: str, second: str
) -> None:
    with pytest.raises(TimeProblem) as refused:
        parse_local(typed, zone)

    message = str(refused.value)
    assert f"{typed} happens twice in {zone.key}" in message
    assert f"“{first}” (the first) or “{second}” (the second)" in message
    # Typing either answer back gives exactly that moment, an hour apart.
    assert parse_local(second, zone) - parse_local(first, zone) == (
        datetime.fromisoformat(second.replace(" +", "+").replace(" -", "-"))
        - datetime.fromisoformat(first.replace(" +", "+").replace(" -", "-"))
    )
    assert (parse_local(second, zone) - parse_local(first, zone)).total_seconds() == 3600


@pytest.mark.parametrize(
    ("typed", "utc"),
    [
        ("2026-12-01 09:00 +02:00", datetime(2026, 12, 1, 7, 0, tzinfo=UTC)),
        ("2026-12-01T09:00+0530", datetime(2026, 12, 1, 3, 30, tzinfo=UTC)),
        ("2026-12-01 09:00Z", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        ("2026-12-01 09:00", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),  # the zone: New York, UTC-5
    ],
)
def test_an_offset_typed_on_the_line_wins_over_the_zone(typed: str, utc: datetime) -> None:
    assert parse_local(typed, NEW_YORK) == utc


@pytest.mark.parametrize("typed", ["tomorrow", "2026-13-01 09:00", "2026-12-01 09:00 +25:00", "2026-12-01 9"])
def test_it_refuses_what_is_not_a_date_and_time(typed: str) -> None:
    with pytest.raises(TimeProblem):
        parse_local(typed, PARIS)


@time_machine.travel(NOW, tick=False)
def test_the_compose_page_honours_a_typed_offset(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    response = compose(
        alices_browser, alices_account, "2026-12-01 09:00 +02:00\n2026-12-01 09:00", "Europe/Paris"
    )

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert list(ScheduleEntry.objects.values_list("scheduled_at", flat=True).order_by("scheduled_at")) == [
        datetime(2026, 12, 1, 7, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("zone", "dates", "expected"),
    [
        ("Europe/Paris", "2027-03-28 02:30", "does not exist in Europe/Paris"),
        ("America/New_York", "2027-11-07 01:30", "happens twice in America/New_York"),
    ],
)
def test_the_compose_page_refuses_a_skipped_or_doubled_time_and_saves_nothing(
    alices_browser: Client, alices_account: SocialAccount, zone: str, dates: str, expected: str
) -> None:
    response = compose(alices_browser, alices_account, dates, zone)

    assert response.status_code == 200  # type: ignore[attr-defined]
    [error] = response.context["form"].errors["dates"]  # type: ignore[attr-defined]
    assert expected in error
    assert not Post.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_in_the_past_is_said_in_the_chosen_zone_and_names_it(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    response = compose(alices_browser, alices_account, "2026-11-28 06:00", "America/New_York")

    assert response.context["form"].errors["dates"] == [  # type: ignore[attr-defined]
        "2026-11-28 06:00 America/New_York (UTC-05:00) is in the past."
    ]


@time_machine.travel(NOW, tick=False)
def test_too_far_ahead_is_refused_with_the_last_allowed_moment(
    alices_browser: Client, alices_account: SocialAccount
) -> None:
    response = compose(alices_browser, alices_account, "9999-12-31 23:59", "Europe/Paris")

    [error] = response.context["form"].errors["dates"]  # type: ignore[attr-defined]
    assert error == (
        "9999-12-31 23:59 Europe/Paris (UTC+01:00) is too far ahead: "
        "pick a date before 2028-11-27 13:00 Europe/Paris (UTC+01:00)."
    )


@time_machine.travel(NOW, tick=False)
def test_rescheduling_reads_the_time_in_my_zone_and_refuses_a_skipped_one(
    alices_browser: Client, alice: User, alices_post: Post
) -> None:
    Profile.objects.update_or_create(user=alice, defaults={"time_zone": "Europe/Paris"})
    when = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    entry = ScheduleEntry.objects.create(post=alices_post, scheduled_at=when, next_attempt_at=when)

    skipped = alices_browser.post(f"/dates/{entry.pk}/reschedule/", {"when": "2027-03-28T02:30"}, follow=True)
    alices_browser.post(f"/dates/{entry.pk}/reschedule/", {"when": "2026-12-06T10:00"})

    assert "does not exist in Europe/Paris" in skipped.content.decode()
    entry.refresh_from_db()
    assert entry.scheduled_at == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
