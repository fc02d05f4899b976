from __future__ import annotations

from django.contrib import admin

from platforms.models import SocialAccount


@admin.register(SocialAccount)
class SocialAccountAdmin(admin.ModelAdmin[SocialAccount]):
    list_display = ["display_name", "platform", "owner", "status", "token_expires_at"]
    list_filter = ["platform", "status"]
    search_fields = ["display_name", "platform_account_id", "owner__username"]
    # Tokens are never shown or edited here.
    exclude = ["access_token", "refresh_token"]
    readonly_fields = ["status", "status_reason", "created_at", "updated_at"]
