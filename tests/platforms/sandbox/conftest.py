from __future__ import annotations

from collections.abc import Iterator

import pytest

from platforms.sandbox import SandboxServer
from tests.platforms.sandbox.helpers import FAST, Control


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(config=FAST).start()
    yield server
    server.stop()


@pytest.fixture
def control(sandbox: SandboxServer) -> Control:
    return Control(sandbox.url)
