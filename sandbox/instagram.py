"""Instagram with Facebook Login: media containers, publishing, and the media list.

Container lifecycle: IN_PROGRESS -> FINISHED after `instagram_image_seconds` (images) or
`instagram_video_seconds` (videos) -> PUBLISHED after
media_publish; ERROR when a `processing_failed` fault was armed; EXPIRED `instagram_container_seconds`
(24 h) after creation when never published.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any
from urllib.parse import urlsplit

from sandbox import graph
from sandbox.graph import GRAPH, Edge, Linked, Node, fail, node_of, select
from sandbox.routing import Request, Response, Router, json_response
from sandbox.state import DAY, Account, InstagramContainer, Post, State, Token, account_answer, meta_time

MAX_CAPTION = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
CAROUSEL_MIN, CAROUSEL_MAX = 2, 10
VIDEO_TYPES = frozenset({"VIDEO", "REELS"})
NOT_JPEG = frozenset({".png", ".gif", ".webp", ".heic", ".bmp", ".tif", ".tiff", ".mpo", ".jps"})
IG_USER = GRAPH + r"(?P<ig>\d+)/"
SHORTCODE_ALPHABET = string.ascii_letters + string.digits + "_-"


def register(router: Router) -> None:
    ig = "instagram"
    router.add("POST", IG_USER + "media", create_container, platform=ig, names={"create_container"})
    router.add("POST", IG_USER + "media_publish", publish, platform=ig, names={"create_post", "publish"})
    router.add("GET", IG_USER + "media", list_media, platform=ig, names={"list_posts", "media_list"})


def instagram_account(state: State, request: Request) -> tuple[Account, Token]:
    token = graph.authenticate(state, request, platform="instagram")
    account_id = request.path_params["ig"]
    account = state.account(account_id, "instagram")
    if account is None or not graph.may_act_for(token, owner=account.owner, page_id=account.page_id):
        raise graph.not_found(account_id)
    return account, token


# Containers ----------------------------------------------------------------------------------


def _check_caption(caption: str) -> None:
    if len(caption) > MAX_CAPTION:
        raise fail(
            36004,
            "The caption is too long.",
            subcode=2207010,
            user_title="Caption too long",
            user_msg=f"The caption can have at most {MAX_CAPTION} characters.",
        )
    if len(re.findall(r"#\w+", caption)) > MAX_HASHTAGS:
        raise fail(36004, "The caption has too many hashtags.", subcode=2207010)
    if len(re.findall(r"@[\w.]+", caption)) > MAX_MENTIONS:
        raise fail(100, "The caption has too many @mentions.", subcode=2207040)


def _children(request: Request) -> list[str]:
    raw: Any = request.params.get("children", "")
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError as bad:
                raise fail(100, "(#100) children must be a list of container ids") from bad
        else:
            raw = [piece for piece in text.split(",") if piece.strip()]
    if not isinstance(raw, list):
        raise fail(100, "(#100) children must be a list of container ids")
    return [str(child).strip() for child in raw]


def create_container(state: State, request: Request) -> Response:
    account, _ = instagram_account(state, request)
    media_type = request.param("media_type").upper()
    is_item = request.flag("is_carousel_item", False)
    caption = "" if is_item else request.param("caption")
    _check_caption(caption)
    now = state.now()
    container = InstagramContainer(
        id=state.new_id("1790", 17),
        account_id=account.id,
        media_type=media_type or "IMAGE",
        created_at=now,
        caption=caption,
        is_carousel_item=is_item,
        options={
            key: request.params[key]
            for key in ("share_to_feed", "cover_url", "thumb_offset", "alt_text", "audio_name", "location_id")
            if key in request.params
        },
    )
    if request.fault is not None and request.fault.kind == "processing_failed":
        code = "352/2207026" if container.media_type in VIDEO_TYPES else "9004/2207052"
        container.error = request.fault.text("error", code)
    if container.media_type == "CAROUSEL":
        _prepare_carousel(state, container, _children(request))
        container.ready_at = now + state.config.instagram_image_seconds
    elif container.media_type in VIDEO_TYPES or (
        container.media_type == "STORIES" and request.param("video_url")
    ):
        _prepare_video(state, request, container)
    elif container.media_type in ("IMAGE", "STORIES"):
        container.media_url = request.param("image_url")
        if not container.media_url:
            raise fail(100, "(#100) The parameter image_url is required.")
        extension = "." + urlsplit(container.media_url).path.rsplit(".", 1)[-1].lower()
        if extension in NOT_JPEG:
            raise fail(
                36001,
                "The image format is not supported.",
                subcode=2207005,
                user_title="Unsupported format",
                user_msg="Only JPEG images can be published.",
            )
        container.ready_at = now + state.config.instagram_image_seconds
    else:
        raise fail(100, f"(#100) media_type {media_type} is not supported.", subcode=2207023)
    state.instagram_containers[container.id] = container
    return json_response(200, {"id": container.id})


def _prepare_video(state: State, request: Request, container: InstagramContainer) -> None:
    if container.media_type == "REELS" and container.is_carousel_item:
        raise fail(100, "(#100) Reels cannot be carousel items; use media_type=VIDEO.", subcode=2207023)
    if container.media_type == "VIDEO" and not container.is_carousel_item:
        raise fail(
            100,
            "(#100) media_type=VIDEO is only for carousel items; publish videos as REELS.",
            subcode=2207023,
        )
    container.media_url = request.param("video_url")
    if not container.media_url:
        raise fail(100, "(#100) The parameter video_url is required.")
    container.ready_at = state.now() + state.config.instagram_video_seconds


def _prepare_carousel(state: State, container: InstagramContainer, children: list[str]) -> None:
    if not CAROUSEL_MIN <= len(children) <= CAROUSEL_MAX:
        raise fail(
            100,
            f"(#100) A carousel needs between {CAROUSEL_MIN} and {CAROUSEL_MAX} children.",
            subcode=2207028,
            user_title="Carousel size",
            user_msg=f"A carousel has {CAROUSEL_MIN} to {CAROUSEL_MAX} photos or videos.",
        )
    for child_id in children:
        child = state.instagram_containers.get(child_id)
        if child is None or child.account_id != container.account_id:
            raise fail(24, f"The media with id {child_id} cannot be found.", subcode=2207006)
        if not child.is_carousel_item or child.status_code in ("ERROR", "EXPIRED", "PUBLISHED"):
            raise fail(100, f"(#100) Container {child_id} cannot be a carousel item.", subcode=2207028)
    container.children = children


# Publishing ----------------------------------------------------------------------------------


def _published_today(state: State, account: Account) -> int:
    since = state.now() - DAY
    return sum(1 for post in state.posts_of("instagram", account.id) if post.created_at > since)


def publish(state: State, request: Request) -> Response:
    account, _ = instagram_account(state, request)
    creation_id = request.param("creation_id")
    if not creation_id:
        raise fail(100, "(#100) The parameter creation_id is required.")
    container = state.instagram_containers.get(creation_id)
    if container is None or container.account_id != account.id:
        raise fail(24, f"The media with id {creation_id} cannot be found.", subcode=2207006)
    if container.is_carousel_item:
        raise fail(100, "(#100) A carousel item cannot be published on its own.", subcode=2207023)
    if container.status_code in ("IN_PROGRESS", "ERROR"):
        raise fail(
            9007,
            "Media ID is not available",
            subcode=2207027,
            user_title="Media Not Ready For Publishing",
            user_msg="The media is not ready for publishing, please wait for a moment",
        )
    if container.status_code == "EXPIRED":
        raise fail(-2, "The media container has expired.", subcode=2207020)
    if container.status_code == "PUBLISHED":
        raise fail(100, "(#100) This media container has already been published.")
    if state.config.rate_limits and _published_today(state, account) >= state.config.instagram_quota_total:
        raise fail(
            9,
            "Application request limit reached",
            subcode=2207042,
            user_title="Publishing limit reached",
            user_msg="The account has reached its limit of posts published through the API in 24 hours.",
        )
    post = state.add_post(_media_post(state, request, account, container))
    container.status_code = "PUBLISHED"
    container.media_id = post.id
    return json_response(200, {"id": post.id})


def _media_post(state: State, request: Request, account: Account, container: InstagramContainer) -> Post:
    media_id = state.new_id("1795", 17)
    shortcode = state.random(11, SHORTCODE_ALPHABET)
    www = f"{request.base_url}/instagram/www"
    if container.media_type == "CAROUSEL":
        children = [state.instagram_containers[child] for child in container.children]
        media = [{"type": _media_type(child), "url": child.media_url, "id": child.id} for child in children]
    else:
        media = [{"type": _media_type(container), "url": container.media_url, "id": container.id}]
    kind, product, media_type = {
        "CAROUSEL": ("carousel", "FEED", "CAROUSEL_ALBUM"),
        "REELS": ("reel", "REELS", "VIDEO"),
        "STORIES": ("story", "STORY", _media_type(container)),
    }.get(container.media_type, ("image", "FEED", "IMAGE"))
    link = {
        "reel": f"{www}/reel/{shortcode}/",
        "story": f"{www}/stories/{account.username}/{media_id}/",
    }.get(kind, f"{www}/p/{shortcode}/")
    return Post(
        platform="instagram",
        id=media_id,
        account_id=account.id,
        text=container.caption,
        created_at=state.now(),
        permalink=link,
        kind=kind,
        media=media,
        extra={
            "container_id": container.id,
            "shortcode": shortcode,
            "media_type": media_type,
            "media_product_type": product,
        },
    )


def _media_type(container: InstagramContainer) -> str:
    return "VIDEO" if container.media_type in VIDEO_TYPES or container.media_url.endswith(".mp4") else "IMAGE"


# Reading -------------------------------------------------------------------------------------


def media_fields(state: State, post: Post) -> dict[str, Any]:
    account = state.accounts[post.account_id]
    children = Edge(
        [
            Linked({"id": item["id"], "media_type": item["type"], "media_url": item["url"]})
            for item in post.media
        ]
    )
    return {
        "id": post.id,
        "caption": post.text or None,
        "media_type": post.extra["media_type"],
        "media_product_type": post.extra["media_product_type"],
        "media_url": post.media[0]["url"] if post.media else None,
        "permalink": post.permalink,
        "shortcode": post.extra["shortcode"],
        "timestamp": meta_time(post.created_at),
        "username": account.username,
        "owner": Linked({"id": account.id, "username": account.username}),
        "is_comment_enabled": True,
        "like_count": 0,
        "comments_count": 0,
        "children": children if post.kind == "carousel" else None,
    }


def container_fields(container: InstagramContainer) -> dict[str, Any]:
    status = {
        "IN_PROGRESS": "In Progress: Media is still being processed.",
        "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
        "PUBLISHED": "Published: Media has been successfully published.",
        "EXPIRED": "Expired: Media was not published within 24 hours.",
        "ERROR": f"Error: {container.error.split('/')[-1]}",
    }[container.status_code]
    return {
        "id": container.id,
        "status_code": container.status_code,
        "status": status,
        "media_type": container.media_type,
        "is_carousel_item": container.is_carousel_item,
    }


def list_media(state: State, request: Request) -> Response:
    account, _ = instagram_account(state, request)
    in_range = graph.time_filter(request)
    spec = graph.requested_fields(request)
    posts = [p for p in state.posts_of("instagram", account.id) if p.visible and in_range(p.created_at)]
    posts.sort(key=lambda p: (p.created_at, p.id), reverse=True)
    items = [select(media_fields(state, post), spec, ("id",)) for post in posts]
    return json_response(200, graph.listing(items, request))


def find_node(state: State, node_id: str) -> Node | None:
    container = state.instagram_containers.get(node_id)
    if container is not None:
        account = state.accounts[container.account_id]
        return node_of(account, "container_status", lambda token: container_fields(container))
    post = state.posts.get(node_id)
    if post is not None and post.platform == "instagram":
        return node_of(state.accounts[post.account_id], "media", lambda token: media_fields(state, post))
    return None


def settle(state: State) -> None:
    now = state.now()
    for container in state.instagram_containers.values():
        if container.status_code not in ("IN_PROGRESS", "FINISHED"):
            continue
        if container.created_at + state.config.instagram_container_seconds <= now:
            container.status_code = "EXPIRED"
        elif container.status_code == "FINISHED":
            continue
        elif container.media_type == "CAROUSEL":
            statuses = {state.instagram_containers[child].status_code for child in container.children}
            if statuses & {"ERROR", "EXPIRED"}:
                container.status_code = "ERROR"
                container.error = container.error or "-1/2207032"
            elif statuses <= {"FINISHED"} and container.ready_at is not None and container.ready_at <= now:
                container.status_code = "ERROR" if container.error else "FINISHED"
        elif container.ready_at is not None and container.ready_at <= now:
            container.status_code = "ERROR" if container.error else "FINISHED"


def create_account(state: State, *, name: str, username: str) -> dict[str, Any]:
    """`/_sandbox/accounts` for Instagram: an IG account linked to a new Page, and that Page's token."""
    person = graph.add_meta_person(state, name=f"{name} (admin)", key=f"account:{state.random(8)}")
    page = graph.add_page(state, person, name=f"{name} Page")
    account = graph.add_instagram_account(state, page, name=name, username=username)
    user_token = graph.long_lived_user_token(state, person)
    page_token = graph.page_token_for(state, user_token, page)
    return {
        **account_answer(account, page_token),
        "page_id": page.id,
        "user_id": person.id,
        "user_access_token": user_token.value,
    }
