"""Reading what can be read of a media file before scheduling (dimensions, with Pillow)."""

from __future__ import annotations

from PIL import Image, UnidentifiedImageError


def image_size(path: str) -> tuple[int, int] | None:
    """Width and height of the image at `path`, or None when it cannot be read as an image."""
    if not path:
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
            return width, height
    except (OSError, UnidentifiedImageError):
        return None
