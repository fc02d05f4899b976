"""Reading a date and time a person typed, in their time zone, without guessing.

A line may carry its own offset (`2026-12-01 09:00 +02:00`, `...Z`): that offset wins over the zone.
Without one, the time is read in the zone, and the two hours a year where that is not one moment
are refused with what to type instead:
- a time the clocks skip (02:30 on a spring-forward night) names the nearest times that exist;
- a time the clocks pass twice (fall-back night) asks which, offering both with their offsets, so
  the answer typed back is exact. We ask rather than pick a side: a post an hour off is the failure
  this app exists to prevent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

_LINE = re.compile(
    r"^(?P<local>\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)"
    r"\s*(?P<offset>Z|UTC|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
EXAMPLE = "2026-12-01 09:30 (or with its offset: 2026-12-01 09:30 +01:00)"


class TimeProblem(ValueError):
    """Why a typed time cannot be used; the message is for the person who typed it."""


def _zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def _offset(text: str) -> tzinfo:
    if text.upper() in {"Z", "UTC"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise TimeProblem(f"“{text}” is not an offset like +02:00.")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _exists(local: datetime, zone: tzinfo) -> bool:
    return local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def _hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _with_offset(local: datetime, zone: tzinfo, fold: int) -> str:
    aware = local.replace(tzinfo=zone, fold=fold)
    offset = aware.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


def parse_local(text: str, zone: tzinfo) -> datetime:
    """The moment `text` names, read in `zone` unless it carries an offset; TimeProblem otherwise."""
    line = text.strip()
    match = _LINE.match(line)
    if match is None:
        raise TimeProblem(f"“{line}” is not a date and time like {EXAMPLE}.")
    try:
        local = datetime.fromisoformat(match["local"].replace(" ", "T"))
    except ValueError:
        raise TimeProblem(f"“{line}” is not a date and time like {EXAMPLE}.") from None
    if match["offset"]:
        return local.replace(tzinfo=_offset(match["offset"]))
    name = _zone_name(zone)
    if not _exists(local, zone):
        before = local
        while not _exists(before, zone) and local - before < timedelta(days=2):
            before -= timedelta(minutes=1)
        after = local
        while not _exists(after, zone) and after - local < timedelta(days=2):
            after += timedelta(minutes=1)
        before = before.replace(second=0, microsecond=0)
        raise TimeProblem(
            f"{local:%Y-%m-%d %H:%M} does not exist in {name}: the clocks jump from "
            f"{_hm(before + timedelta(minutes=1))} to {_hm(after)} that night. "
            f"The nearest times are {before:%Y-%m-%d %H:%M} and {after:%Y-%m-%d %H:%M}."
        )
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        raise TimeProblem(
            f"{local:%Y-%m-%d %H:%M} happens twice in {name} (the clocks go back that night). "
            f"Write which one: “{_with_offset(local, zone, 0)}” (the first) or "
            f"“{_with_offset(local, zone, 1)}” (the second)."
        )
    return first


def zone_named(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")
