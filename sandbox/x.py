"""X API v2: OAuth 2.0 with PKCE, posts, the user timeline, and media upload (simple and chunked)."""

from __future__ import annotations

import base64
import binascii
import math
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox import oauth
from sandbox.faults import Fault
from sandbox.routing import ApiError, Request, Response, Router, html_response, json_response
from sandbox.state import DAY, Account, Post, State, Token, XMedia, account_answer, iso

API = r"/x/api/2/"
ACCESS_SECONDS = 7200
REFRESH_SECONDS = 180 * DAY
WINDOW_SECONDS = 900  # X's rate-limit windows are 15 minutes
MAX_WEIGHTED_LENGTH = 280
MAX_MEDIA = 4
URL_WEIGHT = 23
MB = 1024 * 1024
MAX_MEDIA_BYTES = {"image": 5 * MB, "gif": 15 * MB, "video": 512 * MB}
ALL_SCOPES = ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]
# Per-user limits per 15 minutes (rate-limits page, Aug 2026); posting is `x_posts_per_15_minutes`.
LIMITS = {
    "media_upload": 500,
    "media_chunk": 1875,
    "media_status": 1000,
    "me": 75,
    "read": 900,
}
APP_POSTS_PER_DAY = 10000
POST_FIELDS = frozenset(
    {
        "text",
        "media",
        "reply",
        "quote_tweet_id",
        "poll",
        "reply_settings",
        "made_with_ai",
        "paid_partnership",
        "community_id",
        "nullcast",
        "geo",
        "for_super_followers_only",
        "edit_options",
        "card_uri",
        "direct_message_deep_link",
        "share_with_followers",
    }
)
# Every TLD X knows, from a vendored copy of the IANA list: X turns a bare domain into a t.co link
# whatever its TLD ("acme.technology" too), and so does this sandbox.
TLDS = frozenset(
    line.strip().lower()
    for line in (Path(__file__).parent / "data" / "tlds.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
_URL_CANDIDATE = re.compile(
    r"""
    (?P<scheme>https?://)(?P<host>[^\s/?\#<>"']+)(?:[/?\#][^\s<>"]*)?
    |
    # Without a scheme: an ASCII domain not glued to a word, a handle, a hashtag or a path.
    (?<![\w@$\#./\-])(?P<bare>(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,63})(?![\w\-])
    (?::[0-9]{1,5})?(?:[/?\#][^\s<>"]*)?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_TRAILING = ".,;:!?'*"
EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators, one emoji
    "|[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]"
    "(?:[\ufe0f\U0001f3fb-\U0001f3ff]|\u200d[\U0001f000-\U0001faff\u2600-\u27bf])*"
)


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of each link X would shorten: a scheme URL or a bare domain on a known TLD,
    without the sentence punctuation or unbalanced bracket that ends it."""
    spans = []
    for found in _URL_CANDIDATE.finditer(text):
        host = found.group("host") or found.group("bare") or ""
        tld = host.split(":")[0].rsplit(".", 1)[-1].lower() if "." in host else ""
        if tld not in TLDS:
            continue
        url = found.group(0)
        while url and (
            url[-1] in _TRAILING
            or (url[-1] in _CLOSERS and url.count(url[-1]) > url.count(_CLOSERS[url[-1]]))
        ):
            url = url[:-1]
        spans.append((found.start(), found.start() + len(url)))
    return spans


def register(router: Router) -> None:
    router.add("GET", r"/x/www/i/oauth2/authorize", authorize, platform="x", names={"authorize"})
    router.add("POST", API + r"oauth2/token", token, platform="x", names={"token"})
    router.add("GET", API + r"users/me", me, platform="x", names={"me"})
    router.add("POST", API + r"tweets", create_post, platform="x", names={"create_post"})
    router.add(
        "GET",
        API + r"users/(?P<id>\d+)/tweets",
        user_posts,
        platform="x",
        names={"list_posts", "user_tweets"},
    )
    router.add("GET", API + r"media/upload", media_status, platform="x", names={"media_status"})
    router.add("POST", API + r"media/upload/initialize", initialize, platform="x", names={"media_initialize"})
    router.add("POST", API + r"media/upload/(?P<id>\d+)/append", append, platform="x", names={"media_append"})
    router.add(
        "POST", API + r"media/upload/(?P<id>\d+)/finalize", finalize, platform="x", names={"media_finalize"}
    )
    router.add("POST", API + r"media/upload", simple_upload, platform="x", names={"media_upload"})


# The error envelopes -------------------------------------------------------------------------


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """X's problem document; `kind` is a problem name (`invalid-request`) or `about:blank`."""
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = errors
    body.update(
        {
            "title": title,
            "detail": detail,
            "type": kind if kind == "about:blank" else f"https://api.x.com/2/problems/{kind}",
            "status": status,
        }
    )
    return json_response(status, body, headers)


def invalid_request(message: str) -> ApiError:
    return ApiError(
        problem(
            400,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            kind="invalid-request",
            errors=[{"parameters": {}, "message": message}],
        )
    )


def forbidden(detail: str) -> ApiError:
    return ApiError(problem(403, "Forbidden", detail))


def unauthorized() -> Response:
    return problem(401, "Unauthorized", "Unauthorized")


def oauth_error(error: str, description: str, status: int = 400) -> ApiError:
    return ApiError(json_response(status, {"error": error, "error_description": description}))


GRANT = oauth.Grant(
    family="x",
    code_seconds=30,
    access_seconds=ACCESS_SECONDS,
    refresh_seconds=REFRESH_SECONDS,
    refresh_scope="offline.access",
    token_length=64,
    refusal=oauth_error,
    refusals={
        "invalid_code": ("invalid_grant", "Value passed for the authorization code was invalid."),
        "bad_verifier": ("invalid_grant", "Value passed for the code_verifier was invalid."),
        "bad_refresh": ("invalid_grant", "Value passed for the token was invalid."),
        "unsupported_grant": ("unsupported_grant_type", "Unsupported grant_type"),
    },
)


def too_many_requests(headers: dict[str, str]) -> Response:
    return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)


class XErrors:
    def for_fault(self, state: State, request: Request, fault: Fault, names: frozenset[str]) -> Response:
        status = int(fault.number("status", 0))
        if fault.kind == "server_error":
            status = status or 503
            title = fault.text("title", "Service Unavailable")
            return problem(status, title, fault.text("detail", title))
        if fault.kind == "rate_limit":
            reset = str(int(state.now() + fault.number("retry_after_seconds", 5)))
            headers = {
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": reset,
            }
            if fault.params.get("daily"):
                headers = {
                    "x-rate-limit-limit": "100",
                    "x-rate-limit-remaining": "99",
                    "x-rate-limit-reset": str(int(state.now() + WINDOW_SECONDS)),
                    "x-user-limit-24hour-limit": str(state.config.x_user_posts_per_day),
                    "x-user-limit-24hour-remaining": "0",
                    "x-user-limit-24hour-reset": reset,
                }
            if fault.params.get("usage_capped"):
                return problem(
                    429,
                    "UsageCapExceeded",
                    "Usage cap exceeded: Monthly product cap",
                    kind="usage-capped",
                    headers=headers,
                )
            return too_many_requests(headers)
        if fault.kind in ("expired_token", "revoked_token"):
            if "token" in names:
                return GRANT.refuse("bad_refresh").response
            return unauthorized()
        return problem(
            status or 403,
            fault.text("title", "Forbidden"),
            fault.text("detail", "You are not allowed to create a Tweet with duplicate content."),
            kind=fault.text("type", "about:blank"),
        )

    def unknown_endpoint(self, request: Request) -> Response:
        return problem(404, "Not Found Error", f"No endpoint at {request.path}", kind="resource-not-found")

    def internal_error(self, request: Request) -> Response:
        return problem(500, "Internal Server Error", "Internal Server Error")


# Tokens and rate limits ----------------------------------------------------------------------


def authenticate(state: State, request: Request, *scopes: str) -> Token:
    authorization = request.headers.get("authorization", "")
    value = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    found = state.tokens.get(value)
    if found is None or found.family != "x" or found.kind != "access" or state.token_problem(found):
        raise ApiError(unauthorized())
    missing = [scope for scope in scopes if scope not in found.scopes]
    if missing:
        raise forbidden(f"Missing OAuth 2.0 scopes: {', '.join(missing)}")
    return found


def count_call(state: State, request: Request, token: Token, group: str) -> None:
    """Count this call in the user's 15-minute window; headers go on every response, 429 when over."""
    limit = state.config.x_posts_per_15_minutes if group == "create_post" else LIMITS[group]
    window = state.window(f"x:{token.person_id}:{group}", WINDOW_SECONDS)
    window.count += 1
    request.response_headers.update(
        {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - window.count)),
            "x-rate-limit-reset": str(int(window.started + WINDOW_SECONDS)),
        }
    )
    if state.config.rate_limits and window.count > limit:
        raise ApiError(too_many_requests({}))


