"""Read the messages SoSocial left on the Redis broker, as Celery's Redis transport stores them."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings

from publishing import dispatch


@dataclass(frozen=True)
class QueuedMessage:
    task: str
    args: tuple[Any, ...]
    eta: datetime | None

    @property
    def due(self) -> datetime | None:
        """The moment the message is for: a publish message arrives the claim-ahead time before it."""
        if self.eta is None or self.task != dispatch.PUBLISH_TASK:
            return self.eta
        return self.eta + dispatch.claim_ahead()


class Broker:
    def __init__(self) -> None:
        self.redis = redis.Redis.from_url(settings.REDIS_URL)

    def flush(self) -> None:
        self.redis.flushdb()

    def messages(self, queue: str = "publish") -> list[QueuedMessage]:
        # kombu LPUSHes, so the oldest message is last in the list.
        raw_messages = list(reversed(self.redis.lrange(queue, 0, -1)))
        found = []
        for raw in raw_messages:
            envelope = json.loads(raw)
            body = json.loads(base64.b64decode(envelope["body"]))
            headers = envelope["headers"]
            eta = datetime.fromisoformat(headers["eta"]) if headers.get("eta") else None
            found.append(QueuedMessage(task=headers["task"], args=tuple(body[0]), eta=eta))
        return found
