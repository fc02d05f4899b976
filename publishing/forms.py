from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from platforms import tiktok
from platforms.models import SocialAccount
from publishing import bounds, zones
from publishing.times import TimeProblem, parse_local
from publishing.uploads import SERVED_TYPES
from publishing.widgets import DateRowsWidget

# The values are the TikTok client's; the words are ours.
_PRIVACY_WORDS = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "FOLLOWER_OF_CREATOR": "Followers",
    "SELF_ONLY": "Only me",
}


def _privacy_choices() -> list[tuple[str, str]]:
    """The levels the TikTok client accepts, most open first, each in words."""
    order = list(_PRIVACY_WORDS)
    levels = sorted(
        tiktok.PRIVACY_LEVELS, key=lambda level: order.index(level) if level in order else len(order)
    )
    return [
        ("", "— choose (TikTok only) —"),
        *((level, _PRIVACY_WORDS.get(level, level)) for level in levels),
    ]


TIKTOK_PRIVACY = _privacy_choices()


class Form(forms.Form):
    """Labels without Django's trailing colon: the pages put each label above its field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


DATES_HELP = "Each date and time is read in the time zone below."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ComposeForm(Form):
    accounts = forms.ModelMultipleChoiceField(
        queryset=SocialAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="One post per account.",
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    attachments = MultipleFileField(
        # A hint for the file picker; the content decides (publishing/uploads.py).
        widget=MultipleFileInput(attrs={"accept": ",".join(sorted(set(SERVED_TYPES.values())))}),
        required=False,
        help_text="JPEG, PNG, WebP or GIF images, or an MP4 or MOV video.",
    )
    dates = forms.CharField(
        widget=DateRowsWidget(),
        required=False,
        help_text=f"{DATES_HELP} Leave empty to keep the post as a draft and schedule it later.",
    )
    time_zone = forms.ChoiceField(choices=zones.choices, initial="UTC")
    privacy_level = forms.ChoiceField(choices=TIKTOK_PRIVACY, required=False, label="TikTok privacy")

    def __init__(self, *args: Any, owner_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts_field = self.fields["accounts"]
        assert isinstance(accounts_field, forms.ModelMultipleChoiceField)
        accounts_field.queryset = SocialAccount.objects.filter(owner_id=owner_id)
        _offer_zones(self, kwargs.get("initial", {}).get("time_zone"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["when"] = _parse_dates(self, cleaned)
        return cleaned

    def options(self) -> dict[str, str]:
        privacy = self.cleaned_data.get("privacy_level")
        return {"privacy_level": privacy} if privacy else {}


def _parse_dates(form: forms.Form, cleaned: dict[str, Any]) -> list[datetime]:
    """The `dates` field's lines as aware datetimes in the chosen `time_zone` (or each line's own
    offset), checked against the bounds with every message in that zone."""
    zone = ZoneInfo(cleaned.get("time_zone") or "UTC")
    lines = [line for line in (cleaned.get("dates") or "").splitlines() if line.strip()]
    if len(lines) > bounds.max_dates_per_post():
        form.add_error(
            "dates", f"At most {bounds.max_dates_per_post()} dates per post; this has {len(lines)}."
        )
        return []
    moments: list[datetime] = []
    for line in lines:
        try:
            moments.append(parse_local(line, zone))
        except TimeProblem as problem:
            form.add_error("dates", str(problem))
    for refusal in bounds.date_problems(moments, now=timezone.now(), zone=zone):
        form.add_error("dates", refusal)
    return moments


class EditPostForm(Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)


class AddDatesForm(Form):
    dates = forms.CharField(widget=DateRowsWidget(), help_text=DATES_HELP)
    time_zone = forms.ChoiceField(choices=zones.choices, initial="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_zones(self, kwargs.get("initial", {}).get("time_zone"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["when"] = _parse_dates(self, cleaned)
        return cleaned


class RescheduleForm(Form):
    """A new date for one entry, read in the user's time zone (the one the middleware activated)."""

    when = forms.CharField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "Pick a new date and time."},
    )

    def clean_when(self) -> datetime:
        zone = timezone.get_current_timezone()
        try:
            moment = parse_local(self.cleaned_data["when"], zone)
        except TimeProblem as problem:
            raise forms.ValidationError(str(problem)) from None
        problems = bounds.date_problems([moment], now=timezone.now(), zone=zone)
        if problems:
            raise forms.ValidationError(problems)
        return moment


class ConfirmPublishedForm(Form):
    platform_url = forms.URLField(required=False, label="Link to the live post", assume_scheme="https")


class TimeZoneForm(Form):
    time_zone = forms.ChoiceField(choices=zones.choices)
    lateness_tolerance_minutes = forms.IntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        required=False,
        label="Lateness tolerance (minutes)",
        help_text="After you reconnect an account, its paused dates that are at most this late go out "
        "at once; later ones wait for you to confirm.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _offer_zones(self, kwargs.get("initial", {}).get("time_zone"))


def _offer_zones(form: forms.Form, current: str | None) -> None:
    """The curated zones, plus the person's own when it is a valid zone outside them."""
    field = form.fields["time_zone"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = zones.choices(current=current)
