from __future__ import annotations

import pytest
from celery import current_app

from publishing import dashboard


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    # The ping opens its own connection from the app's settings, so no pool needs resetting.
    monkeypatch.setitem(current_app.conf, "broker_url", "redis://127.0.0.1:1/0")  # nothing listens


def test_it_reports_that_no_worker_answered_when_none_runs() -> None:
    ping = dashboard.ping_workers(timeout=0.2)

    assert ping == dashboard.WorkerPing(workers=())
    assert not ping.answered


@pytest.mark.usefixtures("unreachable_broker")
def test_it_reports_a_broker_it_cannot_reach_instead_of_raising() -> None:
    ping = dashboard.ping_workers(timeout=0.2)

    assert not ping.answered
    assert "Error" in ping.error
