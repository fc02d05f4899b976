"""What the platform client tests share: HTTP mocked with `responses`, time that never waits, a
recorder of checkpoints, and the Meta clients' settings and error shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
import time_machine
from pytest_django import Settings

from platforms.base import (
    AccountCredentials,
    MediaItem,
    PublishRequest,
    PublishResult,
    ReconcileStatus,
    Reconciliation,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GRAPH = "http://sandbox.test/facebook/graph"
GRAPH_VERSION = "v25.0"


class FakeTime:
    """Injectable sleep and clock: sleeping advances the clock instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class Checkpoints:
    """Records each checkpoint with how many HTTP calls had been made when it was saved."""

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.mocked = mocked
        self.saved: list[tuple[dict[str, str], int]] = []

    def __call__(self, progress: Mapping[str, str]) -> None:
        self.saved.append((dict(progress), len(self.mocked.calls)))

    def merged(self) -> dict[str, str]:
        state: dict[str, str] = {}
        for progress, _ in self.saved:
            state.update(progress)
        return state


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def checkpoints(mocked: responses.RequestsMock) -> Checkpoints:
    return Checkpoints(mocked)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def configure(settings: Settings, platform: str, **config: str) -> None:
    """Point one platform's client at the test doubles, keeping the other platforms' settings."""
    settings.SOSOCIAL_PLATFORMS = {**settings.SOSOCIAL_PLATFORMS, platform: config}


def oauth_app(settings: Settings, platform: str, *, api: str, web: str, **credentials: str) -> None:
    """Settings for an OAuth 2.0 platform (X, TikTok) whose API and web pages the tests mock."""
    configure(
        settings,
        platform,
        api_url=api,
        authorize_url=web,
        web_url=web,
        client_secret="secret-1",
        **credentials,
    )


def token_refused(
    mocked: responses.RequestsMock, url: str, status: int, error: str, description: str, **extra: str
) -> None:
    """An OAuth 2.0 token endpoint refusing the grant, in the standard error shape."""
    mocked.post(url, status=status, json={"error": error, "error_description": description, **extra})


@pytest.fixture
def graph_settings(settings: Settings) -> None:
    app = {"api_version": GRAPH_VERSION, "app_id": "app-1", "app_secret": "app-secret"}
    configure(
        settings,
        "facebook",
        graph_url=GRAPH,
        authorize_url="http://sandbox.test/facebook/www",
        **app,
    )
    # As in settings.py: Instagram has no authorize_url of its own (Facebook Login).
    configure(settings, "instagram", graph_url=GRAPH, **app)


def graph_error(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    """A Graph API error envelope."""
    error: dict[str, Any] = {"message": f"(#{code}) Something", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


def sent(call: Any) -> dict[str, str]:
    """The form fields of a recorded Graph call (Graph reads are POSTs with `method=GET`)."""
    return {key: values[0] for key, values in parse_qs(str(call.request.body or "")).items()}


def add_login(mocked: responses.RequestsMock, pages: list[dict[str, Any]]) -> None:
    """A Facebook Login: the code for a short-lived user token, that for a long-lived one, then
    the Pages the user granted."""
    token_url = f"{GRAPH}/{GRAPH_VERSION}/oauth/access_token"
    mocked.post(token_url, json={"access_token": "short-user", "token_type": "bearer"})
    mocked.post(token_url, json={"access_token": "long-user", "token_type": "bearer", "expires_in": 5183944})
    mocked.post(f"{GRAPH}/{GRAPH_VERSION}/me/accounts", json={"data": pages})


def publish_request(
    account: AccountCredentials,
    text: str,
    *,
    scheduled_at: datetime,
    media: tuple[MediaItem, ...] = (),
    options: Mapping[str, str] | None = None,
    progress: Mapping[str, str] | None = None,
) -> PublishRequest:
    return PublishRequest(
        reference="entry-7",
        account=account,
        text=text,
        scheduled_at=scheduled_at,
        media=media,
        options=options or {},
        progress=progress or {},
    )


def media_file(tmp_path: Path, name: str, size: int, content_type: str) -> MediaItem:
    """A file of `size` bytes stored where a client reads uploads from."""
    path = tmp_path / name
    path.write_bytes(bytes(index % 251 for index in range(size)))
    return MediaItem(url=f"https://media.test/{name}", content_type=content_type, path=str(path))


def published(answer: Reconciliation) -> PublishResult:
    """The post reconciliation found, once it says the post is published."""
    assert answer.status == ReconcileStatus.PUBLISHED
    assert answer.result is not None
    return answer.result
