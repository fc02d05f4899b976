from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from notifications import services
from tests.support.receiver import WebhookReceiver

DOCS = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver().start()
    yield server
    server.stop()


def documented_verify() -> Callable[..., bool]:
    """The `verify` function exactly as docs/notifications.md gives it to webhook receivers."""
    text = DOCS.read_text()
    section = text.split("### Checking the signature", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert snippet is not None, "docs/notifications.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(snippet.group(1), namespace)  # noqa: S102 - our own documentation, under test
    verify: Callable[..., bool] = namespace["verify"]
    return verify


def choose_channels(
    user: User,
    event: str,
    *,
    in_app: bool = False,
    email: bool = False,
    webhook: bool = False,
    email_digest: bool = False,
) -> None:
    """Sets the user's preference for one event: every channel named here, and none other."""
    services.set_preference(
        user_id=user.pk, event=event, in_app=in_app, email=email, webhook=webhook, email_digest=email_digest
    )
