from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.core.files.uploadedfile import UploadedFile

from platforms.models import SocialAccount

TIME_ZONES = sorted(available_timezones())
TIKTOK_PRIVACY = [
    ("", "— choose (TikTok only) —"),
    ("PUBLIC_TO_EVERYONE", "Everyone"),
    ("MUTUAL_FOLLOW_FRIENDS", "Friends"),
    ("FOLLOWER_OF_CREATOR", "Followers"),
    ("SELF_ONLY", "Only me"),
]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ComposeForm(forms.Form):
    account = forms.ModelChoiceField(queryset=SocialAccount.objects.none())
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    attachments = MultipleFileField(widget=MultipleFileInput(), required=False)
    dates = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-12-01 09:30"}),
        help_text="One date and time per line, in the time zone below.",
    )
    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in TIME_ZONES], initial="UTC")
    privacy_level = forms.ChoiceField(choices=TIKTOK_PRIVACY, required=False, label="TikTok privacy")

    def __init__(self, *args: Any, owner_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account_field = self.fields["account"]
        assert isinstance(account_field, forms.ModelChoiceField)
        account_field.queryset = SocialAccount.objects.filter(owner_id=owner_id)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        zone = ZoneInfo(cleaned.get("time_zone") or "UTC")
        moments: list[datetime] = []
        for line in (cleaned.get("dates") or "").splitlines():
            if not line.strip():
                continue
            try:
                moments.append(datetime.fromisoformat(line.strip()).replace(tzinfo=zone))
            except ValueError:
                self.add_error("dates", f"“{line.strip()}” is not a date and time like 2026-12-01 09:30.")
        cleaned["when"] = moments
        return cleaned

    def options(self) -> dict[str, str]:
        privacy = self.cleaned_data.get("privacy_level")
        return {"privacy_level": privacy} if privacy else {}
