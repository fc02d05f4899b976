"""The calendar: a month of days or a week of hours, in the user's time zone; dates move by drag and
drop (static/publishing/calendar.js) or, without a mouse, by the form listed under the grid. Both post
to the Posts page's reschedule action."""

from __future__ import annotations

import calendar as calendar_module
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from publishing import bounds, selectors
from publishing.models import ScheduleEntry

Status = ScheduleEntry.Status
# Dates a person may still move: those the reschedule action starts from.
MOVABLE = ScheduleEntry.ALLOWS["reschedule"]
HOURS = range(24)


@dataclass
class Day:
    day: date
    outside: bool = False
    entries: list[ScheduleEntry] = field(default_factory=list)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_bounds(anchor: date) -> tuple[date, date]:
    first = anchor.replace(day=1)
    return first, first.replace(day=calendar_module.monthrange(first.year, first.month)[1])


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    view = "week" if request.GET.get("view") == "week" else "month"
    today = timezone.localdate()
    try:
        anchor = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        anchor = today
    problem = bounds.day_problem(anchor, today=today)
    if problem:  # far dates overflow the grid's arithmetic: show today and say why
        messages.warning(request, problem)
        anchor = today
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
        # The month holding most of this week: the one its Thursday is in.
        other_view = first + timedelta(days=3)
    else:
        first, last = _month_bounds(anchor)
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
        # From a month, "Week" opens this week when today is in the month, else the month's first.
        other_view = today if first <= today <= last else first
    grid_start = first - timedelta(days=first.weekday())
    grid_end = last + timedelta(days=6 - last.weekday())
    entries = selectors.entries_for(
        owner_id=int(request.user.pk),  # type: ignore[arg-type]
        date_from=_start_of(grid_start),
        date_to=_start_of(grid_end + timedelta(days=1)),
    ).exclude(status=Status.CANCELLED)
    days = [
        Day(grid_start + timedelta(days=n), outside=not first <= grid_start + timedelta(days=n) <= last)
        for n in range((grid_end - grid_start).days + 1)
    ]
    by_day = {cell.day: cell for cell in days}
    for entry in entries:
        local = timezone.localtime(entry.scheduled_at)
        entry.local_hour = local.hour  # type: ignore[attr-defined]
        entry.movable = entry.status in MOVABLE  # type: ignore[attr-defined]
        by_day[local.date()].entries.append(entry)
    context: dict[str, Any] = {
        "view": view,
        "weeks": [[cell.__dict__ for cell in days[i : i + 7]] for i in range(0, len(days), 7)],
        "first": first,
        "last": last,
        "today": today,
        "previous": previous,
        "following": following,
        "other_view": other_view,
        "movable": [entry for entry in entries if entry.movable],  # type: ignore[attr-defined]
        "here": request.get_full_path(),
    }
    if view == "week":
        context["hours"] = [
            {
                "hour": hour,
                "slots": [
                    {"day": cell.day, "entries": [e for e in cell.entries if e.local_hour == hour]}  # type: ignore[attr-defined]
                    for cell in days
                ],
            }
            for hour in HOURS
        ]
        context["week_days"] = days
    return render(request, "publishing/calendar.html", context)
