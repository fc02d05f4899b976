"""XClient against X's HTTP API, mocked at the HTTP boundary with `responses`."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from platforms.base import (
    SENT_AT,
    AccountCredentials,
    MediaItem,
    NotReady,
    OutcomeUnknown,
    PermanentError,
    PublishRequest,
    ReconcileStatus,
    ReconnectNeeded,
    RetryableError,
    TokenExpired,
)
from platforms.x import (
    MEDIA_EXPIRES_KEY,
    MEDIA_IDS_KEY,
    MEDIA_PENDING_KEY,
    MEDIA_REFUSED_KEY,
    XClient,
    count_cashtags,
    find_urls,
    weighted_length,
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

API = "https://api.x.test"
WEB = "https://x.test"
TWEETS = f"{API}/2/tweets"
UPLOAD = f"{API}/2/media/upload"
TOKEN = f"{API}/2/oauth2/token"
TIMELINE = f"{API}/2/users/42/tweets"
SCHEDULED = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def x_settings(settings: Any) -> None:
    oauth_app(settings, "x", api=API, web=WEB, client_id="client-1")


@pytest.fixture
def client(fake_time: FakeTime) -> XClient:
    return XClient()


def make_request(
    text: str = "Hello from SoSocial",
    media: tuple[MediaItem, ...] = (),
    progress: Mapping[str, str] | None = None,
) -> PublishRequest:
    account = AccountCredentials(
        platform="x", account_id="42", access_token="access-1", refresh_token="refresh-1"
    )
    return publish_request(account, text, scheduled_at=SCHEDULED, media=media, progress=progress)


# This date's first create went out one second after the scheduled time.
SENT = {SENT_AT: "2026-11-01T12:00:01+00:00"}


def sent_request(text: str = "Hello from SoSocial") -> PublishRequest:
    return make_request(text, progress=SENT)


def ready(*media_ids: str) -> dict[str, str]:
    """Progress of media uploaded and processed ahead, good for another day."""
    expires = datetime.now(UTC) + timedelta(days=1)
    return {MEDIA_IDS_KEY: ",".join(media_ids), MEDIA_PENDING_KEY: "", MEDIA_EXPIRES_KEY: expires.isoformat()}


def created(post_id: str = "1850000000000000001") -> dict[str, Any]:
    return {"data": {"id": post_id, "text": "Hello from SoSocial", "edit_history_post_ids": [post_id]}}


def problem(status: int, detail: str, kind: str = "about:blank", title: str = "Error") -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status}


# -- weighted length ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "weights",
    [
        pytest.param({"Hello, world!": 13, "café naïve": 10}, id="plain latin text counts one per character"),
        pytest.param(
            {
                "https://example.com/" + "a" * 100: 23,
                "http://a.co": 23,
                "read https://example.com/x and sosocial.app": 5 + 23 + 5 + 23,
            },
            id="every url counts 23 whatever its length",
        ),
        pytest.param(
            {"example.com": 23, "www.example.org/path": 23, "me@example.com": 14, "notes.txt": 9},
            id="a bare domain counts as a url but an email or a file name does not",
        ),
        pytest.param({"🇫🇷": 2, "Go 🇫🇷🇩🇪!": 3 + 2 + 2 + 1}, id="a flag counts two as x counts it"),
        pytest.param(
            {"😀": 2, "👍🏽": 2, "🇫🇷": 2, "👨\u200d👩\u200d👧\u200d👦": 2, "1️⃣": 2, "❤️": 2},
            id="emoji count two including skin tones flags and zwj sequences",
        ),
        pytest.param({"日本語": 6, "한국": 4}, id="cjk characters count two"),
        pytest.param(
            # U+2026 lies just past the U+2010-U+201F range.
            {"\u201cquoted\u201d \u2014 \u2018x\u2019": 14, "…": 2},
            id="typographic punctuation in the weight one ranges counts one",
        ),
        pytest.param(
            {"e\u0301": 1, "a\r\nb": 3},  # e + combining acute → é
            id="text is counted after nfc normalisation and line ending folding",
        ),
    ],
)
def test_text_is_weighed_as_x_weighs_it(weights: dict[str, int]) -> None:
    assert {text: weighted_length(text) for text in weights} == weights


def test_a_bare_domain_on_any_tld_x_knows_counts_as_a_url() -> None:
    # The full TLD list, as X's own twitter-text has it, not a hand-picked few.
    assert weighted_length("acme.technology") == 23
    assert weighted_length("see shop.example.fishing/today") == 4 + 23
    assert find_urls("our new site acme.technology is live") == [(13, 28)]


def test_sentence_punctuation_after_a_url_is_not_part_of_it() -> None:
    assert find_urls("see https://example.com/a.") == [(4, 25)]
    assert weighted_length("(see https://example.com/a)") == 1 + 4 + 23 + 1


def test_280_weighted_characters_are_accepted_and_281_are_refused(client: XClient) -> None:
    assert client.validate(text="a" * 280, media=(), options={}) == []
    problems = client.validate(text="a" * 281, media=(), options={})
    assert len(problems) == 1
    assert "281" in problems[0]
    assert "280" in problems[0]


def test_cjk_text_hits_the_limit_at_140_characters(client: XClient) -> None:
    assert client.validate(text="字" * 140, media=(), options={}) == []
    assert client.validate(text="字" * 141, media=(), options={}) != []


def test_a_long_url_does_not_push_short_text_over_the_limit(client: XClient) -> None:
    text = "a" * 256 + " https://example.com/" + "x" * 300
    assert weighted_length(text) == 280
    assert client.validate(text=text, media=(), options={}) == []


# -- validation --------------------------------------------------------------------------------------
def test_an_empty_post_is_refused(client: XClient) -> None:
    assert client.validate(text="  ", media=(), options={}) != []


def test_more_than_one_cashtag_is_refused(client: XClient) -> None:
    assert count_cashtags("$AAPL and $TSLA, but not US$5") == 2
    assert client.validate(text="Buy $AAPL", media=(), options={}) == []
    problems = client.validate(text="$AAPL beats $TSLA", media=(), options={})
    assert problems == ["X allows only one cashtag (like $TICKER) per post; this one has 2."]


def test_up_to_four_images_are_accepted_and_five_refused(client: XClient) -> None:
    image = MediaItem(url="https://media.test/a.jpg", content_type="image/jpeg")
    assert client.validate(text="pics", media=[image] * 4, options={}) == []
    problems = client.validate(text="pics", media=[image] * 5, options={})
    assert problems == ["X allows at most 4 images per post; this one has 5."]


def test_a_video_or_gif_must_be_the_only_attachment(client: XClient) -> None:
    video = MediaItem(url="https://media.test/v.mp4", content_type="video/mp4")
    gif = MediaItem(url="https://media.test/a.gif", content_type="image/gif")
    image = MediaItem(url="https://media.test/a.png", content_type="image/png")
    assert client.validate(text="", media=[video], options={}) == []
    assert client.validate(text="", media=[gif], options={}) == []
    assert len(client.validate(text="", media=[video, image], options={})) == 1
    assert len(client.validate(text="", media=[gif, gif], options={})) == 1


def test_unsupported_file_types_are_refused_by_name(client: XClient) -> None:
    problems = client.validate(
        text="doc",
        media=[MediaItem(url="https://media.test/report.pdf", content_type="application/pdf")],
        options={},
    )
    assert len(problems) == 1
    assert "report.pdf" in problems[0]


# -- publishing --------------------------------------------------------------------------------------
def test_a_text_post_is_created_and_linked(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(
        TWEETS,
        json=created("1850000000000000001"),
        status=201,
        match=[
            matchers.json_params_matcher({"text": "Hello from SoSocial"}),
            matchers.header_matcher({"Authorization": "Bearer access-1"}),
        ],
    )
    result = client.publish(make_request(), checkpoint=checkpoints)
    assert result.platform_post_id == "1850000000000000001"
    assert result.url == f"{WEB}/i/web/status/1850000000000000001"
    assert result.http_status == 201


def test_the_sent_marker_is_saved_before_the_post_is_created(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(TWEETS, json=created(), status=201)
    client.publish(make_request(), checkpoint=checkpoints)
    [(progress, calls_before)] = checkpoints.saved
    assert progress[SENT_AT]
    assert calls_before == 0


def test_images_are_uploaded_then_attached(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    first = media_file(tmp_path, "one.jpg", 2000, "image/jpeg")
    second = media_file(tmp_path, "two.png", 3000, "image/png")
    mocked.post(UPLOAD, json={"data": {"id": "m1", "media_key": "3_m1"}})
    mocked.post(UPLOAD, json={"data": {"id": "m2", "media_key": "3_m2"}})
    mocked.post(
        TWEETS,
        json=created("77"),
        status=201,
        match=[matchers.json_params_matcher({"text": "Two pictures", "media": {"media_ids": ["m1", "m2"]}})],
    )
    result = client.publish(make_request("Two pictures", media=(first, second)), checkpoint=checkpoints)
    assert result.platform_post_id == "77"
    upload = mocked.calls[0].request
    assert upload.headers["Authorization"] == "Bearer access-1"
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    body = upload.body
    assert isinstance(body, bytes)
    assert b'name="media_category"\r\n\r\ntweet_image' in body
    assert Path(first.path).read_bytes() in body


def test_a_video_is_uploaded_in_one_megabyte_segments_ahead_and_its_status_read_once_a_call(
    client: XClient,
    mocked: responses.RequestsMock,
    checkpoints: Checkpoints,
    fake_time: FakeTime,
    tmp_path: Path,
) -> None:
    size = 2 * 1024 * 1024 + 500_000
    video = media_file(tmp_path, "clip.mp4", size, "video/mp4")
    mocked.post(
        f"{API}/2/media/upload/initialize",
        json={"data": {"id": "v1", "media_key": "7_v1", "expires_after_secs": 86400}},
        match=[
            matchers.json_params_matcher(
                {"media_type": "video/mp4", "total_bytes": size, "media_category": "tweet_video"}
            )
        ],
    )
    for _ in range(3):
        mocked.post(f"{API}/2/media/upload/v1/append", status=204)
    mocked.post(
        f"{API}/2/media/upload/v1/finalize",
        json={
            "data": {
                "id": "v1",
                "expires_after_secs": 86400,
                "processing_info": {"state": "pending", "check_after_secs": 3},
            }
        },
    )
    request = make_request("Watch", media=(video,))

    with pytest.raises(NotReady) as first:
        client.prepare(request, checkpoint=checkpoints)
    status_query = matchers.query_param_matcher({"command": "STATUS", "media_id": "v1"})
    mocked.get(
        UPLOAD,
        json={"data": {"id": "v1", "processing_info": {"state": "in_progress", "check_after_secs": 5}}},
        match=[status_query],
    )
    with pytest.raises(NotReady) as second:
        client.prepare(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)
    mocked.get(
        UPLOAD, json={"data": {"id": "v1", "processing_info": {"state": "succeeded"}}}, match=[status_query]
    )
    prepared = client.prepare(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    # X's own hints say when to look again; nothing waits in the meantime.
    assert (first.value.check_in, second.value.check_in) == (timedelta(seconds=3), timedelta(seconds=5))
    assert fake_time.sleeps == []
    assert prepared.expires_at is not None
    assert timedelta(hours=23) < prepared.expires_at - datetime.now(UTC) <= timedelta(hours=24)
    appends = [call.request for call in mocked.calls if (call.request.url or "").endswith("/append")]
    sent = b""
    for index, append in enumerate(appends):
        body = append.body
        assert isinstance(body, bytes)
        assert f'name="segment_index"\r\n\r\n{index}\r\n'.encode() in body
        sent += body
    assert len(appends) == 3
    assert Path(video.path).read_bytes()[-500_000:] in sent
    assert checkpoints.merged()[MEDIA_IDS_KEY] == "v1"
    assert checkpoints.merged()[MEDIA_PENDING_KEY] == ""


def test_with_prepared_media_publishing_only_creates_the_post(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "clip.mp4", 1000, "video/mp4")
    mocked.post(
        TWEETS,
        json=created("88"),
        status=201,
        match=[matchers.json_params_matcher({"text": "Watch", "media": {"media_ids": ["v1"]}})],
    )

    result = client.publish(
        make_request("Watch", media=(video,), progress=ready("v1")), checkpoint=checkpoints
    )

    assert result.platform_post_id == "88"
    assert [call.request.url for call in mocked.calls] == [TWEETS]


def test_preparing_ready_media_again_calls_nothing(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "clip.mp4", 1000, "video/mp4")

    prepared = client.prepare(
        make_request("Watch", media=(video,), progress=ready("v1")), checkpoint=checkpoints
    )

    assert prepared.expires_at is not None
    assert len(mocked.calls) == 0


def test_a_text_post_has_nothing_to_prepare(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    assert client.prepare(make_request(), checkpoint=checkpoints).expires_at is None
    assert len(mocked.calls) == 0
    assert checkpoints.saved == []


def test_media_not_ready_at_the_time_sends_the_date_back_to_preparing_without_posting(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "slow.mp4", 1000, "video/mp4")
    progress = {**ready("v3"), MEDIA_PENDING_KEY: "v3"}
    mocked.get(
        UPLOAD,
        json={"data": {"id": "v3", "processing_info": {"state": "in_progress", "check_after_secs": 10}}},
    )

    with pytest.raises(NotReady) as raised:
        client.publish(make_request("Watch", media=(video,), progress=progress), checkpoint=checkpoints)

    assert raised.value.check_in == timedelta(seconds=10)
    assert [call.request.method for call in mocked.calls] == ["GET"]
    assert SENT_AT not in checkpoints.merged()  # never got as far as creating the post


def test_expired_prepared_media_is_uploaded_again(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    image = media_file(tmp_path, "one.jpg", 2000, "image/jpeg")
    stale = {**ready("m-old"), MEDIA_EXPIRES_KEY: (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    mocked.post(UPLOAD, json={"data": {"id": "m-new", "expires_after_secs": 86400}})
    mocked.post(TWEETS, json=created("77"), status=201)

    client.publish(make_request("A picture", media=(image,), progress=stale), checkpoint=checkpoints)

    assert json.loads(mocked.calls[1].request.body or b"{}")["media"] == {"media_ids": ["m-new"]}


def test_a_create_refusing_prepared_media_prepares_it_again_once(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    image = media_file(tmp_path, "one.jpg", 2000, "image/jpeg")
    refusal = {"title": "Invalid Request", "detail": "Your media IDs are invalid.", "status": 400}
    mocked.post(TWEETS, json=refusal, status=400)
    request = make_request("A picture", media=(image,), progress=ready("m1"))

    with pytest.raises(NotReady):
        client.publish(request, checkpoint=checkpoints)
    mocked.post(UPLOAD, json={"data": {"id": "m2", "expires_after_secs": 86400}})
    mocked.post(TWEETS, json=refusal, status=400)
    with pytest.raises(PermanentError):
        client.publish(
            replace(request, progress={**request.progress, **checkpoints.merged()}), checkpoint=checkpoints
        )

    assert checkpoints.merged()[MEDIA_REFUSED_KEY] == "1"


def test_a_gif_is_uploaded_in_the_gif_category(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    gif = media_file(tmp_path, "loop.gif", 1000, "image/gif")
    mocked.post(
        f"{API}/2/media/upload/initialize",
        json={"data": {"id": "g1"}},
        match=[
            matchers.json_params_matcher(
                {"media_type": "image/gif", "total_bytes": 1000, "media_category": "tweet_gif"}
            )
        ],
    )
    mocked.post(f"{API}/2/media/upload/g1/append", status=204)
    mocked.post(f"{API}/2/media/upload/g1/finalize", json={"data": {"id": "g1"}})  # no processing_info
    mocked.post(TWEETS, json=created("99"), status=201)
    assert client.publish(make_request("", media=(gif,)), checkpoint=checkpoints).platform_post_id == "99"


def test_failed_video_processing_is_permanent_and_nothing_is_posted(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    video = media_file(tmp_path, "bad.mp4", 1000, "video/mp4")
    mocked.post(f"{API}/2/media/upload/initialize", json={"data": {"id": "v2"}})
    mocked.post(f"{API}/2/media/upload/v2/append", status=204)
    mocked.post(
        f"{API}/2/media/upload/v2/finalize",
        json={
            "data": {
                "id": "v2",
                "processing_info": {"state": "failed", "error": {"message": "Unsupported codec"}},
            }
        },
    )
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request("Watch", media=(video,)), checkpoint=checkpoints)
    assert raised.value.code == "x_media_processing_failed"
    assert "Unsupported codec" in raised.value.message
    assert not any(call.request.url == TWEETS for call in mocked.calls)


def test_a_missing_media_file_is_permanent(client: XClient, checkpoints: Checkpoints, tmp_path: Path) -> None:
    gone = MediaItem(
        url="https://media.test/gone.jpg", content_type="image/jpeg", path=str(tmp_path / "gone.jpg")
    )
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request(media=(gone,)), checkpoint=checkpoints)
    assert raised.value.code == "x_media_missing"
    assert "gone.jpg" in raised.value.message


def test_an_invalid_post_is_refused_before_any_request(client: XClient, checkpoints: Checkpoints) -> None:
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request("a" * 281), checkpoint=checkpoints)
    assert raised.value.code == "x_invalid_post"


# -- errors ------------------------------------------------------------------------------------------
def test_it_waits_until_the_rate_limit_resets(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    reset = 1_793_000_000
    mocked.post(
        TWEETS,
        status=429,
        json={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.retry_at == datetime.fromtimestamp(reset + 1, UTC)
    assert raised.value.code == "x_429"
    assert raised.value.http_status == 429


def test_it_waits_for_the_daily_reset_when_the_24_hour_limit_is_used_up(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    window_reset, daily_reset = 1_793_000_000, 1_793_050_000
    mocked.post(
        TWEETS,
        status=429,
        json=problem(429, "Too Many Requests"),
        headers={
            "x-rate-limit-remaining": "57",
            "x-rate-limit-reset": str(window_reset),
            "x-user-limit-24hour-limit": "100",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(daily_reset),
        },
    )
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.retry_at == datetime.fromtimestamp(daily_reset + 1, UTC)
    assert "daily" in raised.value.message


def test_a_rate_limit_without_headers_leaves_the_wait_to_the_pipeline(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(TWEETS, status=429, json={"errors": [{"code": 88, "message": "Rate limit exceeded"}]})
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.retry_at is None


def test_the_monthly_usage_cap_is_permanent(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(
        TWEETS,
        status=429,
        json=problem(
            429, "Usage cap exceeded", "https://api.x.com/2/problems/usage-capped", "UsageCapExceeded"
        ),
    )
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.code == "x_usage_capped"
    assert not isinstance(raised.value, ReconnectNeeded)


def test_an_expired_token_asks_for_a_refresh(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(TWEETS, status=401, json=problem(401, "Unauthorized", title="Unauthorized"))
    with pytest.raises(TokenExpired) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.code == "x_401"
    assert raised.value.http_status == 401


def test_duplicate_content_is_checked_not_taken_as_published_or_failed(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    # X's duplicate check may be this date's own earlier post, or another date's of the same text.
    mocked.post(
        TWEETS,
        status=403,
        json=problem(403, "You are not allowed to create a Tweet with duplicate content.", title="Forbidden"),
    )
    with pytest.raises(OutcomeUnknown) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.code == "x_duplicate"
    assert raised.value.http_status == 403


def test_the_first_send_is_remembered_across_attempts(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(TWEETS, status=400, json=problem(400, "Invalid Request"))
    with pytest.raises(PermanentError):
        client.publish(make_request(progress=SENT), checkpoint=checkpoints)
    assert checkpoints.saved == []  # the earlier attempt's moment stays: its post may still appear


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        pytest.param(403, "You are not permitted to perform this action.", id="another forbidden answer"),
        pytest.param(400, "$.foo: is not defined in the schema", id="a bad request"),
    ],
)
def test_other_refusals_of_the_create_are_permanent_in_xs_words(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, status: int, detail: str
) -> None:
    mocked.post(TWEETS, status=status, json=problem(status, detail))
    with pytest.raises(PermanentError) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.code == f"x_{status}"
    assert detail in raised.value.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_on_the_create_leave_the_outcome_unknown(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, status: int
) -> None:
    mocked.post(TWEETS, status=status, body="upstream unavailable")
    with pytest.raises(OutcomeUnknown) as raised:
        client.publish(make_request(), checkpoint=checkpoints)
    assert raised.value.code == f"x_{status}"
    assert raised.value.http_status == status
    assert checkpoints.saved[0][0][SENT_AT]


def test_a_server_error_uploading_media_is_retried_because_nothing_was_posted(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, tmp_path: Path
) -> None:
    photo = media_file(tmp_path, "cat.jpg", 10, "image/jpeg")
    mocked.post(UPLOAD, status=503, body="upstream unavailable")
    with pytest.raises(RetryableError) as raised:
        client.publish(make_request(media=(photo,)), checkpoint=checkpoints)
    assert not isinstance(raised.value, OutcomeUnknown)
    assert checkpoints.saved == []


def test_a_connection_dropped_after_sending_the_post_leaves_the_outcome_unknown(
    client: XClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(TWEETS, body=requests.ConnectionError("Connection aborted."))
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request(), checkpoint=checkpoints)
    assert checkpoints.saved[0][0][SENT_AT]  # a retry will know the create went out


# -- reconciliation ----------------------------------------------------------------------------------
SINCE = datetime(2026, 11, 1, 11, 55, tzinfo=UTC)


def timeline(*posts: tuple[str, str], next_token: str | None = None, **entities: Any) -> dict[str, Any]:
    """A timeline page; `entities` maps a post id to its `entities.urls`."""
    meta: dict[str, Any] = {"result_count": len(posts)}
    if next_token:
        meta["next_token"] = next_token
    data = []
    for pid, text in posts:
        post: dict[str, Any] = {"id": pid, "text": text, "created_at": "2026-11-01T12:00:02.000Z"}
        if f"p{pid}" in entities:
            post["entities"] = {"urls": entities[f"p{pid}"]}
        data.append(post)
    return {"data": data, "meta": meta}


def tco(start: int, short: str, expanded: str, **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": start + len(short), "url": short, "expanded_url": expanded, **extra}


def test_reconcile_finds_the_post_by_its_text_and_the_links_x_expanded(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    text = "Fish &amp; chips at https://t.co/AbC123 tonight https://t.co/MeDiA9"
    mocked.get(
        TIMELINE,
        json=timeline(
            ("901", "Something else"),
            ("900", text),
            p900=[
                tco(20, "https://t.co/AbC123", "https://example.com/menu"),
                tco(48, "https://t.co/MeDiA9", "https://x.com/alice/status/900/photo/1", media_key="3_1"),
            ],
        ),
        match=[
            matchers.query_param_matcher(
                {
                    # From this date's first send (minus two seconds of clock skew), not before.
                    "start_time": "2026-11-01T11:59:59Z",
                    "tweet.fields": "created_at,text,entities",
                    "max_results": "100",
                }
            )
        ],
    )
    request = sent_request("Fish & chips at https://example.com/menu tonight")
    answer = client.reconcile(request, since=SINCE)
    result = published(answer)
    assert result.platform_post_id == "900"
    assert result.url == f"{WEB}/i/web/status/900"


def test_a_post_linking_a_rare_tld_reconciles_to_published(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    # X recognises every TLD: a bare "acme.technology" comes back as a t.co link.
    mocked.get(
        TIMELINE,
        json=timeline(
            ("900", "Our new site https://t.co/Zz9 is live"),
            p900=[tco(13, "https://t.co/Zz9", "http://acme.technology")],
        ),
    )
    answer = client.reconcile(sent_request("Our new site acme.technology is live"), since=SINCE)
    assert published(answer).platform_post_id == "900"


def test_a_post_with_the_same_words_but_another_link_is_not_this_one(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(
        TIMELINE,
        json=timeline(
            ("900", "Menu: https://t.co/Aa1"), p900=[tco(6, "https://t.co/Aa1", "https://example.com/lunch")]
        ),
    )
    answer = client.reconcile(sent_request("Menu: https://example.com/dinner"), since=SINCE)
    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_reconcile_reports_not_published_when_no_post_matches(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(TIMELINE, json=timeline(("901", "Hello from SoSocial, edited")))
    answer = client.reconcile(sent_request(), since=SINCE)
    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_a_date_never_sent_is_not_published_without_asking(client: XClient) -> None:
    answer = client.reconcile(make_request(), since=SINCE)
    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_reconcile_names_the_oldest_matching_post_when_the_text_appears_twice(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    # Newest first: the older post is the first attempt's, the one SoSocial should record.
    mocked.get(
        TIMELINE,
        json=timeline(("905", "Hello from SoSocial"), ("904", "Hello from SoSocial")),
    )
    answer = client.reconcile(sent_request(), since=SINCE)
    assert answer.result is not None
    assert answer.result.platform_post_id == "904"


def test_reconcile_never_names_a_post_another_date_recorded(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    mocked.get(TIMELINE, json=timeline(("904", "Hello from SoSocial")))
    request = replace(sent_request(), taken_post_ids=frozenset({"904"}))
    answer = client.reconcile(request, since=SINCE)
    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_reconcile_reads_further_pages(client: XClient, mocked: responses.RequestsMock) -> None:
    mocked.get(TIMELINE, json=timeline(("903", "other"), next_token="page2"))
    mocked.get(
        TIMELINE,
        json=timeline(("902", "Hello from SoSocial")),
        match=[matchers.query_param_matcher({"pagination_token": "page2"}, strict_match=False)],
    )
    answer = client.reconcile(sent_request(), since=SINCE)
    assert published(answer).platform_post_id == "902"


def test_a_timeline_read_that_stops_with_pages_left_is_unknown(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    for page in range(3):
        mocked.get(TIMELINE, json=timeline((f"90{page}", "other"), next_token=f"p{page + 1}"))
    answer = client.reconcile(sent_request(), since=SINCE)
    assert answer.status == ReconcileStatus.UNKNOWN
    assert len(mocked.calls) == 3


def test_reconcile_cannot_recognise_a_post_made_only_of_links(client: XClient) -> None:
    answer = client.reconcile(sent_request("https://example.com"), since=datetime(2026, 11, 1, tzinfo=UTC))
    assert answer.status == ReconcileStatus.UNKNOWN
    assert answer.message


# -- OAuth -------------------------------------------------------------------------------------------
def test_refresh_returns_the_rotated_refresh_token_and_its_expiry(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    basic = base64.b64encode(b"client-1:secret-1").decode()
    mocked.post(
        TOKEN,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "access-2",
            "refresh_token": "refresh-2",
            "scope": "tweet.read tweet.write users.read media.write offline.access",
        },
        match=[
            matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "refresh_token": "refresh-1"}),
            matchers.header_matcher({"Authorization": f"Basic {basic}"}),
        ],
    )
    before = datetime.now(UTC)
    grant = client.refresh_token(make_request().account)
    assert grant.access_token == "access-2"
    assert grant.refresh_token == "refresh-2"
    assert grant.expires_at is not None
    assert before + timedelta(seconds=7200) <= grant.expires_at <= datetime.now(UTC) + timedelta(seconds=7200)


def test_a_public_client_sends_its_id_in_the_form(
    settings: Any, mocked: responses.RequestsMock, fake_time: FakeTime
) -> None:
    settings.SOSOCIAL_PLATFORMS = {
        **settings.SOSOCIAL_PLATFORMS,
        "x": {**settings.SOSOCIAL_PLATFORMS["x"], "client_secret": ""},
    }
    mocked.post(
        TOKEN,
        json={"access_token": "access-2", "refresh_token": "refresh-2", "expires_in": 7200},
        match=[
            matchers.urlencoded_params_matcher(
                {"grant_type": "refresh_token", "refresh_token": "refresh-1", "client_id": "client-1"}
            )
        ],
    )
    XClient().refresh_token(make_request().account)
    assert "Authorization" not in mocked.calls[0].request.headers


def test_a_refused_refresh_token_means_the_account_must_be_reconnected(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    token_refused(mocked, TOKEN, 400, "invalid_request", "Value passed for the token was invalid.")
    with pytest.raises(ReconnectNeeded) as raised:
        client.refresh_token(make_request().account)
    assert raised.value.code == "x_oauth_invalid_request"
    assert "Reconnect" in raised.value.message


def test_refused_app_credentials_do_not_blame_the_account(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    token_refused(mocked, TOKEN, 401, "unauthorized_client", "Missing valid authorization header")
    with pytest.raises(PermanentError) as raised:
        client.refresh_token(make_request().account)
    assert not isinstance(raised.value, ReconnectNeeded)
    assert raised.value.code == "x_oauth_unauthorized_client"


def test_authorization_url_carries_a_valid_s256_challenge(client: XClient) -> None:
    verifier = "v" * 43 + "-._~" + "9" * 10
    url = client.authorization_url(
        redirect_uri="https://app.test/cb/x", state="state-1", code_verifier=verifier
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{WEB}/i/oauth2/authorize"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query == {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": "https://app.test/cb/x",
        "scope": "tweet.read tweet.write users.read media.write offline.access",
        "state": "state-1",
        "code_challenge": expected,
        "code_challenge_method": "S256",
    }


def test_connect_exchanges_the_code_and_names_the_account(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(
        TOKEN,
        json={"access_token": "access-9", "refresh_token": "refresh-9", "expires_in": 7200},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "code-1",
                    "redirect_uri": "https://app.test/cb/x",
                    "code_verifier": "verifier-1",
                }
            )
        ],
    )
    mocked.get(
        f"{API}/2/users/me",
        json={"data": {"id": "2244994945", "name": "Dev", "username": "XDevelopers"}},
        match=[matchers.header_matcher({"Authorization": "Bearer access-9"})],
    )
    [account] = client.connect(
        code="code-1", redirect_uri="https://app.test/cb/x", code_verifier="verifier-1"
    )
    assert account.account_id == "2244994945"
    assert account.display_name == "@XDevelopers"
    assert account.access_token == "access-9"
    assert account.refresh_token == "refresh-9"
    assert account.expires_at is not None


def test_an_expired_login_code_asks_to_connect_again(client: XClient, mocked: responses.RequestsMock) -> None:
    token_refused(mocked, TOKEN, 400, "invalid_grant", "authorization code expired")
    with pytest.raises(ReconnectNeeded) as raised:
        client.connect(code="stale", redirect_uri="https://app.test/cb/x", code_verifier="v")
    assert "authorization code expired" in raised.value.message


def test_an_html_error_page_is_classified_by_its_status(
    client: XClient, mocked: responses.RequestsMock
) -> None:
    # A proxy's HTML error page must still be classified by status.
    mocked.post(TWEETS, status=503, body="<html>oops</html>", content_type="text/html")
    with pytest.raises(OutcomeUnknown):
        client.publish(make_request(), checkpoint=lambda progress: None)
    assert json.loads(mocked.calls[0].request.body or b"{}") == {"text": "Hello from SoSocial"}
