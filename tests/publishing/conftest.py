"""Browsers signed in as alice and bob, for the pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def alices_browser(alice: User) -> Client:
    return signed_in(alice)


@pytest.fixture
def bobs_browser(bob: User) -> Client:
    return signed_in(bob)
