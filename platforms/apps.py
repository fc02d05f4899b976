from __future__ import annotations

from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "platforms"
    verbose_name = "Platforms"

    def ready(self) -> None:
        from platforms import checks  # noqa: F401  (registers the system checks)
