"""The calendar in a browser: a date dragged to another hour moves there; the keyboard can do the same."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from publishing.models import ScheduleEntry
from tests.support.browser import OpenPage, needs_chromium
from tests.support.showcase import Showcase

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]
TALL = ViewportSize(width=1366, height=2400)


def _pending_photo(showcase: Showcase) -> ScheduleEntry:
    return ScheduleEntry.objects.get(post__account=showcase.instagram, status="pending")


def test_dragging_a_date_to_another_hour_of_the_week_moves_it(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    entry = _pending_photo(showcase)
    local = timezone.localtime(entry.scheduled_at)
    target_hour = local.hour + 2 if local.hour < 22 else local.hour - 2
    page = open_page(user=showcase.user)
    # The whole week in the window: a drag that has to scroll loses its drop (the date's hour, and
    # so where it sits on the page, moves with the time the test runs at).
    page.set_viewport_size(TALL)
    page.goto(f"/calendar/?view=week&start={local.date().isoformat()}")

    page.locator(f"#cal-entry-{entry.pk}").drag_to(
        page.locator(f'.slot[data-date="{local.date().isoformat()}"][data-hour="{target_hour}"]')
    )

    expect(page.get_by_text("Rescheduled.")).to_be_visible()
    entry.refresh_from_db()
    assert timezone.localtime(entry.scheduled_at) == local.replace(hour=target_hour)
    assert page.url.endswith(f"/calendar/?view=week&start={local.date().isoformat()}")


def test_dragging_a_date_to_another_day_of_the_month_keeps_its_time(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    entry = _pending_photo(showcase)
    local = timezone.localtime(entry.scheduled_at)
    target = local + timedelta(days=1)
    page = open_page(user=showcase.user)
    page.set_viewport_size(TALL)
    page.goto(f"/calendar/?start={target.date().isoformat()}")

    page.locator(f"#cal-entry-{entry.pk}").drag_to(
        page.locator(f'.day[data-date="{target.date().isoformat()}"]')
    )

    expect(page.get_by_text("Rescheduled.")).to_be_visible()
    entry.refresh_from_db()
    assert timezone.localtime(entry.scheduled_at) == target


def test_a_date_moves_with_the_keyboard_alone(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    entry = _pending_photo(showcase)
    local = timezone.localtime(entry.scheduled_at)
    target = local + timedelta(days=3)
    page = open_page(user=showcase.user, width="phone")
    page.goto(f"/calendar/?start={local.date().isoformat()}")
    summary = page.locator(".reschedule-list summary")
    summary.focus()
    page.keyboard.press("Enter")

    field = page.locator(f"#move-{entry.pk}")
    field.focus()
    field.fill(target.strftime("%Y-%m-%dT%H:%M"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.get_by_text("Rescheduled.")).to_be_visible()
    entry.refresh_from_db()
    assert timezone.localtime(entry.scheduled_at) == target
