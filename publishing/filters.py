"""The filters of the two lists, posts and dates: one FilterSet each, shared by the Posts page and
the API. The API's sets are strict (an empty parameter is refused, dates need their offset); the
page's set takes whole days in the user's time zone and the owner's accounts as choices.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from platforms.models import SocialAccount
from publishing import bounds
from publishing.models import Post, ScheduleEntry
from publishing.serializers import BLANK, MAX_ID, AwareDateTimeField

Status = ScheduleEntry.Status
NAIVE = AwareDateTimeField.default_error_messages["naive"]
# The filters that look at a post's dates: a post is kept when one of its dates matches them all.
DATE_FILTERS = ("status", "date_from", "date_to")


class StrictForm(forms.Form):
    """HTML forms send `?status=` for "any"; an API client sending it has slipped, so say so."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.fields:
            if self.data.get(name) == "":
                self.add_error(name, BLANK)
        return cleaned


class AwareDateTimeFormField(forms.DateTimeField):
    """ISO 8601 with an offset or `Z`; a bare local time is refused instead of guessed."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is not None and isinstance(value, str) and timezone.is_naive(_parsed(value)):
            raise forms.ValidationError(NAIVE, code="naive")
        problem = None if moment is None else bounds.moment_problem(moment, now=timezone.now())
        if problem:
            raise forms.ValidationError(problem, code="out_of_range")
        # In UTC: PostgreSQL refuses offsets past ±15:59, which ISO 8601 allows (up to ±23:59).
        return None if moment is None else moment.astimezone(UTC)


class DayFormField(forms.DateField):
    """A whole day in range: a far one overflowed the day after it (`date_to` takes its whole day)."""

    def to_python(self, value: Any) -> date | None:
        day = super().to_python(value)
        problem = None if day is None else bounds.day_problem(day, today=timezone.localdate())
        if problem:
            raise forms.ValidationError(problem, code="out_of_range")
        return day


def _parsed(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return timezone.now()  # not ISO: DateTimeField's own formats accepted it, as aware


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):  # type: ignore[misc]  # no stubs
    field_class = AwareDateTimeFormField


class DayFilter(django_filters.DateFilter):  # type: ignore[misc]  # no stubs
    field_class = DayFormField


def _id_filter(field_name: str) -> django_filters.NumberFilter:
    found = django_filters.NumberFilter(field_name=field_name, min_value=1, max_value=MAX_ID)
    found.field_class = forms.IntegerField
    return extend_schema_field(serializers.IntegerField(min_value=1, max_value=MAX_ID))(found)


class EntryFilter(django_filters.FilterSet):  # type: ignore[misc]  # no stubs
    """The API's dates list: `status`, `platform`, `account`, and `date_from` ≤ date < `date_to`."""

    status = django_filters.ChoiceFilter(choices=Status.choices, help_text="Dates in this status.")
    platform = django_filters.ChoiceFilter(
        field_name="post__account__platform", choices=SocialAccount.Kind.choices
    )
    account = _id_filter("post__account_id")
    date_from = AwareDateTimeFilter(
        field_name="scheduled_at",
        lookup_expr="gte",
        help_text="Dates at or after this moment (URL-encode `+` as %2B, or use Z).",
    )
    date_to = AwareDateTimeFilter(
        field_name="scheduled_at", lookup_expr="lt", help_text="Dates before this moment."
    )

    class Meta:
        model = ScheduleEntry
        fields: list[str] = []
        form = StrictForm


class PostFilter(django_filters.FilterSet):  # type: ignore[misc]  # no stubs
    """The posts list. The date filters keep a post when any one of its dates matches them all;
    the post's own `entries` stay complete."""

    status = django_filters.ChoiceFilter(
        choices=Status.choices, method="by_dates", help_text="Posts with at least one date in this status."
    )
    platform = django_filters.ChoiceFilter(field_name="account__platform", choices=SocialAccount.Kind.choices)
    account = _id_filter("account_id")
    date_from = AwareDateTimeFilter(
        method="by_dates", help_text="Dates at or after this moment (URL-encode `+` as %2B, or use Z)."
    )
    date_to = AwareDateTimeFilter(method="by_dates", help_text="Dates before this moment.")

    class Meta:
        model = Post
        fields: list[str] = []
        form = StrictForm

    def by_dates(self, posts: QuerySet[Post], name: str, value: Any) -> QuerySet[Post]:
        # Called once per date filter given; the first call applies them all to the same date.
        if name != next(field for field in DATE_FILTERS if self.form.cleaned_data.get(field)):
            return posts
        status, date_from, date_to = (self.entry_value(field) for field in DATE_FILTERS)
        dates = ScheduleEntry.objects.filter(post__in=posts.values("pk"))
        if status:
            dates = dates.filter(status=status)
        if date_from:
            dates = dates.filter(scheduled_at__gte=date_from)
        if date_to:
            dates = dates.filter(scheduled_at__lt=date_to)
        return posts.filter(pk__in=dates.values("post_id"))

    def entry_value(self, field: str) -> Any:
        return self.form.cleaned_data.get(field)


class PostPageFilter(PostFilter):
    """The Posts page's filters: blanks mean "any", dates are whole days in the user's time zone,
    and the accounts to choose from are the owner's."""

    status = django_filters.ChoiceFilter(choices=Status.choices, method="by_dates", empty_label="Any status")
    platform = django_filters.ChoiceFilter(
        field_name="account__platform", choices=SocialAccount.Kind.choices, empty_label="Any platform"
    )
    account = django_filters.ModelChoiceFilter(
        queryset=SocialAccount.objects.none(), empty_label="Any account"
    )
    date_from = DayFilter(method="by_dates", label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = DayFilter(method="by_dates", label="To", widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Post
        fields: list[str] = []
        form = forms.Form

    def __init__(self, *args: Any, owner_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.form.fields["account"]
        assert isinstance(account, forms.ModelChoiceField)
        account.queryset = SocialAccount.objects.filter(owner_id=owner_id)

    def entry_value(self, field: str) -> Any:
        # `date_to` includes its whole day.
        value = self.form.cleaned_data.get(field)
        if field == "date_from" and value:
            return _start_of(value)
        if field == "date_to" and value:
            return _start_of(value + timedelta(days=1))
        return value


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
