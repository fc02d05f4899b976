from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from platforms.signals import account_reconnected

        account_reconnected.connect(_resume_paused_dates, dispatch_uid="publishing.resume_paused_dates")


def _resume_paused_dates(sender: Any, *, account: Any, **kwargs: Any) -> None:
    from publishing.services import resume_account

    resume_account(account=account)
