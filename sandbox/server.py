"""The HTTP server: one port, a path prefix per platform host, faults and latency applied here."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from sandbox import control, facebook, instagram, pages, tiktok, x
from sandbox.faults import ERROR_KINDS, Fault
from sandbox.graph import Graph, MetaErrors, honour_method_override
from sandbox.profile import FAST, latency_seconds
from sandbox.routing import ApiError, PlatformErrors, Request, Response, Router, json_response
from sandbox.state import Config, State

ERRORS: dict[str, PlatformErrors] = {
    "facebook": MetaErrors("facebook"),
    "instagram": MetaErrors("instagram"),
    "x": x.XErrors(),
    "tiktok": tiktok.TikTokErrors(),
}


def build_router() -> Router:
    router = Router()
    control.register(router)
    facebook.register(router)
    instagram.register(router)
    Graph([facebook.find_node, instagram.find_node]).register(router)  # after the edges: it reads any id
    x.register(router)
    tiktok.register(router)
    pages.register(router)
    return router


class Sandbox:
    """Turns a request into a response, or into `None`: close the connection without answering."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.router = build_router()
        state.settlers = [facebook.settle, instagram.settle, x.settle, tiktok.settle]

    def handle(self, request: Request) -> Response | None:
        state = self.state
        honour_method_override(request)
        route = self.router.match(request)
        names: frozenset[str] = frozenset()
        fault: Fault | None = None
        with state.lock:
            request.received_at = state.now()
            if route is None:
                platform = _platform_of(request.path)
            else:
                platform, names = route.describe(state, request)
                fault = (
                    state.take_fault(
                        platform=platform,
                        names=names,
                        method=request.method,
                        path=request.path,
                        text=request.post_text(),
                    )
                    if platform
                    else None
                )
            config = state.config
            latency = latency_seconds(config.profile, config.latency_ms, request.method) if platform else 0.0
        if latency:
            time.sleep(latency)
        if fault is not None and fault.kind == "commit_late":
            time.sleep(fault.number("seconds", 5))
        if fault is not None and fault.kind == "drop_before_commit":
            # `seconds` holds the request first: a client timing out before the platform acted.
            time.sleep(fault.number("seconds", 0))
            self._log(request, platform, names, None, fault)
            return None
        with state.lock:
            state.settle()
            if route is None:
                response = _errors(platform).unknown_endpoint(request) if platform else _control_not_found()
            elif fault is not None and fault.kind in ERROR_KINDS:
                response = self._fault_response(request, platform, names, fault)
            else:
                request.fault = fault
                response = self._run(route.handler, request, platform)
                if fault is not None and fault.kind == "commit_then_error" and response.status < 400:
                    as_error = dataclasses.replace(fault, kind="server_error")
                    response = _errors(platform).for_fault(state, request, as_error, names)
            response.headers = {**request.response_headers, **response.headers}
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.number("seconds", 5))
        if fault is not None and fault.kind == "commit_then_drop":
            self._log(request, platform, names, None, fault)
            return None
        self._log(request, platform, names, response, fault)
        return response

    def _run(self, handler: Any, request: Request, platform: str) -> Response:
        try:
            response: Response = handler(self.state, request)
        except ApiError as error:
            return error.response
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return (
                _errors(platform).internal_error(request)
                if platform
                else json_response(500, {"error": "bug"})
            )
        return response

    def _fault_response(
        self, request: Request, platform: str, names: frozenset[str], fault: Fault
    ) -> Response:
        token = request.access_token() or request.param("refresh_token")
        if fault.kind == "expired_token":
            self.state.expire_token(token)
        elif fault.kind == "revoked_token":
            self.state.revoke_grant(token)
        return _errors(platform).for_fault(self.state, request, fault, names)

    def _log(
        self,
        request: Request,
        platform: str,
        names: frozenset[str],
        response: Response | None,
        fault: Fault | None,
    ) -> None:
        if not platform:
            return
        with self.state.lock:
            self.state.request_log.append(
                {
                    "at": self.state.now(),
                    "received_at": request.received_at,
                    "platform": platform,
                    "method": request.method,
                    "path": request.path,
                    "endpoints": sorted(names),
                    "status": response.status if response is not None else None,
                    "fault": fault.kind if fault is not None else None,
                }
            )


def _platform_of(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return first if first in ERRORS else ""


def _errors(platform: str) -> PlatformErrors:
    return ERRORS[platform]


def _control_not_found() -> Response:
    return json_response(404, {"error": "no such endpoint; see GET /_sandbox/ and GET /"})


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a `slow` fault must not hold up stop()
    # A thread per connection holds hundreds in flight; the listen backlog must let them all in (the
    # default of 5 reset connections at 64 calls in flight).
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, *, quiet: bool) -> None:
        self.sandbox = sandbox
        self.quiet = quiet
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the client's
    # delayed ACK of the headers (~40 ms on Linux) on every response.
    disable_nagle_algorithm = True
    server_version = "SoSocialSandbox/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def _serve(self) -> None:
        server = cast(_HTTPServer, self.server)
        request = Request.build(
            method=self.command, target=self.path, headers=dict(self.headers.items()), body=self._read_body()
        )
        response = server.sandbox.handle(request)
        if response is None:
            self._drop()
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client gave up (a timeout during a `slow` fault)
            self.close_connection = True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _drop(self) -> None:
        """Close the socket with no response: the client sees the connection reset or closed."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        if not cast(_HTTPServer, self.server).quiet:
            super().log_message(format, *args)


class SandboxServer:
    """The sandbox on a port; `port=0` picks a free one. `state` is there for assertions.

    >>> with SandboxServer() as sandbox:  # doctest: +SKIP
    ...     requests.post(f"{sandbox.url}/_sandbox/accounts", json={"platform": "x", "name": "Alice"})
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        *,
        quiet: bool = True,
        config: dict[str, Any] | None = None,
        profile: str = FAST,
    ) -> None:
        settings = Config(latency_ms=latency_ms)
        settings.update({"profile": profile, **(config or {})})
        self.state = State(settings)
        self.sandbox = Sandbox(self.state)
        self._httpd = _HTTPServer((host, port), self.sandbox, quiet=quiet)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def base_urls(self) -> dict[str, str]:
        return control.base_urls(self.url)

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sosocial-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
