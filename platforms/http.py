"""One way to make an HTTP call to a platform: always a timeout, and transport failures sorted by
whether the platform can have acted on the request.
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import NameResolutionError, NewConnectionError

from platforms.base import OutcomeUnknown, RetryableError


def new_session() -> requests.Session:
    """A session for one client, with the environment's proxy and CA settings read once, here.

    requests otherwise reads them from the environment on every request (`trust_env`), a real
    share of a text post's CPU. With NO_PROXY set it still does: which hosts skip the proxy is
    decided per request.
    """
    session = requests.Session()
    proxies = urllib.request.getproxies()  # HTTPS_PROXY / https_proxy and the others, as requests reads them
    if "no" in proxies:
        return session
    session.trust_env = False
    session.proxies.update(proxies)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


def default_timeout() -> tuple[float, float]:
    """(connect, read) seconds: under the workers' threads pool the read timeout is what ends a
    request the platform never answers (settings.SOSOCIAL_HTTP_*_TIMEOUT, below the lease)."""
    return (settings.SOSOCIAL_HTTP_CONNECT_TIMEOUT, settings.SOSOCIAL_HTTP_READ_TIMEOUT)


# Methods that change nothing on the platform, so a failure after sending is still safe to retry.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was refused or the name did not resolve: nothing was sent."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason: Any = error.args[0] if error.args else None
    reason = getattr(reason, "reason", reason)  # MaxRetryError wraps the underlying error
    return isinstance(reason, NewConnectionError | NameResolutionError)


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request; raise RetryableError or OutcomeUnknown for transport failures.

    HTTP error statuses are returned, not raised: each client reads its platform's error envelope.
    """
    method = method.upper()
    try:
        return session.request(method, url, timeout=timeout or default_timeout(), **kwargs)
    except requests.ConnectionError as error:
        if _never_connected(error) or method in SAFE_METHODS:
            raise RetryableError(
                "Could not reach the platform; SoSocial will try again.", code="network_error"
            ) from error
        raise OutcomeUnknown(
            "The connection dropped after the request was sent, so the platform may have "
            "published it. SoSocial is checking before sending anything again.",
            code="connection_lost",
        ) from error
    except requests.Timeout as error:  # a read timeout: the request was sent
        if method in SAFE_METHODS:
            raise RetryableError(
                "The platform did not answer in time; SoSocial will try again.", code="timeout"
            ) from error
        raise OutcomeUnknown(
            "The platform did not answer in time after receiving the request, so it may have "
            "published it. SoSocial is checking before sending anything again.",
            code="timeout_after_send",
        ) from error


def json_object(response: requests.Response) -> dict[str, Any]:
    """The response's JSON object; {} when the body is not JSON or not an object."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