# Login ---------------------------------------------------------------------------------------


def _persona(state: State, key: str) -> Account:
    """Who logs in: an existing X account by id, else a person reused by name."""
    existing = state.account(key, "x")
    if existing is not None:
        return existing
    person = state.find_person(family="x", key=key)
    if person is None:
        return create_user(state, name=key, username=re.sub(r"[^a-z0-9_]", "", key.lower()) or "sandbox")
    return state.accounts_of(person.id, "x")[0]


def create_user(state: State, *, name: str, username: str, key: str = "") -> Account:
    person = state.add_person(family="x", person_id=state.new_id("14", 19), name=name, key=key or name)
    return state.add_account(
        Account(
            platform="x", id=person.id, name=name, username=username, owner=person.id, created_at=state.now()
        )
    )


def authorize(state: State, request: Request) -> Response:
    client_id = request.param("client_id")
    redirect_uri = request.param("redirect_uri")
    challenge = request.param("code_challenge")
    method = request.param("code_challenge_method", "plain")
    if (
        request.param("response_type") != "code"
        or not redirect_uri
        or not challenge
        or method not in ("S256", "plain")
        or not state.app_secret_ok("x", client_id, None)
    ):
        return html_response(
            400, "<h1>Something went wrong</h1><p>You weren't able to give access to the App.</p>"
        )
    return oauth.login_redirect(
        state,
        GRANT,
        request,
        client_id=client_id,
        scopes=request.param("scope").split(),
        log_in=lambda: _persona(state, request.param("sandbox_user") or "Sam Sandbox").owner,
    )


