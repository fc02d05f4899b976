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
from platforms.meta import DUPLICATE_CODE, Answer, GraphClient

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
DEFAULT_GRAPH_VIDEO_URL = "https://graph-video.facebook.com"
# A retried attempt that meets "duplicate" looks for its own earlier post from a little before the
# scheduled time (clock skew between SoSocial and Meta).
EARLIER_ATTEMPT_SLACK = timedelta(minutes=5)


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
        # Every Facebook post is created by one final call, so there is no handle to checkpoint:
        # recovery looks the post up by its text (reconcile).
        page_id = request.account.account_id
        videos = [item for item in request.media if is_video(item)]
        if videos:
            return self._publish_video(request, videos[0])
        if not request.media:
            data = {"message": request.text, "fields": POST_FIELDS}
            if request.options.get("link"):
                data["link"] = request.options["link"]
            return self._create_post(request, f"{page_id}/feed", data)
        if len(request.media) == 1:
            data = {"url": request.media[0].url, "fields": POST_FIELDS}
            if request.text:
                data["caption"] = request.text
            return self._create_post(request, f"{page_id}/photos", data)
        return self._publish_album(request)

    def _publish_album(self, request: base.PublishRequest) -> base.PublishResult:
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
        return self._create_post(request, f"{page_id}/feed", data)

    def _publish_video(self, request: base.PublishRequest, video: base.MediaItem) -> base.PublishResult:
        page_id = request.account.account_id
        data = {"file_url": video.url, "description": request.text, "fields": POST_FIELDS}
        if request.options.get("title"):
            data["title"] = request.options["title"]
        host = self.config.get("graph_video_url") or DEFAULT_GRAPH_VIDEO_URL
        answer = self._create(request, f"{page_id}/videos", data, host=host)
        if isinstance(answer, base.PublishResult):
            return answer
        # Facebook processes the video after answering; the video id is the handle users can open.
        video_id = self.require_id(answer, what="video", publishes=True)
        url = _absolute(answer.body.get("permalink_url")) or f"{WEB_URL}/{page_id}/videos/{video_id}"
        return base.PublishResult(platform_post_id=video_id, url=url, http_status=answer.http_status)

    def _create_post(
        self, request: base.PublishRequest, path: str, data: Mapping[str, str]
    ) -> base.PublishResult:
        answer = self._create(request, path, data)
        if isinstance(answer, base.PublishResult):
            return answer
        # /photos answers with the photo id and the id of the Page post that shows it.
        post_id = str(answer.body.get("post_id") or self.require_id(answer, what="post", publishes=True))
        url = _absolute(answer.body.get("permalink_url")) or f"{WEB_URL}/{post_id}"
        return base.PublishResult(platform_post_id=post_id, url=url, http_status=answer.http_status)

    def _create(
        self, request: base.PublishRequest, path: str, data: Mapping[str, str], *, host: str | None = None
    ) -> Answer | base.PublishResult:
        """The answer to a publishing call, or an earlier attempt's post that Facebook says exists."""
        try:
            return self.post(path, token=request.account.access_token, data=data, publishes=True, base=host)
        except base.PermanentError as error:
            if not error.code.startswith(f"meta_{DUPLICATE_CODE}"):
                raise
            # Facebook refuses an identical consecutive post. If an earlier attempt of this very
            # post went out (its answer lost to a 5xx or timeout), that is success, not failure.
            earlier, _complete = self._find_post(request, since=request.scheduled_at - EARLIER_ATTEMPT_SLACK)
            if earlier is None:
                raise
            return earlier

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        if not request.text.strip():
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="This post has no text, so SoSocial cannot recognise it among the Page's "
                "posts. Check the Page, then mark the date published or send it again.",
            )
        found, complete = self._find_post(request, since=since)
        if found is not None:
            return base.Reconciliation(status=base.ReconcileStatus.PUBLISHED, result=found)
        if any(is_video(item) for item in request.media):
            # A video post shows up in the Page's posts only once Facebook has processed it.
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="Facebook may still be processing the video. Check the Page's videos, then "
                "mark the date published or send it again.",
            )
        if not complete:
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="The Page has more posts since this date than SoSocial could check. Check "
                "the Page, then mark the date published or send it again.",
            )
        return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)

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
