"""The platform failing in each way, during one burst: every entry ends settled, none doubled."""

from __future__ import annotations

import pytest

from platforms.models import SocialAccount
from publishing.models import ScheduleEntry
from tests.chaos.conftest import StartProcess, assert_settled, schedule_burst, wait_settled
from tests.support.sink import Fault, SinkServer

pytestmark = [
    pytest.mark.integration,
    pytest.mark.chaos,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_sweep"),
]
Status = ScheduleEntry.Status
READ_TIMEOUT = 1.0


@pytest.fixture
def platform_env(sink: SinkServer) -> dict[str, str]:
    return {
        "SOSOCIAL_PLATFORM_CLIENTS": '{"x": "tests.support.sink.SinkClient"}',
        "SOSOCIAL_SINK_URL": sink.url,
        "SOSOCIAL_SINK_READ_TIMEOUT": str(READ_TIMEOUT),
    }


def outcomes(entry: ScheduleEntry) -> list[str]:
    return list(entry.publish_attempts.order_by("pk").values_list("outcome", flat=True))


def test_each_kind_of_platform_failure_settles_without_duplicates(
    alices_x: SocialAccount, second_x: SocialAccount, sink: SinkServer, processes: StartProcess
) -> None:
    entries = schedule_burst(alices_x, 20, in_seconds=2.5)
    [revoked] = schedule_burst(second_x, 1, in_seconds=2.5)
    ref = [entry.reference for entry in entries]
    faults = {
        0: [Fault("status", status=503)],
        1: [Fault("status", status=s) for s in (502, 503, 500, 504)],  # every attempt fails
        2: [Fault("status", status=429, headers={"Retry-After": "3"})],
        3: [Fault("slow", seconds=READ_TIMEOUT + 1.5, commit=True)],  # timeout after committing
        4: [Fault("drop_before_commit", seconds=READ_TIMEOUT + 0.5)],  # timeout, never committed
        5: [Fault("commit_then_drop")],
        6: [Fault("drop_before_commit")],  # connection reset before committing
        7: [Fault("status", status=401)],  # expired token: refresh, then publish
        8: [Fault("status", status=400)],  # permanent refusal
    }
    for index, kinds in faults.items():
        for fault in kinds:
            fault.reference = ref[index]
            sink.inject(fault)
    sink.inject(Fault("status", status=401, reference=revoked.reference))
    sink.inject(Fault("status", status=401, reference=revoked.reference))
    processes("worker")
    processes("beat")

    everything = [*entries, revoked]
    wait_settled(everything, timeout=45)
    outcome = assert_settled(everything, (post.reference for post in sink.posts))

    by_ref = {
        entry.reference: entry for entry in ScheduleEntry.objects.filter(pk__in=[e.pk for e in everything])
    }
    failed = {entry.reference for entry in outcome.failed}
    assert failed == {ref[1], ref[8], revoked.reference}
    assert "Gave up after 4 attempts" in by_ref[ref[1]].last_error_message
    assert outcomes(by_ref[ref[1]]) == ["retry", "retry", "retry", "failed"]
    assert outcomes(by_ref[ref[0]]) == ["retry", "published"]
    assert outcomes(by_ref[ref[8]]) == ["failed"]
    # The 429's Retry-After (3 s) beat the first retry delay (1 s).
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
    assert alices_x.access_token.endswith("-refreshed")
    second_x.refresh_from_db()
    assert second_x.status == SocialAccount.Status.NEEDS_RECONNECT
    assert {entry.reference for entry in outcome.published} == {
        r for i, r in enumerate(ref) if i not in (1, 8)
    }
    assert not outcome.unconfirmed
