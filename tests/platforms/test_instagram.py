from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from PIL import Image

from platforms.base import (
    SENT_AT,
    AccountCredentials,
    MediaItem,
    NotReady,
    OutcomeUnknown,
    PermanentError,
    PlatformClient,
    PublishRequest,
    ReconcileStatus,
    ReconnectNeeded,
    RetryableError,
)
from platforms.instagram import (
    CHILDREN_KEY,
    CONTAINER_KEY,
    PREPARED_AT_KEY,
    PUBLISH_SENT_KEY,
    READY_KEY,
    InstagramClient,
)
from tests.platforms.conftest import (
    GRAPH,
    GRAPH_VERSION,
    NOW,
    Checkpoints,
    FakeTime,
    add_login,
    graph_error,
    publish_request,
    published,
    sent,
)

pytestmark = pytest.mark.usefixtures("graph_settings", "frozen")

SCHEDULED = NOW - timedelta(minutes=1)
IG_USER = "17841400000000001"
CREATE = f"{GRAPH}/{GRAPH_VERSION}/{IG_USER}/media"
MEDIA_LIST = CREATE
PUBLISH = f"{GRAPH}/{GRAPH_VERSION}/{IG_USER}/media_publish"
PHOTO = MediaItem(url="https://cdn.example/cat.jpg", content_type="image/jpeg")
DOG = MediaItem(url="https://cdn.example/dog.jpg", content_type="image/jpeg")
CLIP = MediaItem(url="https://cdn.example/clip.mp4", content_type="video/mp4")
# An earlier attempt made container c-1 and sent media_publish for it at the scheduled time.
SENT_TO_PUBLISH = {CONTAINER_KEY: "c-1", PUBLISH_SENT_KEY: "c-1", SENT_AT: SCHEDULED.isoformat()}
# Prepared an hour ago: container c-1 was read FINISHED.
READY = {CONTAINER_KEY: "c-1", READY_KEY: "c-1", PREPARED_AT_KEY: (NOW - timedelta(hours=1)).isoformat()}


@pytest.fixture
def client(fake_time: FakeTime) -> InstagramClient:
    return InstagramClient()


def as_platform_client(client: InstagramClient) -> PlatformClient:
    return client  # mypy checks that InstagramClient satisfies the protocol


def request_for(
    text: str = "Fresh bread #bakery",
    *,
    media: tuple[MediaItem, ...] = (PHOTO,),
    options: Mapping[str, str] | None = None,
    progress: Mapping[str, str] | None = None,
) -> PublishRequest:
    account = AccountCredentials(platform="instagram", account_id=IG_USER, access_token="page-token")
    return publish_request(
        account, text, scheduled_at=SCHEDULED, media=media, options=options, progress=progress
    )


def container_saves(checkpoints: Checkpoints) -> list[tuple[dict[str, str], int]]:
    """The checkpoints that name a container, with the calls made before each."""
    return [(saved, calls) for saved, calls in checkpoints.saved if CONTAINER_KEY in saved]


def paths(mocked: responses.RequestsMock) -> list[str]:
    """The calls made so far as "METHOD path-below-the-version" (a read's `method=GET` honoured)."""
    prefix = f"/facebook/graph/{GRAPH_VERSION}/"
    return [
        f"{sent(call).get('method', call.request.method)} "
        + urlsplit(str(call.request.url)).path.removeprefix(prefix)
        for call in mocked.calls
    ]


def add_status(mocked: responses.RequestsMock, container_id: str, status_code: str, status: str = "") -> None:
    mocked.post(
        f"{GRAPH}/{GRAPH_VERSION}/{container_id}",
        json={"id": container_id, "status_code": status_code, "status": status},
    )


def add_publish(mocked: responses.RequestsMock, media_id: str = "media-1") -> None:
    mocked.post(PUBLISH, json={"id": media_id})
    mocked.post(
        f"{GRAPH}/{GRAPH_VERSION}/{media_id}",
        json={"id": media_id, "permalink": f"https://www.instagram.com/p/{media_id}/"},
    )


def add_media(mocked: responses.RequestsMock, *media: dict[str, str]) -> None:
    """The account's media list, newest first."""
    mocked.post(MEDIA_LIST, json={"data": list(media)})


def posted(
    media_id: str,
    permalink: str,
    *,
    caption: str = "Fresh bread #bakery",
    at: str = "2026-11-28T11:59:30+0000",
) -> dict[str, str]:
    """A post in the media list."""
    return {"id": media_id, "caption": caption, "timestamp": at, "permalink": permalink}


