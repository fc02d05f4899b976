"""The accounts page in a browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog
from pytest_django.live_server_helper import LiveServer

from platforms.models import SocialAccount
from tests.support.browser import OpenPage, needs_chromium
from tests.support.showcase import Showcase

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]


def test_facebooks_hash_is_gone_from_the_address_after_its_redirect(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = open_page(user=showcase.user)

    page.goto("/social-accounts/?connected=1#_=_")

    page.wait_for_load_state("domcontentloaded")
    assert page.evaluate("window.location.hash") == ""
    assert page.url == f"{live_server.url}/social-accounts/?connected=1"


def test_disconnecting_asks_first_and_keeps_the_account_when_dismissed(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = open_page(user=showcase.user)
    page.goto("/social-accounts/")
    questions: list[str] = []

    def answer_no(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", answer_no)

    page.locator(f"#account-{showcase.x.pk}").get_by_role("button", name="Disconnect").click()

    assert questions == ["Disconnect X: @sosocial? Its scheduled dates will fail until you connect it again."]
    assert SocialAccount.objects.filter(pk=showcase.x.pk).exists()
    assert page.url == f"{live_server.url}/social-accounts/"
