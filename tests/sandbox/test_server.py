from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from sandbox.client import SandboxClient, SandboxError
from sandbox.routing import Request


@pytest.fixture
def alice(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("x", "Alice")


def tweet(
    sandbox: SandboxServer, account: dict[str, Any], text: str, timeout: float = 5
) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/x/api/2/tweets",
        json={"text": text},
        headers={"Authorization": f"Bearer {account['access_token']}"},
        timeout=timeout,
    )


def test_it_answers_unknown_endpoints_in_each_platforms_envelope(sandbox: SandboxServer) -> None:
    facebook = requests.get(f"{sandbox.url}/facebook/graph/v25.0/me/nothing/here", timeout=5)
    x = requests.get(f"{sandbox.url}/x/api/2/nothing", timeout=5)
    tiktok = requests.get(f"{sandbox.url}/tiktok/api/v2/nothing/", timeout=5)
    control = requests.get(f"{sandbox.url}/_sandbox/nothing", timeout=5)

    assert facebook.json()["error"]["code"] == 2500
    assert (x.status_code, x.json()["type"]) == (404, "https://api.x.com/2/problems/resource-not-found")
    assert tiktok.json()["error"]["code"] == "not_found"
    assert control.status_code == 404


def test_it_creates_accounts_with_everything_a_client_needs(control: SandboxClient) -> None:
    for platform in ("facebook", "instagram", "x", "tiktok"):
        account = control.create_account(platform, "Alice")

        assert account["platform"] == platform
        assert account["account_id"]
        assert account["display_name"] == "Alice"
        assert account["access_token"]
        assert bool(account["refresh_token"]) == (platform in ("x", "tiktok"))
        assert (account["expires_at"] is None) == (platform in ("facebook", "instagram"))


def test_it_refuses_unknown_platforms_and_fault_kinds(sandbox: SandboxServer) -> None:
    account = requests.post(f"{sandbox.url}/_sandbox/accounts", json={"platform": "myspace"}, timeout=5)
    fault = requests.post(
        f"{sandbox.url}/_sandbox/faults", json={"platform": "x", "kind": "gremlins"}, timeout=5
    )
    setting = requests.post(f"{sandbox.url}/_sandbox/config", json={"latency": 5}, timeout=5)

    assert account.status_code == 400
    assert fault.status_code == 400
    assert "kind" in fault.json()["error"]
    assert setting.status_code == 400


def test_it_consumes_a_fault_once_per_matching_request(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "server_error", count=2)

    statuses = [tweet(sandbox, alice, f"Try {n}").status_code for n in range(3)]

    assert statuses == [503, 503, 201]
    assert requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json() == {"faults": []}


def test_it_matches_faults_by_path_regex_and_method(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "server_error", r"/users/me$", method="POST")
    control.fault("x", "server_error", r"/users/me$", method="GET")
    headers = {"Authorization": f"Bearer {alice['access_token']}"}

    me = requests.get(f"{sandbox.url}/x/api/2/users/me", headers=headers, timeout=5)
    created = tweet(sandbox, alice, "Not matched")

    assert me.status_code == 503
    assert created.status_code == 201
    [left] = requests.get(f"{sandbox.url}/_sandbox/faults", timeout=5).json()["faults"]
    assert left["method"] == "POST"


def test_it_aims_a_fault_at_the_one_post_whose_text_matches(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "server_error", match_text="post 2 of")

    statuses = [tweet(sandbox, alice, f"Burst post {n} of 3").status_code for n in (1, 2, 3)]

    assert statuses == [201, 503, 201]
    assert control.faults() == []


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("application/json", b'{"text": "On X"}', "On X"),
        ("application/x-www-form-urlencoded", b"message=On+Facebook", "On Facebook"),
        ("application/x-www-form-urlencoded", b"caption=On+Instagram&image_url=x", "On Instagram"),
        ("application/json", b'{"post_info": {"title": "On TikTok"}}', "On TikTok"),
        ("application/json", b'{"post_info": {"description": "A photo post"}}', "A photo post"),
    ],
)
def test_it_reads_the_post_text_from_each_platforms_field(content_type: str, body: bytes, text: str) -> None:
    request = Request.build(method="POST", target="/", headers={"Content-Type": content_type}, body=body)

    assert request.post_text() == text


@pytest.mark.parametrize(
    ("held", "timeout", "seen"),
    [(0, 5, requests.ConnectionError), (1.5, 0.5, requests.ReadTimeout)],
    ids=["at once", "held past the client's timeout"],
)
def test_it_drops_the_connection_before_writing_anything(
    sandbox: SandboxServer,
    control: SandboxClient,
    alice: dict[str, Any],
    held: float,
    timeout: float,
    seen: type[Exception],
) -> None:
    control.fault("x", "drop_before_commit", seconds=held)

    with pytest.raises(seen):
        tweet(sandbox, alice, "Lost", timeout=timeout)

    assert control.posts("x") == []
    assert tweet(sandbox, alice, "Lost").status_code == 201


