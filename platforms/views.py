"""Accounts page and the platforms' login flow (OAuth 2.0 with state, and PKCE where supported)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from platforms import services
from platforms.base import Platform, PlatformError
from platforms.models import SocialAccount
from platforms.registry import get_client
from platforms.selectors import accounts_with_health

SESSION_KEY = "sosocial_oauth"


def _platform(name: str) -> str:
    if name not in {p.value for p in Platform}:
        raise Http404("No such platform")
    return name


def _callback_uri(request: HttpRequest, platform: str) -> str:
    return request.build_absolute_uri(reverse("platforms:connect_callback", args=[platform]))


# Warn this long before a token lapses, so the user can reconnect before a date is missed.
TOKEN_WARNING = timedelta(days=3)


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    """Each account with its health: token expiry, needs reconnect, and failed attempts in a day."""
    now = timezone.now()
    accounts = accounts_with_health(owner_id=request.user.pk, now=now)  # type: ignore[arg-type]
    return render(
        request,
        "platforms/accounts.html",
        {
            "accounts": accounts,
            "platforms": SocialAccount.Kind.choices,
            "now": now,
            "warn_before": now + TOKEN_WARNING,
        },
    )


@login_required
def connect_start(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    request.session[SESSION_KEY] = {"platform": platform, "state": state, "verifier": verifier}
    try:
        url = get_client(platform).authorization_url(
            redirect_uri=_callback_uri(request, platform), state=state, code_verifier=verifier
        )
    except PlatformError as error:
        messages.error(request, error.message)
        return redirect("platforms:account_list")
    return redirect(url)


@login_required
def connect_callback(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    pending = request.session.pop(SESSION_KEY, None) or {}
    state = request.GET.get("state", "")
    if (
        pending.get("platform") != platform
        or not state
        or not secrets.compare_digest(state, pending.get("state", ""))
    ):
        return HttpResponseBadRequest(
            "This login could not be verified (its state does not match the one SoSocial sent). "
            "Start connecting the account again."
        )
    if "error" in request.GET or not request.GET.get("code"):
        reason = request.GET.get("error_description") or request.GET.get("error") or "no code returned"
        messages.error(request, f"The platform did not connect the account: {reason}.")
        return redirect("platforms:account_list")
    try:
        connected = get_client(platform).connect(
            code=request.GET["code"],
            redirect_uri=_callback_uri(request, platform),
            code_verifier=pending["verifier"],
        )
    except PlatformError as error:
        messages.error(request, error.message)
        return redirect("platforms:account_list")
    if not connected:
        messages.error(request, "The login worked, but it gave SoSocial no account to publish to.")
        return redirect("platforms:account_list")
    owner_id = request.user.pk
    assert owner_id is not None  # login_required
    accounts = services.connect_accounts(owner_id=owner_id, platform=platform, connected=connected)
    names = ", ".join(account.display_name for account in accounts)
    messages.success(request, f"Connected {names}.")
    return redirect("platforms:account_list")


@login_required
@require_POST
def disconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(SocialAccount, pk=account_id, owner_id=request.user.pk)
    services.disconnect_account(account=account)
    messages.success(request, f"Disconnected {account.display_name}.")
    return redirect("platforms:account_list")
