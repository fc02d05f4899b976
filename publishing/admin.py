from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from publishing import services
from publishing.models import Post, PublishAttempt, ScheduleEntry

ENTRY_FIELDS = [
    "scheduled_at",
    "status",
    "attempts",
    "next_attempt_at",
    "dispatch_version",
    "dispatched_at",
    "lease_until",
    "platform_post_id",
    "platform_url",
    "published_at",
    "last_error_code",
    "last_error_message",
]


class ScheduleEntryInline(admin.TabularInline[ScheduleEntry, Post]):
    model = ScheduleEntry
    fields = readonly_fields = ("scheduled_at", "status", "attempts", "platform_url", "last_error_message")
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ["id", "owner", "account", "created_at"]
    list_select_related = ["owner", "account"]
    search_fields = ["text", "owner__username", "account__display_name"]
    inlines = [ScheduleEntryInline]


class PublishAttemptInline(admin.TabularInline[PublishAttempt, ScheduleEntry]):
    model = PublishAttempt
    fields = readonly_fields = (
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "http_status",
        "error_code",
        "message",
    )
    extra = 0
    can_delete = False


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(admin.ModelAdmin[ScheduleEntry]):
    list_display = ["id", "post", "scheduled_at", "status", "attempts", "last_error_code"]
    list_filter = ["status", "post__account__platform", "scheduled_at"]
    list_select_related = ["post__account"]
    search_fields = ["post__text", "platform_post_id"]
    date_hierarchy = "scheduled_at"
    # Statuses change only through the services, never by editing a field here.
    readonly_fields = ["post", *ENTRY_FIELDS]
    inlines = [PublishAttemptInline]
    actions = ["retry_now", "cancel"]

    @admin.action(description="Retry selected failed or unconfirmed dates now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[ScheduleEntry]) -> None:
        done = sum(services.retry_entry(entry=entry) for entry in queryset)
        self.message_user(request, f"{done} date(s) queued again.", messages.SUCCESS)

    @admin.action(description="Cancel selected waiting dates")
    def cancel(self, request: HttpRequest, queryset: QuerySet[ScheduleEntry]) -> None:
        done = sum(services.cancel_entry(entry=entry) for entry in queryset)
        self.message_user(request, f"{done} date(s) cancelled.", messages.SUCCESS)
