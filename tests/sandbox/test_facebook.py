from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import SandboxServer
from sandbox.client import SandboxClient

REDIRECT = "http://sosocial.test/accounts/facebook/callback"


@pytest.fixture
def graph(sandbox: SandboxServer) -> str:
    return f"{sandbox.url}/facebook/graph/v25.0"


@pytest.fixture
def alices_page(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("facebook", "Alice's Bakery")


def publish(graph: str, page: dict[str, Any], edge: str, **params: Any) -> requests.Response:
    url = f"{graph}/{page['account_id']}/{edge}"
    return requests.post(url, data={**params, "access_token": page["access_token"]}, timeout=5)


def published_posts(graph: str, page: dict[str, Any]) -> list[dict[str, Any]]:
    response = requests.get(
        f"{graph}/{page['account_id']}/published_posts",
        params={"fields": "id,message,created_time,permalink_url", "access_token": page["access_token"]},
        timeout=5,
    )
    assert response.status_code == 200
    posts: list[dict[str, Any]] = response.json()["data"]
    return posts


def test_it_logs_in_and_hands_out_never_expiring_page_tokens(sandbox: SandboxServer, graph: str) -> None:
    dialog = requests.get(
        f"{sandbox.url}/facebook/www/v25.0/dialog/oauth",
        params={"client_id": "app", "redirect_uri": REDIRECT, "state": "s1", "scope": "pages_manage_posts"},
        allow_redirects=False,
        timeout=5,
    )
    query = parse_qs(urlsplit(dialog.headers["Location"]).query)
    app = {"client_id": "app", "client_secret": "secret"}
    short = requests.get(
        f"{graph}/oauth/access_token",
        params={**app, "redirect_uri": REDIRECT, "code": query["code"][0]},
        timeout=5,
    ).json()
    long = requests.get(
        f"{graph}/oauth/access_token",
        params={**app, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]},
        timeout=5,
    ).json()
    pages = requests.get(
        f"{graph}/me/accounts",
        params={
            "fields": "id,name,access_token,tasks,instagram_business_account",
            "access_token": long["access_token"],
        },
        timeout=5,
    ).json()["data"]
    with sandbox.state.lock:
        page_token = sandbox.state.tokens[pages[0]["access_token"]]

    assert query["state"] == ["s1"]
    assert short["expires_in"] == 3600
    assert long["expires_in"] > 60 * 86400 - 86400
    assert [page["name"] for page in pages] == ["Sam's Bakery", "Sam's Garage"]
    assert "instagram_business_account" in pages[0]
    assert "instagram_business_account" not in pages[1]
    assert "CREATE_CONTENT" in pages[0]["tasks"]
    assert (page_token.kind, page_token.expires_at) == ("page", None)
    assert not sandbox.state.token_problem(page_token)


def test_it_refuses_a_code_used_twice(sandbox: SandboxServer, graph: str) -> None:
    dialog = requests.get(
        f"{sandbox.url}/facebook/www/v25.0/dialog/oauth",
        params={"client_id": "app", "redirect_uri": REDIRECT, "state": "s"},
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(dialog.headers["Location"]).query)["code"][0]
    params = {"client_id": "app", "client_secret": "secret", "redirect_uri": REDIRECT, "code": code}

    first = requests.get(f"{graph}/oauth/access_token", params=params, timeout=5)
    second = requests.get(f"{graph}/oauth/access_token", params=params, timeout=5)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"]["error_subcode"] == 36009


