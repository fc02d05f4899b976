"""The API's shapes: output serializers read models, input serializers only validate what a service takes.

Every date goes out as aware ISO 8601 in UTC; every date coming in must carry its offset, because a
scheduled time read in the wrong zone is a post published at the wrong hour.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from platforms.models import SocialAccount
from publishing import bounds
from publishing.models import Post, PostMedia, PublishAttempt, ScheduleEntry
from publishing.parsers import depth_of

Status = ScheduleEntry.Status
BLANK = "Leave it out rather than empty."
MAX_PAGE_SIZE = 200
MAX_ID = 2**63 - 1  # the database's largest integer key; beyond it an id is a 400, not an overflow


class UtcDateTimeField(serializers.DateTimeField):
    """Always written in UTC, whatever zone the request runs in (session users get theirs)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)


class AwareDateTimeField(UtcDateTimeField):
    """ISO 8601 with an offset or `Z`; a bare local time is refused instead of guessed."""

    default_error_messages = {
        "naive": "Give the time zone offset too, e.g. 2026-12-01T09:30:00+01:00 or 2026-12-01T08:30:00Z.",
    }

    def to_internal_value(self, value: datetime | str) -> datetime:
        if isinstance(value, str):
            parsed = None
            with contextlib.suppress(ValueError):
                parsed = parse_datetime(value.strip())
            if parsed is not None and timezone.is_naive(parsed):
                self.fail("naive")
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


class StrictCharField(serializers.CharField):
    """Text must arrive as a JSON string: DRF would turn `1.5` or `true` into "1.5" or "True"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class OutputSerializer(serializers.ModelSerializer[Any]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: UtcDateTimeField,
    }


# -- output -----------------------------------------------------------------------------------------
class AccountSerializer(OutputSerializer):
    """A connected account and its health; tokens never leave the server."""

    platform_name = serializers.CharField(source="get_platform_display", read_only=True)
    failures_last_24h = serializers.IntegerField(
        read_only=True,
        help_text="Publish attempts on this account that did not succeed in the last 24 hours.",
    )

    class Meta:
        model = SocialAccount
        fields = [
            "id",
            "platform",
            "platform_name",
            "display_name",
            "status",
            "status_reason",
            "token_expires_at",
            "failures_last_24h",
        ]
        read_only_fields = fields


class AccountBriefSerializer(OutputSerializer):
    class Meta:
        model = SocialAccount
        fields = ["id", "platform", "display_name", "status"]
        read_only_fields = fields


class EntrySerializer(OutputSerializer):
    """One scheduled date of a post and what happened to it."""

    status_text = serializers.SerializerMethodField()
    # Not a URLField: it is "" until the date is published, and "" is no URI.
    platform_url = serializers.CharField(
        read_only=True, help_text="Link to the published post; empty until it is published."
    )

    class Meta:
        model = ScheduleEntry
        fields = [
            "id",
            "scheduled_at",
            "status",
            "status_text",
            "attempts",
            "next_attempt_at",
            "platform_post_id",
            "platform_url",
            "published_at",
            "next_check_at",
            "last_error_code",
            "last_error_message",
            "media_status",
            "prepare_at",
            "prepared_until",
            "prep_error",
            "follow_at",
        ]
        read_only_fields = fields

    def get_status_text(self, entry: ScheduleEntry) -> str:
        return entry.describe()


class EntryDetailSerializer(EntrySerializer):
    post = serializers.IntegerField(source="post_id", read_only=True)
    account = serializers.IntegerField(source="post.account_id", read_only=True)
    platform = serializers.CharField(source="post.account.platform", read_only=True)

    class Meta(EntrySerializer.Meta):
        fields = ["post", "account", "platform", *EntrySerializer.Meta.fields]
        read_only_fields = fields


class MediaSerializer(OutputSerializer):
    url = serializers.FileField(source="file", use_url=True, read_only=True)

    class Meta:
        model = PostMedia
        fields = ["id", "url", "content_type", "position"]
        read_only_fields = fields


class PostSerializer(OutputSerializer):
    account = AccountBriefSerializer(read_only=True)
    options = serializers.DictField(child=serializers.CharField(), read_only=True)
    media = MediaSerializer(many=True, read_only=True)
    entries = EntrySerializer(many=True, read_only=True)
    editable = serializers.SerializerMethodField(
        help_text="False once a date is published or being published: the text can no longer change."
    )

    class Meta:
        model = Post
        fields = [
            "id",
            "account",
            "text",
            "options",
            "media",
            "entries",
            "editable",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_editable(self, post: Post) -> bool:
        # Reads the prefetched dates, so a list costs no query per post.
        return not any(entry.status in ScheduleEntry.LOCKING for entry in post.entries.all())


class AttemptSerializer(OutputSerializer):
    class Meta:
        model = PublishAttempt
        fields = ["id", *PublishAttempt.SHOWN]
        read_only_fields = fields


class StrictIntegerField(serializers.IntegerField):
    """A JSON number only: DRF would also take the string "12" or 12.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class ProfileSerializer(serializers.Serializer[Any]):
    time_zone = StrictCharField(
        max_length=64, help_text="An IANA time zone such as Europe/Paris; the web pages show dates in it."
    )
    lateness_tolerance_minutes = StrictIntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        required=False,
        help_text="After an account is reconnected, its paused dates at most this late go out at once; "
        "later ones wait for POST /api/entries/send-paused/. Left out: unchanged.",
    )


