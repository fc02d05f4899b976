"""Reading what can be read of a media file before scheduling (name, size, dimensions)."""

from __future__ import annotations

import os

from PIL import Image, UnidentifiedImageError

from platforms.base import MediaItem


def media_name(item: MediaItem) -> str:
    """How a message names the file: its file name, else its URL's last part, else its type."""
    return os.path.basename(item.path or item.url) or item.content_type


def is_video(item: MediaItem) -> bool:
    return item.content_type.startswith("video/")


def is_public_url(url: str) -> bool:
    """Meta fetches media itself, so it needs a web address, not a local path."""
    return url.startswith(("https://", "http://"))


def file_size(path: str) -> int | None:
    """Bytes in the file at `path`, or None when there is no such file."""
    try:
        return os.path.getsize(path) if path else None
    except OSError:
        return None


def image_size(path: str) -> tuple[int, int] | None:
    """Width and height of the image at `path`, or None when it cannot be read as an image."""
    if not path:
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
            return width, height
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
