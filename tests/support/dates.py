"""Schedule entries made directly in a status, as the publishing pipeline would have left them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from publishing.models import Post, PublishAttempt, ScheduleEntry

# Next year: always ahead, and within how far ahead a date may be scheduled.
YEAR = date.today().year + 1
FAR = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)


def add_entry(post: Post, status: str = "pending", when: datetime = FAR, **fields: Any) -> ScheduleEntry:
    """A date of `post`; a second live date at an instant already taken moves a second later (a
    post holds one live date per instant)."""
    if status != ScheduleEntry.Status.CANCELLED:
        while post.entries.exclude(status=ScheduleEntry.Status.CANCELLED).filter(scheduled_at=when).exists():
            when += timedelta(seconds=1)
    fields.setdefault("next_attempt_at", when)
    return ScheduleEntry.objects.create(post=post, scheduled_at=when, status=status, **fields)


def entry_at(post: Post, when: datetime, status: str = "pending", **fields: Any) -> ScheduleEntry:
    return add_entry(post, status, when, **fields)


def add_attempt(entry: ScheduleEntry, outcome: str, started_at: datetime, **fields: Any) -> PublishAttempt:
    """A logged attempt of `entry`'s first run, two seconds long unless told."""
    fields.setdefault("finished_at", started_at + timedelta(seconds=2))
    fields.setdefault("number", 1)
    return PublishAttempt.objects.create(
        entry=entry, dispatch_version=0, started_at=started_at, outcome=outcome, **fields
    )