def _client(state: State, request: Request) -> str:
    """The client id, from Basic auth (confidential clients) or the form (public clients)."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as bad:
            raise oauth_error("invalid_client", "Malformed Basic authorization header", 401) from bad
        if not state.app_secret_ok("x", client_id, secret):
            raise oauth_error("invalid_client", "Client authentication failed", 401)
        return client_id
    client_id = request.param("client_id")
    if not client_id:
        raise oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    if not state.app_secret_ok("x", client_id, None):
        raise oauth_error("invalid_client", "Client authentication failed", 401)
    return client_id


def token(state: State, request: Request) -> Response:
    access, refresh = oauth.exchange(state, GRANT, request, _client(state, request))
    return json_response(200, oauth.token_body(GRANT, access, refresh))


# Users and posts -----------------------------------------------------------------------------


def user_fields(account: Account, request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {"id": account.id, "name": account.name, "username": account.username}
    wanted = set(request.param("user.fields").split(","))
    extra = {
        "created_at": iso_z(account.created_at),
        "profile_image_url": f"https://sandbox.invalid/x/{account.username}_normal.jpg",
        "description": "",
        "verified": False,
        "protected": False,
    }
    data.update({key: value for key, value in extra.items() if key in wanted})
    return data


def me(state: State, request: Request) -> Response:
    found = authenticate(state, request, "users.read")
    count_call(state, request, found, "me")
    return json_response(200, {"data": user_fields(state.accounts[found.person_id], request)})


def weighted_length(text: str) -> int:
    """twitter-text v3, approximated: URLs count 23; an emoji sequence 2; code points up to U+10FF and
    some punctuation ranges 1; everything else (CJK, ...) 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    for piece, is_url in _split_urls(text):
        if is_url:
            total += URL_WEIGHT
            continue
        total += 2 * len(EMOJI.findall(piece))
        for char in EMOJI.sub("", piece):
            point = ord(char)
            light = (
                point <= 0x10FF
                or 0x2000 <= point <= 0x200D
                or 0x2010 <= point <= 0x201F
                or 0x2032 <= point <= 0x2037
            )
            total += 1 if light else 2
    return total


def _split_urls(text: str) -> list[tuple[str, bool]]:
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end in find_urls(text):
        pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    pieces.append((text[position:], False))
    return pieces


