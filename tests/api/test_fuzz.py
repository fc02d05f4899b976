"""Schemathesis fuzzes every operation of our own OpenAPI schema, in process, as alice.

A request the schema calls valid never gets a 500, and gets only a status and body the schema
documents. A request it calls invalid gets a 400 in the one error format, naming the fields at fault
(or a 404 for a path no route matches, or a 415 for a body with no media type we read).

CI runs a bounded, seeded number of examples, so a run is quick and a failure repeats. To dig deeper:
`SOSOCIAL_FUZZ_EXAMPLES=500 SOSOCIAL_FUZZ_SEED=$RANDOM make pytest PYTEST_ARGS=tests/api/test_fuzz.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeGuard

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from pytest_django import Settings
from schemathesis import BaseSchema, Case, Response
from schemathesis.checks import CheckContext, CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from notifications import services as notification_services
from notifications.models import WebhookEndpoint
from platforms.models import SocialAccount
from publishing.models import Post, PublishAttempt, ScheduleEntry
from sosocial.wsgi import application
from tests.api.conftest import LATER, NOW, add_entry

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SOSOCIAL_FUZZ_EXAMPLES", "20"))
SEED = int(os.environ.get("SOSOCIAL_FUZZ_SEED", "20261128"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to .hypothesis/; the seed makes a failure repeat instead
    # alices_things is set up once per operation; each example runs in a savepoint rolled back after it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Dates the fuzzer sends: mostly near NOW (so requests get past validation), and the far ones that
# once broke pages and overflowed time zone conversions (year 9999, year 10000, year 1 with an offset).
FAR_DATES = [
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-05:00",
    "10000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "1900-01-01T00:00:00Z",
]
HUGE_INTS = [2**63, 10**25, -(10**25)]
near = st.datetimes(
    min_value=(NOW - timedelta(days=30)).replace(tzinfo=None),
    max_value=(NOW + timedelta(days=800)).replace(tzinfo=None),
).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
schemathesis.openapi.format("date-time", st.one_of(near, st.sampled_from(FAR_DATES)))


def _load(mode: str) -> BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The token comes from the alice fixture; generated credentials would only test the 401.
            "generation": {"mode": mode, "with-security-parameters": False},
            "checks": {"negative_data_rejection": {"expected-statuses": [400, 404, 415]}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


valid_requests = _load("positive")
# GET /api/profile/ takes nothing, so nothing about it can be invalid.
invalid_requests = _load("negative").exclude(name="GET /api/profile/")


@pytest.fixture(autouse=True)
def requests_share_the_test_transaction() -> Iterator[None]:
    # Django closes the connection when a request ends, which inside the test's transaction would lose
    # alice's data. Django's own test client disconnects the same two signals for the same reason.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Settings) -> None:
    # /api/token/ hashes every password it is sent; with the real hasher that is most of the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class AlicesThings:
    token: str
    account: SocialAccount
    post: Post
    pending: ScheduleEntry
    failed: ScheduleEntry
    unconfirmed: ScheduleEntry
    webhook: WebhookEndpoint


@pytest.fixture
def alices_things(alice: User, alices_account: SocialAccount, alices_post: Post) -> AlicesThings:
    """An account, an editable post with a pending and a failed date (with its attempt), and a post
    whose date went out unconfirmed: something for every operation to act on."""
    failed = add_entry(
        alices_post,
        "failed",
        when=LATER + timedelta(days=1),
        attempts=4,
        last_error_code="rate_limited",
        last_error_message="Too many posts today.",
    )
    PublishAttempt.objects.create(
        entry=failed,
        dispatch_version=failed.dispatch_version,
        number=1,
        started_at=NOW,
        finished_at=NOW,
        outcome=PublishAttempt.Outcome.FAILED,
        http_status=429,
        error_code="rate_limited",
        message="Too many posts today.",
    )
    sent_post = Post.objects.create(owner=alice, account=alices_account, text="Sent, perhaps")
    return AlicesThings(
        token=AuthToken.objects.create(user=alice)[1],
        account=alices_account,
        post=alices_post,
        pending=add_entry(alices_post, "pending"),
        failed=failed,
        unconfirmed=add_entry(sent_post, "unconfirmed", attempts=1),
        webhook=notification_services.create_webhook(
            user_id=alice.pk, url="https://hooks.example.com/alice", format="json"
        ),
    )


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _point_at_alices_things(case: Case[Any], things: AlicesThings, *, keep_odd_ids: bool) -> None:
    """A generated id is nobody's, so the request would stop at the 404. Swap it for alice's object in
    a state its operation accepts; with keep_odd_ids, odd ones stay and test the missing object."""
    entry_for_action = {
        "cancel": things.pending,
        "reschedule": things.failed,
        "retry": things.failed,
        "resolve": things.unconfirmed,
    }
    action = case.operation.path.rstrip("/").rsplit("/", 1)[-1]
    alices = {
        "account_id": things.account.pk,
        "post_id": things.post.pk,
        "entry_id": entry_for_action.get(action, things.failed).pk,
        "webhook_id": things.webhook.pk,
    }
    for name, value in (case.path_parameters or {}).items():
        if _is_id(value) and not (keep_odd_ids and value % 2):
            case.path_parameters[name] = alices[name]


@contextmanager
def _rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _call(case: Case[Any], things: AlicesThings, checks: list[CheckFunction]) -> None:
    cache.clear()  # the throttle's counts: a fuzzer's thousand requests a minute are not abuse here
    with _rolled_back():
        case.call_and_validate(headers={"Authorization": f"Token {things.token}"}, checks=checks)


def in_the_error_format_naming_the_fields(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    if response.status_code < 400:
        return None
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}, error
    if response.status_code == 400 and error["code"] != "parse_error":  # a body that did not parse has none
        assert error["code"] == "invalid", error
        assert error["fields"], error
    if response.status_code == 404:  # every id was pointed at alice's objects: only a bad path is left
        assert not all(_is_id(value) for value in (case.path_parameters or {}).values()), error
    return None


@FUZZ
@valid_requests.parametrize()
def test_valid_requests_get_a_documented_answer_and_never_a_server_error(
    case: Case[Any], alices_things: AlicesThings
) -> None:
    _point_at_alices_things(case, alices_things, keep_odd_ids=True)
    _call(
        case,
        alices_things,
        [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )


@FUZZ
@invalid_requests.parametrize()
def test_invalid_requests_get_a_400_naming_the_fields_and_never_a_server_error(
    case: Case[Any], alices_things: AlicesThings
) -> None:
    _point_at_alices_things(case, alices_things, keep_odd_ids=False)
    _call(
        case,
        alices_things,
        [
            not_a_server_error,
            negative_data_rejection,
            response_schema_conformance,
            in_the_error_format_naming_the_fields,
        ],
    )


# The operations whose body carries dates, and the shape of each body with one far date in it.
DATED_BODIES: dict[str, Any] = {
    "POST /api/posts/": lambda date, things: {"account": things.account.pk, "text": "x", "when": [date]},
    "POST /api/posts/{post_id}/entries/": lambda date, things: {"when": [date]},
    "POST /api/entries/{entry_id}/reschedule/": lambda date, things: {"when": date},
}


def _far_cases() -> list[tuple[str, str, Any]]:
    """Explicit out-of-range examples for every operation: each id in the path as 2**63 or 10**25, each
    integer in the query as those or -10**25, each date-time in the query or a body as a far date."""
    cases: list[tuple[str, str, Any]] = []
    for result in valid_requests.get_all_operations():
        assert isinstance(result, Ok)
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if len(operation.path_parameters):
            cases.extend((label, "path", value) for value in HUGE_INTS[:2])
        for parameter in operation.query:
            schema = parameter.definition.get("schema", {})
            if schema.get("type") == "integer":
                cases.extend((label, parameter.name, value) for value in HUGE_INTS)
            if schema.get("format") == "date-time":
                cases.extend((label, parameter.name, value) for value in FAR_DATES)
        if label in DATED_BODIES:
            cases.extend((label, "when", value) for value in FAR_DATES)
    cases.append(("POST /api/posts/", "account", 10**25))
    return cases


@pytest.mark.parametrize(("operation", "field", "value"), _far_cases())
def test_out_of_range_integers_and_far_dates_get_a_400_or_404_and_never_a_server_error(
    operation: str, field: str, value: Any, alices_things: AlicesThings
) -> None:
    method, path = operation.split(" ", 1)
    found = valid_requests[path][method]
    names = [parameter.name for parameter in found.path_parameters]
    case = found.Case(path_parameters=dict.fromkeys(names, 2) if names else None)
    _point_at_alices_things(case, alices_things, keep_odd_ids=False)
    if field == "path":
        case.path_parameters = dict.fromkeys(names, value)
    elif field == "when":
        case.body = DATED_BODIES[operation](value, alices_things)
        case.media_type = "application/json"
    elif field == "account" and method == "POST":
        case.body = {"account": value, "text": "x", "when": ["2026-12-01T09:30:00Z"]}
        case.media_type = "application/json"
    else:
        case.query = {field: value}
    cache.clear()
    with _rolled_back():
        response = case.call(headers={"Authorization": f"Token {alices_things.token}"})

    error = response.json()["error"]
    if field == "path":
        assert (response.status_code, error["code"]) == (404, "not_found")
    else:
        assert response.status_code == 400, (response.status_code, error)
        assert any(name == field or name.startswith(f"{field}.") for name in error["fields"]), error
