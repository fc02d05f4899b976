"""Bounds on what users send: how far ahead a date may be, how many dates a post may have, and which
option names each platform reads.

A date in year 9999 was accepted and then broke every page that showed it (a time zone conversion
past year 9999 overflows). Every place a date comes in checks it here, so pages and the API refuse
the same things with the same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

from django.conf import settings
from django.utils import timezone

# Filters and the calendar look back this far at most: nothing was scheduled before it.
EARLIEST_DAY = date(2000, 1, 1)

# The option names each platform's client reads; anything else would be stored and never used.
KNOWN_OPTIONS: Mapping[str, frozenset[str]] = {
    "facebook": frozenset({"link", "title"}),
    "instagram": frozenset({"kind", "share_to_feed"}),
    "x": frozenset(),
    "tiktok": frozenset({"privacy_level", "title", "disable_comment", "disable_duet", "disable_stitch"}),
}


def max_days_ahead() -> int:
    return int(settings.SOSOCIAL_MAX_DAYS_AHEAD)


def max_dates_per_post() -> int:
    return int(settings.SOSOCIAL_MAX_DATES_PER_POST)


def latest_schedulable(now: datetime) -> datetime:
    return now + timedelta(days=max_days_ahead())


def latest_day(today: date) -> date:
    """The last day filters and the calendar accept: a day past the furthest schedulable date."""
    return today + timedelta(days=max_days_ahead() + 1)


def describe(moment: datetime, zone: tzinfo | None = None) -> str:
    """A moment as the user reads it: local time, the zone's name and its offset that day."""
    zone = zone or timezone.get_current_timezone()
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}" if offset else "+00:00"
    name = getattr(zone, "key", None) or str(zone)
    if name == "UTC":
        return f"{local:%Y-%m-%d %H:%M} UTC"
    return f"{local:%Y-%m-%d %H:%M} {name} (UTC{offset})"


def date_problems(when: Sequence[datetime], *, now: datetime, zone: tzinfo | None = None) -> list[str]:
    """Why these dates cannot be scheduled, in the user's zone; empty if they can."""
    problems: list[str] = []
    if len(when) > max_dates_per_post():
        return [f"At most {max_dates_per_post()} dates per post; this has {len(when)}."]
    latest = latest_schedulable(now)
    for moment in when:
        if timezone.is_naive(moment):
            problems.append(f"{moment:%Y-%m-%d %H:%M} has no time zone.")
        elif moment < now:
            problems.append(f"{describe(moment, zone)} is in the past.")
        elif moment > latest:
            problems.append(
                f"{describe(moment, zone)} is too far ahead: pick a date before {describe(latest, zone)}."
            )
    return problems


def day_problem(day: date, *, today: date) -> str | None:
    """Why a filter or calendar day is out of range, or None."""
    last = latest_day(today)
    if EARLIEST_DAY <= day <= last:
        return None
    return f"Pick a day between {EARLIEST_DAY:%Y-%m-%d} and {last:%Y-%m-%d}."


def moment_problem(moment: datetime, *, now: datetime) -> str | None:
    """Why a filter moment is out of range, or None."""
    first = datetime.combine(EARLIEST_DAY, datetime.min.time(), tzinfo=UTC)
    last = datetime.combine(latest_day(now.astimezone(UTC).date()), datetime.min.time(), tzinfo=UTC)
    if first <= moment <= last:
        return None
    return f"Pick a moment between {first:%Y-%m-%d} and {last:%Y-%m-%d} (UTC)."


def unknown_options(platform: str, names: Iterable[str]) -> list[str]:
    """Option names the platform's client never reads, sorted."""
    known = KNOWN_OPTIONS.get(platform, frozenset())
    return sorted(name for name in names if name not in known)


def options_for(platform: str, options: Mapping[str, str]) -> dict[str, str]:
    """The options `platform` reads, out of ones given for several platforms."""
    known = KNOWN_OPTIONS.get(platform, frozenset())
    return {name: value for name, value in options.items() if name in known}


def options_problem(platform: str, names: Iterable[str]) -> str | None:
    unknown = unknown_options(platform, names)
    if not unknown:
        return None
    known = sorted(KNOWN_OPTIONS.get(platform, frozenset()))
    listed = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
    offered = ", ".join(known) if known else "none"
    return f"Unknown option for this platform: {listed}. Known options: {offered}."
