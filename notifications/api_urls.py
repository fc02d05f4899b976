from __future__ import annotations

from django.urls import URLPattern, path

from notifications import api

urlpatterns: list[URLPattern] = [
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationReadView.as_view(), name="api-notifications-read"),
    path("webhooks/", api.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:webhook_id>/", api.WebhookDetailView.as_view(), name="api-webhook"),
]
