"""Facebook Pages client (Graph API): text and link posts, one or several photos, one video.

What the client relies on is in docs/platforms.md, Facebook. Graph plumbing, Facebook Login and
error classification are shared with Instagram in `platforms.meta`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from platforms import base
from platforms.media import file_size, is_public_url, is_video
from platforms.meta import INVALID_PARAMETER_CODE, JSON, GraphClient
from platforms.progress import Progress, now, still_valid

# -- limits ------------------------------------------------------------------------------------------
MAX_TEXT_LENGTH = 63_206  # Postiz's number; Meta's official one is UNVERIFIED
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"})
MAX_PHOTO_BYTES = 4 * 1024 * 1024  # from Postiz's reading of subcode 1366046; UNVERIFIED
# SoSocial's own cap, not Facebook's: each photo is one upload call, and all of them must finish
# inside the publish task's time limit.
MAX_PHOTOS = 10

# -- endpoints ---------------------------------------------------------------------------------------
SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts", "business_management")
WEB_URL = "https://www.facebook.com"
POST_FIELDS = "id,permalink_url"
LISTING_FIELDS = "id,message,created_time,permalink_url"
VIDEO_STATUS_FIELDS = "status,permalink_url"
VIDEO_KEY = "facebook_video_id"  # what publish checkpoints once Facebook names the video

# What a multi-photo post prepares: its unpublished photos, in order (a prefix while uploading),
# when the first was uploaded, and whether a feed post refused them once already.
PHOTOS_KEY = "facebook_photo_ids"
PHOTOS_AT_KEY = "facebook_photos_at"
PHOTOS_REFUSED_KEY = "facebook_photos_refused"

# -- pacing ------------------------------------------------------------------------------------------
# Meta documents no lifetime for unpublished photos; SoSocial counts them as good for as long as an
# Instagram container (24 hours), less an hour.
PHOTO_LIFETIME = timedelta(hours=24)
EXPIRY_MARGIN = timedelta(hours=1)
# Facebook answers a video upload at once and processes it afterwards; the post shows only when
# processing ends. Its status is read again after this long.
VIDEO_CHECK_IN = timedelta(seconds=10)


def _ids(raw: str) -> list[str]:
    return [piece for piece in raw.split(",") if piece]


def _video_errors(body: JSON) -> str:
    """Facebook's reasons for a failed video, as ' ("...")', or ''."""
    status = body.get("status")
    phase = status.get("processing_phase") if isinstance(status, dict) else None
    errors = phase.get("errors") if isinstance(phase, dict) else None
    messages = [
        str(item.get("message")) for item in errors or [] if isinstance(item, dict) and item.get("message")
    ]
    return f' ("{"; ".join(messages)}")' if messages else ""


def _absolute(url: Any) -> str:
    """Video permalinks come back as paths ("/page/videos/1/")."""
    if not isinstance(url, str) or not url:
        return ""
    return f"{WEB_URL}{url}" if url.startswith("/") else url


