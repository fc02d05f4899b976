"""No platform token, app secret or secret proof appears in any log record, even at DEBUG.

urllib3 logs every request line (with its query) at DEBUG, so this catches a secret in a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from platforms.models import SocialAccount
from publishing import pipeline, preparation, services
from publishing.models import ScheduleEntry
from publishing.preparation import PrepareOutcome
from tests.support.logins import connect
from tests.support.media import image_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def proof(token: str) -> str:
    secret = settings.SOSOCIAL_PLATFORMS["facebook"]["app_secret"]
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )


def schedule_now(account: SocialAccount, **kwargs: object) -> ScheduleEntry:
    post = services.compose_post(
        owner_id=account.owner_id,
        account=account,
        text=f"Fresh bread on {account.platform}",
        when=[datetime.now(UTC) + timedelta(minutes=30)],
        **kwargs,  # type: ignore[arg-type]
    )
    entry = post.entries.get()
    ScheduleEntry.objects.filter(pk=entry.pk).update(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    entry.refresh_from_db()
    return entry


@pytest.mark.usefixtures("pointed_at_sandbox")
@pytest.mark.parametrize(
    ("platform", "media"),
    [("facebook", ()), ("instagram", (("bread.jpg", image_bytes("JPEG", (400, 400))),))],
)
def test_connecting_publishing_and_reconciling_on_meta_logs_no_secret_at_debug(
    alice: User, caplog: pytest.LogCaptureFixture, platform: str, media: tuple[tuple[str, bytes], ...]
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = Client()
    browser.force_login(alice)
    connect(browser, platform)
    account = SocialAccount.objects.filter(owner=alice, platform=platform).first()
    assert account is not None
    entry = schedule_now(account, media=[SimpleUploadedFile(name, content) for name, content in media])
    if media:  # prepared ahead first, as the prepare queue does: one step a call until ready
        for _step in range(20):
            step = preparation.prepare_entry(entry_id=entry.pk, dispatch_version=entry.dispatch_version)
            if step == PrepareOutcome.READY:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the media was never ready")

    published = pipeline.publish_entry(entry_id=entry.pk, dispatch_version=entry.dispatch_version)
    ScheduleEntry.objects.filter(pk=entry.pk).update(status="unconfirmed", platform_state={})
    reconciled = pipeline.reconcile_entry(entry_id=entry.pk)

    assert published == pipeline.PublishOutcome.PUBLISHED
    assert reconciled is not None
    text = logged_text(caplog)
    assert "urllib3.connectionpool" in text  # the request lines were captured
    app_secret = settings.SOSOCIAL_PLATFORMS["facebook"]["app_secret"]
    for secret in (account.access_token, proof(account.access_token), app_secret):
        assert secret not in text
    for name in ("access_token=", "appsecret_proof=", "client_secret=", "code="):
        assert name not in text


def test_a_read_through_responses_sends_no_secret_in_any_url(caplog: pytest.LogCaptureFixture) -> None:
    from platforms.instagram import InstagramClient

    caplog.set_level(logging.DEBUG)
    graph = settings.SOSOCIAL_PLATFORMS["instagram"]["graph_url"]
    version = settings.SOSOCIAL_PLATFORMS["instagram"]["api_version"]
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{graph}/{version}/c-1", json={"status_code": "FINISHED"})
        InstagramClient().get("c-1", token="very-secret-page-token", params={"fields": "status_code"})
        [call] = mock.calls

    assert "very-secret-page-token" not in str(call.request.url)
    assert "appsecret_proof" not in str(call.request.url)
    assert "very-secret-page-token" not in logged_text(caplog)
