"""Browsers signed in as alice and bob, for the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def alices_browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def bobs_browser(bob: User) -> Client:
    browser = Client()  # a second browser: alice's may be in use in the same test
    browser.force_login(bob)
    return browser
