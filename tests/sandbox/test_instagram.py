from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from sandbox.client import SandboxClient


@pytest.fixture
def graph(sandbox: SandboxServer) -> str:
    return f"{sandbox.url}/instagram/graph/v25.0"


@pytest.fixture
def alice(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("instagram", "Alice", username="alice.bakes")


def create(graph: str, account: dict[str, Any], **params: Any) -> requests.Response:
    return requests.post(
        f"{graph}/{account['account_id']}/media",
        data={**params, "access_token": account["access_token"]},
        timeout=5,
    )


def container_id(graph: str, account: dict[str, Any], **params: Any) -> str:
    response = create(graph, account, **params)
    assert response.status_code == 200, response.text
    created: str = response.json()["id"]
    return created


def status_code(graph: str, account: dict[str, Any], container: str) -> str:
    response = requests.get(
        f"{graph}/{container}",
        params={"fields": "status_code,status", "access_token": account["access_token"]},
        timeout=5,
    )
    assert response.status_code == 200
    code: str = response.json()["status_code"]
    return code


def wait_until_finished(graph: str, account: dict[str, Any], container: str) -> list[str]:
    seen = [status_code(graph, account, container)]
    while seen[-1] == "IN_PROGRESS" and len(seen) < 100:
        time.sleep(0.05)
        seen.append(status_code(graph, account, container))
    return seen


def media_publish(graph: str, account: dict[str, Any], creation_id: str) -> requests.Response:
    return requests.post(
        f"{graph}/{account['account_id']}/media_publish",
        data={"creation_id": creation_id, "access_token": account["access_token"]},
        timeout=5,
    )


def test_it_publishes_an_image_once_its_container_is_finished(graph: str, alice: dict[str, Any]) -> None:
    container = container_id(
        graph, alice, image_url="https://media.example.com/loaf.jpg", caption="Loaf #bread"
    )
    seen = wait_until_finished(graph, alice, container)

    published = media_publish(graph, alice, container)
    media_id = published.json()["id"]
    media = requests.get(
        f"{graph}/{media_id}",
        params={
            "fields": "permalink,media_product_type,media_type,caption",
            "access_token": alice["access_token"],
        },
        timeout=5,
    ).json()

    assert seen[0] == "IN_PROGRESS"
    assert seen[-1] == "FINISHED"
    assert published.status_code == 200
    assert status_code(graph, alice, container) == "PUBLISHED"
    assert media["caption"] == "Loaf #bread"
    assert (media["media_type"], media["media_product_type"]) == ("IMAGE", "FEED")
    assert "/instagram/www/p/" in media["permalink"]


def test_it_refuses_to_publish_before_the_container_is_finished(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, media_type="REELS", video_url="https://media.example.com/r.mp4")

    early = media_publish(graph, alice, container)
    control.advance(5)
    later = media_publish(graph, alice, container)
    again = media_publish(graph, alice, container)

    error = early.json()["error"]
    assert (error["code"], error["error_subcode"]) == (9007, 2207027)
    assert later.status_code == 200
    assert again.status_code == 400
    assert [p["kind"] for p in control.posts("instagram", account_id=alice["account_id"])] == ["reel"]


def test_it_publishes_a_carousel_of_finished_children(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    children = [
        container_id(graph, alice, image_url="https://media.example.com/a.jpg", is_carousel_item="true"),
        container_id(
            graph,
            alice,
            media_type="VIDEO",
            video_url="https://media.example.com/b.mp4",
            is_carousel_item="true",
        ),
    ]
    parent = container_id(
        graph, alice, media_type="CAROUSEL", children=",".join(children), caption="Two things"
    )
    in_progress = status_code(graph, alice, parent)
    control.advance(5)

    published = media_publish(graph, alice, parent)

    assert in_progress == "IN_PROGRESS"
    assert published.status_code == 200
    [recorded] = control.posts("instagram", account_id=alice["account_id"])
    assert recorded["kind"] == "carousel"
    assert [m["type"] for m in recorded["media"]] == ["IMAGE", "VIDEO"]
    media = requests.get(
        f"{graph}/{published.json()['id']}",
        params={"fields": "media_type,children{media_type}", "access_token": alice["access_token"]},
        timeout=5,
    ).json()
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert [child["media_type"] for child in media["children"]["data"]] == ["IMAGE", "VIDEO"]


@pytest.mark.parametrize("count", [1, 11])
def test_it_refuses_carousels_outside_two_to_ten_items(graph: str, alice: dict[str, Any], count: int) -> None:
    children = [
        container_id(graph, alice, image_url=f"https://media.example.com/{n}.jpg", is_carousel_item="true")
        for n in range(count)
    ]

    response = create(graph, alice, media_type="CAROUSEL", children=",".join(children))

    assert (response.json()["error"]["code"], response.json()["error"]["error_subcode"]) == (100, 2207028)


def test_it_refuses_a_caption_over_2200_characters(graph: str, alice: dict[str, Any]) -> None:
    response = create(graph, alice, image_url="https://media.example.com/a.jpg", caption="c" * 2201)

    assert (response.json()["error"]["code"], response.json()["error"]["error_subcode"]) == (36004, 2207010)


def test_it_refuses_images_that_are_not_jpeg(graph: str, alice: dict[str, Any]) -> None:
    response = create(graph, alice, image_url="https://media.example.com/a.png")

    assert response.json()["error"]["error_subcode"] == 2207005


def test_it_ends_a_container_in_error_when_told_to(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    control.fault("instagram", "processing_failed", "create_container")
    container = container_id(graph, alice, media_type="REELS", video_url="https://media.example.com/bad.mp4")
    control.advance(5)

    response = requests.get(
        f"{graph}/{container}",
        params={"fields": "status_code,status", "access_token": alice["access_token"]},
        timeout=5,
    )

    assert response.json()["status_code"] == "ERROR"
    assert "2207026" in response.json()["status"]


def test_it_expires_unpublished_containers_after_a_day(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, image_url="https://media.example.com/a.jpg")
    control.advance(86401)

    published = media_publish(graph, alice, container)

    assert status_code(graph, alice, container) == "EXPIRED"
    assert published.json()["error"]["error_subcode"] == 2207020


def test_it_lists_published_media_for_reconciliation(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, image_url="https://media.example.com/a.jpg", caption="Listed")
    control.advance(1)
    media_id = media_publish(graph, alice, container).json()["id"]

    listed = requests.get(
        f"{graph}/{alice['account_id']}/media",
        params={"fields": "id,caption,timestamp,permalink", "access_token": alice["access_token"]},
        timeout=5,
    ).json()["data"]

    assert [(m["id"], m["caption"]) for m in listed] == [(media_id, "Listed")]
    assert listed[0]["timestamp"].endswith("+0000")


def test_it_enforces_the_publishing_quota(control: SandboxClient, graph: str, alice: dict[str, Any]) -> None:
    control.configure(instagram_quota_total=1)
    first, second = (
        container_id(graph, alice, image_url=f"https://media.example.com/{n}.jpg") for n in range(2)
    )
    control.advance(1)

    assert media_publish(graph, alice, first).status_code == 200
    refused = media_publish(graph, alice, second)

    assert (refused.json()["error"]["code"], refused.json()["error"]["error_subcode"]) == (9, 2207042)


def test_it_links_the_account_to_its_facebook_page(sandbox: SandboxServer, alice: dict[str, Any]) -> None:
    response = requests.get(
        f"{sandbox.url}/facebook/graph/v25.0/{alice['page_id']}",
        params={"fields": "instagram_business_account{id,username}", "access_token": alice["access_token"]},
        timeout=5,
    )

    assert response.json()["instagram_business_account"] == {
        "id": alice["account_id"],
        "username": "alice.bakes",
    }


def test_it_keeps_a_publish_whose_response_was_dropped(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, image_url="https://media.example.com/a.jpg", caption="Dropped")
    control.advance(1)
    control.fault("instagram", "commit_then_drop")

    with pytest.raises(requests.ConnectionError):
        media_publish(graph, alice, container)

    assert status_code(graph, alice, container) == "PUBLISHED"
    assert [p["text"] for p in control.posts("instagram", account_id=alice["account_id"])] == ["Dropped"]


def test_it_throttles_with_the_instagram_code(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    control.fault("instagram", "rate_limit", "create_container")

    response = create(graph, alice, image_url="https://media.example.com/a.jpg")

    assert response.json()["error"]["code"] == 80002
    assert '"type":"instagram"' in response.headers["X-Business-Use-Case-Usage"]


def test_a_media_publish_that_outlives_the_client_leaves_the_container_finished_until_it_lands(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, image_url="https://media.example.com/a.jpg", caption="Slow")
    control.advance(1)
    control.fault("instagram", "commit_late", seconds=1.0)

    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{graph}/{alice['account_id']}/media_publish",
            data={"creation_id": container, "access_token": alice["access_token"]},
            timeout=0.3,
        )
    assert status_code(graph, alice, container) == "FINISHED"

    deadline = time.monotonic() + 5
    while status_code(graph, alice, container) != "PUBLISHED" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_code(graph, alice, container) == "PUBLISHED"


def test_publishing_a_published_container_again_is_an_error_and_posts_nothing(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    container = container_id(graph, alice, image_url="https://media.example.com/a.jpg", caption="Once")
    control.advance(1)
    assert media_publish(graph, alice, container).status_code == 200

    again = media_publish(graph, alice, container)

    assert again.status_code == 400
    assert "error" in again.json()
    assert status_code(graph, alice, container) == "PUBLISHED"
    assert len(control.posts("instagram", account_id=alice["account_id"])) == 1


def test_a_container_never_published_expires_after_its_lifetime(
    control: SandboxClient, graph: str, alice: dict[str, Any]
) -> None:
    control.configure(instagram_container_seconds=120)
    container = container_id(graph, alice, image_url="https://media.example.com/loaf.jpg", caption="Loaf")
    wait_until_finished(graph, alice, container)
    control.advance(121)

    assert status_code(graph, alice, container) == "EXPIRED"
    refused = media_publish(graph, alice, container)
    assert refused.status_code == 400
    assert refused.json()["error"]["error_subcode"] == 2207020
