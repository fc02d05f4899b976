"""TikTok Content Posting API: login, creator info, video and photo init, chunked upload, status, list.

A publish moves PROCESSING_UPLOAD (until the last chunk answers 201) or PROCESSING_DOWNLOAD, then
after `tiktok_processing_seconds` to PUBLISH_COMPLETE (SEND_TO_USER_INBOX for drafts, FAILED when a
`processing_failed` fault was armed). A public post gets its `publicaly_available_post_id` after a
further `tiktok_moderation_seconds`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any
from urllib.parse import urlencode

from sandbox.faults import Fault
from sandbox.routing import (
    ApiError,
    Request,
    Response,
    Router,
    html_response,
    json_response,
    redirect,
)
from sandbox.state import DAY, Account, Post, State, TikTokPublish, Token, iso

API = r"/tiktok/api/v2/"
ACCESS_SECONDS = 7200
REFRESH_SECONDS = int(180 * DAY)
CODE_SECONDS = 600
UPLOAD_URL_SECONDS = 3600
MB = 1024 * 1024
SINGLE_CHUNK_BELOW = 5 * MB
MIN_CHUNK, MAX_CHUNK = 5 * MB, 64 * MB
MAX_VIDEO = 4 * 1024 * MB
MAX_CHUNKS = 1000
MAX_TITLE = 2200  # UTF-16 code units
MAX_PHOTO_TITLE = 90
MAX_PHOTO_DESCRIPTION = 4000
MAX_PHOTOS = 35
MAX_PENDING_SHARES = 5
PER_MINUTE = {"creator_info": 20, "status": 30, "read": 600}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
ALL_SCOPES = ["user.info.basic", "video.publish", "video.upload", "video.list"]


def register(router: Router) -> None:
    tt = "tiktok"
    router.add("GET", r"/tiktok/www/v2/auth/authorize/?", authorize, platform=tt, names={"authorize"})
    router.add("POST", API + r"oauth/token/?", token, platform=tt, names={"token"})
    router.add("POST", API + r"oauth/revoke/?", revoke, platform=tt, names={"revoke"})
    router.add("GET", API + r"user/info/?", user_info, platform=tt, names={"user_info"})
    router.add(
        "POST", API + r"post/publish/creator_info/query/?", creator_info, platform=tt, names={"creator_info"}
    )
    router.add(
        "POST",
        API + r"post/publish/video/init/?",
        video_init,
        platform=tt,
        names={"create_post", "video_init"},
    )
    router.add(
        "POST",
        API + r"post/publish/inbox/video/init/?",
        inbox_init,
        platform=tt,
        names={"create_post", "inbox_init"},
    )
    router.add(
        "POST",
        API + r"post/publish/content/init/?",
        photo_init,
        platform=tt,
        names={"create_post", "photo_init"},
    )
    router.add("PUT", r"/tiktok/upload/(?P<upload>[\w-]+)", upload, platform=tt, names={"upload"})
    router.add("POST", API + r"post/publish/status/fetch/?", status, platform=tt, names={"status"})
    router.add("POST", API + r"post/publish/cancel/?", cancel, platform=tt, names={"cancel"})
    router.add("POST", API + r"video/list/?", video_list, platform=tt, names={"list_posts", "video_list"})


# The error envelopes -------------------------------------------------------------------------


def log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + State.random(18, "0123456789ABCDEF")


def envelope(status: int, data: Any, code: str = "ok", message: str = "", **headers: str) -> Response:
    body = {"data": data, "error": {"code": code, "message": message, "log_id": log_id()}}
    return json_response(status, body, headers)


def fail(status: int, code: str, message: str) -> ApiError:
    return ApiError(envelope(status, {}, code, message))


def oauth_error(error: str, description: str, status: int = 400) -> ApiError:
    body = {"error": error, "error_description": description, "log_id": log_id()}
    return ApiError(json_response(status, body))


def invalid_token() -> ApiError:
    return fail(401, "access_token_invalid", "The access token is invalid or not found in the request.")


class TikTokErrors:
    def for_fault(self, state: State, request: Request, fault: Fault, names: frozenset[str]) -> Response:
        status = int(fault.number("status", 0))
        if fault.kind == "server_error":
            message = fault.text("message", "Something went wrong. Please try again later.")
            return envelope(status or 500, {}, fault.text("code", "internal_error"), message)
        if fault.kind == "rate_limit":
            return envelope(429, {}, "rate_limit_exceeded", "API rate limit exceeded, please retry later.")
        if fault.kind in ("expired_token", "revoked_token"):
            if "token" in names:
                return oauth_error("invalid_grant", "Refresh token is invalid or expired.").response
            return invalid_token().response
        return envelope(
            status or 403,
            {},
            fault.text("code", "spam_risk_too_many_posts"),
            fault.text("message", "The daily post cap for this creator has been reached."),
        )

    def unknown_endpoint(self, request: Request) -> Response:
        return envelope(404, {}, "not_found", f"No endpoint at {request.path}")

    def internal_error(self, request: Request) -> Response:
        return envelope(500, {}, "internal_error", "Something went wrong. Please try again later.")


# Tokens --------------------------------------------------------------------------------------


def authenticate(state: State, request: Request, *scopes: str) -> tuple[Token, Account]:
    """The token and creator; with several scopes, any one of them is enough."""
    authorization = request.headers.get("authorization", "")
    value = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    found = state.tokens.get(value)
    if found is None or found.family != "tiktok" or found.kind != "access" or state.token_problem(found):
        raise invalid_token()
    if scopes and not set(scopes) & set(found.scopes):
        raise fail(
            401,
            "scope_not_authorized",
            "The user did not authorize the scope required for completing this request.",
        )
    return found, state.accounts[found.person_id]


def per_minute(state: State, found: Token, group: str, limit: int) -> None:
    if state.hit(f"tiktok:{found.value}:{group}", 60) > limit and state.config.rate_limits:
        raise fail(429, "rate_limit_exceeded", "API rate limit exceeded, please retry later.")


def issue_tokens(
    state: State, *, person_id: str, scopes: list[str], client_key: str, grant: str = ""
) -> dict[str, Any]:
    access = state.issue_token(
        family="tiktok",
        kind="access",
        person_id=person_id,
        lifetime=ACCESS_SECONDS,
        grant=grant,
        prefix="act.",
        scopes=scopes,
        client_id=client_key,
    )
    refresh = state.issue_token(
        family="tiktok",
        kind="refresh",
        person_id=person_id,
        lifetime=REFRESH_SECONDS,
        grant=access.grant,
        prefix="rft.",
        scopes=scopes,
        client_id=client_key,
    )
    return {
        "access_token": access.value,
        "expires_in": ACCESS_SECONDS,
        "open_id": person_id,
        "refresh_expires_in": REFRESH_SECONDS,
        "refresh_token": refresh.value,
        "scope": ",".join(scopes),
        "token_type": "Bearer",
    }


# Login ---------------------------------------------------------------------------------------


def create_creator(
    state: State,
    *,
    name: str,
    username: str,
    key: str = "",
    private: bool = False,
    options: list[str] | None = None,
    max_duration: int = 600,
) -> Account:
    person = state.add_person(
        family="tiktok", person_id="-000" + state.random(28, "abcdef0123456789"), name=name, key=key or name
    )
    return state.add_account(
        Account(
            platform="tiktok",
            id=person.id,
            name=name,
            username=username,
            owner=person.id,
            created_at=state.now(),
            privacy_level_options=options or (PRIVATE_OPTIONS if private else PUBLIC_OPTIONS),
            max_video_post_duration_sec=max_duration,
        )
    )


def authorize(state: State, request: Request) -> Response:
    client_key = request.param("client_key")
    redirect_uri = request.param("redirect_uri")
    if (
        request.param("response_type") != "code"
        or not redirect_uri
        or not state.app_secret_ok("tiktok", client_key, None)
    ):
        return html_response(
            400, "<h1>Something went wrong</h1><p>client_key or redirect_uri is invalid.</p>"
        )
    if request.param("sandbox_deny"):
        query = {
            "error": "access_denied",
            "error_description": "The user denied access",
            "state": request.param("state"),
        }
        return redirect(_with_query(redirect_uri, query))
    key = request.param("sandbox_user") or "Sam Sandbox"
    person = (
        state.persons.get(key)
        if state.account(key, "tiktok")
        else state.find_person(family="tiktok", key=key)
    )
    if person is None:
        person_id = create_creator(
            state, name=key, username=re.sub(r"[^a-z0-9_.]", "", key.lower()), key=key
        ).id
    else:
        person_id = person.id
    scopes = [scope for scope in request.param("scope").split(",") if scope]
    code = state.issue_code(
        family="tiktok",
        person_id=person_id,
        client_id=client_key,
        redirect_uri=redirect_uri,
        scopes=scopes,
        lifetime=CODE_SECONDS,
        code_challenge=request.param("code_challenge"),
        code_challenge_method=request.param("code_challenge_method", "S256"),
    )
    query = {"code": code.value, "scopes": ",".join(scopes), "state": request.param("state")}
    return redirect(_with_query(redirect_uri, query))


def _with_query(url: str, query: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def _pkce_ok(verifier: str, challenge: str) -> bool:
    """TikTok's desktop flow hex-encodes the SHA-256; standard S256 (base64url) is accepted too."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return bool(verifier) and challenge in (
        digest.hex(),
        base64.urlsafe_b64encode(digest).decode().rstrip("="),
        verifier,
    )


