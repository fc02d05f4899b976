"""What a client saved for a date, as one call of `prepare` or `publish` reads and extends it.

`request.progress` is what earlier calls checkpointed; what this call checkpoints is added to the
same view at once, so a later step of the same call sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from platforms import base


class Progress:
    def __init__(self, request: base.PublishRequest, checkpoint: base.Checkpoint) -> None:
        self.values: dict[str, str] = dict(request.progress)
        self._checkpoint = checkpoint

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def save(self, values: Mapping[str, str]) -> None:
        """Checkpoint (durably, before the next call) and remember for the rest of this call."""
        self._checkpoint(values)
        self.values.update(values)

    def moment(self, key: str) -> datetime | None:
        return base.parse_moment(self.get(key))


def now() -> datetime:
    return datetime.now(UTC)


def still_valid(expires_at: datetime | None) -> bool:
    """Prepared media that can still be published now (an unknown expiry is not trusted)."""
    return expires_at is not None and now() < expires_at


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
