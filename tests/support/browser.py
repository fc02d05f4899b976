"""One headless Chromium (Debian's) for the whole test session, and the checks every page must pass.

The browser is started once and shared; each test gets a fresh context (cookies, viewport) from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, Route, ViewportSize, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = ViewportSize(width=1366, height=900)
PHONE = ViewportSize(width=390, height=844)
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
BLOCKING_IMPACTS = {"serious", "critical"}

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium); CI always runs these tests",
)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls tests make meanwhile are
    # still plain synchronous ones, so Django's async guard is lifted while the browser is up.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _serve_media(route: Route) -> None:
    # The live server runs with DEBUG off, so it does not serve uploads: the browser reads them here.
    name = route.request.url.split(settings.MEDIA_URL, 1)[1]
    path = Path(settings.MEDIA_ROOT) / name
    if path.is_file():
        route.fulfill(path=str(path))
    else:
        route.fulfill(status=404, body="")


def open_context(
    browser: Browser, base_url: str, *, user: User | None = None, width: str = "desktop", **options: Any
) -> BrowserContext:
    """A fresh context at one of WIDTHS, signed in as `user` through a real session cookie."""
    context = browser.new_context(viewport=WIDTHS[width], base_url=base_url, **options)
    context.set_default_timeout(15_000)
    context.route(f"**{settings.MEDIA_URL}**", _serve_media)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
    return context


@pytest.fixture
def contexts(chromium: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts a test opens go here and are closed after it, with the ORM connections it used."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()
    # ORM calls made while Playwright runs get a connection of their own (Playwright switches
    # greenlets, so Django sees another context): close it, or the test database can't be dropped.
    connections.close_all()


class OpenPage(Protocol):
    def __call__(self, *, user: User | None = None, width: str = "desktop", **options: Any) -> Page: ...


@pytest.fixture
def open_page(chromium: Browser, contexts: list[BrowserContext], live_server: LiveServer) -> OpenPage:
    """A page in a fresh context on the live server (see `open_context`), closed after the test."""

    def open_(*, user: User | None = None, width: str = "desktop", **options: Any) -> Page:
        context = open_context(chromium, live_server.url, user=user, width=width, **options)
        contexts.append(context)
        return context.new_page()

    return open_


def sign_in(page: Page, *, username: str, password: str) -> None:
    """Sign in through the login form, as a person does, and land on the Posts page."""
    page.goto("/accounts/login/")
    origin = page.url.removesuffix("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{origin}/")


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (empty when clean)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's Content-Security-Policy allows it.
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def save_screenshot(page: Page, name: str) -> Path | None:
    """With SOSOCIAL_SCREENSHOTS=1 (make screenshots), keep the page as docs/screenshots/NAME.png."""
    if not os.environ.get("SOSOCIAL_SCREENSHOTS"):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True, animations="disabled")
    return target
