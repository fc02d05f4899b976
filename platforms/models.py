from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from platforms.base import AccountCredentials, Platform, TokenGrant
from platforms.crypto import EncryptedTextField

# Refresh this long before expiry, so a publish never starts with a token about to lapse.
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)


class SocialAccount(models.Model):
    """A connected account on one platform (a Facebook Page, an Instagram professional account...)."""

    class Kind(models.TextChoices):
        FACEBOOK = Platform.FACEBOOK.value, "Facebook Page"
        INSTAGRAM = Platform.INSTAGRAM.value, "Instagram"
        X = Platform.X.value, "X"
        TIKTOK = Platform.TIKTOK.value, "TikTok"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="social_accounts"
    )
    platform = models.CharField(max_length=16, choices=Kind.choices)
    platform_account_id = models.CharField(max_length=128)
    display_name = models.CharField(max_length=200)
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    status_reason = models.TextField(blank=True, default="")
    # When it last went from connected to needs-reconnect: names the incident people are told about.
    needs_reconnect_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "platform", "platform_account_id"], name="uniq_account_per_owner"
            )
        ]
        ordering = ["platform", "display_name"]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.display_name}"

    def credentials(self) -> AccountCredentials:
        return AccountCredentials(
            platform=self.platform,
            account_id=self.platform_account_id,
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            token_expires_at=self.token_expires_at,
        )

    def token_expires_soon(self, *, now: datetime, margin: timedelta = TOKEN_REFRESH_MARGIN) -> bool:
        """True when a refreshable access token expires within `margin`."""
        return (
            bool(self.refresh_token)
            and self.token_expires_at is not None
            and self.token_expires_at <= now + margin
        )

    def mark_needs_reconnect(self, reason: str) -> bool:
        """Flag the account; True only for the call that flagged it (later ones update the reason),
        so of many dates failing on one revoked token exactly one reports the incident."""
        now = timezone.now()
        flagged = (
            SocialAccount.objects.filter(pk=self.pk)
            .exclude(status=self.Status.NEEDS_RECONNECT)
            .update(
                status=self.Status.NEEDS_RECONNECT,
                status_reason=reason,
                needs_reconnect_since=now,
                updated_at=now,
            )
            == 1
        )
        if not flagged:
            SocialAccount.objects.filter(pk=self.pk).update(status_reason=reason, updated_at=now)
        self.refresh_from_db(fields=["status", "status_reason", "needs_reconnect_since"])
        return flagged

    def store_tokens(self, grant: TokenGrant) -> None:
        """Save refreshed tokens in one UPDATE: a rotated refresh token must never be half-saved."""
        SocialAccount.objects.filter(pk=self.pk).update(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            token_expires_at=grant.expires_at,
            status=self.Status.CONNECTED,
            status_reason="",
            needs_reconnect_since=None,
            updated_at=timezone.now(),
        )
        self.access_token, self.refresh_token = grant.access_token, grant.refresh_token
        self.token_expires_at = grant.expires_at
        self.status, self.status_reason = self.Status.CONNECTED, ""
        self.needs_reconnect_since = None