def test_it_publishes_a_text_post_with_read_after_write_fields(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    response = publish(
        graph, alices_page, "feed", message="Fresh loaves", fields="id,permalink_url,created_time"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith(f"{alices_page['account_id']}_")
    assert body["permalink_url"].endswith(f"/facebook/www/{body['id']}")
    assert body["created_time"].endswith("+0000")
    assert [p["message"] for p in published_posts(graph, alices_page)] == ["Fresh loaves"]
    assert requests.get(body["permalink_url"], timeout=5).status_code == 200
    assert "X-Business-Use-Case-Usage" in response.headers
    assert json.loads(response.headers["X-App-Usage"])["call_count"] >= 0


def test_it_accepts_any_api_version(graph: str, sandbox: SandboxServer, alices_page: dict[str, Any]) -> None:
    response = requests.post(
        f"{sandbox.url}/facebook/graph/v19.0/{alices_page['account_id']}/feed",
        data={"message": "Old version", "access_token": alices_page["access_token"]},
        timeout=5,
    )

    assert response.status_code == 200


def test_it_refuses_the_same_message_twice_in_a_row(graph: str, alices_page: dict[str, Any]) -> None:
    publish(graph, alices_page, "feed", message="Open today")

    duplicate = publish(graph, alices_page, "feed", message="Open today")

    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["code"] == 506


def test_it_publishes_a_photo(control: SandboxClient, graph: str, alices_page: dict[str, Any]) -> None:
    response = publish(graph, alices_page, "photos", url="https://media.example.com/bun.jpg", caption="Buns")

    body = response.json()
    assert set(body) == {"id", "post_id"}
    [recorded] = control.posts("facebook", account_id=alices_page["account_id"])
    assert recorded["id"] == body["post_id"]
    assert recorded["media"][0]["url"] == "https://media.example.com/bun.jpg"


def test_it_publishes_several_photos_as_one_post(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    photo_ids = [
        publish(
            graph, alices_page, "photos", url=f"https://media.example.com/{n}.jpg", published="false"
        ).json()["id"]
        for n in range(3)
    ]
    attached = json.dumps([{"media_fbid": photo_id} for photo_id in photo_ids])

    response = publish(graph, alices_page, "feed", message="Our week", attached_media=attached)

    assert response.status_code == 200
    [recorded] = control.posts("facebook", account_id=alices_page["account_id"])
    assert recorded["kind"] == "album"
    assert [m["id"] for m in recorded["media"]] == photo_ids
    reused = publish(graph, alices_page, "feed", message="Again", attached_media=attached)
    assert reused.status_code == 400


def test_it_processes_a_video_before_it_shows_in_the_feed(
    sandbox: SandboxServer, graph: str, alices_page: dict[str, Any]
) -> None:
    response = requests.post(
        f"{sandbox.url}/facebook/graph-video/v25.0/{alices_page['account_id']}/videos",
        data={
            "file_url": "https://media.example.com/tour.mp4",
            "description": "Kitchen tour",
            "access_token": alices_page["access_token"],
        },
        timeout=5,
    )
    video_id = response.json()["id"]

    def video_status() -> str:
        status = requests.get(
            f"{graph}/{video_id}",
            params={"fields": "status", "access_token": alices_page["access_token"]},
            timeout=5,
        ).json()["status"]
        return str(status["video_status"])

    first = video_status()
    listed_while_processing = published_posts(graph, alices_page)
    time.sleep(0.3)

    assert first == "processing"
    assert listed_while_processing == []
    assert video_status() == "ready"
    assert [p["message"] for p in published_posts(graph, alices_page)] == ["Kitchen tour"]


def test_it_schedules_posts_only_between_10_minutes_and_30_days_ahead(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    now = int(time.time())

    too_soon = publish(
        graph, alices_page, "feed", message="Soon", published="false", scheduled_publish_time=now + 60
    )
    scheduled = publish(
        graph, alices_page, "feed", message="Later", published="false", scheduled_publish_time=now + 3600
    )
    listed_before = published_posts(graph, alices_page)
    control.advance(3700)

    assert too_soon.status_code == 400
    assert too_soon.json()["error"]["code"] == 100
    assert scheduled.status_code == 200
    assert listed_before == []
    assert [p["message"] for p in published_posts(graph, alices_page)] == ["Later"]


def test_it_refuses_to_post_with_a_user_token(graph: str, alices_page: dict[str, Any]) -> None:
    response = requests.post(
        f"{graph}/{alices_page['account_id']}/feed",
        data={"message": "As a user", "access_token": alices_page["user_access_token"]},
        timeout=5,
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == 200


@pytest.mark.parametrize(
    ("kind", "subcode", "user_token_works"),
    [("expired_token", 463, True), ("revoked_token", 460, False)],
)
def test_it_kills_the_page_token_on_a_token_fault_and_on_revocation_every_token_of_the_person(
    control: SandboxClient,
    graph: str,
    alices_page: dict[str, Any],
    kind: str,
    subcode: int,
    user_token_works: bool,
) -> None:
    control.fault("facebook", kind)

    first = publish(graph, alices_page, "feed", message="Hello")
    second = publish(graph, alices_page, "feed", message="Hello")
    pages = requests.get(
        f"{graph}/me/accounts", params={"access_token": alices_page["user_access_token"]}, timeout=5
    )

    assert (first.json()["error"]["code"], first.json()["error"]["error_subcode"]) == (190, subcode)
    assert second.json()["error"]["error_subcode"] == subcode
    assert (pages.status_code == 200) is user_token_works
    assert pages.json().get("error", {}).get("error_subcode") == (None if user_token_works else 460)


def test_it_throttles_with_business_use_case_headers(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    control.fault("facebook", "rate_limit", retry_after_seconds=300)

    response = publish(graph, alices_page, "feed", message="Busy")

    assert response.json()["error"]["code"] == 80001
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    [entry] = usage[alices_page["account_id"]]
    assert entry["call_count"] == 100
    assert entry["estimated_time_to_regain_access"] == 5
    assert control.posts("facebook") == []


def test_it_answers_server_errors_and_chosen_permanent_errors(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    control.fault("facebook", "server_error")
    control.fault("facebook", "permanent", code=368, subcode=1390008, message="Posting too fast")

    broken = publish(graph, alices_page, "feed", message="One")
    blocked = publish(graph, alices_page, "feed", message="Two")
    fine = publish(graph, alices_page, "feed", message="Three")

    assert broken.status_code == 500
    assert broken.json()["error"]["is_transient"] is True
    assert (blocked.json()["error"]["code"], blocked.json()["error"]["error_subcode"]) == (368, 1390008)
    assert fine.status_code == 200


def test_it_keeps_a_post_whose_response_was_dropped(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    control.fault("facebook", "commit_then_drop")

    with pytest.raises(requests.ConnectionError):
        publish(graph, alices_page, "feed", message="Did it go out?")

    assert [p["message"] for p in published_posts(graph, alices_page)] == ["Did it go out?"]


def test_an_unpublished_photo_kept_too_long_cannot_be_attached(
    control: SandboxClient, graph: str, alices_page: dict[str, Any]
) -> None:
    control.configure(facebook_unpublished_photo_seconds=300)
    photo = publish(graph, alices_page, "photos", url="https://media.example.com/1.jpg", published="false")
    control.advance(301)

    attached = json.dumps([{"media_fbid": photo.json()["id"]}])
    refused = publish(graph, alices_page, "feed", message="Old photo", attached_media=attached)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == 100
