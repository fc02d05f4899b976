"""X (API v2) client: posts with up to 4 images or one video/GIF, OAuth 2.0 with PKCE.

What the client relies on is in docs/platforms.md, X. Every request goes through
`platforms.http.send`, so transport failures are already sorted into RetryableError/OutcomeUnknown;
HTTP error statuses are sorted by `classify_error` below, the one place that reads X's errors.
"""

from __future__ import annotations

import html
import os
import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import requests

from platforms import base, http
from platforms.media import media_name
from platforms.oauth import OAuth2Client, code_challenge_s256
from platforms.progress import Progress, now, still_valid

with warnings.catch_warnings():
    # It reads its emoji data with pkg_resources, which warns on import; nothing to act on here.
    warnings.simplefilter("ignore", UserWarning)
    import twitter_text

# -- limits (X's post and media documentation) -----------------------------------------------------
MAX_WEIGHTED_LENGTH = 280
MAX_IMAGES = 4
MAX_CASHTAGS = 1
STILL_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
GIF_TYPE = "image/gif"
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_GIF_BYTES = 15 * 1024 * 1024
MAX_VIDEO_BYTES = 512 * 1024 * 1024

# -- endpoints ---------------------------------------------------------------------------------------
TWEETS_PATH = "/2/tweets"
MEDIA_UPLOAD_PATH = "/2/media/upload"
MEDIA_INITIALIZE_PATH = "/2/media/upload/initialize"
MEDIA_APPEND_PATH = "/2/media/upload/{media_id}/append"
MEDIA_FINALIZE_PATH = "/2/media/upload/{media_id}/finalize"
USERS_ME_PATH = "/2/users/me"
USER_TWEETS_PATH = "/2/users/{user_id}/tweets"
TOKEN_PATH = "/2/oauth2/token"  # noqa: S105 (a URL path, not a secret)
AUTHORIZE_PATH = "/i/oauth2/authorize"
SCOPES = "tweet.read tweet.write users.read media.write offline.access"
DEFAULT_WEB_URL = "https://x.com"

# -- pacing ------------------------------------------------------------------------------------------
# Postiz uses 1 MB appends; v1.1 allowed 5 MB and the v2 maximum is UNVERIFIED, so stay small.
CHUNK_BYTES = 1024 * 1024
# While X processes a video or GIF, its `processing_info.check_after_secs` says when to read the
# status again; kept within these bounds, and this when X says nothing.
DEFAULT_CHECK_AFTER_SECONDS = 5.0
MIN_CHECK_AFTER_SECONDS = 1.0
MAX_CHECK_AFTER_SECONDS = 60.0
# Uploaded media must be posted within its `expires_after_secs` (a day after upload at the time of
# writing); prepared media counts as expired a little before X discards it, and as lasting an hour
# when X does not say.
MEDIA_EXPIRY_MARGIN = timedelta(minutes=5)
DEFAULT_MEDIA_LIFETIME = timedelta(hours=1)
RECONCILE_PAGES = 3  # 300 posts since the scheduled time is far more than one account makes

# -- what prepare and publish checkpoint -------------------------------------------------------------
MEDIA_IDS_KEY = "x_media_ids"  # the uploaded media, in the post's order (a prefix while uploading)
MEDIA_PENDING_KEY = "x_media_pending"  # those X is still processing
MEDIA_EXPIRES_KEY = "x_media_expires_at"  # when the first of them expires (less the margin)
MEDIA_REFUSED_KEY = "x_media_refused"  # a create refused the prepared media once already

