"""What the publishing pipeline tells people, through notifications.services.notify.

Each function names its incident so that it is told once: a date that failed after its retries is
one incident per run of attempts (dispatch_version), an account flagged for reconnecting one per
flagging. They run inside the pipeline's transaction; notify() sends only after it commits and
never raises.
"""

from __future__ import annotations

from typing import Any

from notifications.events import Event
from notifications.models import Notification
from notifications.services import notify
from notifications.watch import reconnect_incident
from platforms.models import SocialAccount
from publishing.models import ScheduleEntry


def _date_context(entry: ScheduleEntry) -> dict[str, Any]:
    post = entry.post
    return {
        "entry_id": entry.pk,
        "post_id": post.pk,
        "post_text": post.text,
        "account": str(post.account),
        "account_id": post.account_id,
        "platform": post.account.platform,
        "scheduled_at": f"{entry.scheduled_at:%Y-%m-%d %H:%M} UTC",
        "reason": entry.last_error_message or entry.last_error_code,
        "status": entry.status,
    }


def _unconfirmed_incident(entry: ScheduleEntry) -> str:
    return f"entry-{entry.pk}:unconfirmed:v{entry.dispatch_version}:a{entry.attempts}"


def date_failed(entry: ScheduleEntry) -> None:
    notify(
        event=Event.DATE_FAILED,
        user_id=entry.post.owner_id,
        incident_key=f"entry-{entry.pk}:failed:v{entry.dispatch_version}",
        context=_date_context(entry),
    )


def date_unconfirmed(entry: ScheduleEntry) -> None:
    """Reconciliation could not tell: now the person has to look."""
    notify(
        event=Event.DATE_UNCONFIRMED,
        user_id=entry.post.owner_id,
        incident_key=_unconfirmed_incident(entry),
        context=_date_context(entry),
    )


def date_resolved(entry: ScheduleEntry) -> None:
    """Reconciliation settled an unconfirmed date the person was told to check (only then: most
    are settled within seconds, before anyone was asked)."""
    unconfirmed = _unconfirmed_incident(entry)
    if not Notification.objects.filter(user_id=entry.post.owner_id, incident_key=unconfirmed).exists():
        return
    notify(
        event=Event.DATE_RESOLVED,
        user_id=entry.post.owner_id,
        incident_key=f"entry-{entry.pk}:resolved:v{entry.dispatch_version}:a{entry.attempts}",
        context={**_date_context(entry), "outcome": entry.status},
    )


def account_needs_reconnect(account: SocialAccount, *, paused: int) -> None:
    notify(
        event=Event.ACCOUNT_NEEDS_RECONNECT,
        user_id=account.owner_id,
        incident_key=reconnect_incident(account),
        context={
            "account": str(account),
            "account_id": account.pk,
            "platform": account.platform,
            "reason": account.status_reason,
            "paused_dates": paused,
        },
    )