# -- preparing ahead ----------------------------------------------------------------------------------
def test_preparing_a_photo_makes_its_container_saves_it_and_says_when_to_look_again(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "c-1"})

    with pytest.raises(NotReady) as raised:
        as_platform_client(client).prepare(request_for(), checkpoint=checkpoints)

    assert paths(mocked) == ["POST 17841400000000001/media"]
    create = sent(mocked.calls[0])
    assert create["image_url"] == PHOTO.url
    assert create["caption"] == "Fresh bread #bakery"
    assert container_saves(checkpoints) == [({"container_id": "c-1", PREPARED_AT_KEY: NOW.isoformat()}, 1)]
    assert raised.value.check_in == timedelta(seconds=3)


def test_preparing_again_reads_the_container_once_and_says_until_when_it_can_be_published(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-1", "FINISHED")
    made = {CONTAINER_KEY: "c-1", PREPARED_AT_KEY: (NOW - timedelta(minutes=5)).isoformat()}

    prepared = client.prepare(request_for(progress=made), checkpoint=checkpoints)

    assert paths(mocked) == ["GET c-1"]
    # Meta discards an unpublished container after 24 hours; SoSocial stops trusting it an hour before.
    assert prepared.expires_at == NOW - timedelta(minutes=5) + timedelta(hours=23)
    assert checkpoints.merged()[READY_KEY] == "c-1"


def test_preparing_a_ready_container_again_calls_nothing(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    prepared = client.prepare(request_for(progress=READY), checkpoint=checkpoints)

    assert paths(mocked) == []
    assert prepared.expires_at == NOW - timedelta(hours=1) + timedelta(hours=23)


def test_a_video_still_processing_is_not_ready_and_nothing_waits(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, fake_time: FakeTime
) -> None:
    add_status(mocked, "c-1", "IN_PROGRESS")
    made = {CONTAINER_KEY: "c-1", PREPARED_AT_KEY: NOW.isoformat()}

    with pytest.raises(NotReady) as raised:
        client.prepare(request_for(media=(CLIP,), progress=made), checkpoint=checkpoints)

    assert paths(mocked) == ["GET c-1"]
    assert raised.value.check_in == timedelta(seconds=10)
    assert fake_time.sleeps == []


def test_a_container_about_to_expire_is_replaced_by_a_new_one(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "c-new"})
    old = {**READY, PREPARED_AT_KEY: (NOW - timedelta(hours=23, minutes=1)).isoformat()}

    with pytest.raises(NotReady):
        client.prepare(request_for(progress=old), checkpoint=checkpoints)

    assert paths(mocked) == ["POST 17841400000000001/media"]
    assert checkpoints.merged()[CONTAINER_KEY] == "c-new"
    assert checkpoints.merged()[READY_KEY] == ""


def test_preparing_a_reel_makes_a_reels_container_from_the_video(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "c-1"})

    with pytest.raises(NotReady):
        client.prepare(request_for(media=(CLIP,), options={"kind": "reel"}), checkpoint=checkpoints)

    create = sent(mocked.calls[0])
    assert (create["media_type"], create["video_url"]) == ("REELS", CLIP.url)
    assert "image_url" not in create


def test_preparing_a_carousel_of_photos_makes_its_items_and_then_the_carousel(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "child-1"})
    mocked.post(CREATE, json={"id": "child-2"})
    mocked.post(CREATE, json={"id": "parent-1"})

    with pytest.raises(NotReady):
        client.prepare(request_for(media=(PHOTO, DOG)), checkpoint=checkpoints)

    first, second, parent = (sent(call) for call in mocked.calls[:3])
    assert (first["image_url"], first["is_carousel_item"]) == (PHOTO.url, "true")
    assert (second["image_url"], second["is_carousel_item"]) == (DOG.url, "true")
    assert "caption" not in first
    assert parent["media_type"] == "CAROUSEL"
    assert parent["children"] == "child-1,child-2"
    assert parent["caption"] == "Fresh bread #bakery"
    assert checkpoints.saved[0] == ({CHILDREN_KEY: "child-1,child-2", PREPARED_AT_KEY: NOW.isoformat()}, 2)
    assert container_saves(checkpoints) == [({"container_id": "parent-1"}, 3)]