def token(state: State, request: Request) -> Response:
    client_key = request.param("client_key")
    if not request.param("client_secret") or not state.app_secret_ok(
        "tiktok", client_key, request.param("client_secret")
    ):
        raise oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
    grant_type = request.param("grant_type")
    if grant_type == "authorization_code":
        code = state.codes.get(request.param("code"))
        if code is None or code.family != "tiktok" or code.used or code.client_id != client_key:
            raise oauth_error("invalid_grant", "Authorization code is invalid.")
        if code.expires_at <= state.now():
            raise oauth_error("invalid_grant", "Authorization code is expired.")
        if code.redirect_uri != request.param("redirect_uri"):
            raise oauth_error("invalid_request", "Redirect URI does not match the one used to authorize.")
        code.used = True
        if code.code_challenge and not _pkce_ok(request.param("code_verifier"), code.code_challenge):
            raise oauth_error("invalid_grant", "Code verifier is invalid.")
        body = issue_tokens(state, person_id=code.person_id, scopes=code.scopes, client_key=client_key)
        return json_response(200, body)
    if grant_type == "refresh_token":
        old = state.tokens.get(request.param("refresh_token"))
        if (
            old is None
            or old.family != "tiktok"
            or old.kind != "refresh"
            or old.used
            or state.token_problem(old)
            or (old.client_id and old.client_id != client_key)
        ):
            raise oauth_error("invalid_grant", "Refresh token is invalid or expired.")
        old.used = True  # rotation: the old refresh token stops working once a new one is issued
        body = issue_tokens(
            state, person_id=old.person_id, scopes=old.scopes, client_key=client_key, grant=old.grant
        )
        return json_response(200, body)
    raise oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")


