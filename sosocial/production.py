"""What `SOSOCIAL_ENV=production` refuses to start without.

Called from the settings module, so every process (web, worker, beat, `manage.py migrate`) stops
at import with one message naming everything that is missing, instead of running half configured:
SQLite by accident, media links pointing at 127.0.0.1, tokens stored under a derived key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
# Django's own deploy check asks for at least this many characters (security.W009).
MIN_SECRET_KEY_LENGTH = 50


def problems(
    environ: Mapping[str, str],
    *,
    secret_key: str,
    development_secret_key: str,
    allowed_hosts: Sequence[str],
    encryption_keys: Sequence[str],
) -> list[str]:
    """Each missing or unsafe production setting, as a sentence naming its variable."""
    found: list[str] = []
    if not secret_key or secret_key == development_secret_key:
        found.append("SECRET_KEY is not set (production refuses the development secret).")
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH or secret_key.startswith("django-insecure"):
        found.append(f"SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} characters.")
    if not environ.get("DATABASE_URL", "").strip():
        found.append("DATABASE_URL is not set (production never falls back to SQLite).")
    public = environ.get("SOSOCIAL_PUBLIC_BASE_URL", "").strip()
    parts = urlsplit(public)
    if parts.scheme != "https" or not parts.hostname or parts.hostname in DEVELOPMENT_HOSTS:
        found.append(
            "SOSOCIAL_PUBLIC_BASE_URL must be the https:// address platforms fetch media from "
            f"(got {public or 'nothing'})."
        )
    media = environ.get("SOSOCIAL_MEDIA_URL", "").strip()
    if media and urlsplit(media).scheme != "https":
        found.append(f"SOSOCIAL_MEDIA_URL must be an https:// address (got {media}).")
    hosts = [host for host in allowed_hosts if host not in DEVELOPMENT_HOSTS]
    if not hosts or "*" in hosts:
        found.append("ALLOWED_HOSTS must name the host names SoSocial is served at (not '*').")
    if not encryption_keys:
        found.append("FIELD_ENCRYPTION_KEYS is not set (Fernet keys that encrypt platform tokens).")
    for position, key in enumerate(encryption_keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            found.append(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64 bytes)."
            )
    return found


def require(
    environ: Mapping[str, str],
    *,
    secret_key: str,
    development_secret_key: str,
    allowed_hosts: Sequence[str],
    encryption_keys: Sequence[str],
) -> None:
    found = problems(
        environ,
        secret_key=secret_key,
        development_secret_key=development_secret_key,
        allowed_hosts=allowed_hosts,
        encryption_keys=encryption_keys,
    )
    if found:
        raise ImproperlyConfigured(
            "SOSOCIAL_ENV=production refuses to start:\n- " + "\n- ".join(found) + "\nSee README, Deploying."
        )
