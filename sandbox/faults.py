"""Faults a test arms through `POST /_sandbox/faults`; each matching request consumes one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PLATFORMS = ("facebook", "instagram", "x", "tiktok")

# Kinds answered with an error in place of the platform's work (nothing is written).
ERROR_KINDS = frozenset({"server_error", "rate_limit", "expired_token", "revoked_token", "permanent"})
# Kinds that let the request through to its handler and change what happens around it:
# `commit_then_error` does the work and answers the platform's server error anyway (nothing in the
# platforms' documentation rules that out); `commit_late` holds the request `seconds` before doing
# the work, so a client that gave up meanwhile sees its post appear after the timeout.
PASS_KINDS = frozenset({"slow", "commit_then_drop", "commit_then_error", "commit_late", "processing_failed"})
KINDS = ERROR_KINDS | PASS_KINDS | {"drop_before_commit"}


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: int
    platform: str
    endpoint: str  # an endpoint name ("create_post") or a regex searched in the request path; "*" = any
    kind: str
    count: int  # requests still to be hit
    method: str = ""  # only requests with this method, when set
    # Only requests whose post text (text, message, caption, title) contains this, when set: aims a
    # fault at one post of many sent at once.
    match_text: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def from_spec(cls, fault_id: int, spec: dict[str, Any]) -> Fault:
        platform = spec.get("platform")
        kind = spec.get("kind")
        endpoint = spec.get("endpoint", "*")
        count = spec.get("count", 1)
        if platform not in PLATFORMS:
            raise FaultSpecError(f"platform must be one of {', '.join(PLATFORMS)}")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of {', '.join(sorted(KINDS))}")
        if not isinstance(endpoint, str) or not endpoint:
            raise FaultSpecError("endpoint must be an endpoint name or a path regex")
        if endpoint != "*":
            try:
                re.compile(endpoint)
            except re.error as error:
                raise FaultSpecError(f"endpoint is not a valid regex: {error}") from error
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise FaultSpecError("count must be a positive integer")
        match_text = spec.get("match_text", "")
        if not isinstance(match_text, str):
            raise FaultSpecError("match_text must be a string")
        reserved = {"platform", "kind", "endpoint", "count", "method", "match_text"}
        return cls(
            id=fault_id,
            platform=str(platform),
            endpoint=endpoint,
            kind=str(kind),
            count=count,
            method=str(spec.get("method", "")).upper(),
            match_text=match_text,
            params={key: value for key, value in spec.items() if key not in reserved},
        )

    def matches(
        self, *, platform: str, names: frozenset[str], method: str, path: str, text: str = ""
    ) -> bool:
        if self.count < 1 or platform != self.platform:
            return False
        if (self.method and self.method != method) or self.match_text not in text:
            return False
        return self.endpoint == "*" or self.endpoint in names or re.search(self.endpoint, path) is not None

    def number(self, name: str, default: float) -> float:
        value = self.params.get(name, default)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default

    def text(self, name: str, default: str) -> str:
        value = self.params.get(name)
        return value if isinstance(value, str) else default

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "endpoint": self.endpoint,
            "kind": self.kind,
            "count": self.count,
            "method": self.method,
            "match_text": self.match_text,
            "hits": self.hits,
            **self.params,
        }
