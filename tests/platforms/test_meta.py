from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from platforms.base import (
    OutcomeUnknown,
    PermanentError,
    PlatformError,
    ReconnectNeeded,
    RetryableError,
)
from platforms.facebook import FacebookClient
from platforms.meta import classify_error, regain_access_at, subcode_in_status
from tests.platforms.conftest import GRAPH, GRAPH_VERSION, NOW, graph_error

pytestmark = pytest.mark.usefixtures("graph_settings", "frozen")


def graph_response(
    status: int, body: Any = None, *, headers: dict[str, str] | None = None, text: str | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = (text if text is not None else json.dumps(body)).encode()
    response.headers.update(headers or {})
    return response


def classify(status: int, body: Any, headers: dict[str, str] | None = None) -> PlatformError:
    return classify_error(graph_response(status, body, headers=headers), platform="Facebook")


@pytest.mark.parametrize(
    ("code", "subcode", "kind"),
    [
        (1, None, RetryableError),
        (2, None, RetryableError),
        (-1, 2207001, RetryableError),
        (-2, 2207003, RetryableError),
        (24, 2207008, RetryableError),
        (1, 2207057, PermanentError),  # a bad thumbnail offset, despite code 1
        (4, 2207051, PermanentError),  # spam restriction, despite throttling code 4
        (190, 463, ReconnectNeeded),
        (190, 460, ReconnectNeeded),
        (190, None, ReconnectNeeded),
        (102, None, ReconnectNeeded),
        (10, None, ReconnectNeeded),
        (200, None, ReconnectNeeded),
        (299, None, ReconnectNeeded),
        (506, None, PermanentError),
        (100, None, PermanentError),
        (368, None, PermanentError),
        (36000, 2207004, PermanentError),
        (36001, 2207005, PermanentError),
        (36003, 2207009, PermanentError),
        (36004, 2207010, PermanentError),
        (9004, 2207052, PermanentError),
        (9007, 2207027, RetryableError),
    ],
)
def test_it_sorts_graph_errors_by_code_and_subcode(code: int, subcode: int | None, kind: type) -> None:
    error = classify(400, graph_error(code, subcode))

    assert type(error) is kind
    assert error.code == f"meta_{code}" + (f"_{subcode}" if subcode else "")
    assert error.http_status == 400


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613, 80001, 80002])
def test_it_waits_for_the_time_the_usage_header_names_when_throttled(code: int) -> None:
    usage = {"1234": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 17}]}

    error = classify(400, graph_error(code), {"X-Business-Use-Case-Usage": json.dumps(usage)})

    assert isinstance(error, RetryableError)
    assert error.retry_at == NOW + timedelta(minutes=17)


def test_it_waits_the_longest_estimate_of_all_usage_headers() -> None:
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {
                "1": [{"type": "pages", "estimated_time_to_regain_access": 5}],
                "2": [{"type": "instagram", "estimated_time_to_regain_access": 42}],
            }
        ),
        "X-App-Usage": json.dumps({"call_count": 100, "estimated_time_to_regain_access": 30}),
    }

    assert regain_access_at(headers, now=NOW) == NOW + timedelta(minutes=42)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 20})},
        {"X-Business-Use-Case-Usage": "not json"},
        {"X-Business-Use-Case-Usage": json.dumps({"1": [{"estimated_time_to_regain_access": 0}]})},
    ],
)
def test_it_waits_an_hour_when_throttled_without_an_estimate(headers: dict[str, str]) -> None:
    error = classify(400, graph_error(80001), headers)

    assert isinstance(error, RetryableError)
    assert error.retry_at == NOW + timedelta(hours=1)


def test_it_retries_the_publishing_quota_a_day_later() -> None:
    error = classify(400, graph_error(9, 2207042))

    assert isinstance(error, RetryableError)
    assert error.retry_at == NOW + timedelta(hours=24)
    assert "daily publishing limit" in error.message


def test_it_retries_posting_too_fast_an_hour_later_although_it_is_a_policy_code() -> None:
    error = classify(400, graph_error(368, 1390008))

    assert isinstance(error, RetryableError)
    assert error.retry_at == NOW + timedelta(hours=1)


def test_it_retries_anything_meta_marks_transient() -> None:
    error = classify(400, graph_error(100, is_transient=True))

    assert isinstance(error, RetryableError)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_it_retries_server_errors_without_an_envelope(status: int) -> None:
    error = classify_error(graph_response(status, text="<html>Bad gateway</html>"), platform="Facebook")

    assert isinstance(error, RetryableError)
    assert error.code == f"meta_http_{status}"


def test_it_tells_the_user_why_the_login_is_gone() -> None:
    error = classify(400, graph_error(190, 460))

    assert isinstance(error, ReconnectNeeded)
    assert "password was changed" in error.message
    assert "Reconnect" in error.message


