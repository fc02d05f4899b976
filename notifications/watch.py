"""Warn before a problem reaches a date: the periodic at-risk check (maintenance queue).

For every account with a date in the next 24 hours it makes sure the token will still work then:
a refreshable token that expires before the date is refreshed now, and a refusal flags the account
and warns its owner, a day early instead of at the slot. An account already flagged with a date
ahead gets one reminder per flagging.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Min, Q
from django.utils import timezone

from notifications.events import Event
from notifications.models import Notification, NotificationPreference
from notifications.services import notify
from platforms.base import PlatformError, ReconnectNeeded
from platforms.models import TOKEN_REFRESH_MARGIN, SocialAccount
from platforms.registry import get_client
from platforms.services import refresh_account_tokens
from publishing.models import ScheduleEntry

logger = logging.getLogger(__name__)

AHEAD = timedelta(hours=24)
# A reconnect notice younger than this already warned about the same flagging.
RECENTLY_TOLD = timedelta(hours=12)


def reconnect_incident(account: SocialAccount) -> str:
    since = account.needs_reconnect_since or account.updated_at
    return f"account-{account.pk}:reconnect:{since.timestamp():.0f}"


def at_risk_incident(account: SocialAccount) -> str:
    since = account.needs_reconnect_since or account.updated_at
    return f"account-{account.pk}:at-risk:{since.timestamp():.0f}"


@dataclass
class WatchReport:
    checked: int = 0
    refreshed: int = 0
    warned: int = 0


def upcoming_statuses() -> list[str]:
    return [*ScheduleEntry.WAITING, *getattr(ScheduleEntry, "PAUSED_STATUSES", ())]


def check_at_risk(*, now: datetime | None = None) -> WatchReport:
    now = now or timezone.now()
    report = WatchReport()
    firsts = (
        ScheduleEntry.objects.filter(
            status__in=upcoming_statuses(), scheduled_at__gte=now - AHEAD, scheduled_at__lte=now + AHEAD
        )
        .values("post__account_id")
        .annotate(first=Min("scheduled_at"))
    )
    first_date = {row["post__account_id"]: row["first"] for row in firsts}
    for account in SocialAccount.objects.filter(pk__in=list(first_date)):
        report.checked += 1
        first = first_date[account.pk]
        if account.status == SocialAccount.Status.CONNECTED and account.token_expires_soon(
            now=now, margin=(first - now) + TOKEN_REFRESH_MARGIN
        ):
            try:
                refresh_account_tokens(
                    account=account, client=get_client(account.platform), rejected_token=account.access_token
                )
                report.refreshed += 1
                continue
            except ReconnectNeeded as refused:
                account.mark_needs_reconnect(f"The platform refused to refresh the token: {refused.message}")
            except PlatformError as error:
                # Not a verdict (a timeout, a 5xx): the next check, or the publish itself, tries again.
                logger.warning("At-risk check could not refresh account %s: %s", account.pk, error)
                continue
        if account.status == SocialAccount.Status.NEEDS_RECONNECT and _warn(account, first=first, now=now):
            report.warned += 1
    return report


def _warn(account: SocialAccount, *, first: datetime, now: datetime) -> bool:
    told = Notification.objects.filter(
        user_id=account.owner_id,
        incident_key=reconnect_incident(account),
        created_at__gte=now - RECENTLY_TOLD,
    ).exists()
    if told:
        return False
    dates = ScheduleEntry.objects.filter(
        post__account=account,
        status__in=upcoming_statuses(),
        scheduled_at__gte=now - AHEAD,
        scheduled_at__lte=now + AHEAD,
    ).select_related("post")
    entry = dates.order_by("scheduled_at").first()
    if entry is None:
        return False
    return (
        notify(
            event=Event.DATE_AT_RISK,
            user_id=account.owner_id,
            incident_key=at_risk_incident(account),
            context={
                "entry_id": entry.pk,
                "post_id": entry.post_id,
                "post_text": entry.post.text,
                "account": str(account),
                "account_id": account.pk,
                "scheduled_at": f"{first:%Y-%m-%d %H:%M} UTC",
                "dates_at_risk": dates.count(),
                "reason": account.status_reason or "The account needs reconnecting.",
            },
        )
        is not None
    )


def daily_summaries(*, now: datetime | None = None) -> int:
    """What was published and what failed in the last day, for those who asked for it."""
    now = now or timezone.now()
    since = now - timedelta(days=1)
    wanted = NotificationPreference.objects.filter(event=Event.DAILY_SUMMARY).filter(
        Q(in_app=True) | Q(email=True) | Q(webhook=True)
    )
    told = 0
    for user_id in wanted.values_list("user_id", flat=True):
        entries = ScheduleEntry.objects.filter(post__owner_id=user_id).select_related("post__account")
        published = list(entries.filter(status=ScheduleEntry.Status.PUBLISHED, published_at__gte=since))
        failed = list(entries.filter(status=ScheduleEntry.Status.FAILED, updated_at__gte=since))
        lines = [
            f"Published on {e.post.account}: {e.post.text[:80]} {e.platform_url}".rstrip() for e in published
        ]
        lines += [f"Failed on {e.post.account}: {e.post.text[:80]} ({e.last_error_message})" for e in failed]
        if notify(
            event=Event.DAILY_SUMMARY,
            user_id=user_id,
            incident_key=f"summary:{now:%Y-%m-%d}",
            context={
                "published": len(published),
                "failed": len(failed),
                "lines": "\n".join(lines) or "Nothing went out.",
            },
        ):
            told += 1
    return told
