from __future__ import annotations

from datetime import UTC
from typing import Any

from rest_framework import serializers

from notifications.channels import absolute
from notifications.events import Event
from notifications.models import Notification, WebhookEndpoint
from publishing.serializers import QuerySerializer, StrictCharField, StrictIntegerField

MAX_IDS = 200
# The largest id a database column holds.
MAX_ID = 2**63 - 1


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only; DRF would also take "yes", 1 and "on"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    action_url = serializers.SerializerMethodField(help_text="Where to act on it, one click away.")
    read = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(default_timezone=UTC, read_only=True)
    read_at = serializers.DateTimeField(default_timezone=UTC, read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "event",
            "title",
            "body",
            "action_url",
            "action_label",
            "created_at",
            "read",
            "read_at",
        ]
        read_only_fields = fields

    def get_action_url(self, notification: Notification) -> str:
        return absolute(notification.action_url) if notification.action_url else ""

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NotificationFilterSerializer(QuerySerializer):
    unread = serializers.ChoiceField(
        choices=["true", "false"], required=False, help_text="`true`: only those not read yet."
    )
    event = serializers.ChoiceField(choices=Event.choices, required=False)


class MarkReadSerializer(serializers.Serializer[Any]):
    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_IDS,
        help_text="Notifications to mark read; leave out and send `all` to mark every one.",
    )
    all = StrictBooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["Give the ids to mark read, or set `all`."]})
        if attrs.get("all") and attrs.get("ids"):
            raise serializers.ValidationError({"all": ["Give either `ids` or `all`, not both."]})
        return attrs


class MarkedSerializer(serializers.Serializer[Any]):
    marked = serializers.IntegerField(help_text="How many were unread and are now read.")


class WebhookSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    enabled = serializers.BooleanField(source="is_active", read_only=True)
    created_at = serializers.DateTimeField(default_timezone=UTC, read_only=True)
    disabled_at = serializers.DateTimeField(default_timezone=UTC, read_only=True, allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "format",
            "description",
            "enabled",
            "failure_count",
            "last_error",
            "disabled_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret. Shown only in this answer: store it now."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookCreateSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500)
    format = serializers.ChoiceField(
        choices=WebhookEndpoint.Format.choices, default=WebhookEndpoint.Format.JSON
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookUpdateSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500, required=False)
    format = serializers.ChoiceField(choices=WebhookEndpoint.Format.choices, required=False)
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    enabled = StrictBooleanField(required=False, help_text="Turn it back on after it was turned off.")