def test_a_carousel_with_a_video_is_made_only_once_the_video_item_is_finished(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "child-1"})
    mocked.post(CREATE, json={"id": "child-2"})
    request = request_for(media=(PHOTO, CLIP))

    with pytest.raises(NotReady):
        client.prepare(request, checkpoint=checkpoints)  # items made, the video not fetched yet
    add_status(mocked, "child-2", "IN_PROGRESS")
    with pytest.raises(NotReady):
        client.prepare(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)
    add_status(mocked, "child-2", "FINISHED")
    mocked.post(CREATE, json={"id": "parent-1"})
    with pytest.raises(NotReady):
        client.prepare(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    assert paths(mocked) == [
        "POST 17841400000000001/media",
        "POST 17841400000000001/media",
        "GET child-2",
        "GET child-2",
        "POST 17841400000000001/media",
    ]
    video_child = sent(mocked.calls[1])
    assert (video_child["media_type"], video_child["video_url"]) == ("VIDEO", CLIP.url)
    assert checkpoints.merged()[CONTAINER_KEY] == "parent-1"


def test_it_fails_with_instagrams_reason_when_the_container_errors(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-1", "ERROR", "Error: Media upload has failed with error code 2207026")

    with pytest.raises(PermanentError) as raised:
        client.prepare(request_for(media=(CLIP,), progress={CONTAINER_KEY: "c-1"}), checkpoint=checkpoints)

    assert raised.value.code == "ig_container_error_2207026"
    assert "MP4 or MOV" in raised.value.message
    assert checkpoints.merged()[CONTAINER_KEY] == ""  # never shown: trying again makes a new one


def test_it_shows_the_status_text_of_an_error_it_does_not_know(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-1", "ERROR", "Error: something odd happened")

    with pytest.raises(PermanentError) as raised:
        client.prepare(request_for(progress={CONTAINER_KEY: "c-1"}), checkpoint=checkpoints)

    assert "something odd happened" in raised.value.message


def test_a_container_error_instagram_calls_temporary_is_retried(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-1", "ERROR", "Error: 2207003 media download timed out")

    with pytest.raises(RetryableError):
        client.prepare(request_for(progress={CONTAINER_KEY: "c-1"}), checkpoint=checkpoints)


@pytest.mark.parametrize("gone", ["EXPIRED", "unknown to the Graph"])
def test_an_expired_or_vanished_container_is_replaced_without_an_error(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, gone: str
) -> None:
    if gone == "EXPIRED":
        add_status(mocked, "c-old", "EXPIRED")
    else:
        mocked.post(f"{GRAPH}/{GRAPH_VERSION}/c-old", status=400, json=graph_error(100, 33))
    mocked.post(CREATE, json={"id": "c-new"})

    with pytest.raises(NotReady):
        client.prepare(request_for(progress={CONTAINER_KEY: "c-old"}), checkpoint=checkpoints)

    assert checkpoints.merged()[CONTAINER_KEY] == "c-new"


# -- publishing ---------------------------------------------------------------------------------------
def test_with_a_ready_container_publishing_calls_only_media_publish(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_publish(mocked)

    result = as_platform_client(client).publish(request_for(progress=READY), checkpoint=checkpoints)

    # The permalink is read after the post is out.
    assert paths(mocked) == ["POST 17841400000000001/media_publish", "GET media-1"]
    assert sent(mocked.calls[0])["creation_id"] == "c-1"
    assert result.platform_post_id == "media-1"
    assert result.url == "https://www.instagram.com/p/media-1/"
    assert result.http_status == 200
    saved = [progress for progress, _calls in checkpoints.saved]
    assert saved == [{SENT_AT: NOW.isoformat()}, {PUBLISH_SENT_KEY: "c-1"}]


def test_without_preparation_publishing_makes_the_container_and_is_not_ready(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, json={"id": "c-1"})
    request = request_for()

    with pytest.raises(NotReady):
        client.publish(request, checkpoint=checkpoints)
    add_status(mocked, "c-1", "FINISHED")
    add_publish(mocked)
    client.publish(replace(request, progress=checkpoints.merged()), checkpoint=checkpoints)

    assert paths(mocked) == [
        "POST 17841400000000001/media",
        "GET c-1",
        "POST 17841400000000001/media_publish",
        "GET media-1",
    ]
    # The container was saved right after it was made, long before media_publish.
    assert container_saves(checkpoints)[0] == ({"container_id": "c-1", PREPARED_AT_KEY: NOW.isoformat()}, 1)


def test_a_failing_checkpoint_stops_before_anything_is_published(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    mocked.post(CREATE, json={"id": "c-1"})

    def lost_claim(progress: Mapping[str, str]) -> None:
        raise OutcomeUnknown("SoSocial lost track of this attempt.", code="claim_lost")

    with pytest.raises(OutcomeUnknown):
        client.publish(request_for(), checkpoint=lost_claim)

    assert paths(mocked) == ["POST 17841400000000001/media"]


def test_when_instagram_says_the_media_is_not_ready_the_date_goes_back_to_preparing(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, fake_time: FakeTime
) -> None:
    mocked.post(PUBLISH, status=400, json=graph_error(9007, 2207027))

    with pytest.raises(NotReady):
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert paths(mocked) == ["POST 17841400000000001/media_publish"]
    # 9007 proves this send did nothing: the container is read again before the next one.
    assert checkpoints.merged()[PUBLISH_SENT_KEY] == ""
    assert checkpoints.merged()[READY_KEY] == ""
    assert fake_time.sleeps == []


# -- resuming an earlier attempt ----------------------------------------------------------------------
def test_it_does_not_publish_again_when_the_earlier_container_is_published(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-old", "PUBLISHED")
    add_media(
        mocked,
        posted(
            "media-other",
            "https://www.instagram.com/p/other/",
            caption="Another post",
            at="2026-11-28T11:59:50+0000",
        ),
        posted("media-7", "https://www.instagram.com/p/seven/"),
    )
    progress = {CONTAINER_KEY: "c-old", PUBLISH_SENT_KEY: "c-old", SENT_AT: SCHEDULED.isoformat()}

    result = client.publish(request_for(progress=progress), checkpoint=checkpoints)

    assert (result.platform_post_id, result.url) == ("media-7", "https://www.instagram.com/p/seven/")
    assert paths(mocked) == ["GET c-old", "GET 17841400000000001/media"]
    listing = sent(mocked.calls[1])
    assert listing["fields"] == "id,caption,timestamp,permalink"
    assert listing["since"] == str(int(SCHEDULED.timestamp()) - 2)
    assert container_saves(checkpoints) == []


def test_it_publishes_the_earlier_container_when_it_is_finished(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-old", "FINISHED")
    add_publish(mocked)

    client.publish(request_for(progress={"container_id": "c-old"}), checkpoint=checkpoints)

    assert paths(mocked) == ["GET c-old", "POST 17841400000000001/media_publish", "GET media-1"]
    assert sent(mocked.calls[1])["creation_id"] == "c-old"
    assert container_saves(checkpoints) == []


def test_an_earlier_container_still_processing_is_read_once_and_not_ready(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-old", "IN_PROGRESS")

    with pytest.raises(NotReady):
        client.publish(request_for(progress={"container_id": "c-old"}), checkpoint=checkpoints)

    assert paths(mocked) == ["GET c-old"]


def test_a_dead_container_sent_before_is_replaced_by_a_new_one(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    add_status(mocked, "c-1", "EXPIRED")
    mocked.post(CREATE, json={"id": "c-new"})

    with pytest.raises(NotReady):
        client.publish(request_for(progress=SENT_TO_PUBLISH), checkpoint=checkpoints)

    assert paths(mocked) == ["GET c-1", "POST 17841400000000001/media"]
    assert checkpoints.merged()[CONTAINER_KEY] == "c-new"


# -- publishing errors --------------------------------------------------------------------------------
def test_it_retries_the_publishing_quota_a_day_later(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, status=400, json=graph_error(9, 2207042))

    with pytest.raises(RetryableError) as raised:
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert raised.value.retry_at == NOW + timedelta(hours=24)
    assert raised.value.code == "meta_9_2207042"


def test_it_refuses_a_photo_instagram_cannot_take_with_a_readable_message(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, status=400, json=graph_error(36001, 2207005))

    with pytest.raises(PermanentError) as raised:
        client.publish(request_for(), checkpoint=checkpoints)

    assert "JPEG" in raised.value.message
    assert container_saves(checkpoints) == []


def test_a_spam_restriction_is_not_retried(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, status=400, json=graph_error(4, 2207051))

    with pytest.raises(PermanentError) as raised:
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert "spam" in raised.value.message


def test_it_asks_to_reconnect_when_the_token_is_invalid(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, status=400, json=graph_error(190, 467))

    with pytest.raises(ReconnectNeeded) as raised:
        client.publish(request_for(), checkpoint=checkpoints)

    assert raised.value.code == "meta_190_467"


def test_it_waits_for_the_instagram_usage_estimate_when_throttled(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    usage = '{"17841400000000001": [{"type": "instagram", "estimated_time_to_regain_access": 9}]}'
    mocked.post(
        CREATE,
        status=400,
        json=graph_error(80002),
        headers={"X-Business-Use-Case-Usage": usage},
    )

    with pytest.raises(RetryableError) as raised:
        client.publish(request_for(), checkpoint=checkpoints)

    assert raised.value.retry_at == NOW + timedelta(minutes=9)


def test_the_outcome_is_unknown_when_the_connection_drops_during_media_publish(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, body=requests.ConnectionError("Connection reset by peer"))

    with pytest.raises(OutcomeUnknown):
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert checkpoints.merged()[PUBLISH_SENT_KEY] == "c-1"


def test_a_dropped_container_creation_is_retryable_because_containers_are_invisible(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(CREATE, body=requests.ConnectionError("Connection reset by peer"))

    with pytest.raises(RetryableError) as raised:
        client.publish(request_for(), checkpoint=checkpoints)

    assert not isinstance(raised.value, OutcomeUnknown)


def test_a_failed_link_lookup_after_publishing_still_counts_as_published(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, json={"id": "media-1"})
    mocked.post(f"{GRAPH}/{GRAPH_VERSION}/media-1", status=500, json=graph_error(2))

    result = client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert (result.platform_post_id, result.url) == ("media-1", "")


# -- media_publish answers that do not settle it ---------------------------------------------------
@pytest.mark.parametrize(
    ("status", "body"),
    [(500, graph_error(2, is_transient=True)), (500, graph_error(1)), (502, None)],
)
def test_a_server_error_on_media_publish_leaves_the_outcome_unknown(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, status: int, body: Any
) -> None:
    if body is None:
        mocked.post(PUBLISH, status=status, body="<html>Bad gateway</html>")
    else:
        mocked.post(PUBLISH, status=status, json=body)
    add_status(mocked, "c-1", "FINISHED")  # read once: not published (yet), so unknown

    with pytest.raises(OutcomeUnknown):
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert checkpoints.merged()[PUBLISH_SENT_KEY] == "c-1"


def test_a_media_publish_that_went_through_before_its_error_is_success(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, status=500, json=graph_error(2, is_transient=True))
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked, {"id": "media-7", "caption": "Fresh bread #bakery", "permalink": "https://ig/p/7/"})

    result = client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert (result.platform_post_id, result.url) == ("media-7", "https://ig/p/7/")
    assert paths(mocked).count("POST 17841400000000001/media_publish") == 1


def test_the_finished_race_ends_published_once_when_the_slow_publish_lands(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints, fake_time: FakeTime
) -> None:
    # The first media_publish timed out and was still running: the container stays FINISHED for a
    # while, then turns PUBLISHED. Read once, not watched: unknown now, and reconciliation (which
    # reads again later) finds it published. Nothing is sent a second time.
    mocked.post(PUBLISH, body=requests.ReadTimeout("read timed out"))
    add_status(mocked, "c-1", "FINISHED")

    with pytest.raises(OutcomeUnknown):
        client.publish(request_for(progress=READY), checkpoint=checkpoints)
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked)
    answer = client.reconcile(request_for(progress={**READY, **checkpoints.merged()}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.PUBLISHED
    assert paths(mocked).count("POST 17841400000000001/media_publish") == 1
    assert fake_time.sleeps == []


def test_sending_again_after_the_race_republishes_the_same_container_and_reads_its_refusal(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    # The slow first publish landed after reconciliation saw FINISHED; Meta refuses to publish a
    # PUBLISHED container again, and the container says the post is out.
    add_status(mocked, "c-1", "FINISHED")
    mocked.post(PUBLISH, status=400, json=graph_error(100, message="Media already published"))
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked, posted("media-7", "https://ig/p/7/"))

    result = client.publish(request_for(progress=SENT_TO_PUBLISH), checkpoint=checkpoints)

    assert result.platform_post_id == "media-7"
    assert [path for path in paths(mocked) if path.startswith("POST")] == [
        "POST 17841400000000001/media_publish"
    ]


def test_a_media_publish_refusal_with_the_container_unpublished_stays_a_refusal(
    client: InstagramClient, mocked: responses.RequestsMock, checkpoints: Checkpoints
) -> None:
    mocked.post(PUBLISH, status=400, json=graph_error(100))
    add_status(mocked, "c-1", "FINISHED")

    with pytest.raises(PermanentError) as raised:
        client.publish(request_for(progress=READY), checkpoint=checkpoints)

    assert not isinstance(raised.value, OutcomeUnknown)


def test_a_published_container_is_never_matched_to_another_dates_post(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked, posted("media-first-date", "https://ig/p/1/"))

    answer = client.reconcile(
        replace(request_for(progress=SENT_TO_PUBLISH), taken_post_ids=frozenset({"media-first-date"})),
        since=SCHEDULED,
    )

    assert published(answer).platform_post_id == ""


# -- reconciliation -----------------------------------------------------------------------------------
def test_nothing_can_be_public_without_a_container(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    answer = client.reconcile(request_for(), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED
    assert len(mocked.calls) == 0


def test_it_reports_a_published_container_with_its_post(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked, posted("media-7", "https://www.instagram.com/p/seven/"))

    answer = client.reconcile(request_for(progress={"container_id": "c-1"}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.PUBLISHED
    assert answer.result is not None
    assert (answer.result.platform_post_id, answer.result.url) == (
        "media-7",
        "https://www.instagram.com/p/seven/",
    )
    assert sent(mocked.calls[1])["since"] == str(int(SCHEDULED.timestamp()))


def test_a_published_container_counts_as_published_even_when_its_post_is_not_found(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_status(mocked, "c-1", "PUBLISHED")
    add_media(mocked)

    answer = client.reconcile(request_for(progress={"container_id": "c-1"}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.PUBLISHED
    assert answer.result is not None


@pytest.mark.parametrize("status_code", ["FINISHED", "IN_PROGRESS", "EXPIRED", "ERROR"])
def test_an_unpublished_container_never_sent_means_nothing_went_out(
    client: InstagramClient, mocked: responses.RequestsMock, status_code: str
) -> None:
    add_status(mocked, "c-1", status_code)

    answer = client.reconcile(request_for(progress={"container_id": "c-1"}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_a_finished_container_sent_to_media_publish_may_still_be_publishing(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_status(mocked, "c-1", "FINISHED")

    answer = client.reconcile(request_for(progress=SENT_TO_PUBLISH), since=SCHEDULED)

    assert answer.status == ReconcileStatus.UNKNOWN
    assert "check again" in answer.message


@pytest.mark.parametrize("status_code", ["EXPIRED", "ERROR"])
def test_a_dead_container_that_was_sent_never_went_out(
    client: InstagramClient, mocked: responses.RequestsMock, status_code: str
) -> None:
    add_status(mocked, "c-1", status_code)

    answer = client.reconcile(request_for(progress=SENT_TO_PUBLISH), since=SCHEDULED)

    assert answer.status == ReconcileStatus.NOT_PUBLISHED


def test_an_unexpected_container_state_needs_a_person(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_status(mocked, "c-1", "")

    answer = client.reconcile(request_for(progress={"container_id": "c-1"}), since=SCHEDULED)

    assert answer.status == ReconcileStatus.UNKNOWN


# -- validation ---------------------------------------------------------------------------------------
def test_it_accepts_one_jpeg(client: InstagramClient) -> None:
    assert client.validate(text="Fresh bread", media=[PHOTO], options={}) == []


def test_it_accepts_a_carousel_of_photos_and_a_video(client: InstagramClient) -> None:
    assert client.validate(text="", media=[PHOTO, DOG, CLIP], options={}) == []


def test_it_needs_media(client: InstagramClient) -> None:
    assert client.validate(text="Just words", media=[], options={}) == [
        "Instagram posts need a photo or a video. Add one."
    ]


def test_it_accepts_only_jpeg_photos(client: InstagramClient) -> None:
    png = MediaItem(url="https://cdn.example/logo.png", content_type="image/png")

    problems = client.validate(text="", media=[png], options={})

    assert problems == ["logo.png is image/png; Instagram accepts only JPEG photos. Convert it to JPEG."]


def test_it_allows_at_most_ten_carousel_items(client: InstagramClient) -> None:
    problems = client.validate(text="", media=[PHOTO] * 11, options={})

    assert any("at most 10" in problem for problem in problems)


def test_a_reel_is_one_video(client: InstagramClient) -> None:
    problems = client.validate(text="", media=[PHOTO], options={"kind": "reel"})

    assert problems == ["A reel is exactly one video, with no photos."]


def test_it_limits_the_caption_length(client: InstagramClient) -> None:
    problems = client.validate(text="a" * 2201, media=[PHOTO], options={})

    assert any("2,200" in problem for problem in problems)


def test_it_limits_hashtags_to_thirty(client: InstagramClient) -> None:
    tags = " ".join(f"#tag{number}" for number in range(31))

    assert any("31 hashtags" in problem for problem in client.validate(text=tags, media=[PHOTO], options={}))
    assert client.validate(text=tags.rsplit(" ", 1)[0], media=[PHOTO], options={}) == []


def test_it_limits_mentions_to_twenty(client: InstagramClient) -> None:
    mentions = " ".join(f"@friend{number}" for number in range(21))

    problems = client.validate(text=mentions, media=[PHOTO], options={})

    assert any("21 @mentions" in problem for problem in problems)


def test_it_does_not_count_an_email_address_as_a_mention(client: InstagramClient) -> None:
    text = " ".join(f"alice{number}@example.com" for number in range(25))

    assert client.validate(text=text, media=[PHOTO], options={}) == []


# -- accounts -----------------------------------------------------------------------------------------
def test_it_asks_facebook_login_for_the_instagram_scopes(client: InstagramClient) -> None:
    url = client.authorization_url(
        redirect_uri="https://sosocial.example/done", state="s-1", code_verifier=""
    )

    parts = urlsplit(url)
    assert f"{parts.netloc}{parts.path}" == f"sandbox.test/facebook/www/{GRAPH_VERSION}/dialog/oauth"
    scopes = parse_qs(parts.query)["scope"][0].split(",")
    assert {"instagram_basic", "instagram_content_publish", "pages_show_list"} <= set(scopes)


def test_it_connects_the_instagram_accounts_linked_to_the_pages(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_login(
        mocked,
        [
            {
                "id": "1001",
                "name": "Alice's Bakery",
                "access_token": "page-1",
                "instagram_business_account": {"id": IG_USER, "username": "alicesbakery"},
            },
            {"id": "1002", "name": "Alice's Blog", "access_token": "page-2"},
        ],
    )

    accounts = client.connect(code="code-1", redirect_uri="https://sosocial.example/done", code_verifier="")

    assert [(a.account_id, a.display_name, a.access_token, a.expires_at) for a in accounts] == [
        (IG_USER, "@alicesbakery", "page-1", None)
    ]


def test_a_login_without_linked_instagram_accounts_says_what_to_do(
    client: InstagramClient, mocked: responses.RequestsMock
) -> None:
    add_login(mocked, [{"id": "1002", "name": "Alice's Blog", "access_token": "page-2"}])

    with pytest.raises(PermanentError) as raised:
        client.connect(code="code-1", redirect_uri="https://sosocial.example/done", code_verifier="")

    assert "Instagram professional account" in raised.value.message


def test_it_cannot_refresh_and_asks_for_a_reconnect(client: InstagramClient) -> None:
    account = AccountCredentials(platform="instagram", account_id=IG_USER, access_token="page-token")

    with pytest.raises(ReconnectNeeded):
        client.refresh_token(account)


def test_it_refuses_a_photo_too_tall_for_instagram_before_scheduling(tmp_path: Path) -> None:
    tall = tmp_path / "tall.jpg"
    Image.new("RGB", (400, 1000)).save(tall, "JPEG")
    square = tmp_path / "square.jpg"
    Image.new("RGB", (500, 500)).save(square, "JPEG")
    client = InstagramClient()

    refused = client.validate(
        text="",
        media=[MediaItem(url="https://cdn.example/tall.jpg", content_type="image/jpeg", path=str(tall))],
        options={},
    )
    accepted = client.validate(
        text="",
        media=[MediaItem(url="https://cdn.example/sq.jpg", content_type="image/jpeg", path=str(square))],
        options={},
    )

    assert refused == [
        "tall.jpg is 400 x 1000 px; Instagram needs photos between 4:5 (portrait) "
        "and 1.91:1 (landscape). Crop it."
    ]
    assert accepted == []
