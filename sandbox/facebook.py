"""Facebook Pages: feed posts, photos, multi-photo posts, videos, and the edge that lists posts."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sandbox import graph
from sandbox.graph import GRAPH, Linked, Node, fail, node_of, select
from sandbox.routing import Request, Response, Router, json_response
from sandbox.state import (
    DAY,
    Account,
    FacebookPhoto,
    FacebookVideo,
    Post,
    State,
    Token,
    account_answer,
    meta_time,
)

MAX_MESSAGE = 63206
SCHEDULE_MIN_SECONDS = 600
SCHEDULE_MAX_SECONDS = 30 * DAY
PAGE = GRAPH + r"(?P<page>\d+)/"


def register(router: Router) -> None:
    fb = "facebook"
    router.add("POST", PAGE + "feed", create_feed_post, platform=fb, names={"create_post", "feed"})
    router.add(
        "POST", PAGE + "photos", create_photo, platform=fb, names={"create_post", "photos"}, when=_published
    )
    router.add("POST", PAGE + "photos", create_photo, platform=fb, names={"photos", "upload_photo"})
    router.add("POST", PAGE + "videos", create_video, platform=fb, names={"create_post", "videos"})
    router.add(
        "GET",
        PAGE + "(?:published_posts|feed|posts)",
        list_posts,
        platform=fb,
        names={"list_posts", "published_posts"},
    )


def _published(request: Request) -> bool:
    return request.flag("published", True)


# Permission ----------------------------------------------------------------------------------


def page_for_write(state: State, request: Request, page_id: str) -> tuple[Account, Token]:
    token = graph.authenticate(state, request, platform="facebook")
    page = state.account(page_id, "facebook")
    if page is None:
        raise graph.not_found(page_id)
    if token.kind != "page" or token.account_id != page.id:
        raise fail(
            200,
            "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as "
            "an admin with sufficient administrative permission",
            status=403,
        )
    return page, token


def page_for_read(state: State, request: Request) -> Account:
    page_id = request.path_params["page"]
    token = graph.authenticate(state, request, platform="facebook")
    page = state.account(page_id, "facebook")
    if page is None or not graph.may_act_for(token, owner=page.owner, page_id=page.id):
        raise graph.not_found(page_id)
    return page


# Posts ---------------------------------------------------------------------------------------


def permalink(request: Request, path: str) -> str:
    return f"{request.base_url}/facebook/www/{path}"


def post_fields(state: State, post: Post) -> dict[str, Any]:
    page = state.accounts[post.account_id]
    photo_urls = [item["url"] for item in post.media if item.get("type") == "photo"]
    fields: dict[str, Any] = {
        "id": post.id,
        "message": post.text or None,
        "created_time": meta_time(post.created_at),
        "updated_time": meta_time(post.extra.get("updated_at", post.created_at)),
        "permalink_url": post.permalink,
        "is_published": post.status == "published",
        "status_type": {"photo": "added_photos", "album": "added_photos", "video": "added_video"}.get(
            post.kind, "mobile_status_update"
        ),
        "from": Linked({"id": page.id, "name": page.name}, ("name", "id")),
        "full_picture": photo_urls[0] if photo_urls else None,
        "link": post.extra.get("link"),
        "scheduled_publish_time": post.extra.get("scheduled_publish_time"),
    }
    return fields


def post_response(
    state: State, request: Request, post: Post, extra: dict[str, Any] | None = None
) -> Response:
    """`{"id"}` (plus `extra`), and the read-after-write fields the create call asked for."""
    body: dict[str, Any] = {"id": post.id, **(extra or {})}
    spec = graph.requested_fields(request)
    if spec:
        body = {**select(post_fields(state, post), spec, ("id",)), **body}
    return json_response(200, body)


def _scheduled_time(state: State, request: Request) -> float | None:
    raw = request.param("scheduled_publish_time")
    if not raw:
        return None
    try:
        moment = float(raw)
    except ValueError:
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except ValueError as bad:
            raise fail(100, "(#100) The specified scheduled publish time is invalid.") from bad
    ahead = moment - state.now()
    if not SCHEDULE_MIN_SECONDS <= ahead <= SCHEDULE_MAX_SECONDS:
        raise fail(100, "(#100) The specified scheduled publish time is invalid.")
    return moment


def _attached_media(request: Request) -> list[str]:
    raw: Any = request.params.get("attached_media")
    if raw is None:
        indexed = sorted(
            (int(found.group(1)), value)
            for key, value in request.params.items()
            if (found := re.fullmatch(r"attached_media\[(\d+)\]", key))
        )
        raw = [value for _, value in indexed]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as bad:
            raise fail(100, "(#100) param attached_media must be an array.") from bad
    if not isinstance(raw, list):
        raise fail(100, "(#100) param attached_media must be an array.")
    ids: list[str] = []
    for index, item in enumerate(raw):
        if isinstance(item, str):
            try:
                item = json.loads(item)
            except ValueError:
                item = {}
        media_fbid = item.get("media_fbid") if isinstance(item, dict) else None
        if media_fbid is None:
            raise fail(100, f"(#100) param attached_media[{index}] must be an object with media_fbid.")
        ids.append(str(media_fbid))
    return ids


def _latest_post(state: State, page: Account) -> Post | None:
    posts = [p for p in state.posts_of("facebook", page.id) if p.status == "published"]
    return max(posts, key=lambda p: p.created_at, default=None)


def create_feed_post(state: State, request: Request) -> Response:
    page, _ = page_for_write(state, request, request.path_params["page"])
    message = request.param("message")
    link = request.param("link")
    attached = _attached_media(request)
    if not message and not link and not attached:
        raise fail(100, "(#100) Missing message or attachment")
    if len(message) > MAX_MESSAGE:
        raise fail(100, f"(#100) The message is longer than {MAX_MESSAGE} characters")
    published = request.flag("published", True)
    scheduled = _scheduled_time(state, request)
    if scheduled is not None and published:
        raise fail(100, "(#100) Cannot specify a scheduled publish time on a published post")
    photos: list[FacebookPhoto] = []
    for index, photo_id in enumerate(attached):
        photo = state.facebook_photos.get(photo_id)
        discarded = photo is not None and (
            photo.created_at + state.config.facebook_unpublished_photo_seconds <= state.now()
        )
        if photo is None or photo.page_id != page.id or photo.published or photo.attached_to or discarded:
            raise fail(100, f"(#100) param attached_media[{index}] has invalid media_fbid {photo_id}")
        photos.append(photo)
    latest = _latest_post(state, page)
    if published and message and latest is not None and latest.text == message:
        raise fail(506, "(#506) Duplicate status message")
    post = _add_post(
        state,
        request,
        page.id,
        message,
        kind="album" if photos else ("link" if link else "text"),
        media=[{"type": "photo", "id": photo.id, "url": photo.url} for photo in photos],
        status="published" if published else ("scheduled" if scheduled else "unpublished"),
        extra={"link": link or None, "scheduled_publish_time": int(scheduled) if scheduled else None},
        requested_at=request.received_at,
    )
    for photo in photos:
        photo.attached_to = post.id
    return post_response(state, request, post)


def create_photo(state: State, request: Request) -> Response:
    page, _ = page_for_write(state, request, request.path_params["page"])
    url = request.param("url")
    source = request.files.get("source")
    if not url and source is None:
        raise fail(324, "(#324) Requires upload file")
    caption = request.param("caption") or request.param("message")
    published = request.flag("published", True)
    photo = FacebookPhoto(
        id=state.new_id("10", 16),
        page_id=page.id,
        url=url or f"{request.base_url}/facebook/www/photos/uploaded.jpg",
        caption=caption,
        created_at=state.now(),
        published=published,
    )
    state.facebook_photos[photo.id] = photo
    if not published:
        return json_response(200, {"id": photo.id})
    post = _add_post(
        state,
        request,
        page.id,
        caption,
        kind="photo",
        media=[{"type": "photo", "id": photo.id, "url": photo.url}],
    )
    photo.post_id = post.id
    return post_response(state, request, post, {"id": photo.id, "post_id": post.id})


# Videos -------------------------------------------------------------------------------------------


def _add_post(
    state: State, request: Request, page_id: str, text: str, *, path: str = "", **fields: Any
) -> Post:
    """A new post on the Page, with an id as Facebook makes them ("<page id>_<number>"); its
    permalink is the post's own unless `path` names another."""
    post_id = f"{page_id}_{state.new_id('10', 16)}"
    return state.add_post(
        Post(
            platform="facebook",
            id=post_id,
            account_id=page_id,
            text=text,
            created_at=state.now(),
            permalink=permalink(request, path or post_id),
            **fields,
        )
    )


