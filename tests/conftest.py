from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from platforms.models import SocialAccount
from platforms.registry import use_client
from publishing.models import Post
from tests.support.broker import Broker

# One Chromium for the whole session, shared by tests/browser and the integration browser test.
from tests.support.browser import chromium, contexts, open_page  # noqa: F401
from tests.support.fakes import FakeClient

pytest_plugins = ["tests.support.sandbox_plugin"]


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture
def alices_account(alice: User) -> SocialAccount:
    return SocialAccount.objects.create(
        owner=alice,
        platform=SocialAccount.Kind.X,
        platform_account_id="x-alice",
        display_name="@alice",
        access_token="alice-access-token",
        refresh_token="alice-refresh-token",
    )


@pytest.fixture
def alices_post(alice: User, alices_account: SocialAccount) -> Post:
    return Post.objects.create(owner=alice, account=alices_account, text="Hello from Alice")


@pytest.fixture
def fake_x() -> Iterator[FakeClient]:
    with use_client("x", FakeClient()) as client:
        assert isinstance(client, FakeClient)
        yield client


@pytest.fixture
def broker() -> Broker:
    queue = Broker()
    queue.flush()
    return queue


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In CI (SOSOCIAL_REQUIRE_POSTGRES=1) the run stops unless it is on PostgreSQL, so the tests
    that need row locks between connections can never be skipped there by mistake."""
    if os.environ.get("SOSOCIAL_REQUIRE_POSTGRES") == "1":
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql", (
            "SOSOCIAL_REQUIRE_POSTGRES is set but DATABASE_URL is not PostgreSQL"
        )