class FacebookClient(GraphClient):
    platform_key = "facebook"
    platform_name = "Facebook"
    scopes = SCOPES

    # -- validation ----------------------------------------------------------------------------------
    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        problems: list[str] = []
        videos = [item for item in media if is_video(item)]
        photos = [item for item in media if not is_video(item)]
        if not text.strip() and not media:
            problems.append("Write some text or add a photo or video: Facebook will not post an empty post.")
        if len(text) > MAX_TEXT_LENGTH:
            problems.append(
                f"The text is {len(text):,} characters; Facebook allows at most {MAX_TEXT_LENGTH:,}."
            )
        if videos and photos:
            problems.append("A Facebook post can have photos or one video, not both. Remove one of them.")
        if len(videos) > 1:
            problems.append("A Facebook post can have only one video. Remove the others.")
        if len(photos) > MAX_PHOTOS:
            problems.append(f"SoSocial can post at most {MAX_PHOTOS} photos at once to Facebook.")
        for item in photos:
            name = os.path.basename(item.path or item.url) or "a photo"
            if item.content_type not in PHOTO_TYPES:
                problems.append(
                    f"{name} is not a photo Facebook accepts ({item.content_type or 'unknown type'}); "
                    "use JPEG, PNG, GIF or WebP."
                )
            size = file_size(item.path)
            if size is not None and size > MAX_PHOTO_BYTES:
                problems.append(f"{name} is larger than 4 MB; Facebook may refuse it. Use a smaller photo.")
        for item in media:
            if not is_public_url(item.url):
                problems.append(
                    f"{os.path.basename(item.path) or 'A media file'} has no public web address, "
                    "which Facebook needs to fetch it."
                )
        link = options.get("link", "")
        if link and not is_public_url(link):
            problems.append("The link must start with https:// or http://.")
        if link and media:
            problems.append(
                "Facebook shows a link preview only on posts without photos or video; put the link "
                "in the text instead."
            )
        return problems

    # -- preparing -----------------------------------------------------------------------------------
    def prepare(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.Prepared:
        # Only a post of several photos has something to prepare: its photos, uploaded unpublished
        # (Meta's multi-photo flow), attached by the one `/feed` call at the time. Text, link and
        # single-photo posts are one call; a video is published by its own upload (`/videos` has
        # no documented way to upload unpublished and publish later), so it is uploaded at the
        # time and followed by `Processing`.
        if not self._is_album(request):
            return base.Prepared()
        return self._prepare_photos(request, Progress(request, checkpoint))

    @staticmethod
    def _is_album(request: base.PublishRequest) -> bool:
        return len(request.media) > 1 and not any(is_video(item) for item in request.media)

    def _prepare_photos(self, request: base.PublishRequest, progress: Progress) -> base.Prepared:
        """Upload the photos not uploaded yet, each unpublished, each id checkpointed as it comes."""
        photo_ids = _ids(progress.get(PHOTOS_KEY))
        expires_at = self._photos_expire_at(progress)
        if photo_ids and not still_valid(expires_at):
            progress.save({PHOTOS_KEY: "", PHOTOS_AT_KEY: ""})
            photo_ids = []
        page_id, token = request.account.account_id, request.account.access_token
        for item in request.media[len(photo_ids) :]:
            # Unpublished photos are invisible until the feed post attaches them, so each upload
            # is safe to repeat (an orphan is never shown).
            answer = self.post(
                f"{page_id}/photos",
                token=token,
                data={"url": item.url, "published": "false"},
                publishes=False,
            )
            photo_ids.append(self.require_id(answer, what="photo", publishes=False))
            values = {PHOTOS_KEY: ",".join(photo_ids)}
            if not progress.get(PHOTOS_AT_KEY):
                values[PHOTOS_AT_KEY] = now().isoformat()
            progress.save(values)
        return base.Prepared(expires_at=self._photos_expire_at(progress))

    @staticmethod
    def _photos_expire_at(progress: Progress) -> datetime | None:
        uploaded = progress.moment(PHOTOS_AT_KEY)
        return uploaded + PHOTO_LIFETIME - EXPIRY_MARGIN if uploaded is not None else None

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        # Every Facebook post is made by one final call, which answers with its id. Before that
        # call the client saves when this date first sent it (`base.mark_sent`), so reconciliation
        # looks for this date's own post and no earlier one of the same text.
        progress = Progress(request, checkpoint)
        page_id = request.account.account_id
        videos = [item for item in request.media if is_video(item)]
        if videos:
            return self._publish_video(request, videos[0], progress)
        if not request.media:
            data = {"message": request.text, "fields": POST_FIELDS}
            if request.options.get("link"):
                data["link"] = request.options["link"]
            return self._create_post(request, f"{page_id}/feed", data, progress)
        if len(request.media) == 1:
            data = {"url": request.media[0].url, "fields": POST_FIELDS}
            if request.text:
                data["caption"] = request.text
            return self._create_post(request, f"{page_id}/photos", data, progress)
        return self._publish_album(request, progress)

    def _publish_album(self, request: base.PublishRequest, progress: Progress) -> base.PublishResult:
        # Prepared ahead: no upload now, only the feed post.
        self._prepare_photos(request, progress)
        photo_ids = _ids(progress.get(PHOTOS_KEY))
        data = {
            "message": request.text,
            "attached_media": json.dumps([{"media_fbid": photo_id} for photo_id in photo_ids]),
            "fields": POST_FIELDS,
        }
        try:
            return self._create_post(request, f"{request.account.account_id}/feed", data, progress)
        except base.PermanentError as error:
            if error.code.startswith(f"meta_{INVALID_PARAMETER_CODE}") and not progress.get(
                PHOTOS_REFUSED_KEY
            ):
                # A parameter refusal posts nothing. Facebook does not say how long it keeps
                # unpublished photos: when the prepared ones are refused, upload them again, once.
                progress.save({PHOTOS_KEY: "", PHOTOS_AT_KEY: "", PHOTOS_REFUSED_KEY: "1"})
                raise base.NotReady(
                    "Facebook no longer accepted the uploaded photos; nothing was posted. SoSocial "
                    "uploads them again.",
                    check_in=timedelta(seconds=1),
                    code="facebook_photos_refused",
                ) from error
            raise

    def _create_post(
        self, request: base.PublishRequest, path: str, data: Mapping[str, str], progress: Progress
    ) -> base.PublishResult:
        base.mark_sent(request, progress.save)
        # A 5xx, a transient error, a lost answer or Meta's duplicate refusal (506) raise
        # OutcomeUnknown here (`GraphClient.post`): the pipeline reconciles before sending again.
        answer = self.post(path, token=request.account.access_token, data=data, publishes=True)
        # /photos answers with the photo id and the id of the Page post that shows it.
        post_id = str(answer.body.get("post_id") or self.require_id(answer, what="post", publishes=True))
        url = _absolute(answer.body.get("permalink_url")) or f"{WEB_URL}/{post_id}"
        return base.PublishResult(platform_post_id=post_id, url=url, http_status=answer.http_status)

    def _publish_video(
        self, request: base.PublishRequest, video: base.MediaItem, progress: Progress
    ) -> base.PublishResult:
        token = request.account.access_token
        video_id = progress.get(VIDEO_KEY)
        if not video_id:
            page_id = request.account.account_id
            data = {"file_url": video.url, "description": request.text}
            if request.options.get("title"):
                data["title"] = request.options["title"]
            base.mark_sent(request, progress.save)
            # The Graph host: Meta deprecated the separate graph-video host for uploads.
            answer = self.post(f"{page_id}/videos", token=token, data=data, publishes=True)
            video_id = self.require_id(answer, what="video", publishes=True)
            progress.save({VIDEO_KEY: video_id})
        # An earlier attempt's video (or this one's) is followed, never uploaded a second time while
        # it may still come out of processing: its status is read once.
        return self._video_outcome(video_id, token=token, progress=progress)

    def _video_status(self, video_id: str, *, token: str) -> tuple[str, JSON]:
        """The video's `status.video_status` (processing, ready, error, ...) and its whole answer."""
        body = self.get(video_id, token=token, params={"fields": VIDEO_STATUS_FIELDS})
        status = body.get("status")
        state = status.get("video_status") if isinstance(status, dict) else None
        return (str(state) if state else ""), body

    def _video_outcome(self, video_id: str, *, token: str, progress: Progress) -> base.PublishResult:
        """Read the uploaded video's status once: ready is published, error failed, anything else
        still processing (`Processing`: publish reads it again later, no second upload)."""
        try:
            state, body = self._video_status(video_id, token=token)
        except base.TokenExpired:
            raise  # refreshing then publishing again reads this same video id
        except base.RetryableError as error:
            raise self._processing(f"SoSocial could not check on it just now ({error.message})") from error
        except base.PlatformError as error:
            raise base.OutcomeUnknown(
                f"Facebook has the video but SoSocial could not check on it ({error.message}). "
                "SoSocial is checking before doing anything else.",
                code=error.code,
                http_status=error.http_status,
            ) from error
        if state == "ready":
            return self._video_result(video_id, body)
        if state == "error":
            # A failed video is never shown: forget it, so that trying the date again uploads anew.
            progress.save({VIDEO_KEY: ""})
            raise base.PermanentError(
                f"Facebook could not process the video{_video_errors(body)}. Check it is a video "
                "Facebook accepts (MP4 or MOV, H.264), then schedule it again.",
                code="facebook_video_processing_failed",
            )
        raise self._processing("it will show on the Page when done")

    @staticmethod
    def _processing(detail: str) -> base.Processing:
        return base.Processing(
            f"Facebook has the video and is processing it; {detail}. SoSocial checks again in "
            f"{int(VIDEO_CHECK_IN.total_seconds())} s.",
            check_in=VIDEO_CHECK_IN,
            code="facebook_video_processing",
        )

    def _video_result(self, video_id: str, body: JSON) -> base.PublishResult:
        page_url = _absolute(body.get("permalink_url")) or f"{WEB_URL}/{video_id}"
        return base.PublishResult(platform_post_id=video_id, url=page_url, http_status=200)

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        video_id = request.progress.get(VIDEO_KEY, "")
        if video_id:
            return self._reconcile_video(video_id, token=request.account.access_token)
        start = base.search_from(request, since)
        if start is None:
            # publish saves the moment before the call that makes a post; without it no such call
            # was ever sent for this date.
            return base.Reconciliation(
                status=base.ReconcileStatus.NOT_PUBLISHED,
                message="SoSocial never sent this date to Facebook; safe to send it.",
            )
        if not request.text.strip():
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="This post has no text, so SoSocial cannot recognise it among the Page's "
                "posts. Check the Page, then mark the date published or send it again.",
            )
        found, complete = self._find_post(request, since=start)
        if found is not None:
            return base.Reconciliation(status=base.ReconcileStatus.PUBLISHED, result=found)
        if any(is_video(item) for item in request.media):
            # The upload's answer was lost, so its id is unknown, and a video post shows among the
            # Page's posts only once Facebook has processed it.
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="Facebook may still be processing the video. SoSocial will look again.",
            )
        if not complete:
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="The Page has more posts since this date than SoSocial could check. Check "
                "the Page, then mark the date published or send it again.",
            )
        return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)

    def _reconcile_video(self, video_id: str, *, token: str) -> base.Reconciliation:
        state, body = self._video_status(video_id, token=token)
        if state == "ready":
            return base.Reconciliation(
                status=base.ReconcileStatus.PUBLISHED, result=self._video_result(video_id, body)
            )
        if state == "error":
            return base.Reconciliation(
                status=base.ReconcileStatus.NOT_PUBLISHED,
                message=f"Facebook could not process the video{_video_errors(body)}.",
            )
        return base.Reconciliation(
            status=base.ReconcileStatus.UNKNOWN,
            message="Facebook is still processing the video. SoSocial will look again.",
        )

    def _find_post(
        self, request: base.PublishRequest, *, since: datetime
    ) -> tuple[base.PublishResult | None, bool]:
        """The Page's earliest post with this text since `since`, and whether the listing was whole."""
        post, complete = self.earliest_post(
            request,
            "published_posts",
            since=since,
            fields=LISTING_FIELDS,
            text_field="message",
            time_field="created_time",
        )
        if post is None:
            return None, complete
        post_id = str(post["id"])
        url = _absolute(post.get("permalink_url")) or f"{WEB_URL}/{post_id}"
        return base.PublishResult(platform_post_id=post_id, url=url), complete

    # -- connecting ----------------------------------------------------------------------------------
    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        pages = self.login_pages(code=code, redirect_uri=redirect_uri)
        if not pages:
            raise base.PermanentError(
                "Facebook did not share any Pages with SoSocial. Connect again and select the Pages "
                "to post to (you need a role on each Page that can create content).",
                code="meta_no_pages",
            )
        # Page tokens from a long-lived user token have no expiry date.
        return [
            base.ConnectedAccount(
                account_id=str(page["id"]),
                display_name=str(page.get("name") or page["id"]),
                access_token=str(page["access_token"]),
            )
            for page in pages
        ]
