"""TikTok Content Posting API: login, creator info, video and photo init, chunked upload, status, list.

A publish moves PROCESSING_UPLOAD (until the last chunk answers 201) or PROCESSING_DOWNLOAD, then
after `tiktok_processing_seconds` to PUBLISH_COMPLETE (SEND_TO_USER_INBOX for drafts, FAILED when a
`processing_failed` fault was armed). A public post gets its `publicaly_available_post_id` after a
further `tiktok_moderation_seconds`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox import oauth
from sandbox.faults import Fault
from sandbox.routing import ApiError, Request, Response, Router, html_response, json_response
from sandbox.state import DAY, Account, Post, State, TikTokPublish, Token, account_answer, iso

API = r"/tiktok/api/v2/"
ACCESS_SECONDS = 7200
REFRESH_SECONDS = int(180 * DAY)
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
PER_MINUTE = {"creator_info": 20, "status": 30, "read": 600}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
ALL_SCOPES = ["user.info.basic", "video.publish", "video.upload", "video.list"]


def register(router: Router) -> None:
    tt, publish = "tiktok", API + r"post/publish/"
    router.add("GET", r"/tiktok/www/v2/auth/authorize/?", authorize, platform=tt, names={"authorize"})
    router.add("POST", API + r"oauth/token/?", token, platform=tt, names={"token"})
    router.add("GET", API + r"user/info/?", user_info, platform=tt, names={"user_info"})
    router.add("POST", publish + "creator_info/query/?", creator_info, platform=tt, names={"creator_info"})
    router.add("POST", publish + "video/init/?", video_init, platform=tt, names={"create_post", "video_init"})
    router.add(
        "POST", publish + "content/init/?", photo_init, platform=tt, names={"create_post", "photo_init"}
    )
    router.add("PUT", r"/tiktok/upload/(?P<upload>[\w-]+)", upload, platform=tt, names={"upload"})
    router.add("POST", publish + "status/fetch/?", status, platform=tt, names={"status"})


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


GRANT = oauth.Grant(
    family="tiktok",
    code_seconds=600,
    access_seconds=ACCESS_SECONDS,
    refresh_seconds=REFRESH_SECONDS,
    access_prefix="act.",
    refresh_prefix="rft.",
    scope_separator=",",
    bearer="Bearer",
    # TikTok's desktop flow hex-encodes the SHA-256; standard S256 (base64url) is accepted too.
    pkce_forms=frozenset({"s256", "hex", "plain"}),
    denial={"error_description": "The user denied access"},
    echo_scopes=True,
    refusal=oauth_error,
    refusals={
        "invalid_code": ("invalid_grant", "Authorization code is invalid."),
        "expired_code": ("invalid_grant", "Authorization code is expired."),
        "wrong_redirect": ("invalid_request", "Redirect URI does not match the one used to authorize."),
        "bad_verifier": ("invalid_grant", "Code verifier is invalid."),
        "bad_refresh": ("invalid_grant", "Refresh token is invalid or expired."),
        "unsupported_grant": ("unsupported_grant_type", "Unsupported grant_type"),
    },
)


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
                return GRANT.refuse("bad_refresh").response
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


def token_body(access: Token, refresh: Token | None) -> dict[str, Any]:
    return {
        **oauth.token_body(GRANT, access, refresh),
        "open_id": access.person_id,
        "refresh_expires_in": int(REFRESH_SECONDS),
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

    def log_in() -> str:
        key = request.param("sandbox_user") or "Sam Sandbox"
        person = (
            state.persons.get(key)
            if state.account(key, "tiktok")
            else state.find_person(family="tiktok", key=key)
        )
        if person is not None:
            return person.id
        return create_creator(state, name=key, username=re.sub(r"[^a-z0-9_.]", "", key.lower()), key=key).id

    scopes = [scope for scope in request.param("scope").split(",") if scope]
    return oauth.login_redirect(state, GRANT, request, client_id=client_key, scopes=scopes, log_in=log_in)


def token(state: State, request: Request) -> Response:
    client_key = request.param("client_key")
    if not request.param("client_secret") or not state.app_secret_ok(
        "tiktok", client_key, request.param("client_secret")
    ):
        raise oauth_error("invalid_client", "Client key or secret is incorrect.", 401)
    return json_response(200, token_body(*oauth.exchange(state, GRANT, request, client_key)))


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
    """video_size, chunk_size, total_chunk_count, checked against TikTok's chunking rules."""
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
    access, refresh = oauth.issue(state, GRANT, person_id=account.id, scopes=ALL_SCOPES, client_id=client_id)
    return {
        **account_answer(account, access, refresh),
        "refresh_expires_at": iso(state.now() + REFRESH_SECONDS),
        "privacy_level_options": account.privacy_level_options,
    }
