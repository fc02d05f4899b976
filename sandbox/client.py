"""The one client for the sandbox's control API (`/_sandbox/`), shared by tests and benchmarks.

Standard library only, like the server, so it runs anywhere the sandbox does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from sandbox.control import base_urls


class SandboxError(Exception):
    """The control API refused a request; `status` and `body` say why."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    """Accounts, faults, what was posted, the clock and the config of a sandbox at `url`."""

    def __init__(self, url: str, *, timeout: float = 5) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        target = f"{self.url}/_sandbox/{path}"
        wanted = {name: value for name, value in query.items() if value}
        if wanted:
            target += "?" + urlencode(wanted)
        data = None if body is None else json.dumps(body).encode()
        request = Request(target, data=data, method=method, headers={"Content-Type": "application/json"})  # noqa: S310 (the sandbox's own URL)
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except HTTPError as refused:
            raise SandboxError(refused.code, refused.read().decode("utf-8", "replace")) from None

    def base_urls(self) -> dict[str, str]:
        """The settings that point SoSocial's clients at this sandbox."""
        return base_urls(self.url)

    def create_account(self, platform: str, name: str, **extra: Any) -> dict[str, Any]:
        created: dict[str, Any] = self._call(
            "POST", "accounts", {"platform": platform, "name": name, **extra}
        )
        return created

    def accounts(self, platform: str = "") -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "accounts", platform=platform)["accounts"]
        return found

    def fault(self, platform: str, kind: str, endpoint: str = "create_post", **params: Any) -> dict[str, Any]:
        """Arm a fault (`count`, `method`, `match_text` and the kind's parameters in `params`)."""
        spec = {"platform": platform, "endpoint": endpoint, "kind": kind, **params}
        armed: dict[str, Any] = self._call("POST", "faults", spec)
        return armed

    def faults(self) -> list[dict[str, Any]]:
        """The faults still armed (spent ones disappear)."""
        armed: list[dict[str, Any]] = self._call("GET", "faults")["faults"]
        return armed

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def posts(self, platform: str = "", **filters: str) -> list[dict[str, Any]]:
        """Posts as the platform holds them; `filters`: `account_id`, `status`."""
        posts: list[dict[str, Any]] = self._call("GET", "posts", platform=platform, **filters)["posts"]
        return posts

    def requests_made(self, platform: str = "") -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = self._call("GET", "requests", platform=platform)["requests"]
        return made

    def clock(self) -> dict[str, Any]:
        now: dict[str, Any] = self._call("GET", "clock")
        return now

    def advance(self, seconds: float) -> dict[str, Any]:
        now: dict[str, Any] = self._call("POST", "clock", {"advance_seconds": seconds})
        return now

    def config(self) -> dict[str, Any]:
        current: dict[str, Any] = self._call("GET", "config")
        return current

    def configure(self, **values: Any) -> dict[str, Any]:
        current: dict[str, Any] = self._call("POST", "config", values)
        return current

    def reset(self) -> None:
        self._call("POST", "reset")
