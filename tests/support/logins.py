"""Connecting an account the way a person does, through the sandbox's login."""

from __future__ import annotations

from urllib.parse import urlparse

import requests
from django.test import Client


def log_in_at_platform(browser: Client, platform: str, *, start: str = "") -> str:
    """Start connecting, let the platform approve, and return the callback SoSocial gets back."""
    started = browser.get(start or f"/social-accounts/connect/{platform}/")
    assert started.status_code == 302
    approved = requests.get(started["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code in {302, 303}
    callback = urlparse(approved.headers["Location"])
    assert callback.path == f"/social-accounts/connect/{platform}/callback/"
    return f"{callback.path}?{callback.query}"


def connect(browser: Client, platform: str) -> None:
    """Log in and connect every account the login offers (choosing them all where asked to)."""
    response = browser.get(log_in_at_platform(browser, platform))
    if response.status_code == 302 and response["Location"].endswith("/choose/"):
        choices = browser.get(response["Location"]).context["choices"]
        response = browser.post(response["Location"], {"account_id": [c["account_id"] for c in choices]})
    assert response.status_code == 302
