"""TikTokClient against TikTok's Content Posting API, mocked at the HTTP boundary with `responses`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import time_machine
from responses import matchers

from platforms.base import (
    SENT_AT,
    AccountCredentials,
    MediaItem,
    OutcomeUnknown,
    PermanentError,
    Processing,
    PublishRequest,
    ReconcileStatus,
    Reconciliation,
    ReconnectNeeded,
    RetryableError,
    TokenExpired,
)
from platforms.tiktok import (
    MB,
    TikTokClient,
    chunk_plan,
    chunk_ranges,
    utf16_length,
)
from tests.platforms.conftest import (
    Checkpoints,
    FakeTime,
    media_file,
    oauth_app,
    publish_request,
    published,
    token_refused,
)

API = "https://open.tiktok.test"
WEB = "https://www.tiktok.test"
UPLOAD_URL = "https://upload.tiktok.test/upload/?upload_id=u1&upload_token=t1"
CREATOR_INFO = f"{API}/v2/post/publish/creator_info/query/"
VIDEO_INIT = f"{API}/v2/post/publish/video/init/"
CONTENT_INIT = f"{API}/v2/post/publish/content/init/"
STATUS = f"{API}/v2/post/publish/status/fetch/"
TOKEN = f"{API}/v2/oauth/token/"
SCHEDULED = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def tiktok_settings(settings: Any) -> None:
    oauth_app(settings, "tiktok", api=API, web=WEB, client_key="key-1")


@pytest.fixture
def client(fake_time: FakeTime) -> TikTokClient:
    return TikTokClient(sleep=fake_time.sleep)


def ok(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"data": dict(data), "error": {"code": "ok", "message": "", "log_id": "log-ok"}}


def failure(code: str, message: str = "") -> dict[str, Any]:
    return {"data": {}, "error": {"code": code, "message": message, "log_id": "log-1"}}


def creator(*options: str) -> dict[str, Any]:
    return ok(
        {
            "creator_username": "sosocial_tester",
            "creator_nickname": "Tester",
            "privacy_level_options": list(
                options or ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
            ),
            "comment_disabled": False,
            "duet_disabled": False,
            "stitch_disabled": True,
            "max_video_post_duration_sec": 300,
        }
    )


def status(state: str, **extra: Any) -> dict[str, Any]:
    return ok({"status": state, **extra})


def complete(*public_ids: int) -> dict[str, Any]:
    """A finished publish, with the public post ids TikTok has given so far."""
    return status("PUBLISH_COMPLETE", publicaly_available_post_id=list(public_ids))


def video_init(mocked: responses.RequestsMock, publish_id: str) -> None:
    """The creator info, then a video init that names `publish_id` and hands out UPLOAD_URL."""
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(VIDEO_INIT, json=ok({"publish_id": publish_id, "upload_url": UPLOAD_URL}))


def video_uploaded(mocked: responses.RequestsMock, publish_id: str) -> None:
    """A video init whose one chunk TikTok then takes whole."""
    video_init(mocked, publish_id)
    mocked.put(UPLOAD_URL, status=201)


def video_file(tmp_path: Path, size: int, name: str = "clip.mp4") -> MediaItem:
    return media_file(tmp_path, name, size, "video/mp4")


@pytest.fixture
def clip(tmp_path: Path) -> MediaItem:
    """A 100-byte video: one chunk."""
    return video_file(tmp_path, 100)


def sparse_video(tmp_path: Path, size: int) -> MediaItem:
    path = tmp_path / "big.mp4"
    with path.open("wb") as file:
        file.truncate(size)
    return MediaItem(url="https://media.test/big.mp4", content_type="video/mp4", path=str(path))


def photos(count: int) -> tuple[MediaItem, ...]:
    return tuple(
        MediaItem(url=f"https://media.sosocial.test/p{index}.jpg", content_type="image/jpeg")
        for index in range(count)
    )


def make_request(
    media: tuple[MediaItem, ...],
    text: str = "My caption #fyp",
    options: Mapping[str, str] | None = None,
    progress: Mapping[str, str] | None = None,
) -> PublishRequest:
    account = AccountCredentials(
        platform="tiktok", account_id="open-1", access_token="act-1", refresh_token="rft-1"
    )
    options = {"privacy_level": "PUBLIC_TO_EVERYONE"} if options is None else options
    return publish_request(
        account, text, scheduled_at=SCHEDULED, media=media, options=options, progress=progress
    )


def calls_to(mocked: responses.RequestsMock, url: str) -> int:
    return sum(1 for call in mocked.calls if call.request.url == url)


# -- chunk math --------------------------------------------------------------------------------------
def test_a_file_under_five_megabytes_goes_in_one_chunk() -> None:
    assert chunk_plan(3 * MB) == (3 * MB, 1)
    assert chunk_plan(1) == (1, 1)


def test_a_large_file_is_cut_into_whole_chunks_with_the_remainder_in_the_last() -> None:
    assert chunk_plan(100 * MB) == (10 * MB, 10)
    assert chunk_plan(105 * MB) == (10 * MB, 10)  # floor(105 / 10): the last chunk is 15 MB
    assert chunk_ranges(105 * MB, 10 * MB, 10)[-1] == (90 * MB, 105 * MB - 1)
    assert chunk_ranges(25, 10, 2) == [(0, 9), (10, 24)]


def test_chunk_sizes_outside_tiktoks_range_are_refused() -> None:
    with pytest.raises(ValueError, match="5-64 MB"):
        chunk_plan(100 * MB, chunk_size=65 * MB)
    with pytest.raises(ValueError, match="positive"):
        chunk_plan(0)


def test_captions_are_measured_in_utf16_units() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("😀") == 2
    assert utf16_length("日本") == 2


# -- validation --------------------------------------------------------------------------------------
def test_media_is_required(client: TikTokClient) -> None:
    problems = client.validate(text="hi", media=(), options={"privacy_level": "SELF_ONLY"})
    assert problems == ["TikTok needs a video or at least one photo: attach media to post there."]


def test_png_photos_are_refused(client: TikTokClient) -> None:
    png = MediaItem(url="https://media.test/a.png", content_type="image/png")
    problems = client.validate(text="hi", media=[png], options={"privacy_level": "SELF_ONLY"})
    assert len(problems) == 1
    assert "PNG" in problems[0]
    assert "a.png" in problems[0]


def test_up_to_35_photos_are_accepted_and_36_refused(client: TikTokClient) -> None:
    options = {"privacy_level": "SELF_ONLY"}
    assert client.validate(text="hi", media=photos(35), options=options) == []
    assert client.validate(text="hi", media=photos(36), options=options) == [
        "TikTok allows at most 35 photos per post; this one has 36."
    ]


def test_a_video_cannot_be_mixed_with_other_media(client: TikTokClient) -> None:
    video = MediaItem(url="https://media.test/v.mp4", content_type="video/mp4")
    problems = client.validate(text="hi", media=[video, *photos(1)], options={"privacy_level": "SELF_ONLY"})
    assert len(problems) == 1


def test_the_privacy_level_must_be_chosen_by_the_user(client: TikTokClient) -> None:
    video = MediaItem(url="https://media.test/v.mp4", content_type="video/mp4")
    [problem] = client.validate(text="hi", media=[video], options={})
    assert "privacy" in problem
    assert client.validate(text="hi", media=[video], options={"privacy_level": "FRIENDS"}) != []


def test_a_video_caption_may_have_2200_units(client: TikTokClient) -> None:
    video = MediaItem(url="https://media.test/v.mp4", content_type="video/mp4")
    options = {"privacy_level": "SELF_ONLY"}
    assert client.validate(text="a" * 2200, media=[video], options=options) == []
    assert client.validate(text="a" * 2199 + "😀", media=[video], options=options) != []


def test_photo_posts_limit_the_title_to_90_and_the_description_to_4000(client: TikTokClient) -> None:
    ok_options = {"privacy_level": "SELF_ONLY", "title": "t" * 90}
    assert client.validate(text="d" * 4000, media=photos(2), options=ok_options) == []
    long_title = {"privacy_level": "SELF_ONLY", "title": "t" * 91}
    assert len(client.validate(text="d" * 4001, media=photos(2), options=long_title)) == 2


# -- publishing a video ------------------------------------------------------------------------------
def test_a_small_video_is_uploaded_in_one_chunk_and_published(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video = video_file(tmp_path, 1024)
    bearer = matchers.header_matcher({"Authorization": "Bearer act-1"})
    mocked.post(CREATOR_INFO, json=creator(), match=[bearer])
    mocked.post(
        VIDEO_INIT,
        json=ok({"publish_id": "v_pub_file~v2.1", "upload_url": UPLOAD_URL}),
        match=[
            bearer,
            matchers.json_params_matcher(
                {
                    "post_info": {
                        "privacy_level": "PUBLIC_TO_EVERYONE",
                        "title": "My caption #fyp",
                        "disable_comment": False,
                        "disable_duet": False,
                        "disable_stitch": True,  # the creator turned stitches off
                    },
                    "source_info": {
                        "source": "FILE_UPLOAD",
                        "video_size": 1024,
                        "chunk_size": 1024,
                        "total_chunk_count": 1,
                    },
                }
            ),
        ],
    )
    mocked.put(
        UPLOAD_URL,
        status=201,
        match=[matchers.header_matcher({"Content-Range": "bytes 0-1023/1024", "Content-Type": "video/mp4"})],
    )
    mocked.post(
        STATUS,
        json=status("PROCESSING_UPLOAD", uploaded_bytes=1024),
        match=[matchers.json_params_matcher({"publish_id": "v_pub_file~v2.1"})],
    )
    request = make_request((video,))

    with pytest.raises(Processing) as processing:
        client.publish(request, checkpoint=checkpoints)  # uploaded; TikTok processes it on its own
    mocked.post(STATUS, json=complete(7300000000000000001))
    result = client.publish(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    assert processing.value.check_in == timedelta(seconds=10)
    # Called again, it reads the status once: no second init, no second upload.
    assert [call.request.url for call in mocked.calls][-1] == STATUS
    assert calls_to(mocked, VIDEO_INIT) == 1
    assert result.platform_post_id == "7300000000000000001"
    assert result.url == f"{WEB}/@sosocial_tester/video/7300000000000000001"
    put = next(call.request for call in mocked.calls if call.request.method == "PUT")
    assert put.body == Path(video.path).read_bytes()
    assert checkpoints.merged()["tiktok_upload"] == "complete"


def test_a_large_video_is_sent_in_sequential_chunks(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    size = 25 * MB
    video = sparse_video(tmp_path, size)
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(
        VIDEO_INIT,
        json=ok({"publish_id": "p-big", "upload_url": UPLOAD_URL}),
        match=[
            matchers.json_params_matcher(
                {
                    "source_info": {
                        "source": "FILE_UPLOAD",
                        "video_size": size,
                        "chunk_size": 10 * MB,
                        "total_chunk_count": 2,
                    }
                },
                strict_match=False,
            )
        ],
    )
    mocked.put(
        UPLOAD_URL,
        status=206,
        match=[matchers.header_matcher({"Content-Range": f"bytes 0-{10 * MB - 1}/{size}"})],
    )
    mocked.put(
        UPLOAD_URL,
        status=201,
        match=[matchers.header_matcher({"Content-Range": f"bytes {10 * MB}-{size - 1}/{size}"})],
    )
    mocked.post(STATUS, json=complete(42))

    client.publish(make_request((video,)), checkpoint=checkpoints)

    puts = [call.request for call in mocked.calls if call.request.method == "PUT"]
    assert [len(put.body or b"") for put in puts] == [10 * MB, 15 * MB]


def test_the_publish_id_is_checkpointed_before_any_byte_is_uploaded(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_uploaded(mocked, "p-1")
    mocked.post(STATUS, json=complete(1))

    client.publish(make_request((clip,)), checkpoint=checkpoints)

    assert checkpoints.saved[0] == ({SENT_AT: ANY}, 1)  # after creator info, before the init
    first_progress, calls_before = checkpoints.saved[1]
    assert first_progress["publish_id"] == "p-1"
    assert first_progress["tiktok_username"] == "sosocial_tester"
    assert calls_before == 2  # creator info and init; the PUT comes after
    assert mocked.calls[2].request.method == "PUT"


def test_a_privacy_level_the_creator_does_not_offer_is_refused_before_init(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    mocked.post(CREATOR_INFO, json=creator("FOLLOWER_OF_CREATOR", "SELF_ONLY"))
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_privacy_level_unavailable"
    assert "FOLLOWER_OF_CREATOR, SELF_ONLY" in raised.value.message
    assert checkpoints.saved == []


def test_without_a_public_post_id_it_reads_again_briefly_then_records_the_publish_id(
    client: TikTokClient,
    mocked: responses.RequestsMock,
    checkpoints: Checkpoints,
    fake_time: FakeTime,
    clip: MediaItem,
) -> None:
    video_uploaded(mocked, "p-2")
    mocked.post(STATUS, json=complete())
    request = make_request((clip,))

    with pytest.raises(Processing) as waiting:
        client.publish(request, checkpoint=checkpoints)
    # Published; the public id comes after moderation (seconds to hours). Read again for a short
    # while, then the publish_id and the profile are what is recorded.
    eleven_seconds_ago = (datetime.now(UTC) - timedelta(seconds=11)).isoformat()
    later = replace(request, progress={**checkpoints.merged(), "tiktok_completed_at": eleven_seconds_ago})
    result = client.publish(later, checkpoint=checkpoints)

    assert waiting.value.check_in == timedelta(seconds=5)
    assert result.platform_post_id == "p-2"
    assert result.url == f"{WEB}/@sosocial_tester"
    assert calls_to(mocked, VIDEO_INIT) == 1
    assert fake_time.sleeps == []


def test_a_post_still_processing_after_its_upload_is_processing_and_nothing_waits(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_uploaded(mocked, "p-3")
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=100))
    with pytest.raises(Processing) as raised:
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_processing"
    assert calls_to(mocked, STATUS) == 1


def test_a_status_check_failing_for_a_moment_after_the_upload_is_read_again_later(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_uploaded(mocked, "p-4")
    mocked.post(STATUS, status=429, json=failure("rate_limit_exceeded", "Too many requests"))
    with pytest.raises(Processing):
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert checkpoints.merged()["publish_id"] == "p-4"  # read again later, never sent again


def test_a_status_check_refused_after_the_upload_leaves_the_outcome_unknown(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_uploaded(mocked, "p-4")
    mocked.post(STATUS, status=400, json=failure("invalid_publish_id"))
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request((clip,)), checkpoint=checkpoints)


# -- publishing photos -------------------------------------------------------------------------------
def test_photos_are_pulled_from_their_urls_and_published(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(
        CONTENT_INIT,
        json=ok({"publish_id": "p_pub_url~1"}),
        match=[
            matchers.json_params_matcher(
                {
                    "post_info": {
                        "title": "Holiday",
                        "description": "Three days by the sea",
                        "privacy_level": "PUBLIC_TO_EVERYONE",
                        "disable_comment": False,
                        "auto_add_music": True,
                    },
                    "source_info": {
                        "source": "PULL_FROM_URL",
                        "photo_images": [
                            "https://media.sosocial.test/p0.jpg",
                            "https://media.sosocial.test/p1.jpg",
                        ],
                        "photo_cover_index": 0,
                    },
                    "post_mode": "DIRECT_POST",
                    "media_type": "PHOTO",
                }
            )
        ],
    )
    mocked.post(STATUS, json=status("PROCESSING_DOWNLOAD"))

    request = make_request(
        photos(2),
        text="Three days by the sea",
        options={"privacy_level": "PUBLIC_TO_EVERYONE", "title": "Holiday"},
    )
    with pytest.raises(Processing):
        client.publish(request, checkpoint=checkpoints)
    mocked.post(STATUS, json=complete(7311))
    result = client.publish(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    assert result.platform_post_id == "7311"
    assert result.url == f"{WEB}/@sosocial_tester/photo/7311"
    assert checkpoints.saved[1] == (
        {"publish_id": "p_pub_url~1", "tiktok_upload": "complete", "tiktok_username": "sosocial_tester"},
        2,
    )


# -- resuming an earlier attempt ---------------------------------------------------------------------
def test_a_completed_earlier_publish_is_returned_without_a_new_init(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    progress = {"publish_id": "p-old", "tiktok_upload": "complete", "tiktok_username": "sosocial_tester"}
    mocked.post(
        STATUS,
        json=complete(555),
        match=[matchers.json_params_matcher({"publish_id": "p-old"})],
    )
    result = client.publish(make_request((clip,), progress=progress), checkpoint=checkpoints)
    assert result.platform_post_id == "555"
    assert len(mocked.calls) == 1


def test_an_earlier_upload_that_finished_is_followed_up_not_sent_again(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    # The last chunk went out but its answer was lost; TikTok says it has every byte.
    progress = {"publish_id": "p-old", "tiktok_upload": "final_chunk_sent", "tiktok_video_size": "100"}
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=100))
    with pytest.raises(Processing):
        client.publish(make_request((clip,), progress=progress), checkpoint=checkpoints)
    assert calls_to(mocked, VIDEO_INIT) == 0
    assert len(mocked.calls) == 1


def test_an_upload_that_never_finished_is_started_again(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    progress = {"publish_id": "p-old", "tiktok_upload": "started", "tiktok_video_size": "100"}
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=0))
    video_uploaded(mocked, "p-new")
    mocked.post(
        STATUS,
        json=complete(557),
        match=[matchers.json_params_matcher({"publish_id": "p-new"})],
    )
    result = client.publish(make_request((clip,), progress=progress), checkpoint=checkpoints)
    assert result.platform_post_id == "557"
    # The dead publish_id is forgotten before the new init is sent.
    assert checkpoints.saved[0] == ({"publish_id": "", "tiktok_upload": ""}, 1)
    assert checkpoints.merged()["publish_id"] == "p-new"


def test_an_earlier_publish_that_failed_says_why_and_the_next_try_sends_it_again(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    request = make_request((clip,), progress={"publish_id": "p-old", "tiktok_upload": "complete"})
    mocked.post(STATUS, json=status("FAILED", fail_reason="internal"))

    with pytest.raises(RetryableError) as raised:
        client.publish(request, checkpoint=checkpoints)
    video_uploaded(mocked, "p-new")
    mocked.post(STATUS, json=complete(558))
    result = client.publish(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    assert raised.value.code == "tiktok_internal"
    assert result.platform_post_id == "558"
    assert calls_to(mocked, VIDEO_INIT) == 1


def test_a_publish_that_failed_for_its_media_fails_with_tiktoks_reason(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    progress = {"publish_id": "p-old", "tiktok_upload": "complete"}
    mocked.post(STATUS, json=status("FAILED", fail_reason="duration_check_failed"))

    with pytest.raises(PermanentError) as raised:
        client.publish(make_request((clip,), progress=progress), checkpoint=checkpoints)

    assert raised.value.code == "tiktok_duration_check_failed"
    assert checkpoints.merged()["publish_id"] == ""


def test_tiktok_has_nothing_to_prepare(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    prepared = client.prepare(make_request((clip,)), checkpoint=checkpoints)

    assert prepared.expires_at is None
    assert len(mocked.calls) == 0


def test_preparing_reports_a_post_tiktok_would_refuse_before_its_time(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    with pytest.raises(PermanentError):
        client.prepare(make_request(photos(1), options={}), checkpoint=checkpoints)


def test_an_earlier_publish_still_processing_is_never_sent_twice(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    progress = {"publish_id": "p-old", "tiktok_upload": "complete"}
    mocked.post(STATUS, json=status("PROCESSING_DOWNLOAD"))
    with pytest.raises(Processing):
        client.publish(make_request(photos(1), progress=progress), checkpoint=checkpoints)
    assert calls_to(mocked, CONTENT_INIT) == 0


# -- errors ------------------------------------------------------------------------------------------
def test_an_invalid_access_token_asks_for_a_refresh(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, status=401, json=failure("access_token_invalid", "The access token is invalid"))
    with pytest.raises(TokenExpired) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_access_token_invalid"
    assert raised.value.http_status == 401


def test_a_missing_scope_means_the_account_must_be_reconnected(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, status=401, json=failure("scope_not_authorized"))
    with pytest.raises(ReconnectNeeded) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert "Reconnect" in raised.value.message


def test_the_per_minute_limit_is_retried_a_minute_later(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, status=429, json=failure("rate_limit_exceeded"))
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False), pytest.raises(RetryableError) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert raised.value.retry_at == now + timedelta(seconds=60)
    assert raised.value.code == "tiktok_rate_limit_exceeded"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("spam_risk_too_many_posts", "daily posting limit"),
        ("spam_risk_user_banned_from_posting", "blocked this account"),
        ("unaudited_client_can_only_post_to_private_accounts", "private"),
        ("url_ownership_unverified", "verify the media domain"),
        ("privacy_level_option_mismatch", "privacy setting"),
        ("invalid_param", "settings"),
        ("invalid_params", "settings"),
        ("reached_active_user_cap", "daily limit of accounts"),
    ],
)
def test_policy_and_parameter_refusals_are_permanent_and_explained(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, code: str, words: str
) -> None:
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(CONTENT_INIT, status=403, json=failure(code, "refused"))
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert not isinstance(raised.value, ReconnectNeeded)
    assert raised.value.code == f"tiktok_{code}"
    assert raised.value.http_status == 403
    assert words in raised.value.message
    assert "log-1" in raised.value.message


@pytest.mark.parametrize("http_status", [500, 503])
def test_server_errors_are_retried(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, http_status: int
) -> None:
    mocked.post(CREATOR_INFO, status=http_status, json=failure("internal_error"))
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert raised.value.http_status == http_status


def test_a_failure_without_tiktoks_envelope_is_classified_by_status(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_502"


@pytest.mark.parametrize(
    ("reason", "error_type"),
    [
        ("internal", RetryableError),
        ("photo_pull_failed", RetryableError),
        ("file_format_check_failed", PermanentError),
        ("duration_check_failed", PermanentError),
        ("spam_risk_text", PermanentError),
        ("auth_removed", ReconnectNeeded),
    ],
)
def test_a_failed_publish_is_classified_by_its_reason(
    client: TikTokClient,
    mocked: responses.RequestsMock,
    checkpoints: Checkpoints,
    reason: str,
    error_type: type[Exception],
) -> None:
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(CONTENT_INIT, json=ok({"publish_id": "p-5"}))
    mocked.post(STATUS, json=status("FAILED", fail_reason=reason))
    with pytest.raises(error_type) as raised:
        client.publish(make_request(photos(1)), checkpoint=checkpoints)
    assert type(raised.value) is error_type
    assert getattr(raised.value, "code", "") == f"tiktok_{reason}"


def test_a_connection_dropped_during_init_leaves_the_outcome_unknown(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(CONTENT_INIT, body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request(photos(1)), checkpoint=checkpoints)


def test_a_connection_dropped_while_sending_the_last_chunk_leaves_the_outcome_unknown(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_init(mocked, "p-6")
    mocked.put(UPLOAD_URL, body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert checkpoints.merged()["tiktok_upload"] == "final_chunk_sent"


def test_a_connection_dropped_before_the_last_chunk_is_safe_to_retry(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video_init(mocked, "p-7")
    mocked.put(UPLOAD_URL, body=requests.ConnectionError("Connection reset by peer"))
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request((sparse_video(tmp_path, 25 * MB),)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_upload_interrupted"
    assert checkpoints.merged()["tiktok_upload"] == "started"


def test_a_chunk_before_the_last_answered_with_a_server_error_is_sent_again(
    client: TikTokClient,
    mocked: responses.RequestsMock,
    checkpoints: Checkpoints,
    fake_time: FakeTime,
    tmp_path: Path,
) -> None:
    video = sparse_video(tmp_path, 20 * 1024 * 1024)  # two 10 MB chunks
    video_init(mocked, "p-8")
    mocked.put(UPLOAD_URL, status=503)
    mocked.put(UPLOAD_URL, status=206)
    mocked.put(UPLOAD_URL, status=201)
    mocked.post(STATUS, json=complete(9))
    assert client.publish(make_request((video,)), checkpoint=checkpoints).platform_post_id == "9"
    assert fake_time.sleeps[0] == 1.0


def test_a_last_chunk_answered_with_a_server_error_is_sent_again_only_when_tiktok_lacks_it(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_init(mocked, "p-8")
    mocked.put(UPLOAD_URL, status=503)
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=0))
    mocked.put(UPLOAD_URL, status=201)
    mocked.post(STATUS, json=complete(9))
    result = client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert result.platform_post_id == "9"
    assert [call.request.method for call in mocked.calls].count("PUT") == 2


def test_a_last_chunk_that_landed_before_its_server_error_is_not_sent_again(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_init(mocked, "p-8")
    mocked.put(UPLOAD_URL, status=500)
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=100))
    mocked.post(STATUS, json=complete(9))
    result = client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert result.platform_post_id == "9"
    assert [call.request.method for call in mocked.calls].count("PUT") == 1
    assert checkpoints.merged()["tiktok_upload"] == "complete"


def test_a_resent_last_chunk_refused_as_already_uploaded_goes_on_to_publish(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    # The first PUT landed but its answer was lost; the resend is refused because every chunk is
    # there. That is the upload completing, not a refusal of the video.
    video_init(mocked, "p-8")
    mocked.put(UPLOAD_URL, body=requests.ConnectionError("Connection reset by peer"))
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=0))  # not counted yet
    mocked.put(UPLOAD_URL, status=400, json=failure("invalid_param", "All chunks were already uploaded."))
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=100))
    mocked.post(STATUS, json=complete(9))
    result = client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert result.platform_post_id == "9"


def test_a_last_chunk_nobody_can_confirm_leaves_the_outcome_unknown(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_init(mocked, "p-8")
    mocked.put(UPLOAD_URL, status=500)
    mocked.post(STATUS, status=500, json=failure("internal_error"))
    with pytest.raises(OutcomeUnknown) as raised:
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_last_chunk_unconfirmed"
    assert checkpoints.merged()["tiktok_upload"] == "final_chunk_sent"


@pytest.mark.parametrize("path", [VIDEO_INIT, CONTENT_INIT])
@pytest.mark.parametrize(
    ("http_status", "body"), [(500, failure("internal_error")), (502, None), (200, None)]
)
def test_an_init_answered_with_a_server_error_leaves_the_outcome_unknown(
    client: TikTokClient,
    mocked: responses.RequestsMock,
    checkpoints: Checkpoints,
    clip: MediaItem,
    path: str,
    http_status: int,
    body: Any,
) -> None:
    media = (clip,) if path == VIDEO_INIT else photos(2)
    mocked.post(CREATOR_INFO, json=creator())
    if body is None:
        mocked.post(path, status=http_status, body="<html>upstream</html>")
    else:
        mocked.post(path, status=http_status, json=body)
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request(media), checkpoint=checkpoints)
    assert checkpoints.merged()[SENT_AT]


def test_an_init_refused_by_a_rate_limit_stays_retryable(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATOR_INFO, json=creator())
    mocked.post(CONTENT_INIT, status=429, json=failure("rate_limit_exceeded"))
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(photos(2)), checkpoint=checkpoints)
    assert not isinstance(raised.value, OutcomeUnknown)


def test_an_expired_upload_link_is_retried_with_a_new_upload(
    client: TikTokClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, clip: MediaItem
) -> None:
    video_init(mocked, "p-9")
    mocked.put(UPLOAD_URL, status=403)
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=0))
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request((clip,)), checkpoint=checkpoints)
    assert raised.value.code == "tiktok_upload_expired"
    assert checkpoints.merged()["tiktok_upload"] == "started"  # TikTok refused the last chunk


# -- reconciliation ----------------------------------------------------------------------------------
SINCE = datetime(2026, 11, 1, 11, 55, tzinfo=UTC)


def reconcile(
    client: TikTokClient, media: tuple[MediaItem, ...], progress: Mapping[str, str] | None = None
) -> Reconciliation:
    return client.reconcile(make_request(media, progress=progress), since=SINCE)


def test_reconcile_reports_a_completed_publish_as_published(
    client: TikTokClient, mocked: responses.RequestsMock, clip: MediaItem
) -> None:
    mocked.post(STATUS, json=complete())
    answer = reconcile(client, (clip,), {"publish_id": "p-10", "tiktok_username": "sosocial_tester"})
    result = published(answer)
    assert result.platform_post_id == "p-10"
    assert result.url == f"{WEB}/@sosocial_tester"


@pytest.mark.parametrize(
    ("answer", "progress"),
    [
        pytest.param(status("FAILED", fail_reason="internal"), {"publish_id": "p-11"}, id="a failed publish"),
        pytest.param(
            status("PROCESSING_UPLOAD", uploaded_bytes=0),
            {"publish_id": "p-12", "tiktok_upload": "started", "tiktok_video_size": "100"},
            id="an unfinished upload",
        ),
    ],
)
def test_reconcile_reports_a_failed_publish_or_an_unfinished_upload_as_not_published(
    client: TikTokClient,
    mocked: responses.RequestsMock,
    clip: MediaItem,
    answer: dict[str, Any],
    progress: dict[str, str],
) -> None:
    mocked.post(STATUS, json=answer)
    assert reconcile(client, (clip,), progress).status == ReconcileStatus.NOT_PUBLISHED


def test_reconcile_cannot_tell_while_tiktok_is_still_processing(
    client: TikTokClient, mocked: responses.RequestsMock, clip: MediaItem
) -> None:
    mocked.post(STATUS, json=status("PROCESSING_UPLOAD", uploaded_bytes=100))
    progress = {"publish_id": "p-13", "tiktok_upload": "final_chunk_sent", "tiktok_video_size": "100"}
    answer = reconcile(client, (clip,), progress)
    assert answer.status == ReconcileStatus.UNKNOWN
    assert "still processing" in answer.message


def test_a_video_init_that_never_returned_its_publish_id_was_not_published(
    client: TikTokClient, mocked: responses.RequestsMock, clip: MediaItem
) -> None:
    answer = reconcile(client, (clip,))
    assert answer.status == ReconcileStatus.NOT_PUBLISHED
    assert len(mocked.calls) == 0


def test_a_photo_init_that_never_returned_its_publish_id_needs_a_person(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    answer = reconcile(client, photos(2), {"publish_id": "", SENT_AT: "2026-11-01T12:00:01+00:00"})
    assert answer.status == ReconcileStatus.UNKNOWN
    assert len(mocked.calls) == 0


def test_a_photo_post_never_sent_is_not_published_without_asking(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    answer = reconcile(client, photos(2))
    assert answer.status == ReconcileStatus.NOT_PUBLISHED
    assert len(mocked.calls) == 0


# -- OAuth -------------------------------------------------------------------------------------------
def test_refresh_returns_the_rotated_refresh_token_and_its_expiry(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        TOKEN,
        json={
            "open_id": "open-1",
            "scope": "user.info.basic,video.publish",
            "access_token": "act-2",
            "expires_in": 7200,
            "refresh_token": "rft-2",
            "refresh_expires_in": 15552000,
            "token_type": "Bearer",
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_key": "key-1",
                    "client_secret": "secret-1",
                    "grant_type": "refresh_token",
                    "refresh_token": "rft-1",
                }
            )
        ],
    )
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        grant = client.refresh_token(make_request(photos(1)).account)
    assert grant.access_token == "act-2"
    assert grant.refresh_token == "rft-2"
    assert grant.expires_at == now + timedelta(hours=2)


def test_a_spent_refresh_token_means_the_account_must_be_reconnected(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    token_refused(mocked, TOKEN, 400, "invalid_grant", "Refresh token is invalid or expired.", log_id="l")
    with pytest.raises(ReconnectNeeded) as raised:
        client.refresh_token(make_request(photos(1)).account)
    assert raised.value.code == "tiktok_invalid_grant"


def test_authorization_url_asks_for_the_publishing_scopes(client: TikTokClient) -> None:
    url = client.authorization_url(
        redirect_uri="https://app.test/cb/tiktok", state="s-1", code_verifier="unused"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{WEB}/v2/auth/authorize/"
    assert {key: values[0] for key, values in parse_qs(parts.query).items()} == {
        "client_key": "key-1",
        "scope": "user.info.basic,video.publish,video.upload",
        "response_type": "code",
        "redirect_uri": "https://app.test/cb/tiktok",
        "state": "s-1",
    }


def test_connect_exchanges_the_code_and_names_the_account(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        TOKEN,
        json={
            "open_id": "open-77",
            "scope": "user.info.basic,video.publish,video.upload",
            "access_token": "act-77",
            "expires_in": 7200,
            "refresh_token": "rft-77",
        },
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_key": "key-1",
                    "client_secret": "secret-1",
                    "code": "code-1",
                    "grant_type": "authorization_code",
                    "redirect_uri": "https://app.test/cb/tiktok",
                }
            )
        ],
    )
    mocked.get(
        f"{API}/v2/user/info/",
        json=ok({"user": {"open_id": "open-77", "display_name": "Sea Pictures"}}),
        match=[
            matchers.query_param_matcher({"fields": "open_id,display_name"}),
            matchers.header_matcher({"Authorization": "Bearer act-77"}),
        ],
    )
    [account] = client.connect(code="code-1", redirect_uri="https://app.test/cb/tiktok", code_verifier="")
    assert account.account_id == "open-77"
    assert account.display_name == "Sea Pictures"
    assert account.refresh_token == "rft-77"
    assert account.expires_at is not None


def test_connect_refuses_a_login_that_did_not_allow_posting(
    client: TikTokClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        TOKEN, json={"open_id": "o", "scope": "user.info.basic", "access_token": "a", "expires_in": 7200}
    )
    with pytest.raises(PermanentError) as raised:
        client.connect(code="code-1", redirect_uri="https://app.test/cb/tiktok", code_verifier="")
    assert raised.value.code == "tiktok_scope_not_granted"
