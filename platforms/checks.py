"""Startup checks: report missing configuration when the process starts, not at first publish."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

from platforms.base import Platform


@register()
def check_platform_clients(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    missing = [p.value for p in Platform if p.value not in settings.SOSOCIAL_PLATFORM_CLIENTS]
    if not missing:
        return []
    return [
        Warning(
            f"No platform client configured for: {', '.join(missing)}.",
            hint="Entries for these platforms fail with a clear reason until a client is set.",
            id="platforms.W001",
        )
    ]
