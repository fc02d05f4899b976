"""`get_client` keeps one client per thread while it is busy, so posts share its connection."""

from __future__ import annotations

import threading

import pytest
from pytest_django import Settings

from platforms import registry
from platforms.registry import get_client


@pytest.fixture
def x_is_configured(settings: Settings) -> None:
    settings.SOSOCIAL_PLATFORM_CLIENTS = {"x": "platforms.x.XClient"}


@pytest.mark.usefixtures("x_is_configured")
def test_consecutive_posts_share_one_client_and_its_http_session() -> None:
    first = get_client("x")
    second = get_client("x")

    assert second is first


@pytest.mark.usefixtures("x_is_configured")
def test_a_client_left_idle_is_replaced_with_a_fresh_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    first = get_client("x")
    monkeypatch.setattr(registry, "IDLE_SECONDS", 0.0)

    second = get_client("x")

    assert second is not first


@pytest.mark.usefixtures("x_is_configured")
def test_changing_the_platform_settings_gives_a_new_client(settings: Settings) -> None:
    first = get_client("x")
    settings.SOSOCIAL_PLATFORMS = {**settings.SOSOCIAL_PLATFORMS, "x": {**settings.SOSOCIAL_PLATFORMS["x"]}}

    assert get_client("x") is not first


@pytest.mark.usefixtures("x_is_configured")
def test_each_thread_has_its_own_client() -> None:
    mine = get_client("x")
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(get_client("x")))
    thread.start()
    thread.join()

    [their_client] = theirs
    assert their_client is not mine
