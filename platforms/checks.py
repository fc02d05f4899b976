"""Startup checks: report missing configuration when a process starts, not at first publish."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from platforms.base import Platform

# The settings that must be filled in before accounts on a platform can be connected.
CREDENTIALS = {
    "facebook": ("app_id", "app_secret"),
    "instagram": ("app_id", "app_secret"),
    "x": ("client_id",),
    "tiktok": ("client_key", "client_secret"),
}


@register()
def check_platform_clients(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    for platform in Platform:
        path = settings.SOSOCIAL_PLATFORM_CLIENTS.get(platform.value)
        if not path:
            problems.append(
                Warning(
                    f"No platform client configured for {platform.value}.",
                    hint="Its posts are refused when scheduled until SOSOCIAL_PLATFORM_CLIENTS names one.",
                    id="platforms.W001",
                )
            )
            continue
        try:
            import_string(path)
        except ImportError as error:
            problems.append(
                Error(f"Cannot import the {platform.value} client {path}: {error}", id="platforms.E001")
            )
        missing = [
            key for key in CREDENTIALS[platform.value] if not settings.SOSOCIAL_PLATFORMS[platform.value][key]
        ]
        if settings.PRODUCTION and missing:
            problems.append(
                Warning(
                    f"{platform.value}: {', '.join(missing)} not set; connecting accounts will fail.",
                    hint="Set the platform's app credentials in the environment (see README, Platforms).",
                    id="platforms.W002",
                )
            )
    return problems