def test_it_names_the_permission_that_is_missing() -> None:
    body = graph_error(200, message="(#200) Requires pages_manage_posts permission to manage the object")

    error = classify(403, body)

    assert isinstance(error, ReconnectNeeded)
    assert "pages_manage_posts" in error.message


def test_it_quotes_metas_words_for_users_when_it_has_them() -> None:
    body = graph_error(100, error_user_msg="The scheduled time must be at least 10 minutes ahead.")

    error = classify(400, body)

    assert isinstance(error, PermanentError)
    assert not isinstance(error, ReconnectNeeded)
    assert "The scheduled time must be at least 10 minutes ahead." in error.message


def test_it_finds_the_error_subcode_in_a_container_status() -> None:
    assert subcode_in_status("Error: Media upload has failed with error code 2207026") == 2207026
    assert subcode_in_status("Finished: Media has been uploaded") is None


def test_it_sends_the_token_in_a_header_and_the_app_secret_proof_in_the_body(
    mocked: responses.RequestsMock,
) -> None:
    mocked.add(responses.POST, f"{GRAPH}/{GRAPH_VERSION}/1/feed", json={"id": "1_2"})

    FacebookClient().post("1/feed", token="page-token", data={"message": "Hi"}, publishes=True)

    request = mocked.calls[0].request
    proof = hmac.new(b"app-secret", b"page-token", hashlib.sha256).hexdigest()
    assert request.url == f"{GRAPH}/{GRAPH_VERSION}/1/feed"
    assert request.headers["Authorization"] == "Bearer page-token"
    body = parse_qs(str(request.body))
    assert "access_token" not in body
    assert body["appsecret_proof"] == [proof]


def test_a_read_keeps_the_token_and_the_proof_out_of_the_url(mocked: responses.RequestsMock) -> None:
    mocked.add(responses.POST, f"{GRAPH}/{GRAPH_VERSION}/c-1", json={"status_code": "FINISHED"})

    body = FacebookClient().get("c-1", token="page-token", params={"fields": "status_code"})

    request = mocked.calls[0].request
    sent = parse_qs(str(request.body))
    assert body == {"status_code": "FINISHED"}
    assert urlsplit(request.url or "").query == ""
    assert request.headers["Authorization"] == "Bearer page-token"
    assert sent["method"] == ["GET"]
    assert sent["fields"] == ["status_code"]
    assert sent["appsecret_proof"] == [hmac.new(b"app-secret", b"page-token", hashlib.sha256).hexdigest()]


def test_a_next_page_link_is_read_without_the_secrets_it_carries(mocked: responses.RequestsMock) -> None:
    listing = f"{GRAPH}/{GRAPH_VERSION}/1/published_posts"
    mocked.add(
        responses.POST,
        listing,
        json={
            "data": [{"id": "1_1"}],
            "paging": {"next": f"{listing}?access_token=t&appsecret_proof=p&after=c2"},
        },
    )
    mocked.add(responses.POST, listing, json={"data": [{"id": "1_2"}]})

    items, complete = FacebookClient().listing("1/published_posts", token="t", params={})

    second = mocked.calls[1].request
    assert [item["id"] for item in items] == ["1_1", "1_2"]
    assert complete is True
    assert second.url == listing
    sent = parse_qs(str(second.body))
    assert sent["after"] == ["c2"]
    assert "access_token" not in sent
    assert sent["appsecret_proof"] != ["p"]


def test_an_unreadable_answer_to_a_publishing_call_leaves_the_outcome_unknown(
    mocked: responses.RequestsMock,
) -> None:
    mocked.add(responses.POST, f"{GRAPH}/{GRAPH_VERSION}/1/feed", body="<html>ok</html>")

    with pytest.raises(OutcomeUnknown):
        FacebookClient().post("1/feed", token="t", data={"message": "Hi"}, publishes=True)


def test_a_lost_answer_to_a_call_that_publishes_nothing_is_retryable(mocked: responses.RequestsMock) -> None:
    mocked.add(responses.POST, f"{GRAPH}/{GRAPH_VERSION}/1/photos", body=requests.ConnectionError("reset"))

    with pytest.raises(RetryableError) as raised:
        FacebookClient().post("1/photos", token="t", data={"published": "false"}, publishes=False)

    assert not isinstance(raised.value, OutcomeUnknown)


def test_it_does_not_follow_a_next_page_link_to_another_host(mocked: responses.RequestsMock) -> None:
    mocked.add(
        responses.POST,
        f"{GRAPH}/{GRAPH_VERSION}/1/published_posts",
        json={"data": [{"id": "1_1"}], "paging": {"next": "https://elsewhere.test/steal?access_token=t"}},
    )

    items, complete = FacebookClient().listing("1/published_posts", token="t", params={})

    assert items == [{"id": "1_1"}]
    assert complete is False
    assert len(mocked.calls) == 1
