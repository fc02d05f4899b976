"""Two dates of one post, the first published, faults on the second: the second is marked published
only when its own post is on the platform. A search by text alone cannot tell the two dates apart (the
same text, minutes apart), so the first date's post must never be taken for the second's.

Judged from the sandbox's own record of posts.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from platforms.models import SocialAccount
from publishing import services
from publishing.models import Post, ScheduleEntry
from sandbox.client import SandboxClient
from tests.chaos.conftest import CHAOS, StartProcess, wait_settled
from tests.chaos.test_ambiguous_answers import account_on, photo, sandbox_config  # noqa: F401
from tests.integration.conftest import wait_for

pytestmark = CHAOS
Status = ScheduleEntry.Status


def two_dates(account: SocialAccount, text: str, *, apart: float, media: bool = False) -> Post:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    return services.compose_post(
        owner_id=account.owner_id,
        account=account,
        text=text,
        when=[soon, soon + timedelta(seconds=apart)],
        options={},
        media=[SimpleUploadedFile(name, content, content_type=kind) for name, content, kind in [photo()]]
        if media
        else [],
    )


def dates(post: Post) -> tuple[ScheduleEntry, ScheduleEntry]:
    first, second = post.entries.order_by("scheduled_at")
    return first, second


def live_ids(control: SandboxClient, account: SocialAccount, text: str) -> set[str]:
    posts = control.posts(account.platform, account_id=account.platform_account_id, status="published")
    return {str(post["id"]) for post in posts if post["text"] == text}


def first_date_published(post: Post) -> None:
    wait_for(lambda: dates(post)[0].status == Status.PUBLISHED, timeout=30, what="the first date")


def test_facebooks_duplicate_refusal_of_a_second_date_never_reads_as_published(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    # Facebook refuses the same status posted twice in a row (#506): the second date cannot go out,
    # and the first date's post, found by its text, is not the second's.
    account = account_on("facebook", alice, control)
    text = "On Facebook, one text at two dates"
    post = two_dates(account, text, apart=4)
    processes("worker")
    processes("beat")

    wait_settled(list(post.entries.all()), timeout=90)
    first, second = dates(post)
    assert first.status == Status.PUBLISHED
    assert live_ids(control, account, text) == {first.platform_post_id}
    assert second.status == Status.FAILED, (second.status, second.last_error_message)
    assert second.platform_post_id == ""


def test_an_instagram_second_date_is_published_with_its_own_post_or_not_at_all(
    alice: User, control: SandboxClient, processes: StartProcess
) -> None:
    account = account_on("instagram", alice, control)
    made = two_dates(account, "On Instagram, a second date the platform made", apart=6, media=True)
    lost = two_dates(account, "On Instagram, a second date the platform never made", apart=12, media=True)
    processes("worker")
    processes("beat")

    # The publish of `made`'s second date commits and its answer is lost.
    first_date_published(made)
    control.fault("instagram", "commit_then_drop", "publish")
    wait_settled(list(made.entries.all()), timeout=90)
    first, second = dates(made)
    assert (first.status, second.status) == (Status.PUBLISHED, Status.PUBLISHED)
    assert first.platform_post_id != second.platform_post_id
    assert live_ids(control, account, made.text) == {first.platform_post_id, second.platform_post_id}

    # The publish of `lost`'s second date is dropped before Instagram acts on it.
    first_date_published(lost)
    control.fault("instagram", "drop_before_commit", "publish")
    wait_for(lambda: dates(lost)[1].checks >= 2, timeout=60, what="two checks of the lost second date")
    time.sleep(1)
    first, second = dates(lost)
    assert live_ids(control, account, lost.text) == {first.platform_post_id}
    assert second.status != Status.PUBLISHED, second.platform_post_id
    assert second.platform_post_id == ""
