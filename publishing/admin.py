"""The admin for whoever runs the service: read everything, act only through the services.

Posts, dates and attempts are read-only here: a saved admin form would write back every field as the
page last saw it, racing the workers' compare-and-set transitions. The actions call the services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.text import Truncator

from publishing import bounds, dashboard, pipeline, services
from publishing.models import Post, PostMedia, Profile, PublishAttempt, ScheduleEntry

# The admin index links to the operator dashboard.
admin.site.index_template = "admin/sosocial_index.html"

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
    "platform_state",
    "last_error_code",
    "last_error_message",
    "reconciled_at",
    "created_at",
    "updated_at",
]


class ReadOnlyAdminMixin:
    """View-only: no add, no edit, no delete (changes go through the services)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ScheduleEntryInline(ReadOnlyAdminMixin, admin.TabularInline[ScheduleEntry, Post]):
    model = ScheduleEntry
    fields = readonly_fields = (
        "scheduled_at",
        "status",
        "attempts",
        "next_attempt_at",
        "platform_url",
        "last_error_code",
        "last_error_message",
    )
    extra = 0
    show_change_link = True


class PostMediaInline(ReadOnlyAdminMixin, admin.TabularInline[PostMedia, Post]):
    model = PostMedia
    fields = readonly_fields = ("position", "file", "content_type")
    extra = 0


@admin.register(Post)
class PostAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Post]):
    list_display = ["id", "owner", "account", "platform", "excerpt", "dates", "created_at"]
    list_select_related = ["owner", "account"]
    list_filter = ["account__platform", "created_at"]
    search_fields = ["=id", "text", "owner__username", "owner__email", "account__display_name"]
    date_hierarchy = "created_at"
    fields = readonly_fields = ("owner", "account", "text", "options", "created_at", "updated_at")
    inlines = [ScheduleEntryInline, PostMediaInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        return super().get_queryset(request).annotate(date_count=Count("entries"))

    @admin.display(description="Platform", ordering="account__platform")
    def platform(self, post: Post) -> str:
        return post.account.get_platform_display()

    @admin.display(description="Text")
    def excerpt(self, post: Post) -> str:
        return Truncator(post.text).chars(60)

    @admin.display(description="Dates", ordering="date_count")
    def dates(self, post: Post) -> int:
        count: int = getattr(post, "date_count", 0)
        return count


@admin.register(PostMedia)
class PostMediaAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PostMedia]):
    list_display = ["id", "post", "position", "file", "content_type"]
    list_select_related = ["post__account"]
    list_filter = ["content_type", "post__account__platform"]
    search_fields = ["=post__id", "file", "post__owner__username"]
    fields = readonly_fields = ("post", "position", "file", "content_type")


class PublishAttemptInline(ReadOnlyAdminMixin, admin.TabularInline[PublishAttempt, ScheduleEntry]):
    model = PublishAttempt
    fields = readonly_fields = PublishAttempt.SHOWN
    extra = 0


ServiceCall = Callable[[ScheduleEntry], bool]


def _refused_is_skipped(call: Callable[[], bool]) -> bool:
    """A service's refusal (an unconfirmed date nobody looked at) counts as a skipped date."""
    try:
        return call()
    except ValidationError:
        return False


