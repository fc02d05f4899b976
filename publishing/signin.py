"""Signing in: the lockout answer django-axes gives after too many wrong passwords, and API tokens.

The login page, the admin login and /api/token/ all go through django.contrib.auth.authenticate
with the Django request, so axes counts their failures alike (settings: SIGNIN_FAILURE_LIMIT,
SIGNIN_COOLOFF_MINUTES). API tokens are django-rest-knox's: only a digest is stored, each expires,
and the profile page lists and revokes them.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from knox.models import AuthToken


def cooloff() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    assert isinstance(value, timedelta)
    return value


def lockout_message() -> str:
    minutes = max(1, math.ceil(cooloff().total_seconds() / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins for this account. Sign-in is locked: try again in {wait}."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """axes calls this instead of its own page: the API gets its error format, pages a page."""
    status = 429  # Too Many Requests, as django-axes answers by default
    retry_after = str(math.ceil(cooloff().total_seconds()))
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {"error": {"code": "locked_out", "message": lockout_message(), "fields": {}}}, status=status
        )
    else:
        response = render(
            request, "registration/locked_out.html", {"message": lockout_message()}, status=status
        )
    response["Retry-After"] = retry_after
    return response


def client_address(request: HttpRequest) -> str | None:
    """The connecting address. Behind a proxy it is the proxy's, so limits per address are coarse
    there; the limit per username still holds. None without one (a request made in code)."""
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


# -- API tokens -------------------------------------------------------------------------------------
def issue_token(user: AbstractBaseUser) -> tuple[str, datetime | None]:
    """A new token for `user` and when it expires; the token itself is shown only this once."""
    instance, token = AuthToken.objects.create(user=user)
    return token, instance.expiry


def live_tokens(user_id: int) -> QuerySet[Any]:
    tokens: QuerySet[Any] = AuthToken.objects.filter(user_id=user_id, expiry__gt=timezone.now())
    return tokens.order_by("-created")


def too_many_tokens(user_id: int) -> bool:
    limit: Any = settings.REST_KNOX.get("TOKEN_LIMIT_PER_USER")
    return limit is not None and live_tokens(user_id).count() >= int(limit)


def revoke_token(*, user_id: int, token_key: str) -> bool:
    deleted: int = AuthToken.objects.filter(user_id=user_id, token_key=token_key).delete()[0]
    return deleted > 0