# -- twitter-text: the counting and URL grammar X itself publishes --------------------------------
# twitter-text-parser (the Python port of twitter-text v3) gives the weighted length and the URLs X
# turns into t.co links, with the full TLD list; the same extraction is used to count and to
# recognise a post again after X rewrote its links.
# twitter-text's cashtag: $ + 1-6 letters (+ optional .xx/_xx class suffix) after a space or start.
_CASHTAG = re.compile(r"(?:(?<=\s)|^)\$[A-Za-z]{1,6}(?:[._][A-Za-z]{1,2})?(?![A-Za-z0-9_])")
# The link X appends for attached media points at the post itself (".../status/<id>/photo/1").
_MEDIA_LINK = re.compile(r"/status/\d+/(?:photo|video)/\d+/?$")


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of every URL X would turn into a t.co link, in code point indices."""
    return [
        (int(found["indices"][0]), int(found["indices"][1]))
        for found in twitter_text.extract_urls_with_indices(text)
    ]


def _normalize(text: str) -> str:
    # twitter-text counts NFC text with every line ending as one "\n".
    return re.sub(r"\r\n|\r", "\n", unicodedata.normalize("NFC", text))


def weighted_length(text: str) -> int:
    """The length X measures against its 280 limit (twitter-text v3 rules)."""
    return int(twitter_text.parse_tweet(_normalize(text)).weightedLength)


def _link_key(url: str) -> str:
    """A link as X's `expanded_url` and the text agree on: no scheme (X adds http:// to a bare
    domain), host in lower case, no trailing slash."""
    rest = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", url.strip(), flags=re.IGNORECASE)
    host, slash, path = rest.partition("/")
    return (host.lower() + slash + path).rstrip("/")


def links_in(text: str) -> list[str]:
    """The links X will rewrite in `text`, in order, as `_link_key`s."""
    normalized = _normalize(text)
    return [_link_key(normalized[start:end]) for start, end in find_urls(normalized)]


def expanded_links(post: Mapping[str, Any]) -> list[str]:
    """The links a returned post was written with (its `entities.urls[].expanded_url`), in order,
    leaving out the link X appends for attached media."""
    entities = post.get("entities")
    urls = entities.get("urls") if isinstance(entities, dict) else None
    links = []
    for item in urls if isinstance(urls, list) else []:
        if not isinstance(item, dict) or item.get("media_key"):
            continue
        expanded = str(item.get("expanded_url") or item.get("url") or "")
        if expanded and not _MEDIA_LINK.search(expanded):
            links.append((int(item.get("start") or 0), _link_key(expanded)))
    return [link for _start, link in sorted(links)]


def count_cashtags(text: str) -> int:
    return len(_CASHTAG.findall(text))


def _comparable(text: str) -> str:
    """Text reduced to what survives X's rewriting: no URLs (t.co), unescaped, spaces collapsed."""
    # X returns &, < and > HTML-escaped, rewrites every link to t.co and appends a t.co link for
    # attached media, so only the text between links can be compared.
    normalized = _normalize(html.unescape(text))
    pieces = []
    position = 0
    for start, end in find_urls(normalized):
        pieces.append(normalized[position:start])
        position = end
    pieces.append(normalized[position:])
    return " ".join(" ".join(pieces).split())


