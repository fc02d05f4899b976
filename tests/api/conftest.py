"""API test fixtures: clients for alice, bob and nobody, with every request they make recorded.

The record is what test_schema checks the OpenAPI schema against: an operation counts as exercised
only if some test really sent a request that Django routed to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import Resolver404
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post, ScheduleEntry
from tests.support import dates
from tests.support.fakes import FakeClient

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
API_TESTS = Path(__file__).parent
EXERCISED: set[tuple[str, str]] = set()
DESELECTED_API_TESTS: list[str] = []


def operation_of(route: str, method: str) -> tuple[str, str]:
    """`api/posts/<int:post_id>/` + `patch` → (`/api/posts/{post_id}/`, `PATCH`), as OpenAPI names it."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), method.upper()


class RecordingClient(APIClient):
    def request(self, **kwargs: Any) -> Any:
        response = super().request(**kwargs)
        try:
            route = response.resolver_match.route
        except Resolver404:
            return response
        EXERCISED.add(operation_of(route, kwargs["REQUEST_METHOD"]))
        return response


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The schema coverage check reads what every other API test recorded, so it runs last.
    items.sort(key=lambda item: item.get_closest_marker("after_all_api_tests") is not None)


def pytest_deselected(items: list[pytest.Item]) -> None:
    DESELECTED_API_TESTS.extend(item.nodeid for item in items if API_TESTS in Path(item.path).parents)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_all_api_tests: runs after every other API test")


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    # Throttle counts live in the cache; one test's requests must not use up another's allowance.
    cache.clear()


@pytest.fixture(autouse=True)
def platform(fake_x: FakeClient) -> FakeClient:
    return fake_x


@pytest.fixture
def anonymous_api() -> APIClient:
    return RecordingClient()


def signed_in(user: User) -> APIClient:
    client = RecordingClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alices_api(alice: User) -> APIClient:
    return signed_in(alice)


@pytest.fixture
def bobs_api(bob: User) -> APIClient:
    return signed_in(bob)


@pytest.fixture
def bobs_account(bob: User) -> SocialAccount:
    return SocialAccount.objects.create(
        owner=bob, platform=SocialAccount.Kind.X, platform_account_id="x-bob", display_name="@bob"
    )


def add_entry(post: Post, status: str = "pending", when: datetime = LATER, **fields: Any) -> ScheduleEntry:
    return dates.add_entry(post, status, when, **fields)
