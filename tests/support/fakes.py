"""An in-process platform client for unit tests: scripted outcomes, every call recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from itertools import count

from platforms import base


class FakeClient:
    def __init__(self) -> None:
        self.outcomes: list[base.PublishResult | Exception] = []
        self.publish_calls: list[base.PublishRequest] = []
        self.reconcile_calls: list[base.PublishRequest] = []
        # Scripted answers of `prepare`, one per call (Prepared() once they run out), and its calls.
        self.prepare_outcomes: list[base.Prepared | Exception] = []
        self.prepare_calls: list[base.PublishRequest] = []
        # Handles `prepare` checkpoints on each call (an Instagram container id, an X media id).
        self.prepare_progress: Mapping[str, str] | None = None
        self.reconcile_answer = base.Reconciliation(status=base.ReconcileStatus.NOT_PUBLISHED)
        self.refresh_answer: base.TokenGrant | Exception = base.TokenGrant("fresh-access", "fresh-refresh")
        self.checkpoints: list[Mapping[str, str]] = []
        self.progress_to_save: Mapping[str, str] | None = None
        self._ids = count(1)

    def validate(
        self, *, text: str, media: Sequence[base.MediaItem], options: Mapping[str, str]
    ) -> list[str]:
        return []

    def prepare(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.Prepared:
        self.prepare_calls.append(request)
        if self.prepare_progress is not None:
            checkpoint(self.prepare_progress)
            self.checkpoints.append(self.prepare_progress)
        outcome = self.prepare_outcomes.pop(0) if self.prepare_outcomes else base.Prepared()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def publish(self, request: base.PublishRequest, *, checkpoint: base.Checkpoint) -> base.PublishResult:
        self.publish_calls.append(request)
        if self.progress_to_save is not None:
            checkpoint(self.progress_to_save)
            self.checkpoints.append(self.progress_to_save)
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is not None:
            return outcome
        post_id = f"fake-{next(self._ids)}"
        return base.PublishResult(
            platform_post_id=post_id, url=f"https://fake.example/{post_id}", http_status=201
        )

    def reconcile(self, request: base.PublishRequest, *, since: datetime) -> base.Reconciliation:
        self.reconcile_calls.append(request)
        return self.reconcile_answer

    def refresh_token(self, account: base.AccountCredentials) -> base.TokenGrant:
        if isinstance(self.refresh_answer, Exception):
            raise self.refresh_answer
        return self.refresh_answer

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return f"https://fake.example/authorize?state={state}"

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[base.ConnectedAccount]:
        if code != "good-code":
            raise base.ReconnectNeeded("The platform refused the login.", code="bad_code")
        return [base.ConnectedAccount(account_id="fake-1", display_name="Fake", access_token="tok")]


def permanent(message: str = "The platform refused this post.") -> base.PermanentError:
    return base.PermanentError(message, code="fake_permanent", http_status=400)


def not_ready(seconds: float = 30) -> base.NotReady:
    return base.NotReady("The platform is processing the media.", check_in=timedelta(seconds=seconds))


def processing(seconds: float = 20) -> base.Processing:
    return base.Processing("The platform is processing the post.", check_in=timedelta(seconds=seconds))
