"""Read-only lists for whoever runs the service: which notification went where, and what happened."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Delivery, Notification, WebhookEndpoint


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(ReadOnly, admin.TabularInline[Delivery, Notification]):
    model = Delivery
    extra = 0
    fields = ["target", "status", "attempts", "response_status", "last_error", "sent_at"]
    readonly_fields = ["target", "status", "attempts", "response_status", "last_error", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin[Notification]):
    list_display = ["created_at", "user", "event", "title", "read_at"]
    list_filter = ["event"]
    search_fields = ["title", "incident_key", "user__username"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly, admin.ModelAdmin[Delivery]):
    list_display = [
        "created_at",
        "notification",
        "target",
        "status",
        "attempts",
        "response_status",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["notification__title", "notification__user__username", "target"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    list_select_related = ["notification__user"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnly, admin.ModelAdmin[WebhookEndpoint]):
    list_display = ["url", "user", "format", "failure_count", "disabled_at"]
    list_filter = ["format"]
    exclude = ["secret"]
    readonly_fields = [
        "user",
        "url",
        "format",
        "description",
        "failure_count",
        "disabled_at",
        "last_error",
        "created_at",
    ]
