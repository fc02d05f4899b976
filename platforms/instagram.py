"""Instagram client for professional accounts linked to a Facebook Page (Facebook Login, Graph API).

Publishing is Meta's container flow (docs/platforms.md, Instagram): create a container, wait until Instagram
has fetched and processed the media, then `media_publish` it. Only `media_publish` makes anything
public, and the container's status turns PUBLISHED when it does, so the container id saved before
that call tells a later attempt (or reconciliation) exactly whether the post went out.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import requests

from platforms import base
from platforms.facebook import SCOPES as FACEBOOK_SCOPES
from platforms.media import file_size, image_size, is_public_url, is_video
from platforms.meta import (
    NOT_READY_CODE,
    PERMANENT_SUBCODES,
    RETRYABLE_SUBCODES,
    GraphClient,
    subcode_in_status,
)

logger = logging.getLogger(__name__)

# -- limits ------------------------------------------------------------------------------------------
MAX_CAPTION_LENGTH = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
# Feed photos must lie between portrait 4:5 and landscape 1.91:1.
MIN_ASPECT_RATIO, MAX_ASPECT_RATIO = 4 / 5, 1.91
MAX_CAROUSEL_ITEMS = 10
IMAGE_TYPES = frozenset({"image/jpeg"})  # JPEG only; MPO/JPS are refused too
VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_REEL_BYTES = 300 * 1024 * 1024
# Counted the way Instagram's limits read ("30 hashtags"): every occurrence, which is the stricter
# reading when a tag repeats.
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
_MENTION = re.compile(r"(?<![\w@.])@[A-Za-z0-9._]+")

# -- endpoints ---------------------------------------------------------------------------------------
SCOPES = (*FACEBOOK_SCOPES, "instagram_basic", "instagram_content_publish")
STATUS_FIELDS = "status_code,status"
MEDIA_FIELDS = "id,caption,timestamp,permalink"
CONTAINER_KEY = "container_id"  # what publish checkpoints; reconcile reads it back
# The container a media_publish was sent for, saved before sending: a FINISHED container that was
# never sent cannot be live, while one that was may still be publishing.
PUBLISH_SENT_KEY = "ig_publish_sent_for"

# Container status codes.
IN_PROGRESS = "IN_PROGRESS"
FINISHED = "FINISHED"
ERROR = "ERROR"
EXPIRED = "EXPIRED"
PUBLISHED = "PUBLISHED"

# -- pacing ------------------------------------------------------------------------------------------
# Meta suggests polling once a minute for up to five minutes, but a publish must finish inside the
# Celery soft time limit (90 s) and a carousel may wait twice (video children, then the parent).
# Giving up is cheap: the container id is saved, so the next attempt polls the same container.
# Both can be set per deployment as `poll_interval_seconds` / `poll_timeout_seconds` in settings.
DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_POLL_TIMEOUT = 30.0
MAX_NOT_READY_RETRIES = 2


def _seconds(value: str | None, default: float) -> float:
    try:
        seconds = float(value) if value else default
    except ValueError:
        return default
    return seconds if seconds > 0 else default


class InstagramClient(GraphClient):
    platform_key = "instagram"
    platform_name = "Instagram"
    scopes = SCOPES

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        poll_interval: float | None = None,
        poll_timeout: float | None = None,
    ) -> None:
        super().__init__(session=session, sleep=sleep)
        self.poll_interval = poll_interval or _seconds(
            self.config.get("poll_interval_seconds"), DEFAULT_POLL_INTERVAL
        )
        self.poll_timeout = poll_timeout or _seconds(
            self.config.get("poll_timeout_seconds"), DEFAULT_POLL_TIMEOUT
        )

    # -- validation ----------------------------------------------------------------------------------
    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        problems: list[str] = []
        if not media:
            problems.append("Instagram posts need a photo or a video. Add one.")
        if len(media) > MAX_CAROUSEL_ITEMS:
            problems.append(f"An Instagram carousel has at most {MAX_CAROUSEL_ITEMS} photos or videos.")
        videos = [item for item in media if is_video(item)]
        if options.get("kind") == "reel" and (len(media) != 1 or not videos):
            problems.append("A reel is exactly one video, with no photos.")
        for item in media:
            name = os.path.basename(item.path or item.url) or "A media file"
            if is_video(item):
                if item.content_type not in VIDEO_TYPES:
                    problems.append(f"{name} is not a video Instagram accepts; use MP4 or MOV.")
                size = file_size(item.path)
                if size is not None and size > MAX_REEL_BYTES:
                    problems.append(f"{name} is larger than Instagram's 300 MB limit for videos.")
            elif item.content_type not in IMAGE_TYPES:
                problems.append(
                    f"{name} is {item.content_type or 'of an unknown type'}; Instagram accepts only "
                    "JPEG photos. Convert it to JPEG."
                )
            else:
                size = file_size(item.path)
                if size is not None and size > MAX_IMAGE_BYTES:
                    problems.append(f"{name} is larger than Instagram's 8 MB limit for photos.")
                dimensions = image_size(item.path)
                if dimensions and not MIN_ASPECT_RATIO <= dimensions[0] / dimensions[1] <= MAX_ASPECT_RATIO:
                    problems.append(
                        f"{name} is {dimensions[0]} x {dimensions[1]} px; Instagram needs photos between 4:5 "
                        "(portrait) and 1.91:1 (landscape). Crop it."
                    )
            if not is_public_url(item.url):
                problems.append(f"{name} has no public web address, which Instagram needs to fetch it.")
        if len(text) > MAX_CAPTION_LENGTH:
            problems.append(
                f"The caption is {len(text):,} characters; Instagram allows at most {MAX_CAPTION_LENGTH:,}."
            )
        hashtags = len(_HASHTAG.findall(text))
        if hashtags > MAX_HASHTAGS:
            problems.append(f"The caption has {hashtags} hashtags; Instagram allows at most {MAX_HASHTAGS}.")
        mentions = len(_MENTION.findall(text))
        if mentions > MAX_MENTIONS:
            problems.append(f"The caption has {mentions} @mentions; Instagram allows at most {MAX_MENTIONS}.")
        return problems

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        token = request.account.access_token
        container_id = request.progress.get(CONTAINER_KEY, "")
        status = ""
        if container_id:
            # An earlier attempt made this container and then stopped (crash, lost answer, timeout).
            # Publishing the same container again can never post twice (Meta refuses a PUBLISHED
            # one), so it is reused whenever it can still publish.
            status = self._earlier_container_status(container_id, token=token)
            if status == PUBLISHED:
                return self._published_media(request)
            if status not in (FINISHED, IN_PROGRESS):
                container_id = ""  # expired, failed or gone: containers are invisible, so start over
        if not container_id:
            container_id = self._create_container(request)
            # Saved before media_publish, so whatever happens next can be told apart.
            checkpoint({CONTAINER_KEY: container_id})
            status = ""
        if status != FINISHED:
            status = self._wait_until_finished([container_id], token=token)
        if status == PUBLISHED:
            return self._published_media(request)
        return self._media_publish(request, container_id, checkpoint)

    def _earlier_container_status(self, container_id: str, *, token: str) -> str:
        try:
            status, _text = self._container_status(container_id, token=token)
        except base.ReconnectNeeded:
            raise
        except base.PermanentError:
            # The Graph no longer knows the container (it does not keep unpublished ones forever).
            return ""
        return status

    def _create_container(self, request: base.PublishRequest) -> str:
        ig_user_id, token = request.account.account_id, request.account.access_token
        media = request.media
        if not media:
            raise base.PermanentError("Instagram posts need a photo or a video.", code="ig_no_media")
        path = f"{ig_user_id}/media"
        if len(media) == 1:
            item = media[0]
            data = {"caption": request.text}
            if is_video(item):
                # Since July 2023 every single feed video is published as a reel.
                data.update(media_type="REELS", video_url=item.url)
                if request.options.get("share_to_feed"):
                    data["share_to_feed"] = request.options["share_to_feed"]
            else:
                data["image_url"] = item.url
            answer = self.post(path, token=token, data=data, publishes=False)
            return self.require_id(answer, what="container", publishes=False)

        children: list[str] = []
        video_children: list[str] = []
        for item in media:
            data = {"is_carousel_item": "true"}
            if is_video(item):
                data.update(media_type="VIDEO", video_url=item.url)
            else:
                data["image_url"] = item.url
            answer = self.post(path, token=token, data=data, publishes=False)
            child_id = self.require_id(answer, what="carousel item", publishes=False)
            children.append(child_id)
            if is_video(item):
                video_children.append(child_id)
        if video_children:
            # A carousel of unprocessed videos is refused; photos are ready almost at once.
            self._wait_until_finished(video_children, token=token)
        parent = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": request.text}
        answer = self.post(path, token=token, data=parent, publishes=False)
        return self.require_id(answer, what="carousel", publishes=False)

    def _container_status(self, container_id: str, *, token: str) -> tuple[str, str]:
        body = self.get(container_id, token=token, params={"fields": STATUS_FIELDS})
        return str(body.get("status_code") or "").upper(), str(body.get("status") or "")

    def _wait_until_finished(self, container_ids: Sequence[str], *, token: str) -> str:
        """Poll until every container is FINISHED (returned), or one was PUBLISHED; bounded."""
        polls = max(1, math.ceil(self.poll_timeout / self.poll_interval)) + 1
        waiting = list(container_ids)
        for poll in range(polls):
            if poll:
                self.sleep(self.poll_interval)
            still_waiting = []
            for container_id in waiting:
                status, text = self._container_status(container_id, token=token)
                if status == PUBLISHED:
                    return PUBLISHED
                if status in (ERROR, EXPIRED):
                    raise self._container_failed(status, text)
                if status != FINISHED:
                    still_waiting.append(container_id)
            waiting = still_waiting
            if not waiting:
                return FINISHED
        raise base.RetryableError(
            "Instagram is still processing the media. SoSocial will check again shortly and "
            "publish it once it is ready.",
            code="ig_container_in_progress",
        )

    def _container_failed(self, status: str, text: str) -> base.PlatformError:
        subcode = subcode_in_status(text)
        code = f"ig_container_{status.lower()}" + (f"_{subcode}" if subcode else "")
        if status == EXPIRED:
            return base.PermanentError(
                "Instagram discarded the prepared media before it was published (containers expire "
                "after 24 hours). Retry the post from SoSocial.",
                code=code,
            )
        if subcode in RETRYABLE_SUBCODES:
            # The next attempt finds this container in ERROR and prepares a new one.
            return base.RetryableError(
                f"{RETRYABLE_SUBCODES[subcode]}; SoSocial will try again.",
                code=code,
            )
        if subcode in PERMANENT_SUBCODES:
            return base.PermanentError(
                f"Instagram could not use the media: {PERMANENT_SUBCODES[subcode]}", code=code
            )
        said = f' Instagram said: "{text}"' if text else ""
        return base.PermanentError(
            "Instagram could not process the media. Check that it meets Instagram's requirements "
            f"(JPEG photos, MP4 or MOV videos, supported sizes), then schedule it again.{said}",
            code=code,
        )

    def _media_publish(
        self, request: base.PublishRequest, container_id: str, checkpoint: base.Checkpoint
    ) -> base.PublishResult:
        ig_user_id, token = request.account.account_id, request.account.access_token
        base.mark_sent(request, checkpoint)
        checkpoint({PUBLISH_SENT_KEY: container_id})
        for attempt in range(MAX_NOT_READY_RETRIES + 1):
            try:
                answer = self.post(
                    f"{ig_user_id}/media_publish",
                    token=token,
                    data={"creation_id": container_id},
                    publishes=True,
                )
            except base.RetryableError as error:
                # 9007 "not ready" means the status we saw was stale: poll again, don't fail.
                if error.code.startswith(f"meta_{NOT_READY_CODE}") and attempt < MAX_NOT_READY_RETRIES:
                    if self._wait_until_finished([container_id], token=token) == PUBLISHED:
                        return self._published_media(request)
                    continue
                return self._after_failed_publish(request, container_id, error)
            except base.PlatformError as error:
                return self._after_failed_publish(request, container_id, error)
            media_id = self.require_id(answer, what="post", publishes=True)
            return base.PublishResult(
                platform_post_id=media_id,
                url=self._permalink(media_id, token=token),
                http_status=answer.http_status,
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _after_failed_publish(
        self, request: base.PublishRequest, container_id: str, error: base.PlatformError
    ) -> base.PublishResult:
        """Whatever media_publish answered, the container says whether the post went out.

        A media_publish may outlive its answer (a timeout, a 5xx, a dropped connection), and Meta
        refuses to publish a PUBLISHED container again with an error: either way a PUBLISHED
        container is success. After an ambiguous answer it is watched for a while (the publish may
        still be running); a container still FINISHED then stays unknown, never "not published".
        """
        token = request.account.access_token
        ambiguous = isinstance(error, base.OutcomeUnknown)
        polls = max(1, math.ceil(self.poll_timeout / self.poll_interval)) if ambiguous else 1
        for poll in range(polls):
            if poll:
                self.sleep(self.poll_interval)
            try:
                status, _text = self._container_status(container_id, token=token)
            except base.PlatformError:
                break
            if status == PUBLISHED:
                return self._published_media(request)
            if status != FINISHED:
                break
        raise error

    def _permalink(self, media_id: str, *, token: str) -> str:
        # The post is live by now: a failed lookup must not turn success into a retry (a double post).
        try:
            body = self.get(media_id, token=token, params={"fields": "permalink"})
        except base.PlatformError as error:
            logger.warning("Instagram media %s is published but its link is unknown: %s", media_id, error)
            return ""
        permalink = body.get("permalink")
        return permalink if isinstance(permalink, str) else ""

    def _published_media(
        self, request: base.PublishRequest, *, since: datetime | None = None
    ) -> base.PublishResult:
        """The media this date's PUBLISHED container became, found by caption in the account's
        feed among posts made since this date first called media_publish."""
        since = since or request.scheduled_at - base.CLOCK_SKEW
        # The container already proved this date went out; the search only finds its link.
        start = base.search_from(request, since) or since
        item, _complete = self.earliest_post(
            request,
            "media",
            since=start,
            fields=MEDIA_FIELDS,
            text_field="caption",
            time_field="timestamp",
        )
        if item is None:
            # The container says it is published, so it is: record that, even without the link.
            logger.warning(
                "Instagram post for %s is published but was not found by caption", request.reference
            )
            return base.PublishResult(platform_post_id="", url="")
        permalink = item.get("permalink")
        return base.PublishResult(
            platform_post_id=str(item["id"]), url=permalink if isinstance(permalink, str) else ""
        )

    # -- reconciliation ------------------------------------------------------------------------------
    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        container_id = request.progress.get(CONTAINER_KEY, "")
        if not container_id:
            # Only media_publish makes anything public on Instagram, and publish saves the container
            # id (durably, through checkpoint) before calling it. No id: the attempt stopped before
            # any container existed, so nothing can be on the account.
            return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)
        status, _text = self._container_status(container_id, token=request.account.access_token)
        if status == PUBLISHED:
            return base.Reconciliation(
                status=base.ReconcileStatus.PUBLISHED, result=self._published_media(request, since=since)
            )
        if status == FINISHED and request.progress.get(PUBLISH_SENT_KEY) == container_id:
            # media_publish was sent for it and its answer was lost: it may still be publishing.
            # Publishing this same container again is safe, but "not published" would be a guess.
            return base.Reconciliation(
                status=base.ReconcileStatus.UNKNOWN,
                message="Instagram has not finished publishing this post yet (its media is ready and "
                "was sent). SoSocial will check again.",
            )
        if status in (FINISHED, IN_PROGRESS, EXPIRED, ERROR):
            # Never sent, still processing, or dead: an unpublished container is invisible.
            return base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)
        return base.Reconciliation(
            status=base.ReconcileStatus.UNKNOWN,
            message=f"Instagram reported an unexpected state ({status or 'none'}) for this post. Check "
            "the account, then mark the date published or send it again.",
        )

    # -- connecting ----------------------------------------------------------------------------------
    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        accounts = []
        for page in self.login_pages(code=code, redirect_uri=redirect_uri):
            business = page.get("instagram_business_account")
            if not isinstance(business, dict) or not business.get("id"):
                continue
            username = business.get("username")
            accounts.append(
                base.ConnectedAccount(
                    account_id=str(business["id"]),
                    display_name=f"@{username}" if username else str(page.get("name") or business["id"]),
                    # Publishing with FB Login uses the linked Page's token, which does not expire.
                    access_token=str(page["access_token"]),
                )
            )
        if not accounts:
            raise base.PermanentError(
                "None of the Facebook Pages you shared has an Instagram professional account linked. "
                "Link one in the Page's settings (or switch the Instagram account to professional), "
                "then connect again.",
                code="ig_no_business_account",
            )
        return accounts
