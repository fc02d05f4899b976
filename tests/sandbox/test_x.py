from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import SandboxServer
from sandbox.client import SandboxClient
from sandbox.x import weighted_length

VERIFIER = "a-code-verifier-that-is-long-enough-for-pkce-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
REDIRECT = "http://sosocial.test/accounts/x/callback"


@pytest.fixture
def api(sandbox: SandboxServer) -> str:
    return f"{sandbox.url}/x/api/2"


@pytest.fixture
def alice(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("x", "Alice")


def bearer(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['access_token']}"}


def post(api: str, account: dict[str, Any], body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{api}/tweets", json=body, headers=bearer(account), timeout=5)


def authorize(sandbox: SandboxServer, *, challenge: str = CHALLENGE, **extra: str) -> str:
    response = requests.get(
        f"{sandbox.url}/x/www/i/oauth2/authorize",
        params={
            **extra,
            "response_type": "code",
            "client_id": "sosocial",
            "redirect_uri": REDIRECT,
            "scope": "tweet.read tweet.write users.read media.write offline.access",
            "state": "state-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["state-123"]
    return query["code"][0]


def exchange(api: str, code: str, verifier: str = VERIFIER) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return requests.post(f"{api}/oauth2/token", data=form, auth=("sosocial", "secret"), timeout=5)


def refresh(api: str, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": "sosocial"}
    return requests.post(f"{api}/oauth2/token", data=form, timeout=5)


def test_it_logs_in_with_pkce_and_knows_the_user(sandbox: SandboxServer, api: str) -> None:
    tokens = exchange(api, authorize(sandbox)).json()

    me = requests.get(f"{api}/users/me", headers=bearer(tokens), timeout=5)

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 7200
    assert "offline.access" in tokens["scope"].split()
    assert tokens["refresh_token"]
    assert me.status_code == 200
    assert me.json()["data"]["username"] == "samsandbox"


def test_it_logs_in_as_an_account_made_through_the_control_api(
    sandbox: SandboxServer, api: str, alice: dict[str, Any]
) -> None:
    tokens = exchange(api, authorize(sandbox, sandbox_user=alice["account_id"])).json()

    me = requests.get(f"{api}/users/me", headers=bearer(tokens), timeout=5)

    assert me.json()["data"] == {"id": alice["account_id"], "name": "Alice", "username": "alice"}


def test_it_refuses_a_code_verifier_that_does_not_match_the_challenge(
    sandbox: SandboxServer, api: str
) -> None:
    response = exchange(api, authorize(sandbox), verifier="not-the-verifier")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_it_expires_the_authorization_code_after_30_seconds(
    sandbox: SandboxServer, control: SandboxClient, api: str
) -> None:
    code = authorize(sandbox)
    control.advance(31)

    assert exchange(api, code).status_code == 400


def test_it_rotates_refresh_tokens_and_rejects_the_old_one(sandbox: SandboxServer, api: str) -> None:
    first = exchange(api, authorize(sandbox)).json()

    second = refresh(api, first["refresh_token"])
    reused = refresh(api, first["refresh_token"])

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert refresh(api, second.json()["refresh_token"]).status_code == 200


def test_it_expires_access_tokens_after_two_hours(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.advance(7201)

    response = post(api, alice, {"text": "Too late"})

    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


def test_it_creates_a_post_and_lists_it_on_the_timeline(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    created = post(api, alice, {"text": "Fresh bread at https://bakery.example.com/today"})
    timeline = requests.get(
        f"{api}/users/{alice['account_id']}/tweets",
        params={"tweet.fields": "created_at,text", "start_time": "2020-01-01T00:00:00Z"},
        headers=bearer(alice),
        timeout=5,
    )

    assert created.status_code == 201
    data = created.json()["data"]
    assert data["edit_history_post_ids"] == [data["id"]]
    assert data["text"].startswith("Fresh bread at https://t.co/")
    assert created.headers["x-rate-limit-remaining"] == "99"
    assert int(created.headers["x-rate-limit-reset"]) > time.time()
    assert "x-user-limit-24hour-remaining" in created.headers
    assert [item["id"] for item in timeline.json()["data"]] == [data["id"]]
    assert timeline.json()["data"][0]["created_at"].endswith("Z")
    [recorded] = control.posts("x", account_id=alice["account_id"])
    assert recorded["text"] == "Fresh bread at https://bakery.example.com/today"
    assert recorded["permalink"].endswith(f"/x/www/alice/status/{data['id']}")


def test_it_forbids_a_duplicate_of_a_recent_post(api: str, alice: dict[str, Any]) -> None:
    post(api, alice, {"text": "Same again"})

    response = post(api, alice, {"text": "Same again"})

    assert response.status_code == 403
    assert response.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."


def test_it_rejects_unknown_body_fields(api: str, alice: dict[str, Any]) -> None:
    response = post(api, alice, {"text": "Hi", "idempotency_key": "abc"})

    assert response.status_code == 400
    assert response.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    assert "idempotency_key" in response.json()["errors"][0]["message"]


def test_it_counts_weighted_length_with_urls_as_23() -> None:
    assert weighted_length("a" * 280) == 280
    assert weighted_length("see https://example.com/" + "x" * 200) == 4 + 23
    assert weighted_length("日本") == 4
    assert weighted_length("👍🏽") == 2


def test_it_refuses_text_over_280_weighted_characters(api: str, alice: dict[str, Any]) -> None:
    assert post(api, alice, {"text": "a" * 281}).status_code == 403
    assert post(api, alice, {"text": "漢" * 141}).status_code == 403
    assert post(api, alice, {"text": "a" * 250 + " https://example.com/" + "p" * 100}).status_code == 201


def upload_image(api: str, account: dict[str, Any]) -> str:
    response = requests.post(
        f"{api}/media/upload",
        files={"media": b"\xff\xd8\xff\xe0fake-jpeg"},
        data={"media_category": "tweet_image"},
        headers=bearer(account),
        timeout=5,
    )
    assert response.status_code == 200
    assert "processing_info" not in response.json()["data"]
    media_id: str = response.json()["data"]["id"]
    return media_id


def test_it_posts_an_uploaded_image(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    media_id = upload_image(api, alice)

    response = post(api, alice, {"text": "Croissants", "media": {"media_ids": [media_id]}})

    assert response.status_code == 201
    [recorded] = control.posts("x", account_id=alice["account_id"])
    assert recorded["media"][0]["id"] == media_id
    assert recorded["media"][0]["media_key"] == f"3_{media_id}"


def test_it_allows_at_most_four_media(api: str, alice: dict[str, Any]) -> None:
    ids = [upload_image(api, alice) for _ in range(5)]

    assert post(api, alice, {"text": "Five", "media": {"media_ids": ids}}).status_code == 400
    assert post(api, alice, {"text": "Four", "media": {"media_ids": ids[:4]}}).status_code == 201


def test_it_refuses_media_of_another_user(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    bob = control.create_account("x", "Bob")
    media_id = upload_image(api, bob)

    response = post(api, alice, {"text": "Not mine", "media": {"media_ids": [media_id]}})

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Your media IDs are invalid."


def test_it_processes_a_chunked_video_before_it_can_be_posted(api: str, alice: dict[str, Any]) -> None:
    video = b"v" * 3000
    init = requests.post(
        f"{api}/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": len(video), "media_category": "tweet_video"},
        headers=bearer(alice),
        timeout=5,
    )
    media_id = init.json()["data"]["id"]
    for index, start in enumerate(range(0, len(video), 1000)):
        appended = requests.post(
            f"{api}/media/upload/{media_id}/append",
            files={"media": video[start : start + 1000]},
            data={"segment_index": str(index)},
            headers=bearer(alice),
            timeout=5,
        )
        assert appended.status_code == 200
    finalized = requests.post(f"{api}/media/upload/{media_id}/finalize", headers=bearer(alice), timeout=5)
    too_early = post(api, alice, {"text": "Our oven", "media": {"media_ids": [media_id]}})

    states = []
    for _ in range(40):
        status = requests.get(
            f"{api}/media/upload",
            params={"command": "STATUS", "media_id": media_id},
            headers=bearer(alice),
            timeout=5,
        ).json()["data"]["processing_info"]
        states.append(status["state"])
        if status["state"] == "succeeded":
            break
        time.sleep(0.05)

    assert init.json()["data"]["media_key"] == f"7_{media_id}"
    assert finalized.json()["data"]["processing_info"]["state"] == "pending"
    assert finalized.json()["data"]["size"] == 3000
    assert too_early.status_code == 400
    assert states[0] in ("pending", "in_progress")
    assert states[-1] == "succeeded"
    assert post(api, alice, {"text": "Our oven", "media": {"media_ids": [media_id]}}).status_code == 201


def test_it_refuses_to_finalize_when_segments_do_not_add_up(api: str, alice: dict[str, Any]) -> None:
    init = requests.post(
        f"{api}/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 2000, "media_category": "tweet_video"},
        headers=bearer(alice),
        timeout=5,
    )
    media_id = init.json()["data"]["id"]
    requests.post(
        f"{api}/media/upload/{media_id}/append",
        files={"media": b"x" * 1000},
        data={"segment_index": "0"},
        headers=bearer(alice),
        timeout=5,
    )

    response = requests.post(f"{api}/media/upload/{media_id}/finalize", headers=bearer(alice), timeout=5)

    assert response.status_code == 400
    assert "Segments do not add up" in response.json()["errors"][0]["message"]


def test_it_fails_processing_when_told_to(control: SandboxClient, api: str, alice: dict[str, Any]) -> None:
    control.fault("x", "processing_failed", "media_initialize")
    media_id = requests.post(
        f"{api}/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 10, "media_category": "tweet_video"},
        headers=bearer(alice),
        timeout=5,
    ).json()["data"]["id"]
    requests.post(
        f"{api}/media/upload/{media_id}/append",
        files={"media": b"0123456789"},
        data={"segment_index": "0"},
        headers=bearer(alice),
        timeout=5,
    )
    requests.post(f"{api}/media/upload/{media_id}/finalize", headers=bearer(alice), timeout=5)
    control.advance(5)

    status = requests.get(
        f"{api}/media/upload",
        params={"command": "STATUS", "media_id": media_id},
        headers=bearer(alice),
        timeout=5,
    )

    assert status.json()["data"]["processing_info"]["state"] == "failed"


def test_it_answers_an_armed_rate_limit_with_a_reset_a_few_seconds_ahead(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("x", "rate_limit", retry_after_seconds=4)

    limited = post(api, alice, {"text": "Now?"})
    later = post(api, alice, {"text": "Now!"})

    assert limited.status_code == 429
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(limited.headers["x-rate-limit-reset"]) - time.time() <= 5
    assert later.status_code == 201


def test_it_enforces_the_15_minute_posting_window(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.configure(x_posts_per_15_minutes=2)

    statuses = [post(api, alice, {"text": f"Post {n}"}).status_code for n in range(3)]
    control.advance(901)

    assert statuses == [201, 201, 429]
    assert post(api, alice, {"text": "After the window"}).status_code == 201


def test_it_expires_the_token_on_an_expired_token_fault_and_refresh_still_works(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("x", "expired_token")

    first = post(api, alice, {"text": "Hello"})
    second = post(api, alice, {"text": "Hello"})
    refreshed = refresh(api, alice["refresh_token"])

    assert first.status_code == 401
    assert second.status_code == 401
    assert refreshed.status_code == 200
    assert post(api, refreshed.json(), {"text": "Hello"}).status_code == 201


def test_it_revokes_the_grant_so_refresh_fails_too(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.fault("x", "revoked_token")

    assert post(api, alice, {"text": "Hello"}).status_code == 401
    refreshed = refresh(api, alice["refresh_token"])

    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_it_rewrites_a_bare_domain_on_any_tld_and_says_what_each_link_expands_to(
    api: str, control: SandboxClient, alice: dict[str, Any]
) -> None:
    assert (
        post(api, alice, {"text": "New site acme.technology and https://Example.com/menu."}).status_code
        == 201
    )

    timeline = requests.get(
        f"{api}/users/{alice['account_id']}/tweets",
        params={"tweet.fields": "entities"},
        headers=bearer(alice),
        timeout=5,
    ).json()

    [shown] = timeline["data"]
    assert "acme.technology" not in shown["text"]
    urls = shown["entities"]["urls"]
    assert [u["expanded_url"] for u in urls] == ["http://acme.technology", "https://Example.com/menu"]
    assert all(shown["text"][u["start"] : u["end"]] == u["url"] for u in urls)
    assert shown["text"].endswith(".")


def test_it_counts_a_flag_as_one_emoji_and_a_rare_tld_as_a_link() -> None:
    assert weighted_length("🇫🇷") == 2
    assert weighted_length("acme.technology") == 23
    assert weighted_length("notes.txt") == 9


def test_a_flag_counts_as_one_emoji_as_x_and_sosocial_count_it() -> None:
    from platforms.counting import count_text

    for text in ("🇫🇷", "Vive la France 🇫🇷", "🇯🇵🇫🇷 two flags", "👨‍👩‍👧‍👦 and 👍🏽"):
        assert weighted_length(text) == count_text("x", text).length


def test_the_link_sosocials_x_client_returns_for_a_post_is_served(
    sandbox: SandboxServer, api: str, alice: dict[str, Any]
) -> None:
    data = post(api, alice, {"text": "Open today"}).json()["data"]

    page = requests.get(f"{sandbox.url}/x/www/i/web/status/{data['id']}", timeout=5)
    missing = requests.get(f"{sandbox.url}/x/www/i/web/status/999999999", timeout=5)

    assert page.status_code == 200
    assert "Open today" in page.text
    assert missing.status_code == 404


def test_uploaded_media_stops_working_when_its_lifetime_ends(
    control: SandboxClient, api: str, alice: dict[str, Any]
) -> None:
    control.configure(x_media_expiry_seconds=600)
    response = requests.post(
        f"{api}/media/upload",
        files={"media": b"\xff\xd8\xff\xe0fake-jpeg"},
        data={"media_category": "tweet_image"},
        headers=bearer(alice),
        timeout=5,
    )
    assert 599 <= response.json()["data"]["expires_after_secs"] <= 600
    media_id = response.json()["data"]["id"]
    control.advance(601)

    refused = post(api, alice, {"text": "Too late", "media": {"media_ids": [media_id]}})

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "Your media IDs are invalid."
    assert control.posts("x", account_id=alice["account_id"]) == []


def test_a_video_still_processing_cannot_be_posted_and_says_when_to_look_again(
    api: str, alice: dict[str, Any]
) -> None:
    init = requests.post(
        f"{api}/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 4, "media_category": "tweet_video"},
        headers=bearer(alice),
        timeout=5,
    ).json()["data"]
    requests.post(
        f"{api}/media/upload/{init['id']}/append",
        files={"media": b"abcd"},
        data={"segment_index": "0"},
        headers=bearer(alice),
        timeout=5,
    )
    finalized = requests.post(
        f"{api}/media/upload/{init['id']}/finalize", headers=bearer(alice), timeout=5
    ).json()["data"]

    refused = post(api, alice, {"text": "Too soon", "media": {"media_ids": [init["id"]]}})

    assert finalized["processing_info"]["state"] == "pending"
    assert finalized["processing_info"]["check_after_secs"] >= 1
    assert refused.status_code == 400
