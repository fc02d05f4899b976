from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("badge/", views.badge, name="badge"),
    path("read/", views.mark_all_read, name="mark_all_read"),
    path("settings/", views.preferences, name="preferences"),
    path("settings/test/", views.test_channel, name="test_channel"),
    path("webhooks/", views.webhook_create, name="webhook_create"),
    path("webhooks/<int:webhook_id>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path("webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("dev-mail/", views.dev_mail, name="dev_mail"),
    path("dev-mail/<str:name>/", views.dev_mail_message, name="dev_mail_message"),
]
