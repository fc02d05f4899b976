"""Notice at once when the broker lost its data, so the dates inside the horizon are sent again.

A Redis that restarts empty, or is flushed, loses every queued message and every ETA message a
worker held (a worker drops those when its connection breaks). The sweep would find each one only a
grace period after its time; this watch finds the loss within seconds. Each worker process checks a
sentinel key in the broker's database every SOSOCIAL_BROKER_CHECK_SECONDS: a key that is gone means
the data went with it. The first to set it again (SET NX) sends one `resend_horizon` task; sending
every waiting date inside the horizon again is harmless, since the claim absorbs duplicates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)
SENTINEL_KEY = "sosocial:broker-sentinel"
RESEND_TASK = "publishing.resend_horizon"


def broker_lost_its_data(client: redis.Redis) -> bool:
    """Whether the sentinel was missing; sets it again, so exactly one caller sees each loss."""
    return bool(client.set(SENTINEL_KEY, "1", nx=True))


class BrokerWatch(threading.Thread):
    def __init__(self, client: redis.Redis, *, interval: float, on_loss: Callable[[], object]) -> None:
        super().__init__(name="sosocial-broker-watch", daemon=True)
        self.client = client
        self.interval = interval
        self.on_loss = on_loss
        self.stopped = threading.Event()

    def check(self) -> bool:
        try:
            if not broker_lost_its_data(self.client):
                return False
        except redis.RedisError:
            return False  # the broker is down: the next check finds out what it came back with
        try:
            self.on_loss()
        except Exception:
            # Unset, so the next check (this worker's or another's) tries again.
            logger.warning("Could not ask for the horizon to be sent again", exc_info=True)
            self.client.delete(SENTINEL_KEY)
            return False
        logger.info("The broker lost its data: sending the dates inside the horizon again")
        return True

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.check()

    def stop(self) -> None:
        self.stopped.set()
