"""Which client serves which platform: `get_client(platform)`.

The mapping comes from `settings.SOSOCIAL_PLATFORM_CLIENTS` (dotted paths); tests can put a client
in place with `use_client`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils.module_loading import import_string

from platforms.base import PermanentError, PlatformClient

_overrides: dict[str, PlatformClient] = {}


def get_client(platform: str) -> PlatformClient:
    if platform in _overrides:
        return _overrides[platform]
    path = settings.SOSOCIAL_PLATFORM_CLIENTS.get(platform)
    if not path:
        raise PermanentError(
            f"SoSocial has no client configured for {platform}; ask whoever runs it to set one up.",
            code="no_client",
        )
    client: PlatformClient = import_string(path)()
    return client


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
