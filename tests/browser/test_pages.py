"""Every page at 1366 and 390 px, light and dark: nothing scrolls sideways on a phone, axe-core finds
no serious or critical problem, and no script error or blocked resource shows in the console.

`make screenshots` runs this file with SOSOCIAL_SCREENSHOTS=1 and keeps each page in docs/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import ConsoleMessage
from pytest_django.live_server_helper import LiveServer

from tests.support.browser import (
    OpenPage,
    axe_violations,
    horizontal_overflow,
    needs_chromium,
    save_screenshot,
)
from tests.support.showcase import Showcase

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]

# name -> (signed in?, path from the showcase)
PAGES: dict[str, tuple[bool, Callable[[Showcase], str]]] = {
    "login": (False, lambda s: "/accounts/login/"),
    "posts": (True, lambda s: "/"),
    "compose": (True, lambda s: "/compose/"),
    "edit": (True, lambda s: f"/posts/{s.draft.pk}/edit/"),
    "calendar-month": (True, lambda s: "/calendar/"),
    "calendar-week": (True, lambda s: "/calendar/?view=week"),
    "accounts": (True, lambda s: "/social-accounts/"),
    "profile": (True, lambda s: "/profile/"),
}
# Dark mode is checked everywhere; its screenshots are kept for these pages only.
DARK_SCREENSHOTS = {"posts", "compose", "calendar-week"}
LOOKS = [("desktop", "light"), ("phone", "light"), ("phone", "dark")]


@pytest.mark.parametrize(("width", "scheme"), LOOKS, ids=["-".join(look) for look in LOOKS])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_a_phone_and_passes_axe(
    open_page: OpenPage,
    live_server: LiveServer,
    showcase: Showcase,
    name: str,
    width: str,
    scheme: str,
) -> None:
    signed_in, path = PAGES[name]
    page = open_page(user=showcase.user if signed_in else None, width=width, color_scheme=scheme)
    problems: list[str] = []
    page.on("console", lambda message: _keep_errors(message, problems))
    page.on("pageerror", lambda error: problems.append(str(error)))

    response = page.goto(path(showcase))

    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    assert problems == []
    if scheme == "light" or name in DARK_SCREENSHOTS:
        save_screenshot(page, f"{name}-{width}" + ("-dark" if scheme == "dark" else ""))


def _keep_errors(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(message.text)


def test_an_empty_posts_page_says_what_to_do_next(
    open_page: OpenPage, live_server: LiveServer, bob: User
) -> None:
    for width in ("desktop", "phone"):
        page = open_page(user=bob, width=width)
        page.goto("/")

        assert page.get_by_role("heading", name="No posts yet").is_visible()
        assert page.locator("main").get_by_role("link", name="New post").first.is_visible()
        assert horizontal_overflow(page) <= 0
        assert axe_violations(page) == []
        save_screenshot(page, f"posts-empty-{width}")


def test_the_menu_folds_away_on_a_phone_and_opens_from_the_keyboard(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = open_page(user=showcase.user, width="phone")
    page.goto("/")
    calendar_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar")
    assert not calendar_link.is_visible()

    page.get_by_role("button", name="Menu").focus()
    page.keyboard.press("Enter")

    assert calendar_link.is_visible()
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
