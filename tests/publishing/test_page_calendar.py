"""The calendar (week and month) and the time zone setting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from publishing import services
from publishing.models import Post, Profile, ScheduleEntry
from tests.support.dates import YEAR
from tests.support.dates import entry_at as add_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]


def day_of(response: object, entry: ScheduleEntry) -> int:
    for week in response.context["weeks"]:  # type: ignore[attr-defined]
        for cell in week:
            if entry in cell["entries"]:
                return int(cell["day"].day)
    raise AssertionError(f"{entry} is not on the calendar")


def test_the_month_shows_scheduled_and_published_dates_but_not_cancelled_ones(
    alices_browser: Client, alices_post: Post
) -> None:
    pending = add_entry(alices_post, datetime(YEAR, 3, 10, 9, 0, tzinfo=UTC))
    published = add_entry(alices_post, datetime(YEAR, 3, 20, 9, 0, tzinfo=UTC), "published")
    cancelled = add_entry(alices_post, datetime(YEAR, 3, 21, 9, 0, tzinfo=UTC), "cancelled")
    add_entry(alices_post, datetime(YEAR, 5, 1, 9, 0, tzinfo=UTC))

    response = alices_browser.get(f"/calendar/?start={YEAR}-03-15")

    shown = [entry for week in response.context["weeks"] for cell in week for entry in cell["entries"]]
    assert shown == [pending, published]
    assert cancelled not in shown
    assert f"March {YEAR}" in response.content.decode()


def test_the_week_view_shows_seven_days_from_monday(alices_browser: Client, alices_post: Post) -> None:
    entry = add_entry(alices_post, datetime(YEAR, 3, 12, 9, 0, tzinfo=UTC))
    monday = date(YEAR, 3, 12) - timedelta(days=date(YEAR, 3, 12).weekday())

    response = alices_browser.get(f"/calendar/?view=week&start={YEAR}-03-12")

    [week] = response.context["weeks"]
    assert [cell["day"] for cell in week] == [monday + timedelta(days=n) for n in range(7)]
    assert day_of(response, entry) == 12


def test_a_late_evening_date_lands_on_the_day_it_is_in_my_time_zone(
    alices_browser: Client, alice: User, alices_post: Post
) -> None:
    services.set_time_zone(user_id=alice.pk, time_zone="Asia/Tokyo")
    entry = add_entry(alices_post, datetime(YEAR, 3, 10, 20, 0, tzinfo=UTC))

    response = alices_browser.get(f"/calendar/?start={YEAR}-03-01")

    assert day_of(response, entry) == 11
    assert "05:00" in response.content.decode()


def test_choosing_a_time_zone_saves_it_for_every_page(alices_browser: Client, alice: User) -> None:
    response = alices_browser.post("/profile/", {"time_zone": "Europe/Paris"})

    assert response.status_code == 302
    assert Profile.objects.get(user=alice).time_zone == "Europe/Paris"
    assert alices_browser.get("/profile/").context["form"]["time_zone"].value() == "Europe/Paris"


def test_an_unknown_time_zone_is_refused_next_to_the_field(alices_browser: Client, alice: User) -> None:
    response = alices_browser.post("/profile/", {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert services.profile_for(alice.pk).time_zone == "UTC"


@pytest.mark.parametrize("path", ["/calendar/", "/profile/"])
def test_these_pages_need_signing_in(path: str) -> None:
    assert Client().get(path).status_code == 302
