from __future__ import annotations

from django.urls import path

from publishing import calendar_views, preview, views

app_name = "publishing"

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("compose/", views.compose, name="compose"),
    path("compose/counts/", preview.text_counts, name="text_counts"),
    path("calendar/", calendar_views.calendar, name="calendar"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/revoke/", views.token_revoke, name="token_revoke"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/duplicate/", views.post_duplicate, name="post_duplicate"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="post_delete"),
    path("dates/paused/send/", views.send_paused, name="send_paused"),
    path("social-accounts/<int:account_id>/retry/", views.account_retry, name="account_retry"),
    *(
        path(f"dates/<int:entry_id>/{action}/", getattr(views, f"entry_{action}"), name=f"entry_{action}")
        for action in ("cancel", "reschedule", "retry", "confirm", "reconcile")
    ),
]
