"""The pages: unread count on every page, the list (read once seen), settings with test buttons."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from notifications import services
from notifications.events import Event
from notifications.models import Delivery, Notification, NotificationPreference, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_browser(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def failure(user: User, key: str = "k") -> Notification:
    notification = services.notify(
        event=Event.DATE_FAILED,
        user_id=user.pk,
        incident_key=key,
        context={"entry_id": 4, "post_text": "Hello", "reason": "Refused."},
    )
    assert notification is not None
    return notification


def test_every_page_shows_the_unread_count(alices_browser: Client, alice: User) -> None:
    failure(alice, "a")
    failure(alice, "b")

    page = alices_browser.get("/").content.decode()

    assert '<strong class="unread-count">(2)</strong>' in page
    assert 'hx-get="/notifications/badge/"' in page


def test_the_list_shows_the_action_and_marks_what_it_showed_read(alices_browser: Client, alice: User) -> None:
    notification = failure(alice)

    page = alices_browser.get("/notifications/").content.decode()

    assert "New · " in page
    assert 'href="/?status=failed#entry-4"' in page
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "unread-count" not in alices_browser.get("/notifications/badge/").content.decode()


def test_the_list_shows_only_your_own(alices_browser: Client, bob: User) -> None:
    failure(bob)

    assert "Nothing to report." in alices_browser.get("/notifications/").content.decode()


def test_settings_save_which_event_goes_where(alices_browser: Client, alice: User) -> None:
    response = alices_browser.post(
        "/notifications/settings/",
        {"date_failed-in_app": "on", "date_failed-email": "on", "date_failed-email_mode": "digest"},
    )

    assert response.status_code == 302
    saved = NotificationPreference.objects.get(user=alice, event=Event.DATE_FAILED)
    assert (saved.in_app, saved.email, saved.webhook, saved.email_digest) == (True, True, False, True)
    assert not NotificationPreference.objects.get(user=alice, event=Event.ACCOUNT_NEEDS_RECONNECT).email


def test_the_email_test_button_queues_a_test_email(alices_browser: Client, alice: User) -> None:
    alices_browser.post("/notifications/settings/test/", {"channel": "email"})

    delivery = Delivery.objects.get(notification__user=alice)
    assert (delivery.channel, delivery.notification.event) == ("email", Event.TEST)


def test_adding_a_webhook_shows_its_secret_once(alices_browser: Client, alice: User) -> None:
    response = alices_browser.post(
        "/notifications/webhooks/", {"url": "https://hooks.example.com/a", "format": "json"}, follow=True
    )

    endpoint = WebhookEndpoint.objects.get(user=alice)
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in alices_browser.get("/notifications/settings/").content.decode()


def test_a_bad_webhook_url_is_a_form_error(alices_browser: Client) -> None:
    response = alices_browser.post("/notifications/webhooks/", {"url": "not a url", "format": "json"})

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_caught_mail_page_exists_only_in_development(
    alices_browser: Client, settings: Settings, tmp_path: Path
) -> None:
    assert alices_browser.get("/notifications/dev-mail/").status_code == 404
    settings.DEBUG = True
    settings.SOSOCIAL_MAIL_DIR = tmp_path
    (tmp_path / "1-1.eml").write_bytes(
        b"From: SoSocial <sosocial@localhost>\r\nTo: alice@example.com\r\nSubject: Not published\r\n\r\n"
        b"Fix it: http://127.0.0.1:8000/?status=failed\r\n"
    )

    listing = alices_browser.get("/notifications/dev-mail/").content.decode()
    opened = alices_browser.get("/notifications/dev-mail/1-1.eml/").content.decode()

    assert "Not published" in listing
    assert 'href="http://127.0.0.1:8000/?status=failed"' in opened
