"""Names for pytest-django fixtures that have no public type."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

# django_capture_on_commit_callbacks(execute=True) -> context manager yielding the callbacks
RunOnCommit = Callable[..., AbstractContextManager[list[Callable[[], object]]]]
