"""Facebook Pages client (Graph API): text and link posts, one or several photos, one video.

What the client relies on is in docs/platforms.md, Facebook. Graph plumbing, Facebook Login and
error classification are shared with Instagram in `platforms.meta`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from platforms import base
from platforms.media import file_size, is_public_url, is_video
from platforms.meta import JSON, GraphClient

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

# -- pacing ------------------------------------------------------------------------------------------
# Facebook answers a video upload at once and processes it afterwards; the post shows only when
# processing ends. A publish waits this long (inside the Celery soft time limit), then leaves the
# rest to reconciliation by the saved video id.
VIDEO_POLL_INTERVAL = 3.0
VIDEO_POLL_BUDGET = 45.0


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

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        # Every Facebook post is made by one final call, which answers with its id. Before that
        # call the client saves when this date first sent it (`base.mark_sent`), so reconciliation
        # looks for this date's own post and no earlier one of the same text.
        page_id = request.account.account_id
        videos = [item for item in request.media if is_video(item)]
        if videos:
            return self._publish_video(request, videos[0], checkpoint)
        if not request.media:
            data = {"message": request.text, "fields": POST_FIELDS}
            if request.options.get("link"):
                data["link"] = request.options["link"]
            return self._create_post(request, f"{page_id}/feed", data, checkpoint)
        if len(request.media) == 1:
            data = {"url": request.media[0].url, "fields": POST_FIELDS}
            if request.text:
                data["caption"] = request.text
            return self._create_post(request, f"{page_id}/photos", data, checkpoint)
        return self._publish_album(request, checkpoint)

    def _publish_album(self, request: base.PublishRequest, checkpoint: base.Checkpoint) -> base.PublishResult:
        page_id, token = request.account.account_id, request.account.access_token
        photo_ids = []
        for item in request.media:
            # Unpublished photos are invisible until the feed post attaches them, so each upload
            # is safe to repeat (an orphan is never shown).
            answer = self.post(
                f"{page_id}/photos",
                token=token,
                data={"url": item.url, "published": "false"},
                publishes=False,
            )
            photo_ids.append(self.require_id(answer, what="photo", publishes=False))
        data = {
            "message": request.text,
            "attached_media": json.dumps([{"media_fbid": photo_id} for photo_id in photo_ids]),
            "fields": POST_FIELDS,
        }
        return self._create_post(request, f"{page_id}/feed", data, checkpoint)

    def _create_post(
        self, request: base.PublishRequest, path: str, data: Mapping[str, str], checkpoint: base.Checkpoint
    ) -> base.PublishResult:
        base.mark_sent(request, checkpoint)
        # A 5xx, a transient error, a lost answer or Meta's duplicate refusal (506) raise
        # OutcomeUnknown here (`GraphClient.post`): the pipeline reconciles before sending again.
        answer = self.post(path, token=request.account.access_token, data=data, publishes=True)
        # /photos answers with the photo id and the id of the Page post that shows it.
        post_id = str(answer.body.get("post_id") or self.require_id(answer, what="post", publishes=True))
        url = _absolute(answer.body.get("permalink_url")) or f"{WEB_URL}/{post_id}"
        return base.PublishResult(platform_post_id=post_id, url=url, http_status=answer.http_status)

    def _publish_video(
        self, request: base.PublishRequest, video: base.MediaItem, checkpoint: base.Checkpoint
    ) -> base.PublishResult:
        token = request.account.access_token
        video_id = request.progress.get(VIDEO_KEY, "")
        if video_id:
            # An earlier attempt uploaded this video: follow it, never upload a second copy while
            # the first may still come out of processing.
            status, _body = self._video_status(video_id, token=token)
            if status == "error":
                checkpoint({VIDEO_KEY: ""})  # a failed video is never shown: a new upload is safe
                video_id = ""
        if not video_id:
            page_id = request.account.account_id
            data = {"file_url": video.url, "description": request.text}
            if request.options.get("title"):
                data["title"] = request.options["title"]
            base.mark_sent(request, checkpoint)
            # The Graph host: Meta deprecated the separate graph-video host for uploads.
            answer = self.post(f"{page_id}/videos", token=token, data=data, publishes=True)
            video_id = self.require_id(answer, what="video", publishes=True)
            checkpoint({VIDEO_KEY: video_id})
        return self._await_video(video_id, token=token)

    def _video_status(self, video_id: str, *, token: str) -> tuple[str, JSON]:
        """The video's `status.video_status` (processing, ready, error, ...) and its whole answer."""
        body = self.get(video_id, token=token, params={"fields": VIDEO_STATUS_FIELDS})
        status = body.get("status")
        state = status.get("video_status") if isinstance(status, dict) else None
        return (str(state) if state else ""), body

    def _await_video(self, video_id: str, *, token: str) -> base.PublishResult:
        """Poll the uploaded video until Facebook has processed it, within the time budget."""
        polls = max(1, math.ceil(VIDEO_POLL_BUDGET / VIDEO_POLL_INTERVAL)) + 1
        for poll in range(polls):
            if poll:
                self.sleep(VIDEO_POLL_INTERVAL)
            try:
                state, body = self._video_status(video_id, token=token)
            except base.TokenExpired:
                raise  # refreshing then publishing again resumes this same video id
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
                raise base.PermanentError(
                    f"Facebook could not process the video{_video_errors(body)}. Check it is a video "
                    "Facebook accepts (MP4 or MOV, H.264), then schedule it again.",
                    code="facebook_video_processing_failed",
                )
        raise base.OutcomeUnknown(
            "Facebook is still processing the video; it will show on the Page when done. SoSocial "
            "is checking on it before doing anything else.",
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
