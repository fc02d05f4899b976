"""How long each platform says a text is, against its limit: the one counter behind both the compose
page's live counters and each client's own check, so the two can never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from platforms import facebook, instagram, tiktok, x
from platforms.base import Platform


@dataclass(frozen=True)
class TextCount:
    platform: str
    length: int
    limit: int
    # Code points of the text that fit within the limit (the whole text when it fits).
    fits: int

    @property
    def over(self) -> bool:
        return self.length > self.limit


def _measure(platform: str, *, photos: bool) -> tuple[Callable[[str], int], int]:
    if platform == Platform.X:
        return x.weighted_length, x.MAX_WEIGHTED_LENGTH
    if platform == Platform.TIKTOK:
        # A photo post's text is its description; a video's is its caption (title): limits differ.
        return tiktok.utf16_length, tiktok.MAX_PHOTO_DESCRIPTION if photos else tiktok.MAX_VIDEO_TITLE
    if platform == Platform.INSTAGRAM:
        return len, instagram.MAX_CAPTION_LENGTH
    return len, facebook.MAX_TEXT_LENGTH


def count_text(platform: str, text: str, *, photos: bool = False) -> TextCount:
    """`text` measured as `platform` measures it; `photos` for a TikTok post of photos (no video)."""
    measure, limit = _measure(platform, photos=photos)
    length = measure(text)
    fits = len(text)
    if length > limit:
        # The longest prefix within the limit; lengths only grow as the prefix grows.
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if measure(text[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        fits = low
    return TextCount(platform=platform, length=length, limit=limit, fits=fits)


def clean_text(raw: str) -> str:
    """A post's text as SoSocial stores and counts it: one "\\n" per line break, no outer whitespace.

    Browsers send a textarea's line breaks as "\\r\\n"; counting those as two would disagree with what
    the person sees, and the platforms count one.
    """
    return raw.replace("\r\n", "\n").replace("\r", "\n").strip()