def shorten_urls(state: State, text: str) -> tuple[str, list[dict[str, Any]]]:
    """X shows every link as a t.co link, and says in `entities.urls` what each one stands for
    (a bare domain expands with http://). Indices are code points of the shown text."""
    shown = ""
    entities: list[dict[str, Any]] = []
    for piece, is_url in _split_urls(text):
        if not is_url:
            shown += piece
            continue
        short = "https://t.co/" + state.random(10)
        expanded = piece if re.match(r"https?://", piece, re.IGNORECASE) else f"http://{piece}"
        entities.append(
            {
                "start": len(shown),
                "end": len(shown) + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": re.sub(r"^https?://", "", expanded, flags=re.IGNORECASE)[:26],
            }
        )
        shown += short
    return shown, entities


def with_media_link(
    state: State, shown: str, entities: list[dict[str, Any]], *, permalink: str, media: list[XMedia]
) -> tuple[str, list[dict[str, Any]]]:
    """X ends the text of a post with media with one more t.co link, to the post's media."""
    if not media:
        return shown, entities
    kind = "video" if _kind(media[0].media_type, media[0].category) != "image" else "photo"
    short = "https://t.co/" + state.random(10)
    shown = f"{shown} {short}" if shown else short
    link = {
        "start": len(shown) - len(short),
        "end": len(shown),
        "url": short,
        "expanded_url": f"{permalink}/{kind}/1",
        "display_url": f"pic.x.com/{short[-10:]}",
        "media_key": media[0].media_key,
    }
    return shown, [*entities, link]


def iso_z(moment: float) -> str:
    return iso(moment).replace("+00:00", "Z")[:19] + ".000Z"


def post_data(post: Post, request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": post.id,
        "text": post.extra["platform_text"],
        "edit_history_post_ids": [post.id],
    }
    wanted = set(request.param("tweet.fields").split(","))
    extra: dict[str, Any] = {
        "created_at": iso_z(post.created_at),
        "author_id": post.account_id,
        "conversation_id": post.extra.get("conversation_id", post.id),
        "attachments": {"media_keys": [item["media_key"] for item in post.media]} if post.media else None,
        "in_reply_to_user_id": post.extra.get("in_reply_to_user_id"),
        "edit_history_tweet_ids": [post.id],
        "entities": {"urls": post.extra["urls"]} if post.extra.get("urls") else None,
    }
    data.update({key: value for key, value in extra.items() if key in wanted and value is not None})
    return data


