"""The sandbox's X failing in each way, each failure aimed at one post of a burst: every entry ends
settled, none doubled, and each took the path its failure calls for."""

from __future__ import annotations

from typing import Any

from platforms.models import SocialAccount
from publishing.models import ScheduleEntry
from tests.chaos.conftest import CHAOS, Burst, StartProcess
from tests.integration.conftest import SHORT_INTERVALS

pytestmark = CHAOS
Status = ScheduleEntry.Status
# The X client waits SOSOCIAL_HTTP_READ_TIMEOUT for an answer (4 s here, 30 s in production), then
# ends the attempt with the request sent: the outcome is unknown.
TIME_LIMIT = float(SHORT_INTERVALS["SOSOCIAL_HTTP_READ_TIMEOUT"])


def outcomes(entry: ScheduleEntry) -> list[str]:
    return list(entry.publish_attempts.order_by("pk").values_list("outcome", flat=True))


def test_each_kind_of_platform_failure_settles_without_duplicates(
    alices_x: SocialAccount,
    second_x: SocialAccount,
    burst: Burst,
    processes: StartProcess,
) -> None:
    old_token = alices_x.access_token
    entries = burst.schedule(alices_x, 20, in_seconds=2.5)
    [revoked] = burst.schedule(second_x, 1, in_seconds=2.5)
    ref = [entry.reference for entry in entries]
    faults: dict[int, list[dict[str, Any]]] = {
        # A 5xx on the create is never believed: checked on the timeline, then sent again.
        0: [{"kind": "server_error"}],
        1: [{"kind": "server_error", "status": s} for s in (502, 503, 500, 504)],  # every attempt
        2: [{"kind": "rate_limit", "retry_after_seconds": 3}],
        3: [{"kind": "slow", "seconds": TIME_LIMIT + 2}],  # times out after committing
        4: [{"kind": "drop_before_commit", "seconds": TIME_LIMIT + 2}],  # times out, never committed
        5: [{"kind": "commit_then_drop"}],
        6: [{"kind": "drop_before_commit"}],  # connection reset before committing
        7: [{"kind": "expired_token"}],  # refresh, then publish
        8: [{"kind": "permanent", "detail": "You are not permitted to perform this action."}],
        9: [{"kind": "permanent"}],  # "duplicate content": checked, not believed
        10: [{"kind": "commit_then_error"}],  # made, then a 503: found by reconciliation
    }
    for index, kinds in faults.items():
        for fault in kinds:
            burst.control.fault("x", match_text=entries[index].post.text, **fault)
    burst.control.fault("x", "revoked_token", match_text=revoked.post.text)  # the refresh fails too
    processes("worker")
    processes("beat")

    everything = [*entries, revoked]
    outcome = burst.settled(everything, timeout=45)

    assert burst.control.faults() == []  # every failure really happened, to the post it was aimed at
    by_ref = {
        entry.reference: entry for entry in ScheduleEntry.objects.filter(pk__in=[e.pk for e in everything])
    }
    failed = {entry.reference for entry in outcome.failed}
    assert failed == {ref[1], ref[8]}
    assert outcome.paused == [by_ref[revoked.reference]]  # the account needs reconnecting: it waits
    assert "Gave up after 4 attempts" in by_ref[ref[1]].last_error_message
    assert outcomes(by_ref[ref[1]]) == ["unconfirmed"] * 4
    assert outcomes(by_ref[ref[0]]) == ["unconfirmed", "published"]
    assert outcomes(by_ref[ref[8]]) == ["failed"]
    assert "X does not allow this post" in by_ref[ref[8]].last_error_message
    assert outcomes(by_ref[ref[9]]) == ["unconfirmed", "published"]
    assert outcomes(by_ref[ref[10]]) == ["unconfirmed"]
    assert by_ref[ref[10]].status == Status.PUBLISHED
    # The 429's reset (3 s) beat the first retry delay (1 s).
    limited = list(by_ref[ref[2]].publish_attempts.order_by("number"))
    assert [a.outcome for a in limited] == ["retry", "published"]
    gap = (limited[1].started_at - limited[0].finished_at).total_seconds()
    assert gap >= 2.5, gap
    # Timeouts and drops: unconfirmed, then reconciled from the platform, never blindly resent.
    for index in (3, 5):
        assert outcomes(by_ref[ref[index]]) == ["unconfirmed"], index
    for index in (4, 6):
        assert outcomes(by_ref[ref[index]]) == ["unconfirmed", "published"], index
    assert by_ref[ref[7]].status == Status.PUBLISHED
    alices_x.refresh_from_db()
    assert alices_x.access_token != old_token
    assert alices_x.status == SocialAccount.Status.CONNECTED
    second_x.refresh_from_db()
    assert second_x.status == SocialAccount.Status.NEEDS_RECONNECT
    assert by_ref[revoked.reference].last_error_message
    assert {entry.reference for entry in outcome.published} == {
        r for i, r in enumerate(ref) if i not in (1, 8)
    }
    assert not outcome.unconfirmed
