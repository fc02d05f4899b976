"""What the sandbox tests share: fast settings and a small client for the control API."""

from __future__ import annotations

from typing import Any

import requests

# Short delays so flows that wait finish quickly; tests that need time to pass move the clock.
FAST = {
    "facebook_video_seconds": 0.2,
    "instagram_image_seconds": 0.2,
    "instagram_video_seconds": 0.4,
    "x_processing_seconds": 0.3,
    "tiktok_processing_seconds": 0.2,
    "tiktok_moderation_seconds": 0.3,
}


class Control:
    """The sandbox's `/_sandbox/` API, as the tests use it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def account(self, platform: str, name: str, **extra: Any) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/_sandbox/accounts", json={"platform": platform, "name": name, **extra}, timeout=5
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def fault(self, platform: str, endpoint: str, kind: str, **params: Any) -> dict[str, Any]:
        spec = {"platform": platform, "endpoint": endpoint, "kind": kind, **params}
        response = requests.post(f"{self.url}/_sandbox/faults", json=spec, timeout=5)
        assert response.status_code == 201, response.text
        fault: dict[str, Any] = response.json()
        return fault

    def posts(self, platform: str, account_id: str = "") -> list[dict[str, Any]]:
        params = {"platform": platform, "account_id": account_id}
        response = requests.get(f"{self.url}/_sandbox/posts", params=params, timeout=5)
        assert response.status_code == 200
        posts: list[dict[str, Any]] = response.json()["posts"]
        return posts

    def advance(self, seconds: float) -> None:
        response = requests.post(f"{self.url}/_sandbox/clock", json={"advance_seconds": seconds}, timeout=5)
        assert response.status_code == 200

    def configure(self, **values: Any) -> dict[str, Any]:
        response = requests.post(f"{self.url}/_sandbox/config", json=values, timeout=5)
        assert response.status_code == 200, response.text
        config: dict[str, Any] = response.json()
        return config
