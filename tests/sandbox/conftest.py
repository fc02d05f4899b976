from __future__ import annotations

from typing import Any

import pytest

# Short delays so flows that wait finish quickly; tests that need time to pass move the clock.
FAST = {
    "facebook_video_seconds": 0.2,
    "instagram_image_seconds": 0.2,
    "instagram_video_seconds": 0.4,
    "x_processing_seconds": 0.3,
    "tiktok_processing_seconds": 0.2,
    "tiktok_moderation_seconds": 0.3,
}


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return FAST
