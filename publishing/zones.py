"""The time zones a person picks from: one per place people schedule from, named by its city, instead
of the ~600 raw IANA entries (aliases, "Factory", "localtime", POSIX rules)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

# One zone per distinct rule set people actually live in, by region, west to east.
CURATED = (
    "UTC",
    # Americas
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver",
    "America/Tijuana", "America/Phoenix", "America/Denver", "America/Edmonton", "America/Mexico_City",
    "America/Chicago", "America/Winnipeg", "America/Guatemala", "America/Bogota", "America/Lima",
    "America/New_York", "America/Toronto", "America/Havana", "America/Caracas", "America/Santiago",
    "America/Halifax", "America/Puerto_Rico", "America/St_Johns", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "America/Montevideo", "Atlantic/Azores",
    # Europe and Africa
    "Atlantic/Reykjavik", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Africa/Casablanca",
    "Africa/Lagos", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam",
    "Europe/Brussels", "Europe/Zurich", "Europe/Vienna", "Europe/Stockholm", "Europe/Oslo",
    "Europe/Copenhagen", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest", "Africa/Johannesburg",
    "Africa/Cairo", "Europe/Athens", "Europe/Bucharest", "Europe/Helsinki", "Europe/Kyiv",
    "Asia/Jerusalem", "Europe/Istanbul", "Africa/Nairobi", "Europe/Moscow", "Asia/Riyadh",
    # Asia and Oceania
    "Asia/Tehran", "Asia/Dubai", "Asia/Baku", "Asia/Kabul", "Asia/Karachi", "Asia/Tashkent",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon", "Asia/Bangkok", "Asia/Jakarta",
    "Asia/Ho_Chi_Minh", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore",
    "Asia/Manila", "Australia/Perth", "Asia/Seoul", "Asia/Tokyo", "Australia/Darwin",
    "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
    "Pacific/Guam", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Fiji", "Pacific/Tongatapu",
)  # fmt: skip
# IANA names that are not places: kept valid for old data, never offered.
_NOT_PLACES = frozenset({"Factory", "localtime"})
VALID = frozenset(name for name in available_timezones() if name not in _NOT_PLACES and "/" in name) | {"UTC"}


def label(name: str, *, now: datetime | None = None) -> str:
    """ "Paris (Europe) · UTC+01:00": the city first, so a search by city finds it."""
    offset = (now or datetime.now(ZoneInfo("UTC"))).astimezone(ZoneInfo(name)).strftime("%z")
    if name == "UTC":
        return "UTC · Coordinated Universal Time"
    region, _, city = name.rpartition("/")
    return f"{city.replace('_', ' ')} ({region.replace('_', ' ')}) · UTC{offset[:3]}:{offset[3:]}"


def choices(*, current: str | None = None) -> list[tuple[str, str]]:
    """The curated zones, with `current` added when it is a valid zone outside the list."""
    names = list(CURATED)
    if current and current not in CURATED and current in VALID:
        names.insert(0, current)
    return [(name, label(name)) for name in names]
