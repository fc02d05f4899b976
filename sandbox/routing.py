"""Requests, responses and the small router every sandbox module registers its endpoints on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from sandbox.faults import Fault
    from sandbox.state import State

# Meta paths carry an API version segment (`/v25.0/`); any version is accepted.
META_VERSION = r"(?:v\d+(?:\.\d+)?/)?"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str  # scheme://host:port as the client reached the sandbox
    # Query and body parameters together (body wins); JSON bodies keep their JSON types.
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    json: Any = None
    path_params: dict[str, str] = field(default_factory=dict)
    # The fault that let this request through (slow, commit_then_drop, processing_failed), if any.
    fault: Fault | None = None
    # Headers a handler wants on whatever response goes out, errors included (rate-limit counters).
    response_headers: dict[str, str] = field(default_factory=dict)
    # When the request reached the sandbox (its clock), before any emulated latency.
    received_at: float = 0.0

    @classmethod
    def build(cls, *, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Request:
        parts = urlsplit(target)
        query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        lower = {name.lower(): value for name, value in headers.items()}
        request = cls(
            method=method.upper(),
            path=parts.path,
            query=query,
            headers=lower,
            body=body,
            base_url=f"http://{lower.get('host', 'localhost')}",
        )
        request.params = dict(query)
        request._parse_body()
        return request

    def _parse_body(self) -> None:
        if not self.body:
            return
        content_type = self.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                self.json = json.loads(self.body)
            except ValueError:
                self.json = None
            if isinstance(self.json, dict):
                self.params.update(self.json)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            self.params.update({key: values[0] for key, values in form.items()})
        elif content_type.startswith("multipart/form-data"):
            self._parse_multipart(content_type)

    def _parse_multipart(self, content_type: str) -> None:
        # Parsed by hand: byte counts must stay exact (X checks appended sizes), which the email
        # parser does not promise for binary parts.
        found = re.search(r'boundary="?([^";]+)"?', content_type)
        if found is None:
            return
        delimiter = b"--" + found.group(1).encode()
        for chunk in self.body.split(delimiter)[1:]:
            if chunk.startswith(b"--"):
                break
            head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
            data = data.removesuffix(b"\r\n")
            disposition = ""
            for line in head.decode("utf-8", "replace").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-disposition":
                    disposition = value
            name_match = re.search(r'\bname="([^"]*)"', disposition)
            if name_match is None:
                continue
            if "filename=" in disposition:
                self.files[name_match.group(1)] = data
            else:
                self.params[name_match.group(1)] = data.decode("utf-8", "replace")

    def param(self, name: str, default: str = "") -> str:
        """A parameter as text (JSON values other than strings are re-serialised)."""
        value = self.params.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() not in ("false", "0", "no")

    def post_text(self) -> str:
        """The text of the post this request makes, whichever platform's field carries it (X
        `text`, Facebook `message` or a video's `description`, Instagram `caption`, TikTok
        `post_info.title`/`description`)."""
        parts = [self.params.get(name) for name in ("text", "message", "caption", "description")]
        post_info = self.params.get("post_info")
        if isinstance(post_info, dict):
            parts += [post_info.get("title"), post_info.get("description")]
        return "\n".join(part for part in parts if isinstance(part, str))

    def access_token(self) -> str:
        """The token the client sent: `Authorization: Bearer|OAuth <t>` or an `access_token` parameter."""
        authorization = self.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return self.param("access_token")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


class ApiError(Exception):
    """Raised by a handler to answer with an error response built by its platform's envelope."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status=status, body=body, headers=dict(headers or {}))


def html_response(status: int, html: str) -> Response:
    return Response(status=status, body=html.encode(), content_type="text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(status=302, headers={"Location": location}, content_type="text/plain")


Handler = Callable[["State", Request], Response]
# Which platform and endpoint names a request belongs to, when that depends on the request
# (a Graph node id may name a Facebook post or an Instagram container).
Classifier = Callable[["State", Request], tuple[str, frozenset[str]]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    platform: str = ""  # "" for the control API and pages: no latency, no faults
    names: frozenset[str] = frozenset()
    when: Callable[[Request], bool] | None = None
    classify: Classifier | None = None

    def describe(self, state: State, request: Request) -> tuple[str, frozenset[str]]:
        if self.classify is not None:
            return self.classify(state, request)
        return self.platform, self.names


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        method: str,
        pattern: str,
        handler: Handler,
        *,
        platform: str = "",
        names: Iterable[str] = (),
        when: Callable[[Request], bool] | None = None,
        classify: Classifier | None = None,
    ) -> None:
        self.routes.append(
            Route(
                method=method,
                pattern=re.compile(pattern),
                handler=handler,
                platform=platform,
                names=frozenset(names),
                when=when,
                classify=classify,
            )
        )

    def match(self, request: Request) -> Route | None:
        """The first route whose method, path and condition fit; fills `request.path_params`."""
        for route in self.routes:
            if route.method != request.method:
                continue
            found = route.pattern.fullmatch(request.path)
            if found is None or (route.when is not None and not route.when(request)):
                continue
            request.path_params = {key: value for key, value in found.groupdict().items() if value}
            return route
        return None


class PlatformErrors(Protocol):
    """The one place per platform that builds its error envelope for sandbox-made errors."""

    def for_fault(self, state: State, request: Request, fault: Fault, names: frozenset[str]) -> Response: ...

    def unknown_endpoint(self, request: Request) -> Response: ...

    def internal_error(self, request: Request) -> Response: ...
