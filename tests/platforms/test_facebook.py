from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from platforms.base import (
    SENT_AT,
    AccountCredentials,
    MediaItem,
    NotReady,
    OutcomeUnknown,
    PermanentError,
    PlatformClient,
    PlatformError,
    Processing,
    PublishRequest,
    ReconcileStatus,
    ReconnectNeeded,
    RetryableError,
)
from platforms.facebook import PHOTOS_AT_KEY, PHOTOS_KEY, PHOTOS_REFUSED_KEY, VIDEO_KEY, FacebookClient
from tests.platforms.conftest import (
    GRAPH,
    GRAPH_VERSION,
    NOW,
    Checkpoints,
    add_login,
    graph_error,
    publish_request,
    published,
    sent,
)

pytestmark = pytest.mark.usefixtures("graph_settings", "frozen")

SCHEDULED = NOW - timedelta(minutes=1)
PAGE = "1001"
FEED = f"{GRAPH}/{GRAPH_VERSION}/{PAGE}/feed"
PHOTOS = f"{GRAPH}/{GRAPH_VERSION}/{PAGE}/photos"
PUBLISHED_POSTS = f"{GRAPH}/{GRAPH_VERSION}/{PAGE}/published_posts"
PHOTO = MediaItem(url="https://cdn.example/cat.jpg", content_type="image/jpeg")
DOG = MediaItem(url="https://cdn.example/dog.png", content_type="image/png")
VIDEO = MediaItem(url="https://cdn.example/clip.mp4", content_type="video/mp4")
VIDEOS = f"{GRAPH}/{GRAPH_VERSION}/{PAGE}/videos"
VIDEO_NODE = f"{GRAPH}/{GRAPH_VERSION}/video-9"
# This date's first publishing call went out at the scheduled time.
SENT = {SENT_AT: SCHEDULED.isoformat()}


@pytest.fixture
def client() -> FacebookClient:
    return FacebookClient()


def as_platform_client(client: FacebookClient) -> PlatformClient:
    return client  # mypy checks that FacebookClient satisfies the protocol


def request_for(
    text: str = "Hello from Alice",
    *,
    media: tuple[MediaItem, ...] = (),
    options: Mapping[str, str] | None = None,
    progress: Mapping[str, str] | None = None,
    taken: frozenset[str] = frozenset(),
) -> PublishRequest:
    account = AccountCredentials(platform="facebook", account_id=PAGE, access_token="page-token")
    request = publish_request(
        account, text, scheduled_at=SCHEDULED, media=media, options=options, progress=progress
    )
    return replace(request, taken_post_ids=taken)


def no_checkpoint(progress: Mapping[str, str]) -> None:
    """Facebook saves only when this date was first sent, an uploaded video's id, prepared photos."""
    assert set(progress) <= {SENT_AT, VIDEO_KEY, PHOTOS_KEY, PHOTOS_AT_KEY}, progress


# -- publishing ---------------------------------------------------------------------------------------
def test_it_posts_text_to_the_page_feed(client: FacebookClient, mocked: responses.RequestsMock) -> None:
    mocked.post(
        FEED,
        json={"id": f"{PAGE}_55", "permalink_url": "https://www.facebook.com/1001/posts/55"},
    )

    result = as_platform_client(client).publish(request_for(), checkpoint=no_checkpoint)

    assert result.platform_post_id == f"{PAGE}_55"
    assert result.url == "https://www.facebook.com/1001/posts/55"
    assert result.http_status == 200
    fields = sent(mocked.calls[0])
    assert fields["message"] == "Hello from Alice"
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer page-token"
    assert fields["fields"] == "id,permalink_url"
    assert "link" not in fields


def test_it_adds_the_link_to_a_link_post(client: FacebookClient, mocked: responses.RequestsMock) -> None:
    mocked.post(FEED, json={"id": f"{PAGE}_56"})

    client.publish(request_for(options={"link": "https://alice.example/blog"}), checkpoint=no_checkpoint)

    assert sent(mocked.calls[0])["link"] == "https://alice.example/blog"


