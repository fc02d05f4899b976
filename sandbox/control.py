"""The control API under `/_sandbox/`: accounts, faults, what was posted, clock, config, reset."""

from __future__ import annotations

import re
from typing import Any

from sandbox import facebook, instagram, tiktok, x
from sandbox.faults import PLATFORMS, FaultSpecError
from sandbox.routing import ApiError, Handler, Request, Response, Router, json_response
from sandbox.state import Post, State, iso


def register(router: Router) -> None:
    for path, handlers in ROUTES.items():
        for method, handler in handlers.items():
            router.add(method, rf"/_sandbox/{path}", handler)


def bad_request(message: str) -> ApiError:
    return ApiError(json_response(400, {"error": message}))


def _body(request: Request) -> dict[str, Any]:
    if request.body and not isinstance(request.json, dict):
        raise bad_request("send a JSON object with Content-Type: application/json")
    return request.json if isinstance(request.json, dict) else {}


def overview(state: State, request: Request) -> Response:
    base = request.base_url
    return json_response(
        200,
        {
            "now": iso(state.now()),
            "base_urls": base_urls(base),
            "control": [
                f"{base}/_sandbox/{name}" for name in ("accounts", "faults", "posts", "clock", "config")
            ],
        },
    )


def base_urls(base: str) -> dict[str, str]:
    """The settings (environment variables) that point SoSocial's clients at this sandbox."""
    return {
        "FACEBOOK_GRAPH_URL": f"{base}/facebook/graph",
        "FACEBOOK_AUTHORIZE_URL": f"{base}/facebook/www",
        "INSTAGRAM_GRAPH_URL": f"{base}/instagram/graph",
        "X_API_URL": f"{base}/x/api",
        "X_AUTHORIZE_URL": f"{base}/x/www",
        "X_WEB_URL": f"{base}/x/www",
        "TIKTOK_API_URL": f"{base}/tiktok/api",
        "TIKTOK_AUTHORIZE_URL": f"{base}/tiktok/www",
        "TIKTOK_WEB_URL": f"{base}/tiktok/www",
    }


def create_account(state: State, request: Request) -> Response:
    body = _body(request)
    platform = body.get("platform")
    name = body.get("name") or f"Sandbox {platform}"
    username = body.get("username") or re.sub(r"[^a-z0-9_]", "", str(name).lower()) or "sandbox"
    client_id = body.get("client_id", "")
    if not isinstance(name, str) or not isinstance(username, str) or not isinstance(client_id, str):
        raise bad_request("name, username and client_id must be strings")
    if platform == "facebook":
        created = facebook.create_account(state, name=name)
    elif platform == "instagram":
        created = instagram.create_account(state, name=name, username=username)
    elif platform == "x":
        created = x.create_account(state, name=name, username=username, client_id=client_id)
    elif platform == "tiktok":
        options = body.get("privacy_level_options")
        if options is not None and (
            not isinstance(options, list) or not all(isinstance(o, str) for o in options)
        ):
            raise bad_request("privacy_level_options must be a list of strings")
        created = tiktok.create_account(
            state,
            name=name,
            username=username,
            private=bool(body.get("private", False)),
            options=options,
            client_id=client_id,
        )
    else:
        raise bad_request(f"platform must be one of {', '.join(PLATFORMS)}")
    return json_response(201, created)


def list_accounts(state: State, request: Request) -> Response:
    platform = request.param("platform")
    accounts = [
        {
            "platform": account.platform,
            "account_id": account.id,
            "display_name": account.name,
            "username": account.username,
            "owner": account.owner,
            "page_id": account.page_id or None,
            "instagram_id": account.instagram_id or None,
            "access_tokens": [
                token.value
                for token in state.tokens.values()
                if not state.token_problem(token)
                and token.person_id == account.owner
                and token.kind in ("page", "access")
                and (token.kind != "page" or token.account_id in (account.id, account.page_id))
            ],
        }
        for account in state.accounts.values()
        if not platform or account.platform == platform
    ]
    return json_response(200, {"accounts": accounts})


def add_fault(state: State, request: Request) -> Response:
    try:
        fault = state.add_fault(_body(request))
    except FaultSpecError as error:
        raise bad_request(str(error)) from error
    return json_response(201, fault.as_dict())


def list_faults(state: State, request: Request) -> Response:
    return json_response(200, {"faults": [fault.as_dict() for fault in state.faults]})


def clear_faults(state: State, request: Request) -> Response:
    state.faults.clear()
    return json_response(200, {"faults": []})


def post_dict(post: Post) -> dict[str, Any]:
    return {
        "platform": post.platform,
        "id": post.id,
        "account_id": post.account_id,
        "text": post.text,
        "media": post.media,
        "created_at": iso(post.created_at),
        # When the call that made it reached the sandbox (epoch seconds, before its latency; 0 when
        # not recorded): what tests of "not before its time" read.
        "requested_at": post.requested_at,
        "permalink": post.permalink,
        "kind": post.kind,
        "status": post.status,
        "extra": {key: value for key, value in post.extra.items() if value is not None},
    }


def list_posts(state: State, request: Request) -> Response:
    platform = request.param("platform")
    account_id = request.param("account_id")
    status = request.param("status")
    posts = [
        post_dict(post)
        for post in state.posts.values()
        if (not platform or post.platform == platform)
        and (not account_id or post.account_id == account_id)
        and (not status or post.status == status)
    ]
    return json_response(200, {"posts": posts})


def list_requests(state: State, request: Request) -> Response:
    platform = request.param("platform")
    entries = [entry for entry in state.request_log if not platform or entry["platform"] == platform]
    return json_response(200, {"requests": entries})


def reset(state: State, request: Request) -> Response:
    state.reset()
    return json_response(200, {"reset": True})


def clock(state: State, request: Request) -> Response:
    return json_response(200, {"now": iso(state.now()), "offset_seconds": state.clock_offset})


def advance_clock(state: State, request: Request) -> Response:
    seconds = _body(request).get("advance_seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise bad_request("advance_seconds must be a non-negative number")
    state.advance(float(seconds))
    state.settle()
    return clock(state, request)


def config(state: State, request: Request) -> Response:
    return json_response(200, state.config.as_dict())


def update_config(state: State, request: Request) -> Response:
    try:
        state.config.update(_body(request))
    except ValueError as error:
        raise bad_request(str(error)) from error
    return config(state, request)


# Path under /_sandbox/ -> method -> handler.
ROUTES: dict[str, dict[str, Handler]] = {
    "?": {"GET": overview},
    "accounts": {"POST": create_account, "GET": list_accounts},
    "faults": {"POST": add_fault, "GET": list_faults, "DELETE": clear_faults},
    "posts": {"GET": list_posts},
    "requests": {"GET": list_requests},
    "reset": {"POST": reset},
    "clock": {"GET": clock, "POST": advance_clock},
    "config": {"GET": config, "POST": update_config},
}
