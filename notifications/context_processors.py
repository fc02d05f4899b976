from __future__ import annotations

from django.http import HttpRequest

from notifications.selectors import unread_count


def unread_notifications(request: HttpRequest) -> dict[str, int]:
    """The unread count in every page's header (one COUNT on a partial index)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk is None:
        return {}
    return {"unread_notifications": unread_count(user_id=int(user.pk))}