def _validated_media(state: State, token: Token, body: dict[str, Any]) -> list[XMedia]:
    media = body.get("media")
    if media is None:
        return []
    if not isinstance(media, dict):
        raise invalid_request("$.media: object expected")
    unknown = set(media) - {"media_ids", "tagged_user_ids"}
    if unknown:
        raise invalid_request(f"$.media.{sorted(unknown)[0]}: is not defined in the schema")
    ids = media.get("media_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise invalid_request("$.media.media_ids: must be a non-empty array of strings")
    if len(ids) > MAX_MEDIA:
        raise invalid_request(f"$.media.media_ids: there must be a maximum of {MAX_MEDIA} items in the array")
    items: list[XMedia] = []
    for media_id in ids:
        item = state.x_media.get(media_id)
        if (
            item is None
            or item.owner != token.person_id
            or item.state != "succeeded"
            or item.expires_at <= state.now()
        ):
            raise invalid_request("Your media IDs are invalid.")
        items.append(item)
    kinds = [_kind(item.media_type, item.category) for item in items]
    if len(items) > 1 and any(kind != "image" for kind in kinds):
        raise invalid_request("Your media IDs are invalid: a post has up to 4 images, or 1 GIF, or 1 video.")
    return items


def create_post(state: State, request: Request) -> Response:
    found = authenticate(state, request, "tweet.write")
    count_call(state, request, found, "create_post")
    body = request.json
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object")
    unknown = sorted(set(body) - POST_FIELDS)
    if unknown:
        raise invalid_request(
            f"$.{unknown[0]}: is not defined in the schema and the schema does not allow "
            "additional properties"
        )
    text = body.get("text", "")
    if not isinstance(text, str):
        raise invalid_request("$.text: string expected")
    media = _validated_media(state, found, body)
    if not text and not media:
        raise invalid_request("$.text: is missing but it is required")
    if "quote_tweet_id" in body:
        raise forbidden("Quoting posts is not available for your access level.")
    reply_to = _reply_target(state, body)
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        raise forbidden(f"Your post is {length} weighted characters; the limit is {MAX_WEIGHTED_LENGTH}.")
    if len(re.findall(r"\$[A-Za-z]{1,6}\b", text)) > 1:
        raise forbidden("A post may contain at most one cashtag.")
    now = state.now()
    if text.strip() and any(
        p.extra.get("submitted_text", "").strip() == text.strip()
        and p.created_at > now - state.config.x_duplicate_window_seconds
        for p in state.posts_of("x", found.person_id)
        if p.status == "published"
    ):
        raise forbidden("You are not allowed to create a Tweet with duplicate content.")
    _daily_limit(state, request, found)
    account = state.accounts[found.person_id]
    post_id = state.new_id("19", 19)
    permalink = f"{request.base_url}/x/www/{account.username}/status/{post_id}"
    shown, urls = shorten_urls(state, text)
    shown, urls = with_media_link(state, shown, urls, permalink=permalink, media=media)
    post = state.add_post(
        Post(
            platform="x",
            id=post_id,
            account_id=account.id,
            text=text,
            created_at=now,
            requested_at=request.received_at,
            permalink=permalink,
            kind=_kind(media[0].media_type, media[0].category) if media else "text",
            media=[
                {"type": _kind(m.media_type, m.category), "id": m.id, "media_key": m.media_key} for m in media
            ],
            extra={
                "submitted_text": text,
                "platform_text": shown,
                "urls": urls,
                "in_reply_to_post_id": reply_to.id if reply_to else None,
                "in_reply_to_user_id": reply_to.account_id if reply_to else None,
                "conversation_id": reply_to.extra.get("conversation_id", reply_to.id)
                if reply_to
                else post_id,
            },
        )
    )
    data = {"id": post.id, "text": post.extra["platform_text"], "edit_history_post_ids": [post.id]}
    return json_response(201, {"data": data})


def _reply_target(state: State, body: dict[str, Any]) -> Post | None:
    reply = body.get("reply")
    if reply is None:
        return None
    target_id = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
    if not isinstance(target_id, str):
        raise invalid_request("$.reply.in_reply_to_tweet_id: is missing but it is required")
    target = state.posts.get(target_id)
    if target is None or target.platform != "x" or target.status != "published":
        raise forbidden("You attempted to reply to a post that is deleted or not visible to you.")
    return target


def _daily_limit(state: State, request: Request, found: Token) -> None:
    now = state.now()
    mine = sorted(p.created_at for p in state.posts_of("x", found.person_id) if p.created_at > now - DAY)
    everyone = sum(1 for p in state.posts_of("x") if p.created_at > now - DAY)
    limit = state.config.x_user_posts_per_day
    reset = str(int((mine[0] if mine else now) + DAY))
    headers = {
        "x-user-limit-24hour-limit": str(limit),
        "x-user-limit-24hour-remaining": str(max(0, limit - len(mine) - 1)),
        "x-user-limit-24hour-reset": reset,
        "x-app-limit-24hour-limit": str(APP_POSTS_PER_DAY),
        "x-app-limit-24hour-remaining": str(max(0, APP_POSTS_PER_DAY - everyone - 1)),
        "x-app-limit-24hour-reset": str(int(now + DAY)),
    }
    request.response_headers.update(headers)
    if state.config.rate_limits and len(mine) >= limit:
        request.response_headers["x-user-limit-24hour-remaining"] = "0"
        raise ApiError(too_many_requests({}))


def not_found_errors(resource: str, parameter: str, value: str) -> dict[str, Any]:
    return {
        "errors": [
            {
                "value": value,
                "detail": f"Could not find {resource} with {parameter}: [{value}].",
                "title": "Not Found Error",
                "resource_type": resource,
                "parameter": parameter,
                "resource_id": value,
                "type": "https://api.x.com/2/problems/resource-not-found",
            }
        ]
    }


def _time_param(request: Request, name: str) -> float | None:
    raw = request.param(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError as bad:
        raise invalid_request(
            f"The `{name}` query parameter value [{raw}] is not a valid RFC 3339 date-time"
        ) from bad


def user_posts(state: State, request: Request) -> Response:
    found = authenticate(state, request, "tweet.read", "users.read")
    count_call(state, request, found, "read")
    user_id = request.path_params["id"]
    if state.account(user_id, "x") is None:
        return json_response(200, not_found_errors("user", "id", user_id))
    try:
        max_results = int(request.param("max_results") or 10)
        offset = int(request.param("pagination_token") or 0)
    except ValueError as bad:
        raise invalid_request("max_results and pagination_token must be numbers") from bad
    if not 5 <= max_results <= 100:
        raise invalid_request(
            f"The `max_results` query parameter value [{max_results}] is not between 5 and 100"
        )
    start, end = _time_param(request, "start_time"), _time_param(request, "end_time")
    since_id, until_id = request.param("since_id"), request.param("until_id")
    posts = [
        p
        for p in state.posts_of("x", user_id)
        if p.status == "published"
        and (start is None or p.created_at >= start)
        and (end is None or p.created_at <= end)
        and (not since_id or int(p.id) > int(since_id))
        and (not until_id or int(p.id) < int(until_id))
    ]
    posts.sort(key=lambda p: int(p.id), reverse=True)
    page = posts[offset : offset + max_results]
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update({"newest_id": page[0].id, "oldest_id": page[-1].id})
    if offset + max_results < len(posts):
        meta["next_token"] = str(offset + max_results)
    body: dict[str, Any] = {"meta": meta}
    if page:
        body = {"data": [post_data(p, request) for p in page], "meta": meta}
    return json_response(200, body)


# Media ---------------------------------------------------------------------------------------


def _kind(media_type: str, category: str) -> str:
    if media_type == "image/gif" or category.endswith("_gif"):
        return "gif"
    if media_type.startswith("video/") or category.endswith("_video"):
        return "video"
    return "image"


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def _media_key(item: XMedia) -> str:
    return {"image": "3_", "gif": "16_", "video": "7_"}[_kind(item.media_type, item.category)] + item.id


def _new_media(
    state: State, request: Request, owner: str, *, media_type: str, category: str, total: Any
) -> XMedia:
    if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
        raise invalid_request("$.total_bytes: a positive integer is required")
    if not media_type:
        raise invalid_request("$.media_type: is missing but it is required")
    kind = _kind(media_type, category)
    if total > MAX_MEDIA_BYTES[kind]:
        raise invalid_request(f"The {kind} is too large: {total} bytes; at most {MAX_MEDIA_BYTES[kind]}.")
    now = state.now()
    item = XMedia(
        id=state.new_id("18", 19),
        media_key="",
        owner=owner,
        media_type=media_type,
        category=category or f"tweet_{kind}",
        total_bytes=total,
        created_at=now,
        expires_at=now + state.config.x_media_expiry_seconds,
        fail=request.fault is not None and request.fault.kind == "processing_failed",
    )
    item.media_key = _media_key(item)
    state.x_media[item.id] = item
    return item


def _finish_upload(state: State, item: XMedia) -> None:
    now = state.now()
    item.expires_at = now + state.config.x_media_expiry_seconds
    if _kind(item.media_type, item.category) == "image" and not item.fail:
        item.state = "succeeded"
        return
    item.state = "pending"
    item.processing_started = now
    item.ready_at = now + state.config.x_processing_seconds


def media_data(state: State, item: XMedia) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "media_key": item.media_key,
        "size": item.total_bytes,
        "expires_after_secs": max(0, int(item.expires_at - state.now())),
    }
    if item.processing_started:
        data["processing_info"] = processing_info(state, item)
    if _kind(item.media_type, item.category) == "image":
        data["image"] = {"image_type": item.media_type}
    return data


def processing_info(state: State, item: XMedia) -> dict[str, Any]:
    remaining = max(0.0, item.ready_at - state.now())
    span = max(item.ready_at - item.processing_started, 0.001)
    info: dict[str, Any] = {"state": item.state}
    if item.state in ("pending", "in_progress"):
        info["check_after_secs"] = max(1, math.ceil(remaining))
        info["progress_percent"] = min(99, int(100 * (1 - remaining / span)))
    elif item.state == "succeeded":
        info["progress_percent"] = 100
    else:
        info["error"] = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    return info


def simple_upload(state: State, request: Request) -> Response:
    """One-shot upload (multipart or base64)."""
    found = authenticate(state, request, "media.write")
    count_call(state, request, found, "media_upload")
    data = request.files.get("media")
    if data is None:
        encoded = request.param("media") or request.param("media_data")
        try:
            data = base64.b64decode(encoded, validate=True) if encoded else None
        except binascii.Error as bad:
            raise invalid_request("$.media: must be base64") from bad
    if not data:
        raise invalid_request("$.media: is missing but it is required")
    media_type = request.param("media_type") or _sniff(data)
    item = _new_media(
        state,
        request,
        found.person_id,
        media_type=media_type,
        category=request.param("media_category"),
        total=len(data),
    )
    item.segments[0] = len(data)
    _finish_upload(state, item)
    return json_response(200, {"data": media_data(state, item)})


def initialize(state: State, request: Request) -> Response:
    body = request.json if isinstance(request.json, dict) else request.params
    found = authenticate(state, request, "media.write")
    count_call(state, request, found, "media_chunk")
    total = body.get("total_bytes")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    item = _new_media(
        state,
        request,
        found.person_id,
        media_type=str(body.get("media_type", "")),
        category=str(body.get("media_category", "")),
        total=total,
    )
    lifetime = int(state.config.x_media_expiry_seconds)
    data = {"id": item.id, "media_key": item.media_key, "expires_after_secs": lifetime}
    return json_response(200, {"data": data})


def _upload_session(state: State, request: Request, found: Token) -> XMedia:
    item = state.x_media.get(request.path_params.get("id", ""))
    if item is None or item.owner != found.person_id:
        raise invalid_request("The media_id was not found or does not belong to you.")
    if item.state != "uploading":
        raise invalid_request("This media has already been finalized.")
    return item


def append(state: State, request: Request) -> Response:
    found = authenticate(state, request, "media.write")
    count_call(state, request, found, "media_chunk")
    item = _upload_session(state, request, found)
    data = request.files.get("media")
    if data is None and request.param("media"):
        try:
            data = base64.b64decode(request.param("media"), validate=True)
        except binascii.Error as bad:
            raise invalid_request("$.media: must be base64") from bad
    if data is None:
        raise invalid_request("$.media: is missing but it is required")
    try:
        index = int(request.param("segment_index"))
    except ValueError as bad:
        raise invalid_request("$.segment_index: an integer from 0 to 999 is required") from bad
    if not 0 <= index <= 999:
        raise invalid_request("$.segment_index: an integer from 0 to 999 is required")
    item.segments[index] = len(data)
    return json_response(200, {"data": {"expires_at": int(item.expires_at)}})


def finalize(state: State, request: Request) -> Response:
    found = authenticate(state, request, "media.write")
    count_call(state, request, found, "media_chunk")
    item = _upload_session(state, request, found)
    if sum(item.segments.values()) != item.total_bytes:
        raise invalid_request("Segments do not add up to provided total file size.")
    _finish_upload(state, item)
    return json_response(200, {"data": media_data(state, item)})


def media_status(state: State, request: Request) -> Response:
    found = authenticate(state, request, "media.write")
    count_call(state, request, found, "media_status")
    if request.param("command", "STATUS").upper() != "STATUS":
        raise invalid_request("command must be STATUS")
    item = state.x_media.get(request.param("media_id"))
    if item is None or item.owner != found.person_id:
        raise invalid_request("The media_id was not found or does not belong to you.")
    return json_response(200, {"data": media_data(state, item)})


def settle(state: State) -> None:
    now = state.now()
    for item in state.x_media.values():
        if item.state not in ("pending", "in_progress"):
            continue
        if now >= item.ready_at:
            item.state = "failed" if item.fail else "succeeded"
        elif now >= item.processing_started + (item.ready_at - item.processing_started) / 4:
            item.state = "in_progress"


def create_account(state: State, *, name: str, username: str, client_id: str = "") -> dict[str, Any]:
    """`/_sandbox/accounts` for X: a user with every publishing scope and a 2-hour access token.

    Without `client_id` the refresh token works for whichever client presents it.
    """
    account = create_user(state, name=name, username=username, key=f"account:{state.random(8)}")
    access, refresh = oauth.issue(state, GRANT, person_id=account.id, scopes=ALL_SCOPES, client_id=client_id)
    return account_answer(account, access, refresh)
