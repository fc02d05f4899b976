"""The server's counter against the shared table of tricky texts (the compose page is checked against
the same table in tests/browser/test_compose.py), and the counter agreeing with each client's check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from platforms import facebook, instagram, tiktok, x
from platforms.base import MediaItem
from platforms.counting import clean_text, count_text

TABLE: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "text_counts.json").read_text()
)["texts"]
PLATFORMS = ("x", "facebook", "instagram", "tiktok")


@pytest.mark.parametrize("row", TABLE, ids=[row["name"] for row in TABLE])
def test_it_counts_each_tricky_text_as_the_table_says(row: dict[str, Any]) -> None:
    text = clean_text(row["text"])

    assert {platform: count_text(platform, text).length for platform in PLATFORMS} == row["counts"]


def test_a_flag_counts_two_on_x_and_four_utf16_units_on_tiktok() -> None:
    assert count_text("x", "🇫🇷").length == 2
    assert count_text("tiktok", "🇫🇷").length == 4


def test_a_text_over_the_limit_says_where_it_is_cut() -> None:
    text = "a" * 270 + " 世界世界世界"  # 271 + 6 * 2 = 283 on X

    counted = count_text("x", text)

    assert (counted.length, counted.over) == (283, True)
    assert (
        x.weighted_length(text[: counted.fits])
        <= x.MAX_WEIGHTED_LENGTH
        < x.weighted_length(text[: counted.fits + 1])
    )


def test_a_tiktok_photo_post_gets_the_longer_description_limit() -> None:
    assert count_text("tiktok", "hi").limit == tiktok.MAX_VIDEO_TITLE
    assert count_text("tiktok", "hi", photos=True).limit == tiktok.MAX_PHOTO_DESCRIPTION


@pytest.mark.parametrize(
    ("platform", "client_limit"),
    [
        ("x", x.MAX_WEIGHTED_LENGTH),
        ("facebook", facebook.MAX_TEXT_LENGTH),
        ("instagram", instagram.MAX_CAPTION_LENGTH),
    ],
)
def test_the_counter_says_over_exactly_when_the_client_refuses_the_length(
    platform: str, client_limit: int
) -> None:
    client = {"x": x.XClient, "facebook": facebook.FacebookClient, "instagram": instagram.InstagramClient}
    media = [MediaItem(path="", url="https://example.com/a.jpg", content_type="image/jpeg")]
    for text in ("é" * client_limit, "é" * (client_limit + 1)):
        problems = client[platform]().validate(text=text, media=media, options={})
        too_long = any("allow" in problem and "characters" in problem for problem in problems)
        assert too_long == count_text(platform, text).over


def test_line_breaks_from_a_browser_count_once_and_outer_spaces_go() -> None:
    assert clean_text("  one\r\ntwo\rthree  \n") == "one\ntwo\nthree"
