"""The platforms' login flow (OAuth 2.0 with state, and PKCE where supported) and disconnecting.

Every step goes through platforms.services; each view then returns to the accounts page, which the
project's URLs name "accounts".
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from platforms import services
from platforms.base import Platform, PlatformError
from platforms.models import SocialAccount

SESSION_KEY = "sosocial_oauth"
ACCOUNTS_PAGE = "accounts"


def _platform(name: str) -> str:
    if name not in {p.value for p in Platform}:
        raise Http404("No such platform")
    return name


def _callback_uri(request: HttpRequest, platform: str) -> str:
    return request.build_absolute_uri(reverse("platforms:connect_callback", args=[platform]))


@login_required
def connect_start(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    try:
        login = services.start_login(platform=platform, redirect_uri=_callback_uri(request, platform))
    except PlatformError as error:
        messages.error(request, error.message)
        return redirect(ACCOUNTS_PAGE)
    request.session[SESSION_KEY] = {
        "platform": platform,
        "state": login.state,
        "verifier": login.code_verifier,
    }
    return redirect(login.url)


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
        return redirect(ACCOUNTS_PAGE)
    owner_id = request.user.pk
    assert owner_id is not None  # login_required
    try:
        accounts = services.finish_login(
            owner_id=int(owner_id),
            platform=platform,
            code=request.GET["code"],
            redirect_uri=_callback_uri(request, platform),
            code_verifier=pending["verifier"],
        )
    except PlatformError as error:
        messages.error(request, error.message)
        return redirect(ACCOUNTS_PAGE)
    if not accounts:
        messages.error(request, "The login worked, but it gave SoSocial no account to publish to.")
        return redirect(ACCOUNTS_PAGE)
    names = ", ".join(account.display_name for account in accounts)
    messages.success(request, f"Connected {names}.")
    return redirect(ACCOUNTS_PAGE)


@login_required
@require_POST
def disconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(SocialAccount, pk=account_id, owner_id=request.user.pk)
    services.disconnect_account(account=account)
    messages.success(request, f"Disconnected {account.display_name}.")
    return redirect(ACCOUNTS_PAGE)
