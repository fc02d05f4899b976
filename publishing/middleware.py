from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from publishing.models import Profile


def user_time_zone(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Show and read dates in the signed-in user's time zone (UTC until they choose one)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        zone = "UTC"
        if request.user.is_authenticated:
            zone = (
                Profile.objects.filter(user_id=request.user.pk).values_list("time_zone", flat=True).first()
                or "UTC"
            )
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            return get_response(request)

    return middleware
