"""The compose page in a browser: counters that match the server on the shared table of tricky texts,
previews per platform, date rows, attachments, drafts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from publishing.models import Post
from tests.support.browser import (
    OpenPage,
    axe_violations,
    horizontal_overflow,
    needs_chromium,
    save_screenshot,
)
from tests.support.showcase import Showcase

pytestmark = [pytest.mark.django_db(transaction=True), needs_chromium]
TABLE: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "text_counts.json").read_text()
)["texts"]
LIMITS = {"x": 280, "facebook": 63_206, "instagram": 2200, "tiktok": 2200}
LABELS = {"x": "X", "facebook": "Facebook Page", "instagram": "Instagram", "tiktok": "TikTok"}


def picture(colour: tuple[int, int, int], name: str) -> Image.Image:
    return Image.new("RGB", (600, 600), colour)


def compose_page(open_page: OpenPage, showcase: Showcase) -> Page:
    page = open_page(user=showcase.user)
    page.goto("/compose/")
    return page


def test_the_counters_agree_with_the_server_on_every_tricky_text(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = compose_page(open_page, showcase)
    for account in (showcase.x, showcase.page, showcase.instagram, showcase.tiktok):
        page.check(f"input[name=accounts][value='{account.pk}']")

    for row in TABLE:
        page.fill("#id_text", row["text"])
        for platform, length in row["counts"].items():
            counter = page.locator(f"#char-counts [data-platform={platform}]")
            expect(counter).to_have_text(f"{LABELS[platform]}: {length} / {LIMITS[platform]}")


def test_the_preview_shows_where_x_cuts_a_long_text(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = compose_page(open_page, showcase)
    page.check(f"input[name=accounts][value='{showcase.x.pk}']")
    page.check(f"input[name=accounts][value='{showcase.page.pk}']")

    page.fill("#id_text", "a" * 278 + "世界 https://example.com/menu")

    x_preview = page.locator(".preview[data-platform=x]")
    expect(x_preview.locator(".cut")).to_have_text("界 https://example.com/menu")
    expect(x_preview.locator(".preview-link")).to_have_text("Link preview: example.com")
    expect(page.locator(".preview[data-platform=facebook] .cut")).to_have_count(0)
    expect(page.locator("#char-counts [data-platform=x]")).to_have_class("counter over")


def test_attachments_show_as_thumbnails_that_reorder_and_remove(
    open_page: OpenPage,
    live_server: LiveServer,
    showcase: Showcase,
    tmp_path: Path,
) -> None:
    names = []
    for number, colour in enumerate([(200, 40, 40), (40, 160, 60), (40, 60, 200)], start=1):
        name = f"photo{number}.png"
        picture(colour, name).save(tmp_path / name)
        names.append(name)
    page = compose_page(open_page, showcase)
    page.check(f"input[name=accounts][value='{showcase.instagram.pk}']")

    page.set_input_files("#id_attachments", [str(tmp_path / name) for name in names])
    expect(page.locator("#media-list li")).to_have_count(3)
    page.get_by_role("button", name="Move photo3.png earlier").click()
    page.get_by_role("button", name="Remove photo1.png").click()

    assert page.evaluate("[...document.getElementById('id_attachments').files].map(f => f.name)") == [
        "photo3.png",
        "photo2.png",
    ]
    expect(page.locator("#media-list li")).to_have_count(2)
    expect(page.locator("#media-status")).to_have_text("photo1.png removed")
    expect(page.locator(".preview[data-platform=instagram] .preview-media img")).to_have_count(1)
    expect(page.locator(".preview[data-platform=instagram]")).to_contain_text("Carousel: 1 of 2")


def test_the_time_zone_list_is_short_searchable_and_names_the_zone_of_the_dates(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = compose_page(open_page, showcase)
    options = page.locator("#id_time_zone option")
    assert options.count() < 100
    assert page.locator("#id_time_zone option[value=Factory]").count() == 0

    page.get_by_label("Search time zones").fill("paris")

    expect(page.locator("#id_time_zone")).to_have_value("Europe/Paris")
    expect(page.locator(".zone-name")).to_have_text("Europe/Paris")
    [shown] = page.locator("#id_time_zone option:not([hidden])").all_inner_texts()
    assert shown.startswith("Paris (Europe) · UTC+0")  # +01:00 in winter, +02:00 in summer


def test_a_refused_form_keeps_its_attachments_and_sends_them_once_fixed(
    open_page: OpenPage,
    live_server: LiveServer,
    showcase: Showcase,
    tmp_path: Path,
) -> None:
    picture((200, 120, 40), "bun.png").save(tmp_path / "bun.png")
    page = compose_page(open_page, showcase)
    page.check(f"input[name=accounts][value='{showcase.x.pk}']")
    page.fill("#id_text", "Buns are back")
    page.set_input_files("#id_attachments", str(tmp_path / "bun.png"))
    page.locator(".date-rows input").first.fill("2020-01-01T09:00")

    page.get_by_role("button", name="Schedule").click()

    expect(page.locator(".errorlist")).to_contain_text("in the past")
    assert page.evaluate("document.getElementById('id_attachments').files.length") == 1
    expect(page.locator("#media-list li")).to_have_count(1)
    page.locator(".date-rows input").first.fill(f"{timezone.now().year + 1}-01-01T09:00")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url(f"{live_server.url}/")
    post = Post.objects.get(account=showcase.x, text="Buns are back")
    assert post.media.count() == 1
    assert post.entries.count() == 1


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_filled_in_post_previews_on_each_platform_and_stays_accessible(
    open_page: OpenPage,
    live_server: LiveServer,
    showcase: Showcase,
    tmp_path: Path,
    width: str,
) -> None:
    for name, colour in (("bun.png", (196, 98, 45)), ("rye.png", (92, 64, 51))):
        picture(colour, name).save(tmp_path / name)
    page = open_page(user=showcase.user, width=width)
    page.goto("/compose/")
    page.check(f"input[name=accounts][value='{showcase.x.pk}']")
    page.check(f"input[name=accounts][value='{showcase.instagram.pk}']")
    page.fill("#id_text", "Cinnamon buns are back this weekend 🥐 Pre-order: https://example.com/buns")
    page.set_input_files("#id_attachments", [str(tmp_path / "bun.png"), str(tmp_path / "rye.png")])
    page.get_by_role("button", name="Add another date").click()
    year = timezone.now().year + 1
    page.locator(".date-rows input").nth(0).fill(f"{year}-03-06T09:00")
    page.locator(".date-rows input").nth(1).fill(f"{year}-03-07T09:00")

    expect(page.locator(".preview")).to_have_count(2)
    expect(page.locator(".preview[data-platform=x] .preview-media img")).to_have_count(2)
    expect(page.locator("#x-duplicate-warning")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    save_screenshot(page, f"compose-preview-{width}")


def test_a_draft_is_composed_with_its_preview_then_scheduled_from_its_page(
    open_page: OpenPage, live_server: LiveServer, showcase: Showcase
) -> None:
    page = compose_page(open_page, showcase)
    page.check(f"input[name=accounts][value='{showcase.page.pk}']")
    page.fill("#id_text", "Sourdough class next month")
    expect(page.locator(".preview[data-platform=facebook] .preview-text")).to_have_text(
        "Sourdough class next month"
    )

    page.get_by_role("button", name="Save as draft").click()

    page.wait_for_url(f"{live_server.url}/")
    draft = Post.objects.get(text="Sourdough class next month")
    assert not draft.entries.exists()
    card = page.locator(f"#post-{draft.pk}")
    expect(card.locator(".badge")).to_have_text("Draft")
    card.get_by_role("link", name="Edit").click()
    when = f"{timezone.now().year + 1}-02-01T18:00"
    page.locator("#add-dates .date-rows input").first.fill(when)
    page.locator("#add-dates").get_by_role("button", name="Schedule").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_text("Scheduled.")).to_be_visible()
    [entry] = draft.entries.all()
    assert entry.status == "pending"
    assert timezone.localtime(entry.scheduled_at).strftime("%Y-%m-%dT%H:%M") == when
    expect(page.locator(f"#post-{draft.pk} .badge.status-pending")).to_be_visible()