# -- errors ------------------------------------------------------------------------------------------
def _data(body: Mapping[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def _detail(body: Mapping[str, Any]) -> str:
    """X's own words: problem `detail`/`title`, legacy `errors[].message`, or OAuth's description."""
    for key in ("detail", "error_description", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message") or errors[0].get("detail")
        if isinstance(message, str):
            return message
    return ""


def _epoch(headers: Mapping[str, str], name: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(headers[name]), UTC)
    except (KeyError, ValueError, OverflowError):
        return None


def _rate_limit_retry_at(headers: Mapping[str, str]) -> tuple[datetime | None, bool]:
    """When X lets this account call again (+1 s, as tweepy does), and whether a daily cap hit."""
    daily = [
        reset
        for prefix in ("x-user-limit-24hour", "x-app-limit-24hour")
        if headers.get(f"{prefix}-remaining") == "0"
        and (reset := _epoch(headers, f"{prefix}-reset")) is not None
    ]
    window = _epoch(headers, "x-rate-limit-reset")
    candidates = daily + ([window] if window is not None else [])
    if not candidates:
        return None, False  # no header: the pipeline's own backoff applies
    return max(candidates) + timedelta(seconds=1), bool(daily)


def classify_error(response: requests.Response) -> base.PlatformError:
    """The error to raise for an X response that is not a success.

    Covers the API's problem envelope, the legacy `errors[]` list and the OAuth token endpoint's
    RFC 6749 errors.
    """
    status = response.status_code
    body = http.json_object(response)
    detail = _detail(body)
    problem = str(body.get("type", "")) + " " + str(body.get("title", ""))
    said = f' X said: "{detail}"' if detail else ""
    code = f"x_{status}"

    oauth_error = body.get("error")
    if isinstance(oauth_error, str) and oauth_error and status < 500 and status != 429:
        if oauth_error in {"invalid_client", "unauthorized_client"}:
            # SoSocial's app credentials, not the account: reconnecting would not help.
            return base.PermanentError(
                "X refused SoSocial's app credentials, so no X account can be used right now. "
                "Ask whoever runs SoSocial to check the X client id and secret." + said,
                code=f"x_oauth_{oauth_error}",
                http_status=status,
            )
        return base.ReconnectNeeded(
            "X no longer accepts SoSocial's authorisation for this account (it may have been "
            "revoked or have expired). Reconnect the X account, then schedule again." + said,
            code=f"x_oauth_{oauth_error}",
            http_status=status,
        )
    if status == 429:
        if "usage-capped" in problem.lower() or "usagecap" in problem.lower():
            return base.PermanentError(
                "SoSocial's X app has used its monthly X API allowance, so X refuses more requests "
                "until the billing period resets. Ask whoever runs SoSocial." + said,
                code="x_usage_capped",
                http_status=status,
            )
        retry_at, daily = _rate_limit_retry_at(response.headers)
        limit = "daily posting limit" if daily else "rate limit"
        when = f" after {retry_at:%Y-%m-%d %H:%M:%S} UTC" if retry_at else " later"
        return base.RetryableError(
            f"X's {limit} for this account is used up; SoSocial will try again{when}.",
            code=code,
            http_status=status,
            retry_at=retry_at,
        )
    if status == 401:
        return base.TokenExpired(
            "X rejected the access token; SoSocial will refresh it and try once more." + said,
            code=code,
            http_status=status,
        )
    if status == 403 and "duplicate" in detail.lower():
        return base.PermanentError(
            "X refused this post because an identical post already exists on the account. "
            "Check the account; to post again, change the text.",
            code="x_duplicate",
            http_status=status,
        )
    if status == 403:
        return base.PermanentError(
            "X does not allow this post from this account (for example: a reply to someone who "
            "did not mention you, more than one cashtag, or a suspended account)." + said,
            code=code,
            http_status=status,
        )
    if status >= 500:
        return base.RetryableError(
            "X had a temporary problem; SoSocial will try again.", code=code, http_status=status
        )
    return base.PermanentError(
        "X rejected the post as invalid; edit it and schedule it again." + said,
        code=code,
        http_status=status,
    )


# -- media processing --------------------------------------------------------------------------------
def _ids(raw: str) -> list[str]:
    return [piece for piece in raw.split(",") if piece]


def _processing(info: Any) -> bool:
    """Is X still processing the media? No `processing_info` means it is ready; a failure is final."""
    if not isinstance(info, dict):
        return False
    state = info.get("state")
    if state == "failed":
        error = info.get("error")
        reason = (error.get("message") or error.get("name") or "") if isinstance(error, dict) else ""
        raise base.PermanentError(
            "X could not process the video or GIF"
            + (f' ("{reason}")' if reason else "")
            + ". Check it meets X's specs (MP4/MOV, H.264 and AAC, up to 140 s), then attach it again.",
            code="x_media_processing_failed",
        )
    return state not in (None, "succeeded")


def _check_after(info: Mapping[str, Any]) -> float:
    try:
        wait = float(info.get("check_after_secs", DEFAULT_CHECK_AFTER_SECONDS))
    except (TypeError, ValueError):
        wait = DEFAULT_CHECK_AFTER_SECONDS
    return min(max(wait, MIN_CHECK_AFTER_SECONDS), MAX_CHECK_AFTER_SECONDS)


def _not_ready(seconds: float) -> base.NotReady:
    return base.NotReady(
        f"X is still processing the media; nothing is posted yet. SoSocial checks again in {seconds:g} s.",
        check_in=timedelta(seconds=seconds),
        code="x_media_processing",
    )


def _expiry(seconds: Any) -> datetime:
    """When media X says lives `seconds` more counts as expired for SoSocial."""
    try:
        lifetime = timedelta(seconds=int(seconds))
    except (TypeError, ValueError):
        lifetime = DEFAULT_MEDIA_LIFETIME
    return now() + lifetime - min(MEDIA_EXPIRY_MARGIN, lifetime / 10)


# -- the client --------------------------------------------------------------------------------------
class XClient(OAuth2Client):
    platform_key = "x"
    platform_name = "X"
    default_web_url = DEFAULT_WEB_URL

    # -- validation ----------------------------------------------------------------------------------
    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        problems: list[str] = []
        if not text.strip() and not media:
            problems.append("Write some text or attach media: X does not accept an empty post.")
        length = weighted_length(text)
        if length > MAX_WEIGHTED_LENGTH:
            problems.append(
                f"The text is {length} characters as X counts them (each link counts 23, emoji "
                f"and Chinese/Japanese/Korean characters count 2); X allows {MAX_WEIGHTED_LENGTH}. "
                f"Shorten it by {length - MAX_WEIGHTED_LENGTH}."
            )
        cashtags = count_cashtags(text)
        if cashtags > MAX_CASHTAGS:
            problems.append(f"X allows only one cashtag (like $TICKER) per post; this one has {cashtags}.")
        problems.extend(self._media_problems(media))
        return problems

    def _media_problems(self, media: Sequence[base.MediaItem]) -> list[str]:
        problems: list[str] = []
        images = [m for m in media if m.content_type in STILL_IMAGE_TYPES]
        moving = [m for m in media if m.content_type == GIF_TYPE or m.content_type in VIDEO_TYPES]
        for item in media:
            if item not in images and item not in moving:
                problems.append(
                    f"X can't post {media_name(item)} ({item.content_type}): use JPG, PNG, GIF or "
                    "WEBP images, or an MP4 or MOV video."
                )
        if moving and len(media) > 1:
            problems.append(
                "On X a video or GIF must be the post's only attachment: keep just the video or "
                f"GIF, or use up to {MAX_IMAGES} images instead."
            )
        if len(images) > MAX_IMAGES:
            problems.append(f"X allows at most {MAX_IMAGES} images per post; this one has {len(images)}.")
        for item in media:
            limit = MAX_VIDEO_BYTES if item.content_type in VIDEO_TYPES else MAX_IMAGE_BYTES
            if item.content_type == GIF_TYPE:
                limit = MAX_GIF_BYTES
            if item.path and os.path.isfile(item.path) and os.path.getsize(item.path) > limit:
                problems.append(
                    f"{media_name(item)} is larger than X allows for this kind of file "
                    f"({limit // (1024 * 1024)} MB)."
                )
        return problems

    # -- preparing -----------------------------------------------------------------------------------
    def prepare(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.Prepared:
        self._check(request)
        if not request.media:
            return base.Prepared()  # a text post has nothing to prepare
        return self._prepare_step(request, Progress(request, checkpoint))

    def _check(self, request: base.PublishRequest) -> None:
        problems = self.validate(text=request.text, media=request.media, options=request.options)
        if problems:
            raise base.PermanentError(" ".join(problems), code="x_invalid_post")

    def _prepare_step(self, request: base.PublishRequest, progress: Progress) -> base.Prepared:
        """One step towards media X has processed: upload what is not uploaded, or read the status of
        what is processing, once. Media that is not attached to a post is never shown."""
        token = request.account.access_token
        ids = _ids(progress.get(MEDIA_IDS_KEY))
        if ids and not still_valid(progress.moment(MEDIA_EXPIRES_KEY)):
            progress.save({MEDIA_IDS_KEY: "", MEDIA_PENDING_KEY: "", MEDIA_EXPIRES_KEY: ""})
            ids = []
        pending = _ids(progress.get(MEDIA_PENDING_KEY))
        if pending:
            still: list[str] = []
            wait: float | None = None
            for media_id in pending:
                try:
                    info = self._media_status(media_id, token)
                except base.PermanentError as error:
                    if error.http_status not in (400, 404):
                        raise
                    # X no longer knows the media (expired): upload it all again.
                    progress.save({MEDIA_IDS_KEY: "", MEDIA_PENDING_KEY: "", MEDIA_EXPIRES_KEY: ""})
                    return self._prepare_step(request, progress)
                try:
                    processing = _processing(info)
                except base.PermanentError:
                    progress.save({MEDIA_IDS_KEY: "", MEDIA_PENDING_KEY: "", MEDIA_EXPIRES_KEY: ""})
                    raise
                if processing:
                    still.append(media_id)
                    hint = _check_after(info)
                    wait = hint if wait is None else min(wait, hint)
            progress.save({MEDIA_PENDING_KEY: ",".join(still)})
            if wait is not None:
                raise _not_ready(wait)
        expires = progress.moment(MEDIA_EXPIRES_KEY)
        wait = None
        for item in request.media[len(ids) :]:
            media_id, info, lifetime = self._upload(item, token)
            ids.append(media_id)
            expires = min(expires or lifetime, lifetime)
            values = {MEDIA_IDS_KEY: ",".join(ids), MEDIA_EXPIRES_KEY: expires.isoformat() if expires else ""}
            if _processing(info):
                pending.append(media_id)
                values[MEDIA_PENDING_KEY] = ",".join(pending)
                hint = _check_after(info)
                wait = hint if wait is None else min(wait, hint)
            progress.save(values)
        if wait is not None:
            raise _not_ready(wait)
        return base.Prepared(expires_at=progress.moment(MEDIA_EXPIRES_KEY))

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        self._check(request)
        progress = Progress(request, checkpoint)
        media_ids: list[str] = []
        if request.media:
            # Prepared ahead: no call at all. Otherwise one step now, and NotReady sends the date
            # back to preparing while X processes a video.
            self._prepare_step(request, progress)
            media_ids = _ids(progress.get(MEDIA_IDS_KEY))

        body: dict[str, Any] = {}
        if request.text:
            body["text"] = request.text
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        # X has no idempotency key: saving when this date first sent a create lets reconciliation
        # look for this date's own post only.
        base.mark_sent(request, progress.save)
        try:
            response = self._call("POST", TWEETS_PATH, request.account.access_token, json=body)
        except base.PlatformError as error:
            if error.code == "x_duplicate" or (error.http_status or 0) >= 500:
                # A 5xx promises nothing about the create, and "duplicate content" may be this
                # date's own earlier post (or another date's): only the timeline can tell.
                said = "X says an identical post exists" if error.code == "x_duplicate" else "X had a problem"
                raise base.OutcomeUnknown(
                    f"{said}, which does not tell whether this post was made, so it may be live. "
                    "SoSocial is checking the account before sending anything again.",
                    code=error.code,
                    http_status=error.http_status,
                ) from error
            if media_ids and error.http_status == 400 and "media" in error.message.lower():
                self._media_refused(progress, error)
            raise
        post_id = str(_data(http.json_object(response)).get("id", ""))
        if not post_id:
            # X answered success, so the post most likely exists: never send it again blindly.
            raise base.OutcomeUnknown(
                "X accepted the post but did not say its id; SoSocial is checking the account.",
                code="x_no_post_id",
                http_status=response.status_code,
            )
        return base.PublishResult(
            platform_post_id=post_id, url=self.post_url(post_id), http_status=response.status_code
        )

    @staticmethod
    def _media_refused(progress: Progress, error: base.PlatformError) -> None:
        """X refused the post's media ids (a 400: nothing was posted). Prepared media can expire or
        be lost before X says so: upload it again, once; refused again, the refusal stands."""
        if progress.get(MEDIA_REFUSED_KEY):
            return
        progress.save(
            {MEDIA_IDS_KEY: "", MEDIA_PENDING_KEY: "", MEDIA_EXPIRES_KEY: "", MEDIA_REFUSED_KEY: "1"}
        )
        raise base.NotReady(
            "X no longer accepted the uploaded media; nothing was posted. SoSocial uploads it again.",
            check_in=timedelta(seconds=MIN_CHECK_AFTER_SECONDS),
            code="x_media_refused",
        ) from error

    def post_url(self, post_id: str) -> str:
        return f"{self.web_url}/i/web/status/{post_id}"

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        response = http.send(
            self.session,
            method,
            f"{self.api_url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            **kwargs,
        )
        if not response.ok:
            raise classify_error(response)
        return response

    def _read_path(self, item: base.MediaItem) -> str:
        if not item.path or not os.path.isfile(item.path):
            raise base.PermanentError(
                f"The file {media_name(item)} is no longer stored in SoSocial; attach it again.",
                code="x_media_missing",
            )
        return item.path

    def _upload(self, item: base.MediaItem, token: str) -> tuple[str, Any, datetime]:
        """Upload one file: its media id, its `processing_info` and when X discards it."""
        path = self._read_path(item)
        if item.content_type in STILL_IMAGE_TYPES:
            with open(path, "rb") as file:
                content = file.read()
            response = self._call(
                "POST",
                MEDIA_UPLOAD_PATH,
                token,
                files={"media": (os.path.basename(path), content, item.content_type)},
                data={"media_category": "tweet_image"},
            )
        else:
            response = self._upload_chunked(item, path, token)
        media = _data(http.json_object(response))
        media_id = str(media.get("id", ""))
        if not media_id:
            raise base.RetryableError(
                "X accepted a file upload but did not say its id; SoSocial will try again.",
                code="x_media_no_id",
                http_status=response.status_code,
            )
        return media_id, media.get("processing_info"), _expiry(media.get("expires_after_secs"))

    def _upload_chunked(self, item: base.MediaItem, path: str, token: str) -> requests.Response:
        """initialize → append 1 MB segments → finalize; returns the finalize response."""
        total = os.path.getsize(path)
        if total == 0:
            raise base.PermanentError(f"The file {media_name(item)} is empty.", code="x_media_empty")
        category = "tweet_gif" if item.content_type == GIF_TYPE else "tweet_video"
        init = self._call(
            "POST",
            MEDIA_INITIALIZE_PATH,
            token,
            json={"media_type": item.content_type, "total_bytes": total, "media_category": category},
        )
        media_id = str(_data(http.json_object(init)).get("id", ""))
        if not media_id:
            raise base.RetryableError(
                "X did not start the video upload properly; SoSocial will try again.",
                code="x_media_no_id",
                http_status=init.status_code,
            )
        with open(path, "rb") as file:
            segment = 0
            while chunk := file.read(CHUNK_BYTES):
                self._call(
                    "POST",
                    MEDIA_APPEND_PATH.format(media_id=media_id),
                    token,
                    files={"media": ("chunk", chunk, "application/octet-stream")},
                    data={"segment_index": str(segment)},
                )
                segment += 1
        return self._call("POST", MEDIA_FINALIZE_PATH.format(media_id=media_id), token)

    def _media_status(self, media_id: str, token: str) -> Any:
        """One STATUS read: the media's `processing_info` (raises PermanentError when it failed)."""
        response = self._call(
            "GET", MEDIA_UPLOAD_PATH, token, params={"command": "STATUS", "media_id": media_id}
        )
        return _data(http.json_object(response)).get("processing_info")

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        """Look for this date's post among the account's own posts made since it was first sent.

        A post matches when its text outside links is the same and its links, as X expanded them
        (`entities.urls`), are the request's links in order; X's media link is left out. A post
        made only of links or media cannot be told from another (UNKNOWN). Only the newest
        RECONCILE_PAGES x 100 posts are read: with pages left, a miss is UNKNOWN.
        """
        start = base.search_from(request, since)
        if start is None:
            return base.Reconciliation(
                status=base.ReconcileStatus.NOT_PUBLISHED,
                message="SoSocial never sent this date to X; safe to send it.",
            )
        wanted = _comparable(request.text)
        if not wanted:
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="This post has no text outside links for SoSocial to look for on X. "
                "Check the account, then mark it published or send it again.",
            )
        wanted_links = links_in(request.text)
        params: dict[str, str] = {
            "start_time": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": "created_at,text,entities",
            "max_results": "100",
        }
        path = USER_TWEETS_PATH.format(user_id=request.account.account_id)
        match: Mapping[str, Any] | None = None
        complete = False
        for _ in range(RECONCILE_PAGES):
            body = http.json_object(self._call("GET", path, request.account.access_token, params=params))
            for post in body.get("data") or []:
                if not isinstance(post, dict) or str(post.get("id", "")) in request.taken_post_ids:
                    continue
                if _comparable(str(post.get("text", ""))) == wanted and expanded_links(post) == wanted_links:
                    match = post  # newest first: keep the oldest match, the first attempt's post
            meta = body.get("meta")
            next_token = meta.get("next_token") if isinstance(meta, dict) else None
            if not next_token:
                complete = True
                break
            params["pagination_token"] = str(next_token)
        if match is not None:
            post_id = str(match["id"])
            return base.Reconciliation(
                status=base.ReconcileStatus.PUBLISHED,
                result=base.PublishResult(platform_post_id=post_id, url=self.post_url(post_id)),
            )
        if not complete:
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="The X account has more posts since this date than SoSocial read. Check the "
                "account, then mark the date published or send it again.",
            )
        return base.Reconciliation(
            status=base.ReconcileStatus.NOT_PUBLISHED,
            message="No post with this text on the X account since it was sent.",
        )

    # -- OAuth ---------------------------------------------------------------------------------------
    def _require_client_id(self) -> None:
        if not self.client_id:
            raise base.PermanentError(
                "X is not set up in SoSocial (no client id); ask whoever runs SoSocial.",
                code="x_not_configured",
            )

    def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        self._require_client_id()
        auth: tuple[str, str] | None = None
        if self.client_secret:
            auth = (self.client_id, self.client_secret)  # confidential client: HTTP Basic
        else:
            form["client_id"] = self.client_id  # public client
        response = http.send(self.session, "POST", f"{self.api_url}{TOKEN_PATH}", data=form, auth=auth)
        if not response.ok:
            raise classify_error(response)
        body = http.json_object(response)
        if not body.get("access_token"):
            raise base.RetryableError("X's token answer had no access token.", code="x_oauth_no_token")
        return body

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        self._require_client_id()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": code_challenge_s256(code_verifier),
            "code_challenge_method": "S256",
        }
        return f"{self.authorize_base}{AUTHORIZE_PATH}?{urlencode(params, quote_via=quote)}"

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        tokens = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        user = _data(http.json_object(self._call("GET", USERS_ME_PATH, str(tokens["access_token"]))))
        if not user.get("id"):
            raise base.RetryableError("X did not say which account logged in; try connecting again.")
        return [
            self.connected(
                tokens, account_id=str(user["id"]), display_name=f"@{user.get('username') or user['id']}"
            )
        ]
