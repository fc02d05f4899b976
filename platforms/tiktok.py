"""TikTok Content Posting API client: Direct Post of one video (FILE_UPLOAD) or 1-35 photos
(PULL_FROM_URL).

What the client relies on is in docs/platforms.md, TikTok. Every request goes through
`platforms.http.send`; TikTok's error envelope and status `fail_reason`s are sorted by
`classify_error`, the one place that decides what a TikTok error means.

Crash safety rests on `publish_id`: it is checkpointed as soon as init returns it, before any byte
is uploaded, and a later attempt asks TikTok about it before ever starting a new post.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import requests

from platforms import base, http
from platforms.media import media_name
from platforms.oauth import OAuth2Client
from platforms.progress import now

MB = 1024 * 1024

# -- limits (TikTok's Direct Post and Media Transfer guides) ---------------------------------------
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
PHOTO_TYPES = frozenset({"image/jpeg", "image/webp"})
MAX_PHOTOS = 35
MAX_VIDEO_TITLE = 2200  # UTF-16 code units
MAX_PHOTO_TITLE = 90
MAX_PHOTO_DESCRIPTION = 4000
MAX_VIDEO_BYTES = 4 * 1024 * MB
MAX_PHOTO_BYTES = 20 * MB
PRIVACY_LEVELS = frozenset(
    {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
)
# Chunks are 5-64 MB (the last up to 128 MB), 1-1000 of them; files under 5 MB go in one piece.
MIN_CHUNK_BYTES = 5 * MB
MAX_CHUNK_BYTES = 64 * MB
CHUNK_BYTES = 10 * MB
MAX_CHUNKS = 1000

# -- endpoints ---------------------------------------------------------------------------------------
CREATOR_INFO_PATH = "/v2/post/publish/creator_info/query/"
VIDEO_INIT_PATH = "/v2/post/publish/video/init/"
CONTENT_INIT_PATH = "/v2/post/publish/content/init/"
STATUS_PATH = "/v2/post/publish/status/fetch/"
TOKEN_PATH = "/v2/oauth/token/"  # noqa: S105 (a URL path, not a secret)
USER_INFO_PATH = "/v2/user/info/"
AUTHORIZE_PATH = "/v2/auth/authorize/"
SCOPES = "user.info.basic,video.publish,video.upload"
DEFAULT_WEB_URL = "https://www.tiktok.com"

# -- pacing ------------------------------------------------------------------------------------------
# TikTok processes a post for tens of seconds after its upload (or pull); its status is read again
# after this long (status fetch allows 30 calls a minute per token).
STATUS_CHECK_IN = timedelta(seconds=10)
# After PUBLISH_COMPLETE the public post id can take from seconds to hours (moderation): it is read
# again for this long, then the publish_id and the profile link are recorded instead.
POST_ID_GRACE = timedelta(seconds=10)
POST_ID_CHECK_IN = timedelta(seconds=5)
CHUNK_RETRIES = 2  # TikTok's answer to a chunk's 5xx is to send that chunk again
RATE_LIMIT_WAIT = timedelta(seconds=60)  # TikTok's limits are per one-minute sliding window

# -- what publish checkpoints ------------------------------------------------------------------------
PUBLISH_ID = "publish_id"
UPLOAD_STATE = "tiktok_upload"  # "started" → "final_chunk_sent" → "complete"
VIDEO_SIZE = "tiktok_video_size"
USERNAME = "tiktok_username"
COMPLETED_AT = "tiktok_completed_at"  # when a status read first said PUBLISH_COMPLETE


def utf16_length(text: str) -> int:
    """TikTok counts caption length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def chunk_plan(video_size: int, chunk_size: int = CHUNK_BYTES) -> tuple[int, int]:
    """(chunk_size, total_chunk_count) for TikTok's FILE_UPLOAD init.

    TikTok wants total_chunk_count = floor(video_size / chunk_size), the last chunk taking the
    remainder (so it is between one and two chunk sizes, ≤ 128 MB with chunks ≤ 64 MB).
    """
    if video_size <= 0:
        raise ValueError("video_size must be positive")
    if not MIN_CHUNK_BYTES <= chunk_size <= MAX_CHUNK_BYTES:
        raise ValueError("TikTok chunks are 5-64 MB")
    if video_size <= chunk_size:
        return video_size, 1  # under 5 MB it must be one chunk; up to one chunk size it may be
    return chunk_size, min(video_size // chunk_size, MAX_CHUNKS)


def chunk_ranges(video_size: int, chunk_size: int, count: int) -> list[tuple[int, int]]:
    """Inclusive (first, last) byte of each chunk; the last runs to the end of the file."""
    return [
        (index * chunk_size, video_size - 1 if index == count - 1 else (index + 1) * chunk_size - 1)
        for index in range(count)
    ]


# -- errors ------------------------------------------------------------------------------------------
_RETRY = "retry"
_PERMANENT = "permanent"
_RECONNECT = "reconnect"
_REFRESH = "refresh"

# code (API error code, OAuth error, or status fail_reason) → (kind, message for the user)
_ERRORS: dict[str, tuple[str, str]] = {
    "access_token_invalid": (
        _REFRESH,
        "TikTok rejected the access token; SoSocial will refresh it and try once more.",
    ),
    "scope_not_authorized": (
        _RECONNECT,
        "TikTok says SoSocial was not allowed to post for this account (a permission was not "
        "granted). Reconnect the TikTok account and allow posting.",
    ),
    "auth_removed": (
        _RECONNECT,
        "The account removed SoSocial's access on TikTok. Reconnect the TikTok account.",
    ),
    "rate_limit_exceeded": (
        _RETRY,
        "TikTok's per-minute limit for this account was reached; SoSocial will try again in a minute.",
    ),
    "spam_risk_too_many_posts": (
        _PERMANENT,
        "This TikTok account has reached TikTok's daily posting limit. TikTok does not say when "
        "it resets: reschedule the post for tomorrow or later.",
    ),
    "spam_risk_too_many_pending_share": (
        _PERMANENT,
        "Too many posts are waiting in this account's TikTok inbox. Finish or delete them in the "
        "TikTok app, then schedule again.",
    ),
    "spam_risk_user_banned_from_posting": (
        _PERMANENT,
        "TikTok has blocked this account from posting. Check the account in the TikTok app.",
    ),
    "reached_active_user_cap": (
        _PERMANENT,
        "SoSocial's TikTok app has reached TikTok's daily limit of accounts that may post. "
        "Reschedule the post for tomorrow, and tell whoever runs SoSocial.",
    ),
    "unaudited_client_can_only_post_to_private_accounts": (
        _PERMANENT,
        "SoSocial's TikTok app has not passed TikTok's review yet, so it can only post to private "
        "accounts. Make the account private, or ask whoever runs SoSocial about the review.",
    ),
    "url_ownership_unverified": (
        _PERMANENT,
        "TikTok will not fetch the photos because their web address is not verified for "
        "SoSocial's TikTok app. Ask whoever runs SoSocial to verify the media domain with TikTok.",
    ),
    "privacy_level_option_mismatch": (
        _PERMANENT,
        "The chosen TikTok privacy setting is not available for this account. Edit the post, "
        "choose another privacy setting, and schedule it again.",
    ),
    "invalid_param": (_PERMANENT, "TikTok rejected the post's settings. Edit the post and schedule again."),
    "invalid_file_upload": (
        _PERMANENT,
        "TikTok rejected the video file. Check it is an MP4, MOV or WebM video within TikTok's "
        "limits, then attach it again.",
    ),
    "internal_error": (_RETRY, "TikTok had a temporary problem; SoSocial will try again."),
    "internal": (_RETRY, "TikTok had a temporary problem processing the post; SoSocial will try again."),
    "video_pull_failed": (_RETRY, "TikTok could not download the video; SoSocial will try again."),
    "photo_pull_failed": (_RETRY, "TikTok could not download the photos; SoSocial will try again."),
    "file_format_check_failed": (
        _PERMANENT,
        "TikTok could not read the file's format. Use an MP4 (H.264) video or JPEG/WebP photos.",
    ),
    "duration_check_failed": (
        _PERMANENT,
        "The video is longer (or shorter) than this TikTok account may post. Trim it and attach it again.",
    ),
    "frame_rate_check_failed": (
        _PERMANENT,
        "TikTok refused the video's frame rate (it accepts 23-60 fps). Export it again and attach it.",
    ),
    "picture_size_check_failed": (
        _PERMANENT,
        "TikTok refused the picture size (360-4096 px per side for video, up to 1080p for photos). "
        "Resize it and attach it again.",
    ),
    "publish_cancelled": (_PERMANENT, "The post was cancelled on TikTok."),
    # The upload URL (valid one hour) expired or lost its task: a new init starts afresh.
    "upload_expired": (_RETRY, "TikTok's upload link expired; SoSocial will start the upload again."),
    "upload_rejected": (
        _PERMANENT,
        "TikTok refused part of the video upload. Attach the video again; if it keeps happening, "
        "tell whoever runs SoSocial.",
    ),
    # OAuth endpoint errors (RFC 6749 shape). A bad client is SoSocial's configuration, not the
    # account: marking every account for reconnection would not help.
    "invalid_client": (
        _PERMANENT,
        "TikTok refused SoSocial's app credentials, so no TikTok account can be used right now. "
        "Ask whoever runs SoSocial to check the TikTok client key and secret.",
    ),
}
# TikTok spells these two ways (the init pages and the global error list disagree).
_ERRORS["scope_permission_missed"] = _ERRORS["scope_not_authorized"]
_ERRORS["invalid_params"] = _ERRORS["invalid_param"]
_OAUTH_RECONNECT = frozenset({"invalid_grant", "invalid_request", "access_denied", "invalid_scope"})


def classify_error(
    *, code: str, http_status: int | None, message: str = "", log_id: str = "", now: datetime | None = None
) -> base.PlatformError:
    """The error to raise for a TikTok error code, OAuth error, or status `fail_reason`.

    Every TikTok failure goes through here, whichever of its three shapes it came in.
    """
    said = f' TikTok said: "{message}"' if message else ""
    reference = f" (TikTok log id {log_id})" if log_id else ""
    error_code = f"tiktok_{code}" if code else f"tiktok_{http_status}"
    kind, text = _ERRORS.get(code, ("", ""))
    if not kind and code in _OAUTH_RECONNECT:
        kind, text = (
            _RECONNECT,
            "TikTok no longer accepts SoSocial's authorisation for this account (it may have been "
            "revoked or have expired). Reconnect the TikTok account.",
        )
    if not kind and code.startswith("spam_risk"):
        kind, text = (
            _PERMANENT,
            "TikTok flagged this post as a spam risk and refused it. Change the post, or post it "
            "from the TikTok app.",
        )
    if not kind:
        if http_status is not None and http_status >= 500:
            kind, text = _RETRY, "TikTok had a temporary problem; SoSocial will try again."
        elif http_status == 429:
            kind, text = _ERRORS["rate_limit_exceeded"]
        elif http_status == 401:
            kind, text = _ERRORS["access_token_invalid"]
        else:
            kind, text = _PERMANENT, "TikTok refused the post."

    full = text + said + reference
    if kind == _REFRESH:
        return base.TokenExpired(full, code=error_code, http_status=http_status)
    if kind == _RECONNECT:
        return base.ReconnectNeeded(full, code=error_code, http_status=http_status)
    if kind == _RETRY:
        retry_at = None
        if code == "rate_limit_exceeded" or http_status == 429:
            retry_at = (now or datetime.now(UTC)) + RATE_LIMIT_WAIT
        return base.RetryableError(full, code=error_code, http_status=http_status, retry_at=retry_at)
    return base.PermanentError(full, code=error_code, http_status=http_status)


def _response_error(response: requests.Response) -> base.PlatformError:
    """Read whichever error shape TikTok answered with and classify it."""
    body = http.json_object(response)
    error = body.get("error")
    if isinstance(error, dict):  # API envelope {"data", "error": {code, message, log_id}}
        return classify_error(
            code=str(error.get("code") or ""),
            http_status=response.status_code,
            message=str(error.get("message") or ""),
            log_id=str(error.get("log_id") or ""),
        )
    if isinstance(error, str) and error:  # OAuth endpoint {error, error_description, log_id}
        return classify_error(
            code=error,
            http_status=response.status_code,
            message=str(body.get("error_description") or ""),
            log_id=str(body.get("log_id") or ""),
        )
    return classify_error(code="", http_status=response.status_code)


def _processing(detail: str) -> base.Processing:
    return base.Processing(
        f"TikTok has the post and is processing it; {detail}. SoSocial checks again in "
        f"{int(STATUS_CHECK_IN.total_seconds())} s.",
        check_in=STATUS_CHECK_IN,
        code="tiktok_processing",
    )


def _is_photo_post(media: Sequence[base.MediaItem]) -> bool:
    return bool(media) and all(item.content_type not in VIDEO_TYPES for item in media)


class TikTokClient(OAuth2Client):
    platform_key = "tiktok"
    platform_name = "TikTok"
    default_web_url = DEFAULT_WEB_URL
    client_id_setting = "client_key"

    # -- validation ----------------------------------------------------------------------------------
    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        problems: list[str] = []
        videos = [m for m in media if m.content_type in VIDEO_TYPES]
        photos = [m for m in media if m.content_type in PHOTO_TYPES]
        if not media:
            problems.append("TikTok needs a video or at least one photo: attach media to post there.")
        for item in media:
            if item.content_type == "image/png":
                problems.append(
                    f"TikTok does not accept PNG photos ({media_name(item)}); convert it to JPEG or WebP."
                )
            elif item not in videos and item not in photos:
                problems.append(
                    f"TikTok can't post {media_name(item)} ({item.content_type}): use an MP4, MOV "
                    "or WebM video, or JPEG/WebP photos."
                )
        if videos and len(media) > 1:
            problems.append(
                f"A TikTok post is either one video or 1-{MAX_PHOTOS} photos; keep just the video "
                "or just the photos."
            )
        if len(photos) > MAX_PHOTOS:
            problems.append(
                f"TikTok allows at most {MAX_PHOTOS} photos per post; this one has {len(photos)}."
            )
        for item in photos:
            if not item.url:
                problems.append(f"{media_name(item)} has no web address TikTok could download it from.")

        privacy = options.get("privacy_level", "")
        if not privacy:
            # TikTok's rules: the user picks who can see the post; there is no default.
            problems.append("Choose who can see this TikTok post (privacy level): TikTok requires it.")
        elif privacy not in PRIVACY_LEVELS:
            problems.append(f"{privacy} is not a TikTok privacy level; choose one of the offered ones.")

        if _is_photo_post(media):
            if utf16_length(text) > MAX_PHOTO_DESCRIPTION:
                problems.append(
                    f"A TikTok photo description may be {MAX_PHOTO_DESCRIPTION} characters; this "
                    f"one is {utf16_length(text)}."
                )
            title = options.get("title", "")
            if utf16_length(title) > MAX_PHOTO_TITLE:
                problems.append(
                    f"A TikTok photo title may be {MAX_PHOTO_TITLE} characters; this one is "
                    f"{utf16_length(title)}."
                )
        elif utf16_length(text) > MAX_VIDEO_TITLE:
            problems.append(
                f"A TikTok video caption may be {MAX_VIDEO_TITLE} characters (emoji count 2); this "
                f"one is {utf16_length(text)}."
            )

        for item in media:
            limit = MAX_VIDEO_BYTES if item.content_type in VIDEO_TYPES else MAX_PHOTO_BYTES
            if item.path and os.path.isfile(item.path) and os.path.getsize(item.path) > limit:
                problems.append(f"{media_name(item)} is larger than TikTok accepts ({limit // MB} MB).")
        return problems

    # -- HTTP ----------------------------------------------------------------------------------------
    def _api(
        self,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: Any = None,
        publishes: bool = False,
    ) -> dict[str, Any]:
        """Call the API; return `data` when `error.code` is "ok", else raise the classified error.

        `publishes`: the call can start a post (an init). Then an answer that does not prove
        TikTok did nothing (a 5xx, `internal_error`, an unreadable body) is OutcomeUnknown.
        """
        response = http.send(
            self.session,
            method,
            f"{self.api_url}{path}",
            json=json,
            params=params,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json; charset=UTF-8",
            },
        )
        body = http.json_object(response)
        error = body.get("error")
        if response.ok and isinstance(error, dict) and error.get("code") == "ok":
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        classified = _response_error(response)
        if publishes and (
            response.status_code >= 500
            or (response.ok and not isinstance(error, dict))
            or (isinstance(error, dict) and error.get("code") == "internal_error")
        ):
            raise base.OutcomeUnknown(
                "TikTok answered with an error that does not say whether it accepted the post, so it "
                "may go out. SoSocial is checking before sending anything again.",
                code=classified.code,
                http_status=response.status_code,
            ) from classified
        raise classified

    # -- preparing -----------------------------------------------------------------------------------
    def prepare(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.Prepared:
        """Nothing to prepare: TikTok publishes as soon as an upload ends (or its pull is accepted),
        so the upload is the publishing call, made at the date's time. The post is checked here,
        so a problem shows before the time."""
        problems = self.validate(text=request.text, media=request.media, options=request.options)
        if problems:
            raise base.PermanentError(" ".join(problems), code="tiktok_invalid_post")
        return base.Prepared()

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        problems = self.validate(text=request.text, media=request.media, options=request.options)
        if problems:
            raise base.PermanentError(" ".join(problems), code="tiktok_invalid_post")
        token = request.account.access_token
        photos = _is_photo_post(request.media)

        previous = request.progress.get(PUBLISH_ID, "")
        if previous:
            resumed = self._resume(request, previous, token, checkpoint)
            if resumed is not None:
                return resumed
            # The earlier publish can never go out: forget it before a new init, so that a crash
            # during that init is not mistaken for the old publish when reconciling.
            checkpoint({PUBLISH_ID: "", UPLOAD_STATE: ""})

        creator = self._api("POST", CREATOR_INFO_PATH, token, json={})
        options = creator.get("privacy_level_options") or []
        privacy = request.options["privacy_level"]
        if privacy not in options:
            raise base.PermanentError(
                f"This TikTok account does not offer the privacy setting {privacy} (it offers: "
                f"{', '.join(map(str, options)) or 'none'}). Edit the post, choose one of those, "
                "and schedule it again.",
                code="tiktok_privacy_level_unavailable",
            )
        username = str(creator.get("creator_username") or "")
        if photos:
            publish_id = self._init_photos(request, creator, token, checkpoint, username)
        else:
            publish_id = self._send_video(request, creator, token, checkpoint, username)
        # The upload is complete (or the photos' pull accepted): TikTok publishes on its own. One
        # status read; still processing is `Processing`, and publish reads it again later.
        status = self._status_once(publish_id, token)
        return self._outcome(publish_id, status, {}, checkpoint, username=username, photos=photos)

    def _post_info(self, request: base.PublishRequest, creator: Mapping[str, Any]) -> dict[str, Any]:
        def disabled(option: str, creator_flag: str) -> bool:
            # An interaction the creator turned off in TikTok stays off (TikTok's UX rules).
            return request.options.get(option, "").lower() == "true" or bool(creator.get(creator_flag))

        return {
            "privacy_level": request.options["privacy_level"],
            "disable_comment": disabled("disable_comment", "comment_disabled"),
            "disable_duet": disabled("disable_duet", "duet_disabled"),
            "disable_stitch": disabled("disable_stitch", "stitch_disabled"),
        }

    def _send_video(
        self,
        request: base.PublishRequest,
        creator: Mapping[str, Any],
        token: str,
        checkpoint: base.Checkpoint,
        username: str,
    ) -> str:
        video = request.media[0]
        if not video.path or not os.path.isfile(video.path):
            raise base.PermanentError(
                f"The video {media_name(video)} is no longer stored in SoSocial; attach it again.",
                code="tiktok_media_missing",
            )
        size = os.path.getsize(video.path)
        if size == 0:
            raise base.PermanentError(f"The video {media_name(video)} is empty.", code="tiktok_media_empty")
        chunk_size, count = chunk_plan(size)
        post_info = self._post_info(request, creator) | {"title": request.text}
        base.mark_sent(request, checkpoint)
        data = self._api(
            "POST",
            VIDEO_INIT_PATH,
            token,
            publishes=True,
            json={
                "post_info": post_info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": size,
                    "chunk_size": chunk_size,
                    "total_chunk_count": count,
                },
            },
        )
        publish_id = str(data.get(PUBLISH_ID) or "")
        upload_url = str(data.get("upload_url") or "")
        if not publish_id or not upload_url:
            # Without an upload URL no bytes can be sent, so nothing can publish.
            raise base.RetryableError(
                "TikTok did not start the upload properly; SoSocial will try again.",
                code="tiktok_init_incomplete",
            )
        # Saved before the first byte: from here on only this publish_id may be followed up.
        checkpoint(
            {PUBLISH_ID: publish_id, UPLOAD_STATE: "started", VIDEO_SIZE: str(size), USERNAME: username}
        )
        self._upload_chunks(video, upload_url, size, chunk_size, count, checkpoint, publish_id, token)
        return publish_id

    def _upload_chunks(
        self,
        video: base.MediaItem,
        upload_url: str,
        size: int,
        chunk_size: int,
        count: int,
        checkpoint: base.Checkpoint,
        publish_id: str,
        token: str,
    ) -> None:
        """PUT each chunk in order; TikTok answers 206 while it expects more and 201 at the end."""
        ranges = chunk_ranges(size, chunk_size, count)
        with open(video.path, "rb") as file:
            for index, (first, last) in enumerate(ranges):
                final = index == len(ranges) - 1
                file.seek(first)
                chunk = file.read(last - first + 1)
                if final:
                    # Once the last chunk is on its way the post may go out: say so first.
                    checkpoint({UPLOAD_STATE: "final_chunk_sent"})
                headers = {
                    "Content-Type": video.content_type,
                    "Content-Range": f"bytes {first}-{last}/{size}",
                }
                if final:
                    self._send_last_chunk(upload_url, chunk, headers, size, checkpoint, publish_id, token)
                else:
                    self._send_chunk(upload_url, chunk, headers)
        checkpoint({UPLOAD_STATE: "complete"})

    def _send_chunk(self, upload_url: str, chunk: bytes, headers: Mapping[str, str]) -> None:
        """A chunk before the last: nothing can publish without the rest, so any failure retries."""
        for retry in range(CHUNK_RETRIES + 1):
            try:
                response = http.send(self.session, "PUT", upload_url, data=chunk, headers=headers)
            except base.OutcomeUnknown as error:
                raise base.RetryableError(
                    "The connection dropped while uploading the video to TikTok; nothing was posted. "
                    "SoSocial will try again.",
                    code="tiktok_upload_interrupted",
                ) from error
            if response.status_code < 500 or retry == CHUNK_RETRIES:
                break
            self._sleep(float(retry + 1))  # TikTok's answer to a chunk's 5xx is to send it again
        if not response.ok:
            raise self._chunk_error(response.status_code)

    def _send_last_chunk(
        self,
        upload_url: str,
        chunk: bytes,
        headers: Mapping[str, str],
        size: int,
        checkpoint: base.Checkpoint,
        publish_id: str,
        token: str,
    ) -> None:
        """The last chunk completes the upload, and a complete upload publishes by itself.

        So an answer that is not a plain success is checked against TikTok's own count of the
        bytes it holds: all of them (the chunk landed, or a resend was refused because every chunk
        is there) means the upload is complete; fewer means the chunk can be sent again; no way
        to tell means the outcome is unknown.
        """
        for retry in range(CHUNK_RETRIES + 1):
            try:
                response: requests.Response | None = http.send(
                    self.session, "PUT", upload_url, data=chunk, headers=headers
                )
            except base.OutcomeUnknown:
                response = None
            if response is not None and response.ok:
                return
            received = self._bytes_received(publish_id, token)
            if received is None:
                raise base.OutcomeUnknown(
                    "TikTok did not confirm the last part of the video, and SoSocial could not ask "
                    "whether it arrived. SoSocial is checking before sending anything again.",
                    code="tiktok_last_chunk_unconfirmed",
                    http_status=response.status_code if response is not None else None,
                )
            if received >= size:
                return  # the upload is complete, whatever the answer said
            if response is not None and response.status_code < 500:
                # TikTok answered, refusing the last chunk, and holds fewer bytes: not complete.
                checkpoint({UPLOAD_STATE: "started"})
                raise self._chunk_error(response.status_code)
            if retry < CHUNK_RETRIES:
                self._sleep(float(retry + 1))
        checkpoint({UPLOAD_STATE: "started"})
        raise self._chunk_error(500)

    def _bytes_received(self, publish_id: str, token: str) -> int | None:
        """How many bytes of the upload TikTok holds (or all, once it moved past uploading)."""
        try:
            status = self._fetch_status(publish_id, token)
        except base.PlatformError:
            return None
        if status.get("status") not in (None, "PROCESSING_UPLOAD"):
            return sys.maxsize  # processing, published or failed: the upload itself is over
        try:
            return int(status["uploaded_bytes"])
        except (KeyError, TypeError, ValueError):
            return None

    @staticmethod
    def _chunk_error(status: int) -> base.PlatformError:
        if status in (403, 404):
            return classify_error(code="upload_expired", http_status=status)
        if status >= 500:
            return classify_error(code="", http_status=status)
        return classify_error(code="upload_rejected", http_status=status)

    def _init_photos(
        self,
        request: base.PublishRequest,
        creator: Mapping[str, Any],
        token: str,
        checkpoint: base.Checkpoint,
        username: str,
    ) -> str:
        post_info = self._post_info(request, creator) | {
            "title": request.options.get("title", ""),
            "description": request.text,
            "auto_add_music": True,
        }
        post_info.pop("disable_duet")  # video-only settings
        post_info.pop("disable_stitch")
        base.mark_sent(request, checkpoint)
        data = self._api(
            "POST",
            CONTENT_INIT_PATH,
            token,
            publishes=True,
            json={
                "post_info": post_info,
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_images": [item.url for item in request.media],
                    "photo_cover_index": 0,
                },
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            },
        )
        publish_id = str(data.get(PUBLISH_ID) or "")
        if not publish_id:
            # TikTok accepted a pull it may act on, without naming it: only a person can tell.
            raise base.OutcomeUnknown(
                "TikTok accepted the photos without giving a reference; check the account before "
                "sending again.",
                code="tiktok_no_publish_id",
            )
        checkpoint({PUBLISH_ID: publish_id, UPLOAD_STATE: "complete", USERNAME: username})
        return publish_id

    def _fetch_status(self, publish_id: str, token: str) -> dict[str, Any]:
        return self._api("POST", STATUS_PATH, token, json={PUBLISH_ID: publish_id})

    @staticmethod
    def _upload_finished(progress: Mapping[str, str], status: Mapping[str, Any]) -> bool | None:
        """Did TikTok get every byte of this publish? None when that cannot be told."""
        state = progress.get(UPLOAD_STATE, "")
        if state == "complete":
            return True
        if state == "started":
            return False  # the last chunk was never sent
        try:
            uploaded = int(status["uploaded_bytes"])
            size = int(progress[VIDEO_SIZE])
        except (KeyError, TypeError, ValueError):
            return None
        return uploaded >= size

    def _resume(
        self, request: base.PublishRequest, publish_id: str, token: str, checkpoint: base.Checkpoint
    ) -> base.PublishResult | None:
        """The outcome of an earlier attempt's publish, read once; None when a new init is safe.

        Never re-init while the earlier publish might still go out: that would post twice.
        """
        status = self._status_once(publish_id, token)
        if (
            status.get("status") == "PROCESSING_UPLOAD"
            and self._upload_finished(request.progress, status) is False
        ):
            # The upload never finished. A FILE_UPLOAD init without all its bytes never publishes
            # (its upload URL expires after an hour), so starting over cannot post twice.
            return None
        return self._outcome(
            publish_id,
            status,
            request.progress,
            checkpoint,
            username=request.progress.get(USERNAME, ""),
            photos=_is_photo_post(request.media),
        )

    def _status_once(self, publish_id: str, token: str) -> dict[str, Any]:
        """One status read of a publish TikTok has everything for: from here a failure to ask is not a
        failure to post, so it is read again later (`Processing`) or reconciled, never re-sent."""
        try:
            return self._fetch_status(publish_id, token)
        except base.TokenExpired:
            raise  # refreshing then calling publish again reads this same publish_id
        except base.RetryableError as error:
            raise _processing(f"SoSocial could not check on it just now ({error.message})") from error
        except base.PlatformError as error:
            raise base.OutcomeUnknown(
                "TikTok has the post but SoSocial could not check on it ("
                + error.message
                + "). SoSocial is checking before doing anything else.",
                code=error.code,
                http_status=error.http_status,
            ) from error

    def _outcome(
        self,
        publish_id: str,
        status: Mapping[str, Any],
        progress: Mapping[str, str],
        checkpoint: base.Checkpoint,
        *,
        username: str,
        photos: bool,
    ) -> base.PublishResult:
        """What one status read says: published, failed, or still processing (`Processing`)."""
        state = status.get("status")
        if state == "FAILED":
            # A FAILED publish never goes out: forget it, so that the next try (a retryable reason,
            # or the user asking) starts a new one, and say why it failed.
            checkpoint({PUBLISH_ID: "", UPLOAD_STATE: ""})
            raise classify_error(code=str(status.get("fail_reason") or ""), http_status=200)
        if state == "SEND_TO_USER_INBOX":
            raise base.PermanentError(
                "TikTok put this post in the account's inbox instead of publishing it; open the "
                "TikTok app to finish it.",
                code="tiktok_sent_to_inbox",
            )
        if state == "PUBLISH_COMPLETE":
            post_ids = status.get("publicaly_available_post_id") or []  # (sic)
            if post_ids:
                return self._result(publish_id, str(post_ids[0]), username=username, photos=photos)
            # Public posts get their id after moderation, usually within seconds, sometimes hours:
            # it is read again for a short while, then the publish_id and the profile link are
            # what is recorded.
            completed = base.parse_moment(progress.get(COMPLETED_AT, ""))
            if completed is None:
                completed = now()
                checkpoint({COMPLETED_AT: completed.isoformat()})
            if now() - completed < POST_ID_GRACE:
                raise base.Processing(
                    "TikTok has published the post and is giving it its public link; SoSocial reads "
                    f"it in {int(POST_ID_CHECK_IN.total_seconds())} s.",
                    check_in=POST_ID_CHECK_IN,
                    code="tiktok_post_id_pending",
                )
            return self._result(publish_id, "", username=username, photos=photos)
        raise _processing("it goes out, or fails, on its own")

    def _result(self, publish_id: str, post_id: str, *, username: str, photos: bool) -> base.PublishResult:
        profile = f"{self.web_url}/@{username}" if username else self.web_url
        if not post_id:
            # The post is out but has no public id yet: the publish_id is the only handle, and
            # the profile is where the post will show.
            return base.PublishResult(platform_post_id=publish_id, url=profile, http_status=200)
        # Video URLs are /@user/video/<id>; photo posts use /photo/<id> (UNVERIFIED).
        kind = "photo" if photos else "video"
        return base.PublishResult(
            platform_post_id=post_id, url=f"{profile}/{kind}/{post_id}", http_status=200
        )

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        """Ask TikTok about the checkpointed publish_id (`since` is not needed: the id is exact)."""
        photos = _is_photo_post(request.media)
        publish_id = request.progress.get(PUBLISH_ID, "")
        if not publish_id:
            if photos and base.sent_at(request.progress) is not None:
                # UNVERIFIED: a photo init whose answer was lost may still have been accepted, and
                # TikTok then downloads the photos and publishes on its own. Finding it would need
                # the video.list scope and a caption match, which SoSocial does not have.
                return base.Reconciliation(
                    status=base.ReconcileStatus.UNKNOWN,
                    message="SoSocial cannot tell whether TikTok accepted these photos. Check the "
                    "account, then mark the post published or send it again.",
                    final=True,
                )
            # No photo init was ever sent; and a video init that never returned its publish_id
            # never returned its upload URL either, so no byte was sent, and a FILE_UPLOAD without
            # bytes never publishes.
            return base.Reconciliation(
                status=base.ReconcileStatus.NOT_PUBLISHED,
                message="TikTok never received the post; safe to send again.",
            )
        status = self._fetch_status(publish_id, request.account.access_token)
        state = status.get("status")
        if state == "PUBLISH_COMPLETE":
            post_ids = status.get("publicaly_available_post_id") or []
            result = self._result(
                publish_id,
                str(post_ids[0]) if post_ids else "",
                username=request.progress.get(USERNAME, ""),
                photos=photos,
            )
            return base.Reconciliation(status=base.ReconcileStatus.PUBLISHED, result=result)
        if state == "FAILED":
            reason = str(status.get("fail_reason") or "")
            failed = classify_error(code=reason, http_status=200)
            return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED, message=failed.message)
        if state == "PROCESSING_UPLOAD" and self._upload_finished(request.progress, status) is False:
            return base.Reconciliation(
                status=base.ReconcileStatus.NOT_PUBLISHED,
                message="The video upload to TikTok never finished, so it cannot publish.",
            )
        if state == "SEND_TO_USER_INBOX":
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="The post is waiting in the account's TikTok inbox; finish it in the app.",
            )
        return base.Reconciliation(
            status=base.ReconcileStatus.UNKNOWN,
            message="TikTok is still processing this post. Check the account shortly, then mark "
            "it published or send it again.",
        )

    # -- OAuth ---------------------------------------------------------------------------------------
    def _require_client(self) -> None:
        if not self.client_id or not self.client_secret:
            raise base.PermanentError(
                "TikTok is not set up in SoSocial (no client key or secret); ask whoever runs it.",
                code="tiktok_not_configured",
            )

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        self._require_client()
        form = {"client_key": self.client_id, "client_secret": self.client_secret, **form}
        response = http.send(
            self.session,
            "POST",
            f"{self.api_url}{TOKEN_PATH}",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = http.json_object(response)
        # Errors come as {error, error_description} (sometimes with HTTP 200), never with a token.
        if response.ok and body.get("access_token") and not body.get("error"):
            return body
        raise _response_error(response)

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        # No PKCE: TikTok documents it for mobile/desktop apps only (and its desktop flavour is
        # not plain RFC 7636), while this is a web app whose token exchange is authenticated by
        # the client secret; `state` guards the callback against forgery. `code_verifier` unused.
        self._require_client()
        params = {
            "client_key": self.client_id,
            "scope": SCOPES,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.authorize_base}{AUTHORIZE_PATH}?{urlencode(params, quote_via=quote, safe=',')}"

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        tokens = self._token_request(
            {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        )
        granted = str(tokens.get("scope", ""))
        if granted and "video.publish" not in granted.split(","):
            raise base.PermanentError(
                "TikTok login worked, but posting was not allowed. Connect again and allow "
                "SoSocial to post videos and photos.",
                code="tiktok_scope_not_granted",
            )
        data = self._api(
            "GET", USER_INFO_PATH, str(tokens["access_token"]), params={"fields": "open_id,display_name"}
        )
        found = data.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        open_id = str(tokens.get("open_id") or user.get("open_id") or "")
        if not open_id:
            raise base.RetryableError("TikTok did not say which account logged in; try connecting again.")
        return [
            self.connected(tokens, account_id=open_id, display_name=str(user.get("display_name") or open_id))
        ]
