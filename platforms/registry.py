"""Which client serves which platform: `get_client(platform)`.

The mapping comes from `settings.SOSOCIAL_PLATFORM_CLIENTS` (dotted paths); tests can put a client
in place with `use_client`.

A client is kept per thread and reused while it is busy, so its HTTP session keeps its connection
(and TLS session) to the platform from one post to the next: a new client per post meant a new
connection per post. One left idle for IDLE_SECONDS is replaced, so a connection the platform may
have closed meanwhile is never the one a post goes out on. Changing the platform settings (tests
do) starts afresh.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from platforms.base import PermanentError, PlatformClient

IDLE_SECONDS = 30.0
_overrides: dict[str, PlatformClient] = {}
_kept = threading.local()  # .clients: {(platform, path): (generation, last used, client)}
_generation = 0


def get_client(platform: str) -> PlatformClient:
    if platform in _overrides:
        return _overrides[platform]
    path = settings.SOSOCIAL_PLATFORM_CLIENTS.get(platform)
    if not path:
        raise PermanentError(
            f"SoSocial has no client configured for {platform}; ask whoever runs it to set one up.",
            code="no_client",
        )
    kept: dict[tuple[str, str], tuple[int, float, PlatformClient]] = _kept.__dict__.setdefault("clients", {})
    now = time.monotonic()
    found = kept.get((platform, path))
    if found is not None and found[0] == _generation and now - found[1] < IDLE_SECONDS:
        client = found[2]
    else:
        if found is not None:
            _close(found[2])
        client = import_string(path)()
    kept[(platform, path)] = (_generation, now, client)
    return client


def _close(client: PlatformClient) -> None:
    session: Any = getattr(client, "session", None)
    if session is not None and hasattr(session, "close"):
        session.close()


@receiver(setting_changed)
def _forget_clients(*, setting: str, **kwargs: Any) -> None:
    if setting in {"SOSOCIAL_PLATFORM_CLIENTS", "SOSOCIAL_PLATFORMS"}:
        global _generation
        _generation += 1


@contextmanager
def use_client(platform: str, client: PlatformClient) -> Iterator[PlatformClient]:
    previous = _overrides.get(platform)
    _overrides[platform] = client
    try:
        yield client
    finally:
        if previous is None:
            _overrides.pop(platform, None)
        else:
            _overrides[platform] = previous
