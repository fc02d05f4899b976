"""How a notification leaves SoSocial: email through Django's mail framework, webhooks over HTTP.

Each sender raises `DeliveryError` for a failure worth retrying and `Undeliverable` for one that no
retry would fix; the service records either on the Delivery row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests
from django.conf import settings
from django.core.mail import EmailMessage

from notifications.models import Notification, WebhookEndpoint

SIGNATURE_HEADER = "X-SoSocial-Signature"
TIMESTAMP_HEADER = "X-SoSocial-Timestamp"
EVENT_HEADER = "X-SoSocial-Event"
DELIVERY_HEADER = "X-SoSocial-Delivery"
WEBHOOK_TIMEOUT = (3.05, 5)


class DeliveryError(Exception):
    def __init__(self, message: str, *, response_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.response_status = response_status


class Undeliverable(DeliveryError):
    pass


def absolute(path: str) -> str:
    return f"{settings.SOSOCIAL_PUBLIC_BASE_URL}{path}" if path.startswith("/") else path


# -- email ----------------------------------------------------------------------------------------
def email_text(notification: Notification) -> str:
    lines = [notification.body, ""]
    if notification.action_url:
        lines.append(f"{notification.action_label}: {absolute(notification.action_url)}")
    lines += ["", f"Choose what SoSocial tells you: {absolute('/notifications/settings/')}"]
    return "\n".join(lines)


def send_email(notification: Notification, *, address: str, subject: str = "", text: str = "") -> None:
    if not address:
        raise Undeliverable("The account has no email address.")
    message = EmailMessage(
        subject=subject or notification.title,
        body=text or email_text(notification),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"X-SoSocial-Event": notification.event},
    )
    try:
        message.send(fail_silently=False)
    except OSError as error:  # smtplib's errors are OSErrors: refused, timed out, rejected
        raise DeliveryError(f"The mail server refused or did not answer: {error}") from error


# -- webhooks -------------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp + "." + body`, hex; see docs/notifications.md."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(notification: Notification, *, format: str, delivery_id: int) -> dict[str, Any]:
    link = absolute(notification.action_url) if notification.action_url else ""
    if format == WebhookEndpoint.Format.SLACK:
        action = f"\n<{link}|{notification.action_label}>" if link else ""
        return {"text": f"*{notification.title}*\n{notification.body}{action}"}
    if format == WebhookEndpoint.Format.DISCORD:
        action = f"\n[{notification.action_label}]({link})" if link else ""
        # Discord refuses content over 2000 characters.
        return {"content": f"**{notification.title}**\n{notification.body}{action}"[:2000]}
    return {
        "id": notification.pk,
        "delivery": delivery_id,
        "event": notification.event,
        "incident": notification.incident_key,
        "created_at": notification.created_at.isoformat(),
        "title": notification.title,
        "message": notification.body,
        "action": {"label": notification.action_label, "url": link},
        "data": notification.context,
    }


def send_webhook(notification: Notification, *, endpoint: WebhookEndpoint, delivery_id: int) -> int:
    body = json.dumps(
        payload(notification, format=endpoint.format, delivery_id=delivery_id), separators=(",", ":")
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "SoSocial-Webhooks/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        EVENT_HEADER: notification.event,
        DELIVERY_HEADER: str(delivery_id),
    }
    try:
        # No redirects: a signed body follows only the URL its owner registered.
        response = requests.post(
            endpoint.url, data=body, headers=headers, timeout=WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
    if 200 <= response.status_code < 300:
        return response.status_code
    raise DeliveryError(
        f"The endpoint answered {response.status_code}: {response.text[:200]}",
        response_status=response.status_code,
    )