def revoke(state: State, request: Request) -> Response:
    if not state.app_secret_ok("tiktok", request.param("client_key"), request.param("client_secret") or None):
        raise oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
    state.revoke_grant(request.param("token"))
    return json_response(200, {})


def user_info(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "user.info.basic")
    per_minute(state, found, "read", PER_MINUTE["read"])
    available = {
        "open_id": account.id,
        "union_id": "union" + account.id,
        "avatar_url": f"https://sandbox.invalid/tiktok/{account.username}.jpeg",
        "display_name": account.name,
        "username": account.username,
    }
    wanted = [field for field in request.param("fields", "open_id,display_name").split(",") if field]
    return envelope(200, {"user": {key: available[key] for key in wanted if key in available}})


# Publishing ----------------------------------------------------------------------------------


def creator_info(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "video.publish")
    per_minute(state, found, "creator_info", PER_MINUTE["creator_info"])
    return envelope(
        200,
        {
            "creator_avatar_url": f"https://sandbox.invalid/tiktok/{account.username}.jpeg",
            "creator_username": account.username,
            "creator_nickname": account.name,
            "privacy_level_options": account.privacy_level_options,
            "comment_disabled": False,
            "duet_disabled": False,
            "stitch_disabled": False,
            "max_video_post_duration_sec": account.max_video_post_duration_sec,
        },
    )


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.json, dict):
        raise fail(400, "invalid_param", "The request body must be a JSON object.")
    return request.json


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    section = body.get(name)
    if not isinstance(section, dict):
        raise fail(400, "invalid_param", f"{name} is required.")
    return section


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_privacy(account: Account, post_info: dict[str, Any]) -> str:
    privacy = post_info.get("privacy_level")
    if not isinstance(privacy, str) or not privacy:
        raise fail(400, "invalid_param", "post_info.privacy_level is required.")
    if privacy not in account.privacy_level_options:
        raise fail(
            403,
            "privacy_level_option_mismatch",
            f"privacy_level {privacy} is not one of the creator's options: "
            + ", ".join(account.privacy_level_options),
        )
    return privacy


