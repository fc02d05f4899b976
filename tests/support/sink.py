"""A minimal platform over real HTTP for pipeline tests, and the client that talks to it.

The sink records every post it accepts (the record tests assert on) and can be told to fail in
the ways that matter to the pipeline: an error status, a slow answer, or "commit, then drop the
connection". A Celery worker subprocess reaches it through `SinkClient`, configured with
SOSOCIAL_PLATFORM_CLIENTS='{"x": "tests.support.sink.SinkClient"}' and SOSOCIAL_SINK_URL.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from platforms import base
from platforms.http import send


@dataclass(frozen=True)
class ReceivedPost:
    id: int
    reference: str
    text: str
    received_at: float  # time.time() when the request arrived


@dataclass
class Fault:
    """What the sink does to the next matching post: `status`, `slow`, `commit_then_drop` or
    `drop_before_commit` (wait `seconds`, then close the connection without recording the post)."""

    kind: str
    status: int = 503
    seconds: float = 0.0
    commit: bool = True
    reference: str = ""  # only posts with this reference; empty = any
    headers: Mapping[str, str] = field(default_factory=dict)  # sent with a `status` answer


@dataclass
class SinkState:
    posts: list[ReceivedPost] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    requests_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, reference: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if not fault.reference or fault.reference == reference:
                    self.faults.remove(fault)
                    return fault
        return None

    def record(self, reference: str, text: str, received_at: float) -> ReceivedPost:
        with self.lock:
            post = ReceivedPost(len(self.posts) + 1, reference, text, received_at)
            self.posts.append(post)
            return post


class SinkServer:
    """`latency_before` / `latency_after`: seconds every POST waits before / after the post is
    recorded (a platform that is slow to accept, or slow to answer after committing)."""

    def __init__(self, *, latency_before: float = 0.0, latency_after: float = 0.0) -> None:
        self.state = SinkState()
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
            ) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                reference = parse_qs(urlparse(self.path).query).get("reference", [""])[0]
                with state.lock:
                    found = [vars(post) for post in state.posts if post.reference == reference]
                self._reply(200, {"posts": found})

            def do_POST(self) -> None:
                received_at = time.time()
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                reference, text = body["reference"], body["text"]
                with state.lock:
                    state.requests_seen += 1
                fault = state.take_fault(reference)
                if fault is not None and fault.kind == "status":
                    self._reply(fault.status, {"error": f"injected {fault.status}"}, fault.headers)
                    return
                if fault is not None and fault.kind == "drop_before_commit":
                    time.sleep(fault.seconds)
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault is not None and fault.kind == "slow" and not fault.commit:
                    time.sleep(fault.seconds)
                if latency_before:
                    time.sleep(latency_before)
                post = state.record(reference, text, received_at)
                if latency_after:
                    time.sleep(latency_after)
                if fault is not None and fault.kind == "slow" and fault.commit:
                    time.sleep(fault.seconds)
                if fault is not None and fault.kind == "commit_then_drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self._reply(201, {"id": str(post.id)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SinkServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def posts(self) -> list[ReceivedPost]:
        with self.state.lock:
            return list(self.state.posts)

    def inject(self, fault: Fault) -> None:
        with self.state.lock:
            self.state.faults.append(fault)


class SinkClient:
    """A PlatformClient for the sink: the same error sorting a real client does, on a tiny API."""

    def __init__(self, base_url: str | None = None) -> None:
        self.base_url = base_url or os.environ["SOSOCIAL_SINK_URL"]
        self.session = requests.Session()

    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        return [] if text else ["Write something to post."]

    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        response = send(
            self.session,
            "POST",
            f"{self.base_url}/posts",
            json={"reference": request.reference, "text": request.text},
            timeout=(2.0, float(os.environ.get("SOSOCIAL_SINK_READ_TIMEOUT", "10"))),
        )
        if response.status_code == 201:
            post_id = response.json()["id"]
            return base.PublishResult(post_id, f"{self.base_url}/posts/{post_id}", response.status_code)
        status = response.status_code
        if status == 429:
            retry_at = datetime.now(UTC) + timedelta(seconds=float(response.headers.get("Retry-After", "0")))
            raise base.RetryableError(
                "Rate limited by the sink.", code="sink_429", http_status=status, retry_at=retry_at
            )
        if status >= 500:
            raise base.RetryableError(
                "The sink had a server error.", code=f"sink_{status}", http_status=status
            )
        if status == 401:
            raise base.TokenExpired("The sink rejected the token.", code="sink_401", http_status=status)
        if status == 403:
            raise base.ReconnectNeeded("The sink revoked access.", code="sink_403", http_status=status)
        raise base.PermanentError("The sink refused the post.", code=f"sink_{status}", http_status=status)

    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        response = send(
            self.session, "GET", f"{self.base_url}/posts", params={"reference": request.reference}
        )
        found = response.json()["posts"]
        if not found:
            return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)
        post_id = str(found[0]["id"])
        return base.Reconciliation(
            status=base.ReconcileStatus.PUBLISHED,
            result=base.PublishResult(post_id, f"{self.base_url}/posts/{post_id}", response.status_code),
        )

    def refresh_token(self, account: base.AccountCredentials) -> base.TokenGrant:
        return base.TokenGrant(access_token=f"{account.access_token}-refreshed", refresh_token="rotated")

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return f"{self.base_url}/authorize?state={state}"

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        raise base.PermanentError("The sink has no login.", code="sink_no_login")
