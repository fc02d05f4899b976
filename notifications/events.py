"""What SoSocial tells people about, how each event reads, and where it goes unless they choose.

Callers pass plain context (strings and ids); the wording and the one-click action live here, so
email, webhook and the in-app list say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.http import urlencode


class Event(models.TextChoices):
    DATE_FAILED = "date_failed", "A date failed"
    DATE_UNCONFIRMED = "date_unconfirmed", "A date's outcome is unknown"
    DATE_RESOLVED = "date_resolved", "An unknown outcome was settled"
    ACCOUNT_NEEDS_RECONNECT = "account_needs_reconnect", "An account needs reconnecting"
    DATE_AT_RISK = "date_at_risk", "A date in the next 24 hours is at risk"
    DAILY_SUMMARY = "daily_summary", "Daily summary of what was published"
    WEBHOOK_DISABLED = "webhook_disabled", "A webhook endpoint was turned off"
    TEST = "test", "Test message"


class Channel(models.TextChoices):
    IN_APP = "in_app", "In the app"
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhooks"


@dataclass(frozen=True)
class Defaults:
    in_app: bool
    email: bool
    webhook: bool


# Problems reach every channel at once unless the person says otherwise; the summary is opt-in.
DEFAULTS: dict[str, Defaults] = {
    Event.DATE_FAILED: Defaults(in_app=True, email=True, webhook=True),
    Event.DATE_UNCONFIRMED: Defaults(in_app=True, email=True, webhook=True),
    Event.DATE_RESOLVED: Defaults(in_app=True, email=False, webhook=True),
    Event.ACCOUNT_NEEDS_RECONNECT: Defaults(in_app=True, email=True, webhook=True),
    Event.DATE_AT_RISK: Defaults(in_app=True, email=True, webhook=True),
    Event.DAILY_SUMMARY: Defaults(in_app=False, email=False, webhook=False),
    # A webhook that stopped working cannot carry the news of it.
    Event.WEBHOOK_DISABLED: Defaults(in_app=True, email=True, webhook=False),
}
CHOOSABLE = [event for event in Event if event in DEFAULTS and event != Event.WEBHOOK_DISABLED]


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    action_url: str  # a path in the app, one click from the notification
    action_label: str


def _posts_url(context: Mapping[str, Any], status: str) -> str:
    entry_id = context.get("entry_id")
    anchor = f"#entry-{entry_id}" if entry_id else ""
    return f"{reverse('publishing:post_list')}?{urlencode({'status': status})}{anchor}"


def _post_line(context: Mapping[str, Any]) -> str:
    text = str(context.get("post_text", "")).strip()
    short = text if len(text) <= 80 else f"{text[:77]}..."
    return f"“{short}”" if short else "your post"


def describe(event: str, context: Mapping[str, Any]) -> Message:
    account = context.get("account", "your account")
    when = context.get("scheduled_at", "")
    reason = context.get("reason", "")
    post = _post_line(context)
    accounts_url = reverse("accounts")
    if event == Event.DATE_FAILED:
        return Message(
            title=f"Not published: {post} on {account}",
            body=f"{post} was due on {account} at {when} and was not published.\nReason: {reason}",
            action_url=_posts_url(context, "failed"),
            action_label="Fix it: retry or reschedule",
        )
    if event == Event.DATE_UNCONFIRMED:
        return Message(
            title=f"Check {account}: did {post} go out?",
            body=f"SoSocial could not tell whether {post} (due {when}) was published on {account}.\n{reason}",
            action_url=_posts_url(context, "unconfirmed"),
            action_label="Mark it published or send it again",
        )
    if event == Event.DATE_RESOLVED:
        outcome = context.get("outcome", "settled")
        return Message(
            title=f"Settled: {post} on {account} is {outcome}",
            body=f"The date {when} of {post} on {account} is now {outcome}.",
            action_url=_posts_url(context, str(outcome)),
            action_label="See the date",
        )
    if event == Event.ACCOUNT_NEEDS_RECONNECT:
        waiting = context.get("paused_dates", 0)
        held = f"\n{waiting} scheduled date(s) wait until you reconnect it." if waiting else ""
        return Message(
            title=f"Reconnect {account}",
            body=f"{account} needs reconnecting before SoSocial can publish to it.\nReason: {reason}{held}",
            action_url=accounts_url,
            action_label="Reconnect the account",
        )
    if event == Event.DATE_AT_RISK:
        return Message(
            title=f"At risk: {post} on {account} at {when}",
            body=f"{post} is due on {account} at {when}, but it will not go out unless this is fixed:\n"
            f"{reason}",
            action_url=accounts_url,
            action_label="Fix the account",
        )
    if event == Event.DAILY_SUMMARY:
        return Message(
            title=f"Today on SoSocial: {context.get('published', 0)} published, "
            f"{context.get('failed', 0)} failed",
            body=str(context.get("lines", "")),
            action_url=reverse("publishing:post_list"),
            action_label="See your posts",
        )
    if event == Event.WEBHOOK_DISABLED:
        return Message(
            title="A webhook endpoint was turned off",
            body=f"{context.get('url', '')} failed {context.get('failures', '')} times in a row, so SoSocial "
            f"stopped sending to it.\nLast error: {reason}",
            action_url=reverse("notifications:preferences"),
            action_label="Check and turn it back on",
        )
    return Message(
        title="SoSocial test message",
        body="If you can read this, this channel works.",
        action_url=reverse("notifications:preferences"),
        action_label="Notification settings",
    )