def _new_video(state: State, request: Request, page: Account, kind: str) -> FacebookVideo:
    video = FacebookVideo(id=state.new_id("10", 16), page_id=page.id, kind=kind, created_at=state.now())
    video.fail = request.fault is not None and request.fault.kind == "processing_failed"
    state.facebook_videos[video.id] = video
    return video


def _start_processing(state: State, request: Request, video: FacebookVideo, *, publish: bool) -> None:
    video.status = "processing"
    video.ready_at = state.now() + state.config.facebook_video_seconds
    if not publish:
        return
    post = _add_post(
        state,
        request,
        video.page_id,
        video.description,
        path=f"{video.page_id}/videos/{video.id}/",
        kind=video.kind,
        media=[{"type": "video", "id": video.id, "url": video.file_url}],
        status="processing",
        extra={"title": video.title, "video_id": video.id},
    )
    video.post_id = post.id


def create_video(state: State, request: Request) -> Response:
    page, _ = page_for_write(state, request, request.path_params["page"])
    file_url = request.param("file_url")
    chunk = request.param("fbuploader_video_file_chunk")
    source = request.files.get("source")
    if not file_url and not chunk and source is None:
        raise fail(100, "(#100) Requires one of the params: file_url, source, fbuploader_video_file_chunk")
    video = _new_video(state, request, page, "video")
    video.title = request.param("title")
    video.description = request.param("description")
    video.file_url = file_url or f"{request.base_url}/facebook/www/videos/uploaded.mp4"
    video.uploaded_bytes = len(source) if source is not None else 0
    _start_processing(state, request, video, publish=request.flag("published", True))
    return json_response(200, {"id": video.id})


