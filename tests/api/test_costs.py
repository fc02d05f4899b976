"""A list costs a fixed number of queries, however many rows it shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from platforms.models import SocialAccount
from publishing.models import Post
from tests.api.conftest import LATER, add_entry

pytestmark = pytest.mark.django_db


def queries_to_get(client: APIClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def add_rows(alice: User, account: SocialAccount, number: int) -> None:
    """One more post with a waiting and a failed date, and one more account."""
    post = Post.objects.create(owner=alice, account=account, text=f"post {number}")
    add_entry(post, when=LATER + timedelta(hours=number))
    add_entry(post, "failed")
    SocialAccount.objects.create(
        owner=alice, platform="facebook", platform_account_id=f"fb-{number}", display_name=f"Page {number}"
    )


@pytest.mark.parametrize("url", ["/api/accounts/", "/api/entries/", "/api/posts/"])
def test_listing_costs_the_same_queries_for_one_post_or_ten(
    alices_api: APIClient, alices_account: SocialAccount, alice: User, url: str
) -> None:
    add_rows(alice, alices_account, 0)
    with_one = queries_to_get(alices_api, url)
    for number in range(1, 10):
        add_rows(alice, alices_account, number)

    assert queries_to_get(alices_api, url) == with_one
