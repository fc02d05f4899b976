"""The calendar (week and month) and the time zone setting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
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


# Pages far ahead stay within the calendar's bounds when "today" is there too.
IN_2099 = time_machine.travel(datetime(2099, 3, 1, 12, 0, tzinfo=UTC), tick=False)


def signed_in(alice: User) -> Client:
    browser = Client()
    browser.force_login(alice)  # signed in at the travelled-to time, so the session is fresh
    return browser


@time_machine.travel(datetime(2099, 3, 18, 12, 0, tzinfo=UTC), tick=False)
def test_week_from_the_month_of_today_opens_this_week_and_from_another_month_its_first(alice: User) -> None:
    alices_browser = Client()
    alices_browser.force_login(alice)  # signed in at the travelled-to time, so the session is fresh

    this_month = alices_browser.get("/calendar/").content.decode()
    next_month = alices_browser.get("/calendar/?start=2099-04-10").content.decode()

    assert 'href="?view=week&amp;start=2099-03-18"' in this_month
    assert 'href="?view=week&amp;start=2099-04-01"' in next_month


@IN_2099
def test_month_from_a_week_opens_the_month_most_of_the_week_is_in(alice: User) -> None:
    alices_browser = signed_in(alice)
    page = alices_browser.get("/calendar/?view=week&start=2099-03-31").content.decode()  # Mon 30 Mar

    assert 'href="?view=month&amp;start=2099-04-02"' in page
    assert "Week of 30 Mar 2099" in page


@IN_2099
def test_the_week_puts_each_date_in_its_hour_and_links_it_to_its_post(alice: User, alices_post: Post) -> None:
    alices_browser = signed_in(alice)
    add_entry(alices_post, datetime(2099, 3, 12, 14, 30, tzinfo=UTC))

    response = alices_browser.get("/calendar/?view=week&start=2099-03-12")

    [row] = [row for row in response.context["hours"] if any(slot["entries"] for slot in row["slots"])]
    assert row["hour"] == 14
    assert [slot["day"].day for slot in row["slots"] if slot["entries"]] == [12]
    assert f'href="/posts/{alices_post.pk}/edit/"' in response.content.decode()


@IN_2099
def test_only_dates_that_can_move_are_draggable_and_listed_to_move(alice: User, alices_post: Post) -> None:
    alices_browser = signed_in(alice)
    waiting = add_entry(alices_post, datetime(2099, 3, 10, 9, 0, tzinfo=UTC))
    published = add_entry(alices_post, datetime(2099, 3, 11, 9, 0, tzinfo=UTC), "published")

    response = alices_browser.get("/calendar/?start=2099-03-01")

    page = response.content.decode()
    assert response.context["movable"] == [waiting]
    assert f'data-move="/dates/{waiting.pk}/reschedule/"' in page
    assert f'data-move="/dates/{published.pk}/reschedule/"' not in page
    assert f'id="move-{waiting.pk}"' in page


@IN_2099
def test_moving_a_date_from_the_calendar_returns_to_the_calendar(alice: User, alices_post: Post) -> None:
    alices_browser = signed_in(alice)
    entry = add_entry(alices_post, datetime(2099, 3, 10, 9, 0, tzinfo=UTC))

    response = alices_browser.post(
        f"/dates/{entry.pk}/reschedule/",
        {"when": "2099-03-12T09:00", "next": "/calendar/?start=2099-03-01"},
    )

    assert response["Location"] == "/calendar/?start=2099-03-01"
    entry.refresh_from_db()
    assert entry.scheduled_at == datetime(2099, 3, 12, 9, 0, tzinfo=UTC)