def test_it_builds_the_link_from_the_post_id_when_facebook_gives_none(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(FEED, json={"id": f"{PAGE}_57"})

    result = client.publish(request_for(), checkpoint=no_checkpoint)

    assert result.url == f"https://www.facebook.com/{PAGE}_57"


def test_it_posts_one_photo_with_its_caption(client: FacebookClient, mocked: responses.RequestsMock) -> None:
    mocked.post(PHOTOS, json={"id": "photo-1", "post_id": f"{PAGE}_60"})

    result = client.publish(request_for(media=(PHOTO,)), checkpoint=no_checkpoint)

    fields = sent(mocked.calls[0])
    assert fields["url"] == PHOTO.url
    assert fields["caption"] == "Hello from Alice"
    assert "published" not in fields
    assert result.platform_post_id == f"{PAGE}_60"
    assert result.url == f"https://www.facebook.com/{PAGE}_60"


def test_it_uploads_each_photo_unpublished_then_attaches_them_to_one_feed_post(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PHOTOS, json={"id": "photo-1"})
    mocked.post(PHOTOS, json={"id": "photo-2"})
    mocked.post(FEED, json={"id": f"{PAGE}_61"})

    result = client.publish(request_for(media=(PHOTO, DOG)), checkpoint=checkpoints)

    first, second, feed = (sent(call) for call in mocked.calls)
    assert (first["url"], first["published"]) == (PHOTO.url, "false")
    assert (second["url"], second["published"]) == (DOG.url, "false")
    assert json.loads(feed["attached_media"]) == [{"media_fbid": "photo-1"}, {"media_fbid": "photo-2"}]
    assert feed["message"] == "Hello from Alice"
    assert result.platform_post_id == f"{PAGE}_61"
    # Each photo is saved as soon as Facebook names it.
    assert [calls for saved, calls in checkpoints.saved if PHOTOS_KEY in saved] == [1, 2]


def test_preparing_several_photos_uploads_them_unpublished_and_says_until_when(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PHOTOS, json={"id": "photo-1"})
    mocked.post(PHOTOS, json={"id": "photo-2"})

    prepared = client.prepare(request_for(media=(PHOTO, DOG)), checkpoint=checkpoints)

    assert [sent(call)["published"] for call in mocked.calls] == ["false", "false"]
    assert checkpoints.merged()[PHOTOS_KEY] == "photo-1,photo-2"
    # Meta names no lifetime for unpublished photos: SoSocial counts 24 hours, less an hour.
    assert prepared.expires_at == NOW + timedelta(hours=23)


def test_with_prepared_photos_publishing_makes_only_the_feed_post(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(FEED, json={"id": f"{PAGE}_61"})
    progress = {PHOTOS_KEY: "photo-1,photo-2", PHOTOS_AT_KEY: (NOW - timedelta(hours=2)).isoformat()}

    result = client.publish(request_for(media=(PHOTO, DOG), progress=progress), checkpoint=checkpoints)

    assert [call.request.url for call in mocked.calls] == [FEED]
    assert json.loads(sent(mocked.calls[0])["attached_media"]) == [
        {"media_fbid": "photo-1"},
        {"media_fbid": "photo-2"},
    ]
    assert result.platform_post_id == f"{PAGE}_61"


def test_prepared_photos_the_feed_post_refuses_are_uploaded_again_once(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(FEED, status=400, json=graph_error(100))
    progress = {PHOTOS_KEY: "photo-1,photo-2", PHOTOS_AT_KEY: NOW.isoformat()}

    with pytest.raises(NotReady):
        client.publish(request_for(media=(PHOTO, DOG), progress=progress), checkpoint=checkpoints)

    assert checkpoints.merged()[PHOTOS_KEY] == ""
    assert checkpoints.merged()[PHOTOS_REFUSED_KEY] == "1"


@pytest.mark.parametrize("media", [(), (PHOTO,), (VIDEO,)], ids=["text", "one photo", "video"])
def test_posts_made_by_one_call_have_nothing_to_prepare(
    client: FacebookClient, mocked: responses.RequestsMock, media: tuple[MediaItem, ...]
) -> None:
    assert client.prepare(request_for(media=media), checkpoint=no_checkpoint).expires_at is None
    assert len(mocked.calls) == 0


def video_status(state: str, **extra: Any) -> dict[str, Any]:
    return {"id": "video-9", "status": {"video_status": state, **extra}, "permalink_url": "/1001/videos/9/"}


def test_it_uploads_a_video_to_the_graph_host_and_reads_its_status_once(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(VIDEOS, json={"id": "video-9"})
    mocked.post(VIDEO_NODE, json=video_status("processing"))

    with pytest.raises(Processing) as raised:
        client.publish(request_for(media=(VIDEO,)), checkpoint=checkpoints)

    fields = sent(mocked.calls[0])
    assert fields["file_url"] == VIDEO.url
    assert fields["description"] == "Hello from Alice"
    assert sent(mocked.calls[1])["fields"] == "status,permalink_url"
    assert len(mocked.calls) == 2
    assert raised.value.check_in == timedelta(seconds=10)
    # The moment before the upload, then the video id as soon as Facebook named it.
    assert [(list(saved), calls) for saved, calls in checkpoints.saved] == [([SENT_AT], 0), ([VIDEO_KEY], 1)]


def test_publishing_again_while_processing_reads_the_saved_video_once_and_never_uploads(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(VIDEO_NODE, json=video_status("ready"))

    result = client.publish(
        request_for(media=(VIDEO,), progress={**SENT, VIDEO_KEY: "video-9"}), checkpoint=no_checkpoint
    )

    assert result.platform_post_id == "video-9"
    assert result.url == "https://www.facebook.com/1001/videos/9/"
    assert [sent(call).get("method") for call in mocked.calls] == ["GET"]


def test_a_video_that_fails_processing_fails_with_facebooks_reason_and_is_forgotten(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    failed = video_status(
        "error", processing_phase={"status": "error", "errors": [{"code": 1363008, "message": "Bad codec"}]}
    )
    mocked.post(VIDEO_NODE, json=failed)

    with pytest.raises(PermanentError) as raised:
        client.publish(
            request_for(media=(VIDEO,), progress={**SENT, VIDEO_KEY: "video-9"}), checkpoint=checkpoints
        )

    assert raised.value.code == "facebook_video_processing_failed"
    assert '"Bad codec"' in raised.value.message
    assert checkpoints.merged()[VIDEO_KEY] == ""  # trying the date again uploads anew


def test_a_status_read_that_fails_for_a_moment_is_processing_not_a_new_upload(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(VIDEO_NODE, status=500, json=graph_error(2, is_transient=True))

    with pytest.raises(Processing):
        client.publish(
            request_for(media=(VIDEO,), progress={**SENT, VIDEO_KEY: "video-9"}), checkpoint=no_checkpoint
        )


# -- publishing errors --------------------------------------------------------------------------------
def test_it_retries_after_the_time_the_usage_header_names(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 25}]}
    mocked.post(
        FEED,
        status=400,
        json=graph_error(80001),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(RetryableError) as raised:
        client.publish(request_for(), checkpoint=no_checkpoint)

    assert raised.value.retry_at == NOW + timedelta(minutes=25)
    assert raised.value.code == "meta_80001"
    assert raised.value.http_status == 400


def test_it_asks_to_reconnect_when_the_page_token_expired(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(FEED, status=400, json=graph_error(190, 463))

    with pytest.raises(ReconnectNeeded) as raised:
        client.publish(request_for(), checkpoint=no_checkpoint)

    assert raised.value.code == "meta_190_463"
    assert "expired" in raised.value.message
    assert "Reconnect" in raised.value.message


def test_it_names_the_permission_the_page_is_missing(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        FEED,
        status=403,
        json=graph_error(200, message="(#200) Requires pages_manage_posts permission"),
    )

    with pytest.raises(ReconnectNeeded) as raised:
        client.publish(request_for(), checkpoint=no_checkpoint)

    assert "pages_manage_posts" in raised.value.message


def test_it_explains_a_refused_post_in_facebooks_own_words(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        PHOTOS,
        status=400,
        json=graph_error(100, error_user_msg="The photo URL could not be read."),
    )

    with pytest.raises(PermanentError) as raised:
        client.publish(request_for(media=(PHOTO,)), checkpoint=no_checkpoint)

    assert not isinstance(raised.value, ReconnectNeeded)
    assert "The photo URL could not be read." in raised.value.message
    assert raised.value.code == "meta_100"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, graph_error(1)),
        (503, graph_error(2)),
        (400, graph_error(1, is_transient=True)),
        (400, graph_error(2)),
        (502, None),
    ],
)
@pytest.mark.parametrize("media", [(), (PHOTO,), (PHOTO, DOG)], ids=["feed", "photo", "album"])
def test_a_temporary_problem_on_the_call_that_publishes_leaves_the_outcome_unknown(
    client: FacebookClient,
    mocked: responses.RequestsMock,
    status: int,
    body: Any,
    media: tuple[MediaItem, ...],
) -> None:
    # Meta promises nothing about a 5xx or a transient error: the post may have been made first.
    if len(media) > 1:
        mocked.post(PHOTOS, json={"id": "photo-1"})
        mocked.post(PHOTOS, json={"id": "photo-2"})
    url = PHOTOS if len(media) == 1 else FEED
    if body is None:
        mocked.post(url, status=status, body="<html>Bad gateway</html>")
    else:
        mocked.post(url, status=status, json=body)

    with pytest.raises(OutcomeUnknown) as raised:
        client.publish(request_for(media=media), checkpoint=no_checkpoint)

    assert raised.value.http_status == status


TRANSIENT = {"status": 500, "json": graph_error(2, is_transient=True)}
RESET = {"body": requests.ConnectionError("Connection reset by peer")}


@pytest.mark.parametrize(
    ("url", "answer", "media", "kind"),
    [
        pytest.param(
            VIDEOS,
            TRANSIENT,
            (VIDEO,),
            OutcomeUnknown,
            id="a temporary problem on a video upload leaves the outcome unknown",
        ),
        pytest.param(
            PHOTOS,
            TRANSIENT,
            (PHOTO, DOG),
            RetryableError,
            id="a temporary problem uploading an unpublished photo is retryable",
        ),
        # http.send cannot tell a reset after sending from a slow publish: Facebook may have posted.
        pytest.param(
            FEED,
            RESET,
            (),
            OutcomeUnknown,
            id="the outcome is unknown when the connection drops after sending",
        ),
        pytest.param(
            FEED,
            {"body": requests.ConnectTimeout("connect timed out")},
            (),
            RetryableError,
            id="it retries when facebook could not be reached at all",
        ),
        pytest.param(
            PHOTOS,
            RESET,
            (PHOTO, DOG),
            RetryableError,
            id="a dropped photo upload is retryable because unpublished photos are invisible",
        ),
    ],
)
def test_a_failed_call_is_retried_unless_facebook_may_have_posted(
    client: FacebookClient,
    mocked: responses.RequestsMock,
    url: str,
    answer: dict[str, Any],
    media: tuple[MediaItem, ...],
    kind: type[PlatformError],
) -> None:
    mocked.post(url, **answer)

    with pytest.raises(PlatformError) as raised:
        client.publish(request_for(media=media), checkpoint=no_checkpoint)

    assert type(raised.value) is kind


def test_a_duplicate_refusal_is_checked_not_taken_as_published_or_failed(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    # 506 says an identical post exists: maybe this date's earlier attempt, maybe another date's.
    mocked.post(FEED, status=400, json=graph_error(506))

    with pytest.raises(OutcomeUnknown) as raised:
        client.publish(request_for(), checkpoint=no_checkpoint)

    assert raised.value.code == "meta_506"


def test_the_moment_of_the_first_send_is_saved_before_the_call_and_kept_by_later_attempts(
    client: FacebookClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(FEED, json={"id": f"{PAGE}_55"})
    mocked.post(FEED, json={"id": f"{PAGE}_56"})

    client.publish(request_for(), checkpoint=checkpoints)
    client.publish(request_for(progress=SENT), checkpoint=checkpoints)

    assert checkpoints.saved == [({SENT_AT: NOW.isoformat()}, 0)]


# -- reconciliation -----------------------------------------------------------------------------------
def listed(post_id: str, message: str, created: str) -> dict[str, str]:
    return {
        "id": post_id,
        "message": message,
        "created_time": created,
        "permalink_url": f"https://www.facebook.com/{post_id}",
    }


def add_posts(mocked: responses.RequestsMock, *posts: dict[str, str], next_page: str = "") -> None:
    """One page of the Page's published posts; `next_page` is the query of the page after it."""
    page: dict[str, Any] = {"data": list(posts)}
    if next_page:
        page["paging"] = {"next": f"{PUBLISHED_POSTS}?{next_page}"}
    mocked.post(PUBLISHED_POSTS, json=page)


def test_it_finds_a_post_that_went_out_by_its_text(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(
        mocked,
        listed(f"{PAGE}_81", "Something else", "2026-11-28T11:59:59+0000"),
        listed(f"{PAGE}_80", "Hello from Alice", "2026-11-28T11:59:30+0000"),
    )

    answer = client.reconcile(request_for(progress=SENT), since=SCHEDULED)

    result = published(answer)
    assert result.platform_post_id == f"{PAGE}_80"
    assert result.url == f"https://www.facebook.com/{PAGE}_80"
    query = sent(mocked.calls[0])
    assert query["since"] == str(int(SCHEDULED.timestamp()))
    assert query["fields"] == "id,message,created_time,permalink_url"


def test_it_ignores_the_same_text_posted_before_the_attempt(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(mocked, listed(f"{PAGE}_1", "Hello from Alice", "2026-11-20T09:00:00+0000"))

    answer = client.reconcile(request_for(progress=SENT), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_it_follows_the_next_page_to_find_the_post(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(
        mocked,
        listed(f"{PAGE}_90", "Other", "2026-11-28T11:59:59+0000"),
        next_page="after=abc&access_token=page-token",
    )
    add_posts(mocked, listed(f"{PAGE}_89", "Hello from Alice", "2026-11-28T11:59:10+0000"))

    answer = client.reconcile(request_for(progress=SENT), since=SCHEDULED)

    assert published(answer).platform_post_id == f"{PAGE}_89"
    assert sent(mocked.calls[1])["after"] == "abc"


def test_it_cannot_tell_when_there_are_more_posts_than_it_checks(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(mocked, listed(f"{PAGE}_90", "Other", "2026-11-28T11:59:59+0000"), next_page="after=more")

    answer = client.reconcile(request_for(progress=SENT), since=SCHEDULED)

    assert answer.status == ReconcileStatus.UNKNOWN
    assert "more posts" in answer.message


def test_it_cannot_tell_whether_a_video_went_out_while_facebook_may_be_processing_it(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(mocked)

    answer = client.reconcile(request_for(media=(VIDEO,), progress=SENT), since=SCHEDULED)

    assert answer.status == ReconcileStatus.UNKNOWN
    assert "video" in answer.message


def test_it_cannot_recognise_a_post_without_text(client: FacebookClient) -> None:
    answer = client.reconcile(request_for("", media=(PHOTO,), progress=SENT), since=SCHEDULED)

    assert answer.status == ReconcileStatus.UNKNOWN
    assert "no text" in answer.message


def test_it_never_claims_a_post_made_before_this_date_was_first_sent(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    # The first date of the same post went out at 11:59:30; this date was first sent at 12:00.
    add_posts(mocked, listed(f"{PAGE}_80", "Hello from Alice", "2026-11-28T11:59:30+0000"))

    answer = client.reconcile(request_for(progress={SENT_AT: NOW.isoformat()}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED
    assert sent(mocked.calls[0])["since"] == str(int(NOW.timestamp()) - 2)


def test_it_never_claims_a_post_another_date_recorded(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_posts(mocked, listed(f"{PAGE}_80", "Hello from Alice", "2026-11-28T11:59:30+0000"))

    answer = client.reconcile(request_for(progress=SENT, taken=frozenset({f"{PAGE}_80"})), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_a_date_never_sent_is_not_published_without_asking(client: FacebookClient) -> None:
    answer = client.reconcile(request_for(), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("ready", ReconcileStatus.PUBLISHED),
        ("processing", ReconcileStatus.UNKNOWN),
        ("error", ReconcileStatus.NOT_PUBLISHED),
    ],
)
def test_a_video_is_reconciled_by_its_saved_id(
    client: FacebookClient, mocked: responses.RequestsMock, state: str, expected: ReconcileStatus
) -> None:
    mocked.post(VIDEO_NODE, json=video_status(state))

    answer = client.reconcile(
        request_for(media=(VIDEO,), progress={**SENT, VIDEO_KEY: "video-9"}), since=SCHEDULED
    )

    assert answer.status == expected
    if expected == ReconcileStatus.PUBLISHED:
        assert answer.result is not None
        assert answer.result.platform_post_id == "video-9"


# -- validation ---------------------------------------------------------------------------------------
def test_it_accepts_a_text_post(client: FacebookClient) -> None:
    assert client.validate(text="Hello", media=[], options={}) == []


def test_it_accepts_several_photos(client: FacebookClient) -> None:
    assert client.validate(text="", media=[PHOTO, DOG], options={}) == []


def test_it_refuses_an_empty_post(client: FacebookClient) -> None:
    problems = client.validate(text="  ", media=[], options={})

    assert len(problems) == 1
    assert "empty" in problems[0]


def test_it_refuses_photos_and_a_video_together(client: FacebookClient) -> None:
    problems = client.validate(text="Hi", media=[PHOTO, VIDEO], options={})

    assert any("not both" in problem for problem in problems)


def test_it_refuses_a_photo_type_facebook_does_not_take(client: FacebookClient) -> None:
    heic = MediaItem(url="https://cdn.example/cat.heic", content_type="image/heic", path="/tmp/cat.heic")

    problems = client.validate(text="Hi", media=[heic], options={})

    assert problems == ["cat.heic is not a photo Facebook accepts (image/heic); use JPEG, PNG, GIF or WebP."]


def test_it_refuses_media_without_a_public_address(client: FacebookClient) -> None:
    local = MediaItem(url="", content_type="video/mp4", path="/srv/media/clip.mp4")

    problems = client.validate(text="Hi", media=[local], options={})

    assert any("public web address" in problem for problem in problems)


def test_it_refuses_text_longer_than_facebook_allows(client: FacebookClient) -> None:
    problems = client.validate(text="a" * 63_207, media=[], options={})

    assert any("63,206" in problem for problem in problems)


def test_it_refuses_a_photo_larger_than_four_megabytes(client: FacebookClient, tmp_path: Any) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\0" * (4 * 1024 * 1024 + 1))
    photo = MediaItem(url="https://cdn.example/big.jpg", content_type="image/jpeg", path=str(big))

    problems = client.validate(text="Hi", media=[photo], options={})

    assert any("larger than 4 MB" in problem for problem in problems)


# -- accounts -----------------------------------------------------------------------------------------
def test_it_sends_the_user_to_the_facebook_login_dialog_with_the_page_scopes(client: FacebookClient) -> None:
    url = client.authorization_url(
        redirect_uri="https://sosocial.example/connect/facebook/done", state="s-1", code_verifier="unused"
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"http://sandbox.test/facebook/www/{GRAPH_VERSION}/dialog/oauth"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["client_id"] == "app-1"
    assert query["redirect_uri"] == "https://sosocial.example/connect/facebook/done"
    assert query["state"] == "s-1"
    assert query["scope"].split(",") == [
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_posts",
        "business_management",
    ]


def test_it_connects_every_page_with_a_page_token_that_does_not_expire(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_login(
        mocked,
        [
            {"id": "1001", "name": "Alice's Bakery", "access_token": "page-1"},
            {"id": "1002", "name": "Alice's Blog", "access_token": "page-2"},
        ],
    )

    accounts = client.connect(code="code-1", redirect_uri="https://sosocial.example/done", code_verifier="")

    assert [(a.account_id, a.display_name, a.access_token) for a in accounts] == [
        ("1001", "Alice's Bakery", "page-1"),
        ("1002", "Alice's Blog", "page-2"),
    ]
    assert all(account.expires_at is None and account.refresh_token == "" for account in accounts)
    exchange, long_lived, pages = (sent(call) for call in mocked.calls)
    assert exchange["code"] == "code-1"
    assert exchange["redirect_uri"] == "https://sosocial.example/done"
    assert (exchange["client_id"], exchange["client_secret"]) == ("app-1", "app-secret")
    assert long_lived["grant_type"] == "fb_exchange_token"
    assert long_lived["fb_exchange_token"] == "short-user"
    assert mocked.calls[2].request.headers["Authorization"] == "Bearer long-user"
    assert "client_secret" not in str(mocked.calls[0].request.url)
    assert "instagram_business_account" in pages["fields"]


def test_a_refused_login_code_asks_the_user_to_connect_again(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        f"{GRAPH}/{GRAPH_VERSION}/oauth/access_token",
        status=400,
        json=graph_error(100, 36007, message="This authorization code has expired."),
    )

    with pytest.raises(ReconnectNeeded) as raised:
        client.connect(code="old", redirect_uri="https://sosocial.example/done", code_verifier="")

    assert "Try connecting again" in raised.value.message


def test_a_login_without_pages_says_what_to_do(
    client: FacebookClient, mocked: responses.RequestsMock
) -> None:
    add_login(mocked, [])

    with pytest.raises(PermanentError) as raised:
        client.connect(code="code-1", redirect_uri="https://sosocial.example/done", code_verifier="")

    assert "select the Pages" in raised.value.message


def test_it_cannot_refresh_a_facebook_token_and_asks_for_a_reconnect(client: FacebookClient) -> None:
    account = AccountCredentials(platform="facebook", account_id=PAGE, access_token="page-token")

    with pytest.raises(ReconnectNeeded) as raised:
        client.refresh_token(account)

    assert "Reconnect" in raised.value.message
