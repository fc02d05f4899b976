"""The platforms' login flow (OAuth 2.0 with state, and PKCE where supported) and disconnecting.

Every step goes through platforms.services; each view then returns to the accounts page, which the
project's URLs name "accounts".
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from platforms import services
from platforms.base import ConnectedAccount, Platform, PlatformError
from platforms.models import SocialAccount

SESSION_KEY = "sosocial_oauth"
# Accounts a login offered, sealed, while the person chooses among them.
CHOICE_KEY = "sosocial_oauth_choice"
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
        "next": _safe_next(request, request.GET.get("next", "")),
    }
    return redirect(login.url)


def _safe_next(request: HttpRequest, target: str) -> str:
    """Where to return after connecting (the Posts page, say); only a path of this site."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _done(pending: dict[str, str]) -> HttpResponse:
    return redirect(pending.get("next") or ACCOUNTS_PAGE)


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
    try:
        connected = services.exchange_login(
            platform=platform,
            code=request.GET["code"],
            redirect_uri=_callback_uri(request, platform),
            code_verifier=pending["verifier"],
        )
    except PlatformError as error:
        messages.error(request, error.message)
        return redirect(ACCOUNTS_PAGE)
    if not connected:
        messages.error(request, "The login worked, but it gave SoSocial no account to publish to.")
        return redirect(ACCOUNTS_PAGE)
    if services.needs_choice(platform, connected):
        request.session[CHOICE_KEY] = {
            "platform": platform,
            "sealed": services.seal_choices(connected),
            "next": pending.get("next", ""),
        }
        return redirect("platforms:connect_choose", platform=platform)
    return _connect(request, platform, connected, pending)


def _connect(
    request: HttpRequest, platform: str, connected: list[ConnectedAccount], pending: dict[str, str]
) -> HttpResponse:
    owner_id = request.user.pk
    assert owner_id is not None  # login_required
    accounts = services.connect_accounts(owner_id=int(owner_id), platform=platform, connected=connected)
    names = ", ".join(account.display_name for account in accounts)
    messages.success(request, f"Connected {names}.")
    return _done(pending)


@login_required
def connect_choose(request: HttpRequest, platform: str) -> HttpResponse:
    """Which of the Pages (or Instagram accounts) a login gave access to SoSocial may post to."""
    platform = _platform(platform)
    pending = request.session.get(CHOICE_KEY) or {}
    choices = services.open_choices(pending.get("sealed", "")) if pending.get("platform") == platform else []
    if not choices:
        request.session.pop(CHOICE_KEY, None)
        messages.error(request, "That login has expired or was already used: connect the account again.")
        return redirect(ACCOUNTS_PAGE)
    if request.method == "POST":
        wanted = set(request.POST.getlist("account_id"))
        chosen = [found for found in choices if found.account_id in wanted]
        if chosen:
            request.session.pop(CHOICE_KEY, None)
            return _connect(request, platform, chosen, pending)
    known = set(
        SocialAccount.objects.filter(owner_id=request.user.pk, platform=platform).values_list(
            "platform_account_id", flat=True
        )
    )
    context = {
        "platform": platform,
        "platform_label": dict(SocialAccount.Kind.choices)[platform],
        "kind": "Pages" if platform == Platform.FACEBOOK else "Instagram accounts",
        "choices": [
            {
                "account_id": found.account_id,
                "display_name": found.display_name,
                "connected": found.account_id in known,
            }
            for found in choices
        ],
        "error": "Choose at least one." if request.method == "POST" else "",
    }
    return render(request, "platforms/choose.html", context)


@login_required
@require_POST
def disconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(SocialAccount, pk=account_id, owner_id=request.user.pk)
    services.disconnect_account(account=account)
    messages.success(request, f"Disconnected {account.display_name}.")
    return redirect(ACCOUNTS_PAGE)
