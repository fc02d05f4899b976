"""Point SoSocial at an in-process sandbox: environment for subprocesses, settings for this one."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

import requests
from django.conf import settings

from platforms.models import SocialAccount
from platforms.sandbox import SandboxServer
from platforms.sandbox.control import base_urls
from platforms.sandbox.faults import Fault
from platforms.sandbox.routing import Request, Response
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

    def inject(
        self, platform: str, kind: str, endpoint: str = "create_post", count: int = 1, **params: Any
    ) -> None:
        fault = {"platform": platform, "endpoint": endpoint, "kind": kind, "count": count, **params}
        requests.post(f"{self.url}/faults", json=fault, timeout=5).raise_for_status()

    def faults(self) -> list[dict[str, Any]]:
        """The faults still armed (spent ones disappear)."""
        armed: list[dict[str, Any]] = requests.get(f"{self.url}/faults", timeout=5).json()["faults"]
        return armed

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


def aim_faults_by_text(server: SandboxServer) -> None:
    """Let a fault be aimed at one post, for tests that need each failure on a chosen entry.

    A stand-in, installed on this in-process server only, for what the sandbox cannot do yet: a
    fault armed with a `text` parameter is taken only by a request whose body has that `text` (the
    sandbox matches faults on platform, endpoint and method alone, so otherwise they go to whichever
    request arrives first), and a `drop_before_commit` armed with `seconds` holds the request that
    long before closing the connection with nothing done (a timeout before the platform committed).
    Faults without those parameters behave as the sandbox's own.
    """
    state, sandbox = server.state, server.sandbox
    handling = threading.local()
    handle = sandbox.handle

    def take_fault(*, platform: str, names: frozenset[str], method: str, path: str) -> Fault | None:
        # Called by Sandbox.handle with state.lock held, as the sandbox's own take_fault is.
        request: Request | None = getattr(handling, "request", None)
        text = request.params.get("text") if request is not None else None
        for fault in list(state.faults):
            if fault.params.get("text", text) != text:
                continue
            if fault.matches(platform=platform, names=names, method=method, path=path):
                fault.count -= 1
                fault.hits += 1
                if fault.count < 1:
                    state.faults.remove(fault)
                handling.fault = fault
                return fault
        return None

    def aimed_handle(request: Request) -> Response | None:
        handling.request, handling.fault = request, None
        response = handle(request)
        fault: Fault | None = handling.fault
        if response is None and fault is not None and fault.kind == "drop_before_commit":
            time.sleep(fault.number("seconds", 0))  # outside the lock: other requests go on
        return response

    state.take_fault = take_fault  # type: ignore[method-assign]
    sandbox.handle = aimed_handle  # type: ignore[method-assign]