class SentSerializer(serializers.Serializer[Any]):
    sent = serializers.IntegerField(help_text="How many paused dates were sent.")


class OptionsField(serializers.DictField):
    """Per-platform choices as text. DRF checks the values but not the keys, and PostgreSQL cannot
    store a NUL in JSON text: that key was a 500."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=StrictCharField(allow_blank=True), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        options: dict[str, Any] = super().to_internal_value(data)
        if any("\x00" in key for key in options):
            raise serializers.ValidationError("Option names cannot contain the null character.")
        return options


class DateListField(serializers.ListField):
    """Dates to schedule, each with its offset; the count is checked before any date is parsed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=AwareDateTimeField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        cap = bounds.max_dates_per_post()
        if isinstance(data, list) and len(data) > cap:
            raise serializers.ValidationError(f"At most {cap} dates per post; this has {len(data)}.")
        return list(super().to_internal_value(data))


# -- input ------------------------------------------------------------------------------------------
# More than any platform takes in one post (TikTok: 35 photos); each platform's check says its own.
MAX_MEDIA = 35


class PostCreateSerializer(serializers.Serializer[Any]):
    """`account` makes one post; `accounts` makes one post per account, all of them or none."""

    account = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Id of one of your connected accounts (or give `accounts`).",
    )
    accounts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        min_length=1,
        help_text="Ids of several of your accounts: one post each, answered with a list of posts.",
    )
    text = StrictCharField(allow_blank=True, default="", trim_whitespace=False)
    options = OptionsField(
        required=False, help_text="Per-platform choices, e.g. TikTok privacy_level or a Facebook link."
    )
    when = DateListField(
        required=False,
        default=list,
        help_text="The dates to publish at, each with its offset; none makes a draft, scheduled later "
        "through /api/posts/{id}/entries/.",
    )
    media = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=MAX_MEDIA,
        help_text="Photos and videos, in order (multipart/form-data only; Instagram and TikTok need media).",
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # In a multipart body `options` arrives as JSON text; in a JSON body it is an object.
        raw = data.get("options") if hasattr(data, "get") else None
        if isinstance(raw, str):
            try:
                options = json.loads(raw)
            except (ValueError, RecursionError):
                options = None
            # The same nesting bound as a JSON body (publishing/parsers.py).
            if options is None or depth_of(options) > int(settings.SOSOCIAL_API_MAX_JSON_DEPTH):
                raise serializers.ValidationError({"options": ["Give the options as a JSON object."]})
            data = data.copy()
            data.pop("options")
            result: dict[str, Any] = super().to_internal_value(data)
            result["options"] = self.fields["options"].run_validation(options)
            return result
        result = super().to_internal_value(data)
        return result

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("account" in attrs) == ("accounts" in attrs):
            raise serializers.ValidationError({"account": ["Give either `account` or `accounts`."]})
        return attrs


class PostUpdateSerializer(serializers.Serializer[Any]):
    text = StrictCharField(allow_blank=True, required=False, trim_whitespace=False)
    options = OptionsField(required=False)


class ScheduleSerializer(serializers.Serializer[Any]):
    when = DateListField(help_text="More dates for this post.")


class RescheduleSerializer(serializers.Serializer[Any]):
    when = AwareDateTimeField(help_text="The new date, with its offset.")


class CredentialsSerializer(serializers.Serializer[Any]):
    username = StrictCharField(max_length=150, trim_whitespace=False)
    password = StrictCharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(read_only=True, help_text="Send it as `Authorization: Token <token>`.")
    expiry = UtcDateTimeField(read_only=True, allow_null=True, help_text="When the token stops working.")


class ResolveSerializer(serializers.Serializer[Any]):
    """What the user found on the platform for a date whose outcome is unknown."""

    action = serializers.ChoiceField(
        choices=[
            ("published", "It is on the platform: mark it published"),
            ("send_again", "It is not there: send it again"),
            ("check_again", "Ask the platform again"),
        ]
    )
    platform_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    platform_post_id = StrictCharField(required=False, allow_blank=True, default="", max_length=200)
    looked = serializers.BooleanField(
        required=False,
        default=False,
        help_text="With send_again: you looked at the account and the post is not there. Required "
        "while no check answered that the platform has no such post.",
    )


class QuerySerializer(serializers.Serializer[Any]):
    """Query parameters. DRF reads an empty optional one (`?status=`) as absent, as HTML forms need;
    here it is refused like any other wrong value, so a client's slip never silently widens a filter."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        sent = self.initial_data
        blank = {name: [BLANK] for name in sent if name in self.fields and sent[name] == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return attrs


class PageSerializer(QuerySerializer):
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


class EndpointSerializer(serializers.Serializer[Any]):
    path = serializers.CharField(help_text="The route, with <converter:name> for its parameters.")
    name = serializers.CharField()
    methods = serializers.ListField(child=serializers.CharField())


class ApiIndexSerializer(serializers.Serializer[Any]):
    endpoints = EndpointSerializer(many=True)
    docs = serializers.URLField()
    schema = serializers.URLField()
