"""The worker keeps the garbage collector off its start-up objects (sosocial/celery.py).

A full collection over them paused a pool process for 80-120 ms mid-publish (docs/benchmarks.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from celery.signals import worker_init, worker_process_init
from celery.utils.dispatch.signal import Signal

from sosocial.celery import freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def receivers(signal: Signal) -> list[object]:
    return [receiver() if callable(receiver) else receiver for _, receiver in signal.receivers]


def test_the_main_process_and_every_pool_process_freeze_their_start_up_objects() -> None:
    assert freeze_startup_objects in receivers(worker_init)  # before the pool forks
    assert freeze_startup_objects in receivers(worker_process_init)  # in each child


def test_freezing_leaves_what_is_loaded_out_of_later_collections(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0

    freeze_startup_objects()

    assert gc.get_freeze_count() > 10_000  # Django, Celery and the clients are loaded here