def video_status(video: FacebookVideo) -> dict[str, Any]:
    processing = {"processing": "in_progress", "ready": "complete", "error": "error"}.get(
        video.status, "not_started"
    )
    status: dict[str, Any] = {
        "video_status": video.status if video.status != "uploading" else "upload_not_started",
        "uploading_phase": {
            "status": "complete" if video.uploaded_bytes or video.file_url else "not_started",
            "bytes_transferred": video.uploaded_bytes,
        },
        "processing_phase": {"status": processing},
        "publishing_phase": {
            "status": "complete" if video.status == "ready" and video.post_id else "not_started",
            "publish_status": "published" if video.status == "ready" and video.post_id else "not_published",
        },
    }
    if video.status == "error":
        status["processing_phase"]["errors"] = [{"code": 1363008, "message": "Video processing failed"}]
    return status


def video_fields(state: State, video: FacebookVideo) -> dict[str, Any]:
    post = state.posts.get(video.post_id)
    return {
        "id": video.id,
        "title": video.title or None,
        "description": video.description or None,
        "created_time": meta_time(video.created_at),
        "updated_time": meta_time(video.ready_at or video.created_at),
        "status": video_status(video),
        "permalink_url": post.permalink if post else None,
        "post_id": video.post_id or None,
        "published": bool(post and post.status == "published"),
        "source": video.file_url or None,
    }


# Listing -------------------------------------------------------------------------------------


def _newest_first(posts: list[Post]) -> list[Post]:
    return sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)


def list_posts(state: State, request: Request) -> Response:
    page = page_for_read(state, request)
    in_range = graph.time_filter(request)
    spec = graph.requested_fields(request)
    posts = [
        p for p in state.posts_of("facebook", page.id) if p.status == "published" and in_range(p.created_at)
    ]
    items = [
        select(post_fields(state, p), spec, ("created_time", "message", "id")) for p in _newest_first(posts)
    ]
    return json_response(200, graph.listing(items, request))


# Nodes and time ------------------------------------------------------------------------------


def find_node(state: State, node_id: str) -> Node | None:
    post = state.posts.get(node_id)
    if post is not None and post.platform == "facebook" and post.status != "deleted":
        page = state.accounts[post.account_id]
        return node_of(
            page, "post", lambda token: post_fields(state, post), ("created_time", "message", "id")
        )
    photo = state.facebook_photos.get(node_id)
    if photo is not None:
        photo_fields = {
            "id": photo.id,
            "name": photo.caption or None,
            "created_time": meta_time(photo.created_at),
            "link": photo.url,
            "page_story_id": photo.post_id or None,
        }
        return node_of(
            state.accounts[photo.page_id], "photo", lambda token: photo_fields, ("created_time", "id")
        )
    video = state.facebook_videos.get(node_id)
    if video is not None:
        page = state.accounts[video.page_id]
        default = ("updated_time", "description", "id")
        return node_of(page, "video_status", lambda token: video_fields(state, video), default)
    return None


def settle(state: State) -> None:
    now = state.now()
    for video in state.facebook_videos.values():
        if video.status != "processing" or video.ready_at is None or video.ready_at > now:
            continue
        video.status = "error" if video.fail else "ready"
        post = state.posts.get(video.post_id)
        if post is not None and post.status == "processing":
            post.status = "failed" if video.fail else "published"
    for post in state.posts.values():
        scheduled = post.extra.get("scheduled_publish_time")
        if post.platform == "facebook" and post.status == "scheduled" and scheduled and scheduled <= now:
            post.status = "published"
            post.created_at = float(scheduled)


def create_account(state: State, *, name: str) -> dict[str, Any]:
    """`/_sandbox/accounts` for Facebook: a person managing one Page; the Page's never-expiring token."""
    person = graph.add_meta_person(state, name=f"{name} (admin)", key=f"account:{state.random(8)}")
    page = graph.add_page(state, person, name=name)
    user_token = graph.long_lived_user_token(state, person)
    page_token = graph.page_token_for(state, user_token, page)
    return {
        **account_answer(page, page_token),
        "user_id": person.id,
        "user_access_token": user_token.value,
    }
