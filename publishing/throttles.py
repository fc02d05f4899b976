"""DRF's throttles, counted in the shared cache (Redis), and open when that cache is down.

A throttle protects the service; it must not take it down. Without this, a Redis restart made every
API request a 500 while it lasted, although nothing else the request needs lives in Redis.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rest_framework import throttling

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is still loading
    from rest_framework.request import Request

logger = logging.getLogger(__name__)


class _FailOpen:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            allowed: bool = super().allow_request(request, view)  # type: ignore[misc]
        except Exception:  # the cache is unreachable: count nothing, let the request through
            logger.warning("API throttle skipped: the cache is unreachable", exc_info=True)
            return True
        return allowed


class UserRateThrottle(_FailOpen, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    pass
