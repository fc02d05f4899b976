from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import SandboxServer
from sandbox.client import SandboxClient

MB = 1024 * 1024
REDIRECT = "http://sosocial.test/accounts/tiktok/callback"


@pytest.fixture
def api(sandbox: SandboxServer) -> str:
    return f"{sandbox.url}/tiktok/api/v2"


@pytest.fixture
def alice(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("tiktok", "Alice")


def call(
    api: str, account: dict[str, Any], path: str, body: dict[str, Any] | None = None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {account['access_token']}"}
    return requests.post(f"{api}/{path}", json=body or {}, headers=headers, timeout=5)


def video_init(
    api: str, account: dict[str, Any], size: int, chunk: int, count: int, **post_info: Any
) -> requests.Response:
    body = {
        "post_info": {"title": "Sourdough #bread", "privacy_level": "PUBLIC_TO_EVERYONE", **post_info},
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk,
            "total_chunk_count": count,
        },
    }
    return call(api, account, "post/publish/video/init/", body)


def put_chunk(upload_url: str, data: bytes, first: int, total: int) -> requests.Response:
    headers = {
        "Content-Type": "video/mp4",
        "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}",
    }
    return requests.put(upload_url, data=data, headers=headers, timeout=10)


def fetch_status(api: str, account: dict[str, Any], publish_id: str) -> dict[str, Any]:
    response = call(api, account, "post/publish/status/fetch/", {"publish_id": publish_id})
    assert response.status_code == 200
    assert response.json()["error"]["code"] == "ok"
    data: dict[str, Any] = response.json()["data"]
    return data


def wait_for_post_id(api: str, account: dict[str, Any], publish_id: str) -> list[dict[str, Any]]:
    seen = []
    for _ in range(60):
        data = fetch_status(api, account, publish_id)
        seen.append(data)
        if data.get("publicaly_available_post_id"):
            break
        time.sleep(0.05)
    return seen


def test_it_publishes_an_uploaded_video_and_reports_the_post_id_after_moderation(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    creator = call(api, alice, "post/publish/creator_info/query/")
    video = b"m" * 200_000
    init = video_init(api, alice, len(video), len(video), 1)
    publish_id = init.json()["data"]["publish_id"]
    before_upload = fetch_status(api, alice, publish_id)

    uploaded = put_chunk(init.json()["data"]["upload_url"], video, 0, len(video))
    seen = wait_for_post_id(api, alice, publish_id)

    assert creator.json()["data"]["privacy_level_options"] == [
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert init.json()["error"]["code"] == "ok"
    assert "/tiktok/upload/" in init.json()["data"]["upload_url"]
    assert before_upload["status"] == "PROCESSING_UPLOAD"
    assert uploaded.status_code == 201
    assert uploaded.headers["Content-Range"] == f"bytes 0-{len(video) - 1}/{len(video)}"
    statuses = [entry["status"] for entry in seen]
    assert "PUBLISH_COMPLETE" in statuses
    assert any(entry.get("publicaly_available_post_id") == [] for entry in seen)
    [post_id] = seen[-1]["publicaly_available_post_id"]
    [recorded] = control.posts("tiktok", account_id=alice["account_id"])
    assert recorded["id"] == str(post_id)
    assert recorded["status"] == "published"
    assert recorded["extra"]["publish_id"] == publish_id
    assert recorded["permalink"].endswith(f"/tiktok/www/@alice/video/{post_id}")


def test_it_takes_chunks_in_order_answering_206_until_the_last(api: str, alice: dict[str, Any]) -> None:
    size, chunk = 11 * MB, 5 * MB  # two chunks: 5 MB, then the 6 MB remainder
    video = b"c" * size
    init = video_init(api, alice, size, chunk, 2)
    upload_url = init.json()["data"]["upload_url"]

    out_of_order = put_chunk(upload_url, video[chunk:], chunk, size)
    first = put_chunk(upload_url, video[:chunk], 0, size)
    last = put_chunk(upload_url, video[chunk:], chunk, size)

    assert init.status_code == 200
    assert out_of_order.status_code == 416
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-{chunk - 1}/{size}"
    assert last.status_code == 201


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (4 * MB, 1 * MB, 4),  # under 5 MB must be one chunk
        (20 * MB, 4 * MB, 5),  # chunks under 5 MB
        (20 * MB, 6 * MB, 4),  # count must be floor(20 / 6) = 3
        (100 * MB, 100 * MB, 1),  # over 64 MB must be chunked
    ],
)
def test_it_refuses_chunk_plans_that_break_the_rules(
    api: str, alice: dict[str, Any], size: int, chunk: int, count: int
) -> None:
    response = video_init(api, alice, size, chunk, count)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_param"


def test_it_refuses_a_privacy_level_the_creator_does_not_offer(control: SandboxClient, api: str) -> None:
    private_alice = control.create_account("tiktok", "Private Alice", private=True)

    response = video_init(api, private_alice, 1000, 1000, 1, privacy_level="PUBLIC_TO_EVERYONE")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "privacy_level_option_mismatch"


def test_it_refuses_a_title_over_2200_characters(api: str, alice: dict[str, Any]) -> None:
    response = video_init(api, alice, 1000, 1000, 1, title="t" * 2201)

    assert response.status_code == 400


def test_it_never_reports_a_public_id_for_a_private_post(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    init = video_init(api, alice, 1000, 1000, 1, privacy_level="SELF_ONLY")
    put_chunk(init.json()["data"]["upload_url"], b"s" * 1000, 0, 1000)
    control.advance(60)

    data = fetch_status(api, alice, init.json()["data"]["publish_id"])

    assert data["status"] == "PUBLISH_COMPLETE"
    assert data["publicaly_available_post_id"] == []


def test_it_pulls_a_video_from_a_url(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    body = {
        "post_info": {"title": "Pulled", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/v.mp4"},
    }
    publish_id = call(api, alice, "post/publish/video/init/", body).json()["data"]["publish_id"]
    downloading = fetch_status(api, alice, publish_id)
    control.advance(60)

    assert downloading["status"] == "PROCESSING_DOWNLOAD"
    assert fetch_status(api, alice, publish_id)["status"] == "PUBLISH_COMPLETE"


def test_it_publishes_photos(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    photos = ["https://media.example.com/1.jpg", "https://media.example.com/2.jpg"]
    body: dict[str, Any] = {
        "post_info": {"title": "Buns", "description": "Cinnamon buns", "privacy_level": "PUBLIC_TO_EVERYONE"},
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": photos,
            "photo_cover_index": 0,
        },
        "post_mode": "DIRECT_POST",
        "media_type": "PHOTO",
    }
    response = call(api, alice, "post/publish/content/init/", body)
    control.advance(60)

    assert response.status_code == 200
    publish_id = response.json()["data"]["publish_id"]
    assert fetch_status(api, alice, publish_id)["status"] == "PUBLISH_COMPLETE"
    [recorded] = control.posts("tiktok", account_id=alice["account_id"])
    assert recorded["kind"] == "photo"
    assert [m["url"] for m in recorded["media"]] == photos


def test_it_limits_video_inits_to_six_a_minute(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    statuses = [video_init(api, alice, 1000, 1000, 1).status_code for _ in range(7)]

    assert statuses == [200] * 6 + [429]
    control.advance(61)
    assert video_init(api, alice, 1000, 1000, 1).status_code == 200


def test_it_logs_in_and_rotates_refresh_tokens(sandbox: SandboxServer, api: str) -> None:
    authorized = requests.get(
        f"{sandbox.url}/tiktok/www/v2/auth/authorize/",
        params={
            "client_key": "sosocial",
            "scope": "user.info.basic,video.publish",
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "response_type": "code",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(authorized.headers["Location"]).query)["code"][0]
    form = {"client_key": "sosocial", "client_secret": "s3cret", "redirect_uri": REDIRECT}
    tokens = requests.post(
        f"{api}/oauth/token/", data={**form, "code": code, "grant_type": "authorization_code"}, timeout=5
    ).json()

    def refresh(token: str) -> requests.Response:
        body = {**form, "grant_type": "refresh_token", "refresh_token": token}
        return requests.post(f"{api}/oauth/token/", data=body, timeout=5)

    rotated = refresh(tokens["refresh_token"])
    reused = refresh(tokens["refresh_token"])
    user = requests.get(
        f"{api}/user/info/",
        params={"fields": "open_id,display_name"},
        headers={"Authorization": f"Bearer {rotated.json()['access_token']}"},
        timeout=5,
    )

    assert tokens["expires_in"] == 7200
    assert tokens["refresh_expires_in"] == 180 * 86400
    assert tokens["scope"] == "user.info.basic,video.publish"
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert user.json()["data"]["user"] == {"open_id": tokens["open_id"], "display_name": "Sam Sandbox"}


def test_it_answers_armed_faults_in_its_envelope(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("tiktok", "rate_limit", "video_init")
    control.fault("tiktok", "server_error", "video_init")
    control.fault("tiktok", "permanent", "video_init")

    limited = video_init(api, alice, 1000, 1000, 1)
    broken = video_init(api, alice, 1000, 1000, 1)
    capped = video_init(api, alice, 1000, 1000, 1)

    assert (limited.status_code, limited.json()["error"]["code"]) == (429, "rate_limit_exceeded")
    assert (broken.status_code, broken.json()["error"]["code"]) == (500, "internal_error")
    assert (capped.status_code, capped.json()["error"]["code"]) == (403, "spam_risk_too_many_posts")
    assert capped.json()["error"]["log_id"]
    assert control.posts("tiktok") == []


def refresh(api: str, refresh_token: str) -> requests.Response:
    form = {"client_key": "sosocial", "client_secret": "s3cret", "grant_type": "refresh_token"}
    return requests.post(f"{api}/oauth/token/", data={**form, "refresh_token": refresh_token}, timeout=5)


def test_it_expires_the_access_token_and_then_refreshes(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("tiktok", "expired_token", "creator_info")

    expired = call(api, alice, "post/publish/creator_info/query/")
    refreshed = refresh(api, alice["refresh_token"])

    assert (expired.status_code, expired.json()["error"]["code"]) == (401, "access_token_invalid")
    assert call(api, alice, "post/publish/creator_info/query/").status_code == 401
    assert call(api, refreshed.json(), "post/publish/creator_info/query/").status_code == 200


def test_it_keeps_an_init_whose_response_was_dropped(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("tiktok", "commit_then_drop")

    with pytest.raises(requests.ConnectionError):
        video_init(api, alice, 1000, 1000, 1)

    [recorded] = control.posts("tiktok", account_id=alice["account_id"])
    assert recorded["status"] == "processing"
    assert fetch_status(api, alice, recorded["extra"]["publish_id"])["status"] == "PROCESSING_UPLOAD"


def test_it_fails_the_publish_when_told_to(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    control.fault("tiktok", "processing_failed", "video_init", fail_reason="duration_check_failed")
    init = video_init(api, alice, 1000, 1000, 1)
    put_chunk(init.json()["data"]["upload_url"], b"f" * 1000, 0, 1000)
    control.advance(60)

    data = fetch_status(api, alice, init.json()["data"]["publish_id"])

    assert data["status"] == "FAILED"
    assert data["fail_reason"] == "duration_check_failed"


def test_it_revokes_the_grant_so_refresh_fails_too(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("tiktok", "revoked_token", "creator_info")

    revoked = call(api, alice, "post/publish/creator_info/query/")
    refreshed = refresh(api, alice["refresh_token"])

    assert revoked.status_code == 401
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")