def _check_daily_cap(state: State, account: Account) -> None:
    since = state.now() - DAY
    recent = [
        post
        for post in state.posts_of("tiktok", account.id)
        if post.created_at > since and post.status != "failed" and post.extra.get("mode") == "DIRECT_POST"
    ]
    if state.config.rate_limits and len(recent) >= state.config.tiktok_posts_per_day:
        raise fail(403, "spam_risk_too_many_posts", "The daily post cap for this creator has been reached.")


def _chunk_plan(source: dict[str, Any]) -> tuple[int, int, int]:
    """video_size, chunk_size, total_chunk_count, checked against the chunking rules (§4.2)."""
    values = [source.get(name) for name in ("video_size", "chunk_size", "total_chunk_count")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        raise fail(
            400, "invalid_param", "video_size, chunk_size and total_chunk_count must be positive integers."
        )
    size, chunk, count = (int(v) for v in values if isinstance(v, int))
    if size > MAX_VIDEO:
        raise fail(400, "invalid_param", "The video is larger than 4 GB.")
    if size < SINGLE_CHUNK_BELOW:
        if chunk != size or count != 1:
            raise fail(
                400, "invalid_param", "A video under 5 MB must be uploaded as one chunk of its full size."
            )
        return size, chunk, count
    if not MIN_CHUNK <= chunk <= MAX_CHUNK and not (chunk == size and size <= MAX_CHUNK):
        raise fail(400, "invalid_param", "chunk_size must be between 5 MB and 64 MB.")
    if count != size // chunk or not 1 <= count <= MAX_CHUNKS:
        raise fail(
            400, "invalid_param", f"total_chunk_count must be {size // chunk} (video_size / chunk_size)."
        )
    return size, chunk, count


def _new_publish(
    state: State,
    request: Request,
    *,
    found: Token,
    account: Account,
    prefix: str,
    source: str,
    media_type: str,
    mode: str,
    post_info: dict[str, Any],
) -> TikTokPublish:
    now = state.now()
    publish = TikTokPublish(
        id=prefix + state.new_id("7", 19),
        account_id=account.id,
        token=found.value,
        source=source,
        media_type=media_type,
        mode=mode,
        post_info=post_info,
        created_at=now,
        post_id=state.new_id("73", 19),
        status="PROCESSING_UPLOAD" if source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD",
    )
    if request.fault is not None and request.fault.kind == "processing_failed":
        default = (
            "file_format_check_failed" if source == "FILE_UPLOAD" else f"{media_type.lower()}_pull_failed"
        )
        publish.fail_on_processing = request.fault.text("fail_reason", default)
    if source != "FILE_UPLOAD":
        publish.processing_until = now + state.config.tiktok_processing_seconds
    state.tiktok_publishes[publish.id] = publish
    kind = "photo" if media_type == "PHOTO" else "video"
    state.add_post(
        Post(
            platform="tiktok",
            id=publish.post_id,
            account_id=account.id,
            text=str(post_info.get("title", "")),
            created_at=now,
            permalink=f"{request.base_url}/tiktok/www/@{account.username}/{kind}/{publish.post_id}",
            kind=kind,
            status="processing",
            extra={
                "publish_id": publish.id,
                "publish_status": publish.status,
                "mode": mode,
                "privacy_level": post_info.get("privacy_level"),
                "description": post_info.get("description"),
            },
        )
    )
    return publish


def _source_info(
    state: State, request: Request, publish_args: dict[str, Any], source: dict[str, Any]
) -> dict[str, Any]:
    """Validates the video source, creates the publish, and returns the response `data`."""
    kind = source.get("source")
    if kind == "FILE_UPLOAD":
        size, chunk, count = _chunk_plan(source)
        publish = _new_publish(
            state, request, source="FILE_UPLOAD", prefix="v_pub_file~v2-1.", **publish_args
        )
        publish.video_size, publish.chunk_size, publish.total_chunk_count = size, chunk, count
        publish.upload_id = state.random(24)
        publish.upload_expires_at = state.now() + UPLOAD_URL_SECONDS
        state.tiktok_uploads[publish.upload_id] = publish.id
        state.posts[publish.post_id].media = [{"type": "video", "size": size}]
        return {
            "publish_id": publish.id,
            "upload_url": f"{request.base_url}/tiktok/upload/{publish.upload_id}",
        }
    if kind == "PULL_FROM_URL":
        url = source.get("video_url")
        if not isinstance(url, str) or not re.match(r"https?://", url):
            raise fail(400, "invalid_param", "source_info.video_url must be an http(s) URL.")
        _check_url_ownership(state, [url])
        publish = _new_publish(
            state, request, source="PULL_FROM_URL", prefix="v_pub_url~v2-1.", **publish_args
        )
        publish.source_urls = [url]
        state.posts[publish.post_id].media = [{"type": "video", "url": url}]
        return {"publish_id": publish.id}
    raise fail(400, "invalid_param", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")


def _check_url_ownership(state: State, urls: list[str]) -> None:
    prefixes = state.config.tiktok_verified_url_prefixes
    if prefixes and not all(any(url.startswith(prefix) for prefix in prefixes) for url in urls):
        raise fail(403, "url_ownership_unverified", "The URL's domain or prefix has not been verified.")


def video_init(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "video.publish")
    per_minute(state, found, "init", state.config.tiktok_inits_per_minute)
    body = _body(request)
    post_info = _section(body, "post_info")
    source = _section(body, "source_info")
    _check_privacy(account, post_info)
    title = post_info.get("title", "")
    if not isinstance(title, str) or _utf16_length(title) > MAX_TITLE:
        raise fail(400, "invalid_param", f"post_info.title must be text of at most {MAX_TITLE} UTF-16 units.")
    _check_daily_cap(state, account)
    args = {
        "found": found,
        "account": account,
        "media_type": "VIDEO",
        "mode": "DIRECT_POST",
        "post_info": post_info,
    }
    return envelope(200, _source_info(state, request, args, source))


def inbox_init(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "video.upload")
    per_minute(state, found, "init", state.config.tiktok_inits_per_minute)
    source = _section(_body(request), "source_info")
    since = state.now() - DAY
    pending = [
        p
        for p in state.posts_of("tiktok", account.id)
        if p.extra.get("mode") == "INBOX" and p.created_at > since and p.status != "failed"
    ]
    if state.config.rate_limits and len(pending) >= MAX_PENDING_SHARES:
        raise fail(403, "spam_risk_too_many_pending_share", "The user has too many pending shares.")
    args = {"found": found, "account": account, "media_type": "VIDEO", "mode": "INBOX", "post_info": {}}
    return envelope(200, _source_info(state, request, args, source))


def photo_init(state: State, request: Request) -> Response:
    body = _body(request)
    mode = body.get("post_mode", "DIRECT_POST")
    found, account = authenticate(
        state, request, "video.publish" if mode == "DIRECT_POST" else "video.upload"
    )
    per_minute(state, found, "init", state.config.tiktok_inits_per_minute)
    if body.get("media_type") != "PHOTO" or mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
        raise fail(
            400, "invalid_param", "media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD."
        )
    post_info = _section(body, "post_info")
    source = _section(body, "source_info")
    if mode == "DIRECT_POST":
        _check_privacy(account, post_info)
        _check_daily_cap(state, account)
    title, description = post_info.get("title", ""), post_info.get("description", "")
    if not isinstance(title, str) or _utf16_length(title) > MAX_PHOTO_TITLE:
        raise fail(400, "invalid_param", f"post_info.title must be at most {MAX_PHOTO_TITLE} characters.")
    if not isinstance(description, str) or _utf16_length(description) > MAX_PHOTO_DESCRIPTION:
        raise fail(
            400, "invalid_param", f"post_info.description must be at most {MAX_PHOTO_DESCRIPTION} characters."
        )
    images = source.get("photo_images")
    cover = source.get("photo_cover_index", 0)
    if source.get("source") != "PULL_FROM_URL":
        raise fail(400, "invalid_param", "Photos can only be posted with source PULL_FROM_URL.")
    if (
        not isinstance(images, list)
        or not 1 <= len(images) <= MAX_PHOTOS
        or not all(isinstance(u, str) for u in images)
    ):
        raise fail(400, "invalid_param", f"source_info.photo_images must list 1 to {MAX_PHOTOS} URLs.")
    if not isinstance(cover, int) or not 0 <= cover < len(images):
        raise fail(400, "invalid_param", "source_info.photo_cover_index is out of range.")
    _check_url_ownership(state, images)
    publish = _new_publish(
        state,
        request,
        found=found,
        account=account,
        prefix="p_pub_url~v2.",
        source="PULL_FROM_URL",
        media_type="PHOTO",
        mode="DIRECT_POST" if mode == "DIRECT_POST" else "INBOX",
        post_info=post_info,
    )
    publish.source_urls = list(images)
    state.posts[publish.post_id].media = [{"type": "photo", "url": url} for url in images]
    return envelope(200, {"publish_id": publish.id})


def upload(state: State, request: Request) -> Response:
    publish = state.tiktok_publishes.get(state.tiktok_uploads.get(request.path_params["upload"], ""))
    if publish is None:
        raise fail(404, "not_found", "No upload task for this upload_url.")
    if publish.upload_expires_at <= state.now():
        raise fail(403, "upload_url_expired", "The upload_url has expired.")
    if publish.uploaded_bytes >= publish.video_size:
        raise fail(400, "invalid_param", "All chunks were already uploaded.")
    found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", "").strip())
    if found is None:
        raise fail(400, "invalid_param", "Content-Range must be `bytes {first}-{last}/{total}`.")
    first, last, total = (int(group) for group in found.groups())
    if total != publish.video_size or last < first:
        raise fail(400, "invalid_param", "Content-Range total does not match video_size.")
    index = first // publish.chunk_size
    expected = publish.chunk_size if index < publish.total_chunk_count - 1 else publish.video_size - first
    if first != publish.uploaded_bytes or last - first + 1 != expected:
        raise ApiError(
            envelope(
                416,
                {},
                "invalid_param",
                f"Expected bytes {publish.uploaded_bytes}-{publish.uploaded_bytes + expected - 1}.",
                **{"Content-Range": _uploaded_range(publish)},
            )
        )
    if len(request.body) != expected:
        raise fail(400, "invalid_param", "The body length does not match Content-Range.")
    publish.uploaded_bytes = last + 1
    headers = {"Content-Range": _uploaded_range(publish)}
    if publish.uploaded_bytes < publish.video_size:
        return Response(status=206, headers=headers, content_type="text/plain")
    publish.processing_until = state.now() + state.config.tiktok_processing_seconds
    return Response(status=201, headers=headers, content_type="text/plain")


def _uploaded_range(publish: TikTokPublish) -> str:
    return f"bytes 0-{max(0, publish.uploaded_bytes - 1)}/{publish.video_size}"


def _own_publish(state: State, request: Request, account: Account) -> TikTokPublish:
    publish_id = _body(request).get("publish_id")
    publish = state.tiktok_publishes.get(publish_id) if isinstance(publish_id, str) else None
    if publish is None or publish.account_id != account.id:
        raise fail(400, "invalid_publish_id", f"publish_id {publish_id} was not found.")
    return publish


def status(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "video.publish", "video.upload")
    per_minute(state, found, "status", PER_MINUTE["status"])
    publish = _own_publish(state, request, account)
    data: dict[str, Any] = {"status": publish.status}
    if publish.status == "FAILED":
        data["fail_reason"] = publish.fail_reason
    data["publicaly_available_post_id"] = [int(post_id) for post_id in publish.public_post_ids]
    if publish.source == "FILE_UPLOAD":
        data["uploaded_bytes"] = publish.uploaded_bytes
    elif publish.status != "PROCESSING_DOWNLOAD":
        data["downloaded_bytes"] = 1024 * 1024 * len(publish.source_urls)
    else:
        data["downloaded_bytes"] = 0
    return envelope(200, data)


def cancel(state: State, request: Request) -> Response:
    _, account = authenticate(state, request, "video.publish", "video.upload")
    publish = _own_publish(state, request, account)
    if publish.status != "PROCESSING_DOWNLOAD":
        raise fail(400, "publish_not_cancellable", "Only a pull that is still downloading can be cancelled.")
    _finish(state, publish, "FAILED", fail_reason="publish_cancelled")
    return envelope(200, {})


def video_list(state: State, request: Request) -> Response:
    found, account = authenticate(state, request, "video.list")
    per_minute(state, found, "read", PER_MINUTE["read"])
    body = request.json if isinstance(request.json, dict) else {}
    max_count = body.get("max_count", 10)
    cursor = body.get("cursor")
    if not isinstance(max_count, int) or not 1 <= max_count <= 20:
        raise fail(400, "invalid_params", "max_count must be between 1 and 20.")
    posts = [
        p
        for p in state.posts_of("tiktok", account.id)
        if p.status == "published"
        and p.kind == "video"
        and (not isinstance(cursor, int) or int(p.created_at * 1000) < cursor)
    ]
    posts.sort(key=lambda p: p.created_at, reverse=True)
    page = posts[:max_count]
    wanted = [f for f in (request.param("fields") or "id,title,create_time,share_url").split(",") if f]
    videos = []
    for post in page:
        available = {
            "id": post.id,
            "title": post.text,
            "video_description": post.text,
            "create_time": int(post.created_at),
            "share_url": post.permalink,
            "embed_link": f"{request.base_url}/tiktok/www/embed/v2/{post.id}",
            "duration": 15,
            "cover_image_url": f"https://sandbox.invalid/tiktok/{post.id}.jpeg",
            "height": 1920,
            "width": 1080,
        }
        videos.append({key: available[key] for key in wanted if key in available})
    next_cursor = int(page[-1].created_at * 1000) if page else (cursor if isinstance(cursor, int) else 0)
    return envelope(200, {"videos": videos, "cursor": next_cursor, "has_more": len(posts) > max_count})


# Time ----------------------------------------------------------------------------------------


def _finish(state: State, publish: TikTokPublish, status_name: str, *, fail_reason: str = "") -> None:
    publish.status = status_name
    publish.fail_reason = fail_reason
    post = state.posts[publish.post_id]
    post.extra["publish_status"] = status_name
    post.status = {"PUBLISH_COMPLETE": "published", "SEND_TO_USER_INBOX": "inbox"}.get(status_name, "failed")
    if status_name == "PUBLISH_COMPLETE":
        publish.completed_at = publish.processing_until or state.now()
        post.created_at = publish.completed_at


def settle(state: State) -> None:
    now = state.now()
    for publish in state.tiktok_publishes.values():
        due = publish.processing_until is not None and now >= publish.processing_until
        if publish.status.startswith("PROCESSING") and due:
            if publish.fail_on_processing:
                _finish(state, publish, "FAILED", fail_reason=publish.fail_on_processing)
            else:
                done = "SEND_TO_USER_INBOX" if publish.mode == "INBOX" else "PUBLISH_COMPLETE"
                _finish(state, publish, done)
        public = publish.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE"
        if (
            publish.status == "PUBLISH_COMPLETE"
            and not publish.public_post_ids
            and publish.completed_at is not None
            and now >= publish.completed_at + state.config.tiktok_moderation_seconds
            and (public or state.config.tiktok_private_post_ids)
        ):
            publish.public_post_ids = [publish.post_id]
            state.posts[publish.post_id].extra["publicaly_available_post_id"] = publish.post_id


def create_account(
    state: State,
    *,
    name: str,
    username: str,
    private: bool = False,
    options: list[str] | None = None,
    client_id: str = "",
) -> dict[str, Any]:
    """`/_sandbox/accounts` for TikTok: a creator with every scope; access 2 h, refresh 180 days."""
    account = create_creator(
        state,
        name=name,
        username=username,
        key=f"account:{state.random(8)}",
        private=private,
        options=options,
    )
    body = issue_tokens(state, person_id=account.id, scopes=ALL_SCOPES, client_key=client_id)
    return {
        "platform": "tiktok",
        "account_id": account.id,
        "display_name": account.name,
        "username": account.username,
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
        "expires_at": iso(state.now() + ACCESS_SECONDS),
        "refresh_expires_at": iso(state.now() + REFRESH_SECONDS),
        "privacy_level_options": account.privacy_level_options,
    }
