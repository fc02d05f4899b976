"""Schedule entries made directly in a status, as the publishing pipeline would have left them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from publishing.models import Post, ScheduleEntry

FAR = datetime(2099, 1, 1, 9, 0, tzinfo=UTC)


def add_entry(post: Post, status: str = "pending", when: datetime = FAR, **fields: Any) -> ScheduleEntry:
    fields.setdefault("next_attempt_at", when)
    return ScheduleEntry.objects.create(post=post, scheduled_at=when, status=status, **fields)


def entry_at(post: Post, when: datetime, status: str = "pending", **fields: Any) -> ScheduleEntry:
    return add_entry(post, status, when, **fields)
