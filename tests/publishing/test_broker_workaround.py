"""The kombu 5.7 workaround in sosocial/celery.py: a Redis channel whose broker connection was released
fails with a connection error (which the worker recovers from), not an AttributeError (which kills it).
The whole scenario: tests/chaos/test_redis_faults.py::test_the_worker_keeps_running_through_a_redis_restart
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import redis.exceptions
from kombu import Connection
from kombu.transport import redis as kombu_redis

from sosocial.celery import patch_kombu_redis_released_connection


def bare_channel(client: Connection | None) -> Any:
    """A Redis channel on a transport whose `client` is `client`, without connecting anywhere."""
    channel: Any = object.__new__(kombu_redis.Channel)
    channel.connection = SimpleNamespace(client=client, default_port=6379)
    return channel


def test_the_workaround_is_installed() -> None:
    assert patch_kombu_redis_released_connection()
    assert patch_kombu_redis_released_connection()  # idempotent: never wraps twice
    connparams: Any = kombu_redis.Channel._connparams  # type: ignore[attr-defined]
    assert connparams.sosocial_released_connection_guard


def test_a_channel_of_a_released_connection_raises_a_connection_error() -> None:
    with pytest.raises(redis.exceptions.ConnectionError, match="released"):
        bare_channel(None)._connparams()
    # ... which the transport counts as a connection error, so kombu and celery recover from it.
    assert issubclass(redis.exceptions.ConnectionError, kombu_redis.Transport.connection_errors)


def test_a_live_channel_is_left_to_kombu() -> None:
    params = bare_channel(Connection("redis://broker.example:6390/3"))._connparams()
    assert (params["host"], params["port"], params["db"]) == ("broker.example", 6390, 3)
