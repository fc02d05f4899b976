"""What the platform client tests share: HTTP mocked with `responses`, time that never waits, a
recorder of checkpoints, and the Meta clients' settings and error shape."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
import time_machine
from pytest_django import Settings

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
GRAPH = "http://sandbox.test/facebook/graph"
GRAPH_VIDEO = "http://sandbox.test/facebook/graph-video"
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


@pytest.fixture
def graph_settings(settings: Settings) -> None:
    app = {"api_version": GRAPH_VERSION, "app_id": "app-1", "app_secret": "app-secret"}
    configure(
        settings,
        "facebook",
        graph_url=GRAPH,
        graph_video_url=GRAPH_VIDEO,
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
