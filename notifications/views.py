"""The notification list, the unread badge, preferences with webhooks and test buttons, and (in
development only) the mail catcher's inbox. Writes go through notifications.services."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from notifications import selectors, services
from notifications.events import CHOOSABLE, Channel
from notifications.forms import WebhookForm
from notifications.models import WebhookEndpoint

LIST_SIZE = 50


def _user_id(request: HttpRequest) -> int:
    user_id = request.user.pk
    assert user_id is not None  # every view here is login_required
    return int(user_id)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first; what this page shows is marked read once shown (the new ones stay highlighted
    for this view). The list polls itself, so a new notification appears without a reload."""
    user_id = _user_id(request)
    shown = list(selectors.notifications_for(user_id=user_id)[:LIST_SIZE])
    services.mark_read(user_id=user_id, ids=[n.pk for n in shown if n.read_at is None])
    context = {"notifications": shown}
    if getattr(request, "htmx", False):
        return render(request, "notifications/_list.html", context)
    return render(request, "notifications/list.html", context)


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/_badge.html")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.mark_read(user_id=_user_id(request))
    return redirect("notifications:list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user_id = _user_id(request)
    if request.method == "POST":
        for event in CHOOSABLE:
            services.set_preference(
                user_id=user_id,
                event=event,
                in_app=f"{event}-in_app" in request.POST,
                email=f"{event}-email" in request.POST,
                webhook=f"{event}-webhook" in request.POST,
                email_digest=request.POST.get(f"{event}-email_mode") == "digest",
            )
        messages.success(request, "Saved where SoSocial tells you what.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", _preferences_context(request, WebhookForm()))


def _preferences_context(request: HttpRequest, form: WebhookForm) -> dict[str, object]:
    user_id = _user_id(request)
    return {
        "preferences": services.preferences_for(user_id=user_id),
        "webhooks": selectors.webhooks_for(user_id=user_id),
        "webhook_form": form,
        "has_email": bool(getattr(request.user, "email", "")),
    }


@login_required
@require_POST
def test_channel(request: HttpRequest) -> HttpResponse:
    user_id = _user_id(request)
    channel = request.POST.get("channel", "")
    endpoint: WebhookEndpoint | None = None
    if channel == Channel.WEBHOOK:
        endpoint = selectors.webhooks_for(user_id=user_id).filter(pk=request.POST.get("webhook") or 0).first()
    if channel not in Channel.values:
        messages.error(request, "Choose a channel to test.")
    else:
        try:
            services.send_test(user_id=user_id, channel=channel, endpoint=endpoint)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Test message sent ({Channel(channel).label.lower()}).")
    return redirect("notifications:preferences")


@login_required
@require_POST
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint = services.create_webhook(user_id=_user_id(request), **form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                f"Webhook added. Its signing secret, shown only now: {endpoint.secret}",
            )
            return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", _preferences_context(request, form), status=400)


def _webhook(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    try:
        return selectors.webhook_of(user_id=_user_id(request), webhook_id=webhook_id)
    except WebhookEndpoint.DoesNotExist as missing:
        raise Http404("No such webhook") from missing


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _webhook(request, webhook_id)
    services.update_webhook(endpoint=endpoint, enabled=not endpoint.is_active)
    return redirect("notifications:preferences")


@login_required
@require_POST
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    services.delete_webhook(endpoint=_webhook(request, webhook_id))
    messages.success(request, "Webhook removed.")
    return redirect("notifications:preferences")


# -- development mail catcher -----------------------------------------------------------------------
def _mail_files() -> list[Path]:
    if not settings.DEBUG:
        raise Http404("Only in development")
    folder = Path(settings.SOSOCIAL_MAIL_DIR)
    return sorted(folder.glob("*.eml"), reverse=True) if folder.is_dir() else []


def _read(path: Path) -> EmailMessage:
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@login_required
def dev_mail(request: HttpRequest) -> HttpResponse:
    """The messages the local mail catcher received (DEBUG only; production sends real email)."""
    mails = [{"name": path.name, "message": _read(path)} for path in _mail_files()[:100]]
    return render(request, "notifications/dev_mail.html", {"mails": mails})


@login_required
def dev_mail_message(request: HttpRequest, name: str) -> HttpResponse:
    found = {path.name: path for path in _mail_files()}
    if name not in found:
        raise Http404("No such message")
    message = _read(found[name])
    part = message.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    return render(request, "notifications/dev_mail_message.html", {"message": message, "text": text})
