"""The sandbox fixtures every test shares (registered in tests/conftest.py): the emulator in this
process, its control client, and SoSocial pointed at it (settings here, environment for workers).

A directory or module that wants other sandbox settings overrides `sandbox_config`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from pytest_django import Settings

from platforms.models import SocialAccount
from sandbox import SandboxServer
from sandbox.client import SandboxClient
from sosocial.devservices import SANDBOX_CREDENTIALS

# Environment variable -> (platform, key) in settings.SOSOCIAL_PLATFORMS.
SETTING_OF = {
    "FACEBOOK_GRAPH_URL": ("facebook", "graph_url"),
    "FACEBOOK_AUTHORIZE_URL": ("facebook", "authorize_url"),
    "INSTAGRAM_GRAPH_URL": ("instagram", "graph_url"),
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
    """The environment that points a worker subprocess's clients at `sandbox`."""
    return {**sandbox.base_urls(), **SANDBOX_CREDENTIALS}


def sandbox_platform_settings(sandbox: SandboxServer) -> dict[str, dict[str, str]]:
    """`settings.SOSOCIAL_PLATFORMS` pointing this process's clients at `sandbox`."""
    platforms: dict[str, dict[str, str]] = copy.deepcopy(django_settings.SOSOCIAL_PLATFORMS)
    for name, value in sandbox_env(sandbox).items():
        platform, key = SETTING_OF[name]
        platforms[platform][key] = value
        if platform == "facebook" and key in {"app_id", "app_secret", "authorize_url"}:
            platforms["instagram"][key] = value
    return platforms


def connect_sandbox_account(control: SandboxClient, *, owner: Any, platform: str, name: str) -> SocialAccount:
    """An account made on the sandbox, connected to SoSocial as the login flow would store it."""
    created = control.create_account(platform, name)
    return SocialAccount.objects.create(
        owner=owner,
        platform=platform,
        platform_account_id=created["account_id"],
        display_name=created["display_name"],
        access_token=created["access_token"],
        refresh_token=created.get("refresh_token") or "",
    )


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    """The sandbox's settings (`/_sandbox/config` keys); override for other delays or limits."""
    return {}


@pytest.fixture
def sandbox(sandbox_config: dict[str, Any]) -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, config=dict(sandbox_config)).start()
    yield server
    server.stop()


@pytest.fixture
def control(sandbox: SandboxServer) -> SandboxClient:
    return SandboxClient(sandbox.url)


@pytest.fixture
def pointed_at_sandbox(settings: Settings, sandbox: SandboxServer, tmp_path: Path) -> None:
    """This process's platform clients talk to the test's sandbox; uploads go to a temporary dir."""
    settings.SOSOCIAL_PLATFORMS = sandbox_platform_settings(sandbox)
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def platform_env(sandbox: SandboxServer, pointed_at_sandbox: None) -> dict[str, str]:
    """The workers' clients (unchanged) talk to the test's sandbox, as this process's do."""
    return sandbox_env(sandbox)
