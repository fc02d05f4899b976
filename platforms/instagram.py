"""Instagram client for professional accounts linked to a Facebook Page (Facebook Login, Graph API).

Publishing is Meta's container flow (docs/platforms.md, Instagram): create a container, wait until Instagram
has fetched and processed the media, then `media_publish` it. Only `media_publish` makes anything
public, and the container's status turns PUBLISHED when it does, so the container id saved before
that call tells a later attempt (or reconciliation) exactly whether the post went out.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

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
from platforms.progress import Progress, now, still_valid

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

# -- preparing ahead ---------------------------------------------------------------------------------
# A container that is never published expires 24 hours after it was made (Meta's IG container
# reference); SoSocial treats prepared media as good until an hour before that.
CONTAINER_LIFETIME = timedelta(hours=24)
EXPIRY_MARGIN = timedelta(hours=1)
# Meta suggests reading a container's status about once a minute; a date at its time cannot wait
# that long between reads, so images (ready in seconds) are read again soon and videos a little later.
IMAGE_CHECK_IN = timedelta(seconds=3)
VIDEO_CHECK_IN = timedelta(seconds=10)
# What prepare checkpoints besides CONTAINER_KEY: the carousel items made before their parent, when
# the first container of this date was made (they all expire from then), and the container last read
# FINISHED (so publish can go straight to media_publish).
CHILDREN_KEY = "ig_children"
PREPARED_AT_KEY = "ig_prepared_at"
READY_KEY = "ig_ready"


class InstagramClient(GraphClient):
    platform_key = "instagram"
    platform_name = "Instagram"
    scopes = SCOPES

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

    # -- preparing -----------------------------------------------------------------------------------
    def prepare(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.Prepared:
        return self._prepare_step(request, Progress(request, checkpoint))

    def _prepare_step(self, request: base.PublishRequest, progress: Progress) -> base.Prepared:
        """One step towards a FINISHED container: make the container(s), or read a status once.

        Returns when only media_publish is left; raises NotReady while Instagram processes.
        Containers are invisible until media_publish, so making a new one is always safe.
        """
        container_id = progress.get(CONTAINER_KEY)
        expires_at = self._expires_at(progress)
        if container_id and progress.get(PUBLISH_SENT_KEY) == container_id:
            # A media_publish was sent for this container and its answer lost: only the container
            # can say whether the post went out, and publish asks it first. Nothing to prepare.
            return base.Prepared(expires_at=expires_at)
        if expires_at is not None and not still_valid(expires_at):
            self._start_over(progress)  # Instagram discards it (or is about to): make another
            container_id = ""
        if container_id and progress.get(READY_KEY) == container_id:
            return base.Prepared(expires_at=expires_at)
        if not container_id:
            self._create_containers(request, progress)
            raise self._not_ready(request)
        return self._read_container(request, progress, container_id)

    def _expires_at(self, progress: Progress) -> datetime | None:
        made = progress.moment(PREPARED_AT_KEY)
        return made + CONTAINER_LIFETIME - EXPIRY_MARGIN if made is not None else None

    @staticmethod
    def _start_over(progress: Progress) -> None:
        progress.save({CONTAINER_KEY: "", CHILDREN_KEY: "", READY_KEY: "", PREPARED_AT_KEY: ""})

    @staticmethod
    def _not_ready(request: base.PublishRequest) -> base.NotReady:
        check_in = VIDEO_CHECK_IN if any(is_video(item) for item in request.media) else IMAGE_CHECK_IN
        return base.NotReady(
            "Instagram is still processing the media; nothing is published yet. SoSocial checks "
            f"again in {int(check_in.total_seconds())} s.",
            check_in=check_in,
            code="ig_container_in_progress",
        )

    def _read_container(
        self, request: base.PublishRequest, progress: Progress, container_id: str
    ) -> base.Prepared:
        """Read the container's status once."""
        try:
            status, text = self._container_status(container_id, token=request.account.access_token)
        except base.ReconnectNeeded:
            raise
        except base.PermanentError:
            status, text = "", ""  # the Graph no longer knows it (unpublished ones are not kept)
        if status in (FINISHED, PUBLISHED):
            # PUBLISHED without a media_publish saved for it (an attempt from before that was
            # saved): publishing it again is refused, and that refusal reads back as published.
            progress.save({READY_KEY: container_id})
            return base.Prepared(expires_at=self._expires_at(progress))
        if status == IN_PROGRESS:
            raise self._not_ready(request)
        self._start_over(progress)  # a failed or dead container is never shown: make a new one
        if status == ERROR:
            raise self._container_failed(ERROR, text)
        # EXPIRED, gone, or a status Meta does not document: nothing of it can be published.
        return self._prepare_step(request, progress)

    def _create_containers(self, request: base.PublishRequest, progress: Progress) -> None:
        """Make the post's container, or for a carousel its items and then (once the video items are
        FINISHED, which Instagram requires) its parent; each checkpointed as soon as it exists."""
        token = request.account.access_token
        media = request.media
        if not media:
            raise base.PermanentError("Instagram posts need a photo or a video.", code="ig_no_media")
        if len(media) == 1:
            container_id = self._create_single(request)
            progress.save({CONTAINER_KEY: container_id, PREPARED_AT_KEY: now().isoformat()})
            return
        children = [child for child in progress.get(CHILDREN_KEY).split(",") if child]
        video_children = [child for child, item in zip(children, media, strict=False) if is_video(item)]
        if not children:
            children = self._create_children(request)
            progress.save({CHILDREN_KEY: ",".join(children), PREPARED_AT_KEY: now().isoformat()})
            if any(is_video(item) for item in media):
                raise self._not_ready(request)  # just made: Instagram has not fetched them yet
        for child_id in video_children:
            # One read per video item; a failed or expired item spoils the carousel: start over.
            status, text = self._container_status(child_id, token=token)
            if status in (ERROR, EXPIRED):
                self._start_over(progress)
                if status == EXPIRED:
                    raise self._not_ready(request)
                raise self._container_failed(status, text)
            if status != FINISHED:
                raise self._not_ready(request)
        parent = {"media_type": "CAROUSEL", "children": ",".join(children), "caption": request.text}
        answer = self.post(f"{request.account.account_id}/media", token=token, data=parent, publishes=False)
        progress.save({CONTAINER_KEY: self.require_id(answer, what="carousel", publishes=False)})

    def _create_single(self, request: base.PublishRequest) -> str:
        item = request.media[0]
        data = {"caption": request.text}
        if is_video(item):
            # Since July 2023 every single feed video is published as a reel.
            data.update(media_type="REELS", video_url=item.url)
            if request.options.get("share_to_feed"):
                data["share_to_feed"] = request.options["share_to_feed"]
        else:
            data["image_url"] = item.url
        path = f"{request.account.account_id}/media"
        answer = self.post(path, token=request.account.access_token, data=data, publishes=False)
        return self.require_id(answer, what="container", publishes=False)

    def _create_children(self, request: base.PublishRequest) -> list[str]:
        children: list[str] = []
        for item in request.media:
            data = {"is_carousel_item": "true"}
            if is_video(item):
                data.update(media_type="VIDEO", video_url=item.url)
            else:
                data["image_url"] = item.url
            path = f"{request.account.account_id}/media"
            answer = self.post(path, token=request.account.access_token, data=data, publishes=False)
            children.append(self.require_id(answer, what="carousel item", publishes=False))
        return children

    # -- publishing ----------------------------------------------------------------------------------
    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        progress = Progress(request, checkpoint)
        token = request.account.access_token
        container_id = progress.get(CONTAINER_KEY)
        if container_id and progress.get(PUBLISH_SENT_KEY) == container_id:
            # An earlier attempt sent media_publish for this container and then stopped (crash,
            # lost answer). Publishing the same container again can never post twice (Meta refuses
            # a PUBLISHED one), so it is reused whenever it can still publish.
            status = self._earlier_container_status(container_id, token=token)
            if status == PUBLISHED:
                return self._published_media(request)
            if status == FINISHED:
                return self._media_publish(request, container_id, progress)
            if status != IN_PROGRESS:
                self._start_over(progress)  # expired, failed or gone: invisible, so start over
        if not (
            progress.get(CONTAINER_KEY)
            and progress.get(READY_KEY) == progress.get(CONTAINER_KEY)
            and still_valid(self._expires_at(progress))
        ):
            # Not prepared ahead (or no longer): one step now; NotReady sends the date back to
            # preparing while Instagram processes.
            self._prepare_step(request, progress)
        return self._media_publish(request, progress.get(CONTAINER_KEY), progress)

    def _earlier_container_status(self, container_id: str, *, token: str) -> str:
        try:
            status, _text = self._container_status(container_id, token=token)
        except base.ReconnectNeeded:
            raise
        except base.PermanentError:
            # The Graph no longer knows the container (it does not keep unpublished ones forever).
            return ""
        return status

    def _container_status(self, container_id: str, *, token: str) -> tuple[str, str]:
        body = self.get(container_id, token=token, params={"fields": STATUS_FIELDS})
        return str(body.get("status_code") or "").upper(), str(body.get("status") or "")

    def _container_failed(self, status: str, text: str) -> base.PlatformError:
        subcode = subcode_in_status(text)
        code = f"ig_container_{status.lower()}" + (f"_{subcode}" if subcode else "")
        if subcode in RETRYABLE_SUBCODES:
            # The container is forgotten: the next try prepares a new one.
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
        self, request: base.PublishRequest, container_id: str, progress: Progress
    ) -> base.PublishResult:
        ig_user_id, token = request.account.account_id, request.account.access_token
        base.mark_sent(request, progress.save)
        progress.save({PUBLISH_SENT_KEY: container_id})
        try:
            answer = self.post(
                f"{ig_user_id}/media_publish",
                token=token,
                data={"creation_id": container_id},
                publishes=True,
            )
        except base.RetryableError as error:
            if error.code.startswith(f"meta_{NOT_READY_CODE}"):
                # 9007: the container is not FINISHED (the status saved was stale), so this send
                # did nothing and no earlier one can have: back to preparing.
                progress.save({PUBLISH_SENT_KEY: "", READY_KEY: ""})
                raise self._not_ready(request) from error
            return self._after_failed_publish(request, container_id, error)
        except base.PlatformError as error:
            return self._after_failed_publish(request, container_id, error)
        media_id = self.require_id(answer, what="post", publishes=True)
        return base.PublishResult(
            platform_post_id=media_id,
            url=self._permalink(media_id, token=token),
            http_status=answer.http_status,
        )

    def _after_failed_publish(
        self, request: base.PublishRequest, container_id: str, error: base.PlatformError
    ) -> base.PublishResult:
        """Whatever media_publish answered, the container says whether the post went out.

        A media_publish may outlive its answer (a timeout, a 5xx, a dropped connection), and Meta
        refuses to publish a PUBLISHED container again with an error: either way a PUBLISHED
        container is success. It is read once, never watched: a container still FINISHED after an
        ambiguous answer stays unknown (reconciliation reads it again later), never "not published".
        """
        try:
            status, _text = self._container_status(container_id, token=request.account.access_token)
        except base.PlatformError:
            raise error from None
        if status == PUBLISHED:
            return self._published_media(request)
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