def _entry_action(
    description: str, call: ServiceCall, *, done: str, rule: str, skip_reason: str = ""
) -> Callable[..., None]:
    """An admin action calling `call` on each selected date; those it refuses are counted as skipped."""
    reason = skip_reason or f"not {ScheduleEntry.allowed_statuses(rule)}, or changed meanwhile"

    @admin.action(description=description, permissions=["change"])
    def act(model_admin: ScheduleEntryAdmin, request: HttpRequest, queryset: QuerySet[ScheduleEntry]) -> None:
        model_admin.apply(
            request,
            queryset,
            call,
            done_label=done,
            skip_reason=reason,
        )

    return act


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(admin.ModelAdmin[ScheduleEntry]):
    list_display = [
        "id",
        "post",
        "platform",
        "owner",
        "scheduled_at",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error_code",
    ]
    list_filter = ["status", "post__account__platform", "scheduled_at", "last_error_code"]
    list_select_related = ["post__account", "post__owner"]
    search_fields = [
        "=id",
        "=post__id",
        "post__text",
        "post__owner__username",
        "post__account__display_name",
        "platform_post_id",
        "last_error_code",
    ]
    date_hierarchy = "scheduled_at"
    fields = readonly_fields = ("post", *ENTRY_FIELDS)
    inlines = [PublishAttemptInline]
    actions = ["retry_now", "send_again_looked", "cancel", "reconcile"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django's date hierarchy adds a day to the chosen one: 9999-12-31 overflowed into a 500.
        # Any year outside the bounds gets the admin's own answer to a bad lookup instead.
        year = request.GET.get("scheduled_at__year", "")
        if year and not (year.isdigit() and bounds.EARLIEST_DAY.year <= int(year) <= 9998):
            return HttpResponseRedirect(f"{request.path}?e=1")
        return super().changelist_view(request, extra_context)

    # Entries are created by scheduling a post and change only through the actions below.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ScheduleEntry | None = None) -> bool:
        # The changelist (and so the actions) needs change permission; a single entry's page is
        # view-only, because saving it would overwrite whatever a worker wrote since it loaded.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: ScheduleEntry | None = None) -> bool:
        return False

    @admin.display(description="Platform", ordering="post__account__platform")
    def platform(self, entry: ScheduleEntry) -> str:
        return entry.post.account.get_platform_display()

    @admin.display(description="Owner", ordering="post__owner__username")
    def owner(self, entry: ScheduleEntry) -> str:
        return entry.post.owner.get_username()

    def apply(
        self,
        request: HttpRequest,
        queryset: QuerySet[ScheduleEntry],
        call: ServiceCall,
        *,
        done_label: str,
        skip_reason: str,
    ) -> None:
        done = skipped = 0
        for entry in queryset.order_by("pk"):
            if call(entry):
                done += 1
            else:
                skipped += 1
        text = f"{done} date(s) {done_label}."
        if skipped:
            text = f"{done} date(s) {done_label}; {skipped} skipped ({skip_reason})."
        self.message_user(request, text, messages.WARNING if skipped else messages.SUCCESS)

    retry_now = _entry_action(
        "Retry selected failed dates now",
        lambda entry: _refused_is_skipped(lambda: services.retry_entry(entry=entry)),
        done="queued again",
        rule="retry",
        skip_reason="not failed, or changed meanwhile; an unconfirmed date is sent again only "
        "after someone looked at the account",
    )
    send_again_looked = _entry_action(
        "Send selected unconfirmed dates again: I looked at the accounts, the posts are not there",
        lambda entry: _refused_is_skipped(lambda: services.retry_entry(entry=entry, looked=True)),
        done="queued again",
        rule="retry",
    )
    cancel = _entry_action(
        "Cancel selected waiting dates",
        lambda entry: services.cancel_entry(entry=entry),
        done="cancelled",
        rule="cancel",
    )
    reconcile = _entry_action(
        "Ask the platform about selected unconfirmed dates",
        lambda entry: pipeline.reconcile_now(entry=entry),
        done="sent for reconciliation",
        rule="resolve",
    )

    # -- the operator dashboard -----------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        # Before the model's own URLs, whose "<path:object_id>/" would otherwise match "dashboard/".
        dashboard_url = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="publishing_scheduleentry_dashboard",
        )
        return [dashboard_url, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        figures = dashboard.build_dashboard(now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": "Operator dashboard",
            "opts": self.opts,
            "figures": figures,
            "status_rows": [
                (status, label, figures.counts_by_status[status])
                for status, label in ScheduleEntry.Status.choices
            ],
        }
        return TemplateResponse(request, "admin/sosocial_dashboard.html", context)


@admin.register(PublishAttempt)
class PublishAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PublishAttempt]):
    list_display = [
        "id",
        "entry",
        "platform",
        "dispatch_version",
        "number",
        "outcome",
        "http_status",
        "error_code",
        "started_at",
        "finished_at",
    ]
    list_filter = ["outcome", "entry__post__account__platform", "started_at", "error_code"]
    list_select_related = ["entry__post__account"]
    search_fields = ["=entry__id", "error_code", "message"]
    date_hierarchy = "started_at"
    fields = readonly_fields = ("entry", *PublishAttempt.SHOWN)

    @admin.display(description="Platform", ordering="entry__post__account__platform")
    def platform(self, attempt: PublishAttempt) -> str:
        return attempt.entry.post.account.get_platform_display()


class ProfileForm(forms.ModelForm[Profile]):
    time_zone = forms.ChoiceField(choices=[(name, name) for name in sorted(available_timezones())])

    class Meta:
        model = Profile
        fields = ["user", "time_zone"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    form = ProfileForm
    list_display = ["user", "time_zone"]
    list_select_related = ["user"]
    list_filter = ["time_zone"]
    search_fields = ["user__username", "user__email", "time_zone"]
    autocomplete_fields = ["user"]
