from __future__ import annotations

from django.urls import path

from publishing import views

app_name = "publishing"

urlpatterns = [
    path("", views.post_list, name="post_list"),
    path("compose/", views.compose, name="compose"),
    path("calendar/", views.calendar, name="calendar"),
    path("profile/", views.profile, name="profile"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/duplicate/", views.post_duplicate, name="post_duplicate"),
    path("posts/<int:post_id>/delete/", views.post_delete, name="post_delete"),
    path("dates/<int:entry_id>/cancel/", views.entry_cancel, name="entry_cancel"),
    path("dates/<int:entry_id>/reschedule/", views.entry_reschedule, name="entry_reschedule"),
    path("dates/<int:entry_id>/retry/", views.entry_retry, name="entry_retry"),
    path("dates/<int:entry_id>/confirm/", views.entry_confirm, name="entry_confirm"),
    path("dates/<int:entry_id>/reconcile/", views.entry_reconcile, name="entry_reconcile"),
]
