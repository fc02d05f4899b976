"""Point SoSocial at an in-process sandbox: environment for subprocesses, settings for this one."""

from __future__ import annotations

import copy
from typing import Any

import requests
from django.conf import settings

from platforms.models import SocialAccount
from platforms.sandbox import SandboxServer
from platforms.sandbox.control import base_urls
from sosocial.devservices import SANDBOX_CREDENTIALS

# Environment variable -> (platform, key) in settings.SOSOCIAL_PLATFORMS.
SETTING_OF = {
    "FACEBOOK_GRAPH_URL": ("facebook", "graph_url"),
    "FACEBOOK_GRAPH_VIDEO_URL": ("facebook", "graph_video_url"),
    "FACEBOOK_RUPLOAD_URL": ("facebook", "rupload_url"),
    "FACEBOOK_AUTHORIZE_URL": ("facebook", "authorize_url"),
    "INSTAGRAM_GRAPH_URL": ("instagram", "graph_url"),
    "INSTAGRAM_RUPLOAD_URL": ("instagram", "rupload_url"),
    "X_API_URL": ("x", "api_url"),
    "X_AUTHORIZE_URL": ("x", "authorize_url"),
    "X_WEB_URL": ("x", "web_url"),
    "TIKTOK_API_URL": ("tiktok", "api_url"),
    "TIKTOK_AUTHORIZE_URL": ("tiktok", "authorize_url"),
    "TIKTOK_WEB_URL": ("tiktok", "web_url"),
    "FACEBOOK_APP_ID": ("facebook", "app_id"),
    "FACEBOOK_APP_SECRET": ("facebook", "app_secret"),
    "X_CLIENT_ID": ("x", "client_id"),
    "X_CLIENT_SECRET": ("x", "client_secret"),
    "TIKTOK_CLIENT_KEY": ("tiktok", "client_key"),
    "TIKTOK_CLIENT_SECRET": ("tiktok", "client_secret"),
}


def sandbox_env(sandbox: SandboxServer) -> dict[str, str]:
    return {**base_urls(sandbox.url), **SANDBOX_CREDENTIALS}


def sandbox_platform_settings(sandbox: SandboxServer) -> dict[str, dict[str, str]]:
    platforms: dict[str, dict[str, str]] = copy.deepcopy(settings.SOSOCIAL_PLATFORMS)
    for name, value in sandbox_env(sandbox).items():
        platform, key = SETTING_OF[name]
        platforms[platform][key] = value
        if platform == "facebook" and key in {"app_id", "app_secret", "authorize_url"}:
            platforms["instagram"][key] = value
    return platforms


class SandboxControl:
    def __init__(self, sandbox: SandboxServer) -> None:
        self.url = f"{sandbox.url}/_sandbox"

    def create_account(self, platform: str, name: str) -> dict[str, Any]:
        response = requests.post(f"{self.url}/accounts", json={"platform": platform, "name": name}, timeout=5)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def inject(self, platform: str, kind: str, endpoint: str = "create_post", count: int = 1) -> None:
        fault = {"platform": platform, "endpoint": endpoint, "kind": kind, "count": count}
        requests.post(f"{self.url}/faults", json=fault, timeout=5).raise_for_status()

    def posts(self, platform: str, **filters: str) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/posts", params={"platform": platform, **filters}, timeout=5)
        posts: list[dict[str, Any]] = response.json()["posts"]
        return posts

    def requests_made(self, platform: str) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/requests", params={"platform": platform}, timeout=5)
        made: list[dict[str, Any]] = response.json()["requests"]
        return made


def connect_sandbox_account(
    control: SandboxControl, *, owner: Any, platform: str, name: str
) -> SocialAccount:
    created = control.create_account(platform, name)
    return SocialAccount.objects.create(
        owner=owner,
        platform=platform,
        platform_account_id=created["account_id"],
        display_name=created["display_name"],
        access_token=created["access_token"],
        refresh_token=created.get("refresh_token") or "",
    )
