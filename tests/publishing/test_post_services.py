from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from publishing import services
from publishing.models import Post, ScheduleEntry
from tests.support.dates import YEAR, add_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_x")]
WHEN = datetime(YEAR, 1, 1, 9, 0, tzinfo=UTC)


def test_a_post_can_be_edited_while_nothing_has_gone_out(alices_post: Post) -> None:
    add_entry(alices_post, "pending")

    services.update_post(post=alices_post, text="Better words")

    assert Post.objects.get(pk=alices_post.pk).text == "Better words"


@pytest.mark.parametrize("status", ["published", "publishing", "unconfirmed"])
def test_a_post_with_a_date_out_or_in_flight_cannot_be_edited(alices_post: Post, status: str) -> None:
    add_entry(alices_post, status)

    with pytest.raises(ValidationError) as refused:
        services.update_post(post=alices_post, text="Too late")

    assert "cannot be edited" in refused.value.message_dict["post"][0]
    assert Post.objects.get(pk=alices_post.pk).text == "Hello from Alice"


def test_duplicating_copies_the_content_but_no_dates(alices_post: Post) -> None:
    add_entry(alices_post, "published")

    copy = services.duplicate_post(post=alices_post)

    assert (copy.text, copy.account_id, copy.entries.count()) == (
        "Hello from Alice",
        alices_post.account_id,
        0,
    )


def test_deleting_a_post_removes_its_waiting_dates(alices_post: Post) -> None:
    entry = add_entry(alices_post, "pending")

    services.delete_post(post=alices_post)

    assert not ScheduleEntry.objects.filter(pk=entry.pk).exists()


def test_a_post_being_published_cannot_be_deleted(alices_post: Post) -> None:
    add_entry(alices_post, "publishing")

    with pytest.raises(ValidationError):
        services.delete_post(post=alices_post)
    assert Post.objects.filter(pk=alices_post.pk).exists()


def test_an_unknown_time_zone_is_refused_on_its_field(alice: User) -> None:
    with pytest.raises(ValidationError) as refused:
        services.set_time_zone(user_id=alice.pk, time_zone="Mars/Olympus")

    assert "time_zone" in refused.value.message_dict
    assert services.set_time_zone(user_id=alice.pk, time_zone="Europe/Paris").time_zone == "Europe/Paris"
