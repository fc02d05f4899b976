from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from platforms.models import SocialAccount

# Every column except the tokens, which the admin never shows.
ACCOUNT_FIELDS = (
    "owner",
    "platform",
    "platform_account_id",
    "display_name",
    "status",
    "status_reason",
    "token_expires_at",
    "has_access_token",
    "has_refresh_token",
    "created_at",
    "updated_at",
)


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin[SocialAccount]):
    """Accounts are connected through OAuth, so the admin only reads them and fixes their name.

    Tokens are never shown or edited: not in the list, the form or the read-only fields; only
    whether one is stored.
    """

    list_display = [
        "display_name",
        "platform",
        "owner",
        "status",
        "token_expires_at",
        "has_access_token",
        "has_refresh_token",
    ]
    list_filter = ["platform", "status", "token_expires_at"]
    list_select_related = ["owner"]
    search_fields = ["display_name", "platform_account_id", "owner__username", "owner__email"]
    fields = ACCOUNT_FIELDS
    readonly_fields = tuple(field for field in ACCOUNT_FIELDS if field != "display_name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Access token stored", boolean=True)
    def has_access_token(self, account: SocialAccount) -> bool:
        return bool(account.access_token)

    @admin.display(description="Refresh token stored", boolean=True)
    def has_refresh_token(self, account: SocialAccount) -> bool:
        return bool(account.refresh_token)

    def save_model(
        self, request: HttpRequest, obj: SocialAccount, form: ModelForm[Any], change: bool
    ) -> None:
        # Only the edited columns: a full save would write back the tokens as this page loaded them,
        # undoing a refresh (and a rotated refresh token) that happened meanwhile.
        obj.save(update_fields=[*form.changed_data, "updated_at"])