def test_its_control_client_raises_what_the_control_api_refused(control: SandboxClient) -> None:
    with pytest.raises(SandboxError) as refused:
        control.fault("x", "gremlins")

    assert refused.value.status == 400
    assert "kind" in refused.value.body


def test_it_commits_then_drops_the_connection(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "commit_then_drop")

    with pytest.raises(requests.ConnectionError):
        tweet(sandbox, alice, "Sent, but you will not know")

    [recorded] = control.posts("x", account_id=alice["account_id"])
    assert recorded["text"] == "Sent, but you will not know"
    assert tweet(sandbox, alice, "Sent, but you will not know").status_code == 403


def test_it_answers_slowly_after_committing(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "slow", seconds=1.5)

    with pytest.raises(requests.ReadTimeout):
        tweet(sandbox, alice, "Slow one", timeout=0.5)

    assert [p["text"] for p in control.posts("x")] == ["Slow one"]


def test_it_adds_latency_to_platform_calls_but_not_to_control_calls(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.configure(latency_ms=300)

    started = time.monotonic()
    tweet(sandbox, alice, "Latent")
    platform_seconds = time.monotonic() - started
    started = time.monotonic()
    control.posts("x")
    control_seconds = time.monotonic() - started

    assert platform_seconds >= 0.3
    assert control_seconds < 0.3


def test_it_forgets_everything_on_reset(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    tweet(sandbox, alice, "Before reset")
    control.configure(latency_ms=50)

    reset = requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5)

    assert reset.status_code == 200
    assert control.posts("x") == []
    assert tweet(sandbox, alice, "After reset").status_code == 401
    assert requests.get(f"{sandbox.url}/_sandbox/config", timeout=5).json()["latency_ms"] == 0


def test_it_moves_the_clock_forward(sandbox: SandboxServer, control: SandboxClient) -> None:
    before = sandbox.state.now()

    control.advance(3600)

    assert sandbox.state.now() - before >= 3600
    assert requests.get(f"{sandbox.url}/_sandbox/clock", timeout=5).json()["offset_seconds"] == 3600


def test_it_logs_platform_requests_for_assertions(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    tweet(sandbox, alice, "Logged")

    [entry] = requests.get(f"{sandbox.url}/_sandbox/requests", params={"platform": "x"}, timeout=5).json()[
        "requests"
    ]

    assert (entry["method"], entry["status"], entry["endpoints"]) == ("POST", 201, ["create_post"])


def test_it_shows_accounts_and_posts_on_its_home_page(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    created = tweet(sandbox, alice, "Shown <b>escaped</b>").json()["data"]
    [recorded] = control.posts("x")

    home = requests.get(f"{sandbox.url}/", timeout=5)
    permalink = requests.get(recorded["permalink"], timeout=5)

    assert home.headers["Content-Type"].startswith("text/html")
    assert "Alice" in home.text
    assert "Shown &lt;b&gt;escaped&lt;/b&gt;" in home.text
    assert created["id"] in permalink.text


def test_it_gives_tests_direct_access_to_its_state(sandbox: SandboxServer, alice: dict[str, Any]) -> None:
    tweet(sandbox, alice, "Direct")

    with sandbox.state.lock:
        [post] = sandbox.state.posts_of("x", alice["account_id"])

    assert post.text == "Direct"


def test_it_runs_from_the_command_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        url = first_line.split()[3]
        overview = requests.get(f"{url}/_sandbox/", timeout=5).json()
    finally:
        process.terminate()
        process.wait(timeout=5)

    assert first_line.startswith("SoSocial sandbox on http://127.0.0.1:")
    assert overview["base_urls"]["X_API_URL"] == f"{url}/x/api"


def test_it_imports_nothing_of_django_or_sosocial() -> None:
    check = (
        "import sys, sandbox.__main__, sandbox.client; "
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'django', 'platforms', 'publishing', 'sosocial'}))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, timeout=30
    )

    assert loaded.stdout.strip() == "[]"


def test_it_commits_then_answers_a_server_error(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "commit_then_error")

    response = tweet(sandbox, alice, "Posted, then a 503")

    assert response.status_code == 503
    assert [p["text"] for p in control.posts("x")] == ["Posted, then a 503"]


def test_it_commits_late_after_the_client_gave_up(
    sandbox: SandboxServer, control: SandboxClient, alice: dict[str, Any]
) -> None:
    control.fault("x", "commit_late", seconds=1.0)

    with pytest.raises(requests.ReadTimeout):
        tweet(sandbox, alice, "Late one", timeout=0.3)
    assert control.posts("x") == []  # not yet: the platform is still working on it

    deadline = time.monotonic() + 5
    while not control.posts("x") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p["text"] for p in control.posts("x")] == ["Late one"]
