from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks

if TYPE_CHECKING:
    from platforms.models import SocialAccount


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "Publishing"

    def ready(self) -> None:
        from platforms.signals import account_reconnected
        from publishing import media_lifecycle  # noqa: F401  (removes a file with its last row)

        account_reconnected.connect(_resume_paused_dates, dispatch_uid="publishing.resume_paused_dates")
        account_reconnected.connect(_note_reconnected, dispatch_uid="publishing.note_account_reconnected")
        checks.register(lease_outlives_time_limit)
        checks.register(lead_within_media_expiry)


def _resume_paused_dates(sender: Any, *, account: SocialAccount, **kwargs: Any) -> None:
    from publishing.services import resume_account

    resume_account(account=account)


def _note_reconnected(sender: Any, *, account: SocialAccount, reason: str = "", **kwargs: Any) -> None:
    """Dates that failed for want of the account now say it is back, ready to retry."""
    from publishing.services import note_account_reconnected

    note_account_reconnected(account=account, reason=reason)


def lease_outlives_time_limit(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A lease shorter than the task's hard time limit lets a second worker claim a date while
    the first may still be publishing it: refuse to start. Claiming ahead changes nothing here:
    the wait for the date's time is inside the task, after the claim, so the time limit counts it."""
    lease, limit = settings.SOSOCIAL_LEASE_SECONDS, settings.CELERY_TASK_TIME_LIMIT
    if lease > limit:
        return []
    return [
        checks.Error(
            f"SOSOCIAL_LEASE_SECONDS ({lease:g}) must be longer than CELERY_TASK_TIME_LIMIT ({limit}).",
            hint="Raise the lease or lower the time limit; the lease must outlive any running task.",
            id="publishing.E001",
        )
    ]


# Instagram containers and X media ids expire 24 hours after they are made.
PREPARED_MEDIA_EXPIRY_SECONDS = 24 * 3600


def lead_within_media_expiry(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Media prepared further ahead than the platforms keep it would expire before its date."""
    lead = settings.SOSOCIAL_PREPARE_LEAD_SECONDS
    if 0 < lead < PREPARED_MEDIA_EXPIRY_SECONDS:
        return []
    return [
        checks.Error(
            f"SOSOCIAL_PREPARE_LEAD_SECONDS ({lead:g}) must be above 0 and below "
            f"{PREPARED_MEDIA_EXPIRY_SECONDS} (24 h).",
            hint="The platforms discard prepared media after 24 hours; one hour is the default.",
            id="publishing.E002",
        )
    ]
