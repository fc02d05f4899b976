"""The platform boundary: what the publishing pipeline hands a client, and what it gets back.

Plain types only: a client never sees a model and never imports `publishing`. Errors say what the
caller must do next, not what went wrong inside the client.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Platform(enum.StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    X = "x"
    TIKTOK = "tiktok"


@dataclass(frozen=True)
class AccountCredentials:
    platform: str
    account_id: str
    access_token: str
    refresh_token: str = ""
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class ConnectedAccount:
    """An account the user may connect, as the platform's login returned it."""

    account_id: str
    display_name: str
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TokenGrant:
    """New tokens from a refresh; store them atomically (refresh tokens may rotate)."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class MediaItem:
    url: str
    content_type: str
    path: str = ""


@dataclass(frozen=True)
class PublishRequest:
    """One scheduled date of one post, as the platform needs it.

    `reference` is stable across attempts (it names the schedule entry), so a client can recognise
    its own earlier attempt when reconciling. `progress` is what the client saved with `checkpoint`
    during an earlier attempt (an Instagram container id, a TikTok publish_id).
    """

    reference: str
    account: AccountCredentials
    text: str
    scheduled_at: datetime
    media: tuple[MediaItem, ...] = ()
    # Per-platform choices the user made (TikTok "privacy_level", Instagram "kind": "reel", ...).
    options: Mapping[str, str] = field(default_factory=dict)
    progress: Mapping[str, str] = field(default_factory=dict)
    # Platform post ids already recorded for OTHER dates on this account: reconciliation by text
    # never answers with one of them (two dates of one post share their text).
    taken_post_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PublishResult:
    platform_post_id: str
    url: str
    http_status: int | None = None


# Called by a client with handles it must find again after a crash; persisted before it returns.
Checkpoint = Callable[[Mapping[str, str]], None]

# What a client checkpoints just before the first call of this date that can publish: the moment
# (ISO 8601, UTC) this date's own attempts began to reach the platform. A post found by its text
# counts as this date's only if the platform made it after that moment, so a date never claims
# another date's post of the same text, and with no moment saved nothing of this date was sent.
SENT_AT = "sent_at"
# Platforms stamp posts with their own clock, to the second: this date's own post can look up to
# this much older than the moment saved before sending it.
CLOCK_SKEW = timedelta(seconds=2)


def mark_sent(request: PublishRequest, checkpoint: Checkpoint, *, now: datetime | None = None) -> None:
    """Save when this date first reached for the platform (kept across attempts: the first one's
    post may appear late, so later searches still start from it)."""
    if not sent_at(request.progress):
        checkpoint({SENT_AT: (now or datetime.now(UTC)).isoformat()})


def sent_at(progress: Mapping[str, str]) -> datetime | None:
    """When this date's first publishing call was sent; None when none was ever sent."""
    return parse_moment(progress.get(SENT_AT, ""))


def parse_moment(raw: str) -> datetime | None:
    """An ISO 8601 moment saved in progress; None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def search_from(request: PublishRequest, since: datetime) -> datetime | None:
    """Where a search by text for this date's post starts: never before its own first send; None
    when nothing of this date was ever sent (so there is nothing to find)."""
    moment = sent_at(request.progress)
    if moment is None:
        return None
    return max(since, moment - CLOCK_SKEW)


@dataclass(frozen=True)
class Prepared:
    """The post's media is on the platform and processed: only the final, publishing call is left.

    `expires_at`: the prepared media must be published before this moment (the platform discards it
    after); None when nothing was prepared (nothing to prepare, or a platform that publishes as soon
    as the upload ends, like TikTok)."""

    expires_at: datetime | None = None


class ReconcileStatus(enum.StrEnum):
    PUBLISHED = "published"  # the post exists on the platform: `result` says as what
    NOT_PUBLISHED = "not_published"  # the platform certainly has no such post: safe to send again
    UNKNOWN = "unknown"  # the platform cannot tell: a person must look


@dataclass(frozen=True)
class Reconciliation:
    status: ReconcileStatus
    result: PublishResult | None = None
    message: str = ""
    # UNKNOWN that no later check can turn into an answer (nothing to look the post up by): the
    # person is asked now instead of after the whole checking window.
    final: bool = False


class PlatformError(Exception):
    """Base of every error a client raises. `message` is written for the person who scheduled."""

    def __init__(self, message: str, *, code: str = "", http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class RetryableError(PlatformError):
    """The platform certainly did not act; try again, not before `retry_at` if it is given."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        http_status: int | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        super().__init__(message, code=code, http_status=http_status)
        self.retry_at = retry_at


class PermanentError(PlatformError):
    """Trying again cannot help (bad content, policy, missing permission): tell the user why."""


class ReconnectNeeded(PermanentError):
    """The account's authorisation is gone: the user must reconnect it before anything publishes."""


class TokenExpired(PlatformError):
    """The access token is expired or rejected but may be refreshable: refresh, then retry once."""


class OutcomeUnknown(PlatformError):
    """The request may have reached the platform: never send again before reconciling."""


class NotReady(PlatformError):
    """The platform is still processing this post's media; nothing was published.

    Its handles are checkpointed: call the same method again (with the saved progress) after
    `check_in`. Raised by `prepare` while the media processes, and by `publish` when the media was
    not ready at the date's time (the date goes back to preparing; no attempt is spent)."""

    def __init__(self, message: str, *, check_in: timedelta, code: str = "") -> None:
        super().__init__(message, code=code)
        self.check_in = check_in


class Processing(PlatformError):
    """The publishing call was accepted and the platform is processing the post (TikTok, a Facebook
    video): it goes live, or fails, on its own. Its handles are checkpointed; call `publish` again
    after `check_in` and it reads the status (one call, no upload) instead of sending again."""

    def __init__(self, message: str, *, check_in: timedelta, code: str = "") -> None:
        super().__init__(message, code=code)
        self.check_in = check_in


class PlatformClient(Protocol):
    def validate(self, *, text: str, media: Sequence[MediaItem], options: Mapping[str, str]) -> list[str]:
        """Problems that would make the platform refuse this post, in words a user can act on.

        Pure (no network): run when the post is scheduled, so it fails then, not at publish time.
        """
        ...

    def prepare(self, request: PublishRequest, *, checkpoint: Checkpoint) -> Prepared:
        """One step of getting the post's media ready ahead of its date; never publishes, never sleeps.

        Uploads or creates what the final call needs (checkpointing its handles) or reads its
        status once; raises NotReady(check_in) while the platform processes, or an error kind (a
        PermanentError here fails the date before its time, with the platform's reason). Returns
        Prepared() at once when there is nothing to prepare."""
        ...

    def publish(self, request: PublishRequest, *, checkpoint: Checkpoint) -> PublishResult:
        """Publish or raise one of the PlatformError kinds; never sleeps waiting on the platform.

        With prepared handles in `request.progress`, only the final call is made. Media not ready:
        NotReady. Accepted but still processing after the call: Processing."""
        ...

    def reconcile(self, request: PublishRequest, *, since: datetime) -> Reconciliation:
        """Did an earlier attempt of this request (made after `since`) go out, and as what?"""
        ...

    def refresh_token(self, account: AccountCredentials) -> TokenGrant:
        """Exchange the refresh token for new tokens, or raise ReconnectNeeded."""
        ...

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        """Where to send the user to log in with the platform (PKCE where the platform has it)."""
        ...

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> list[ConnectedAccount]:
        """Exchange the callback's code for the accounts (Pages, IG accounts, the X/TikTok user)."""
        ...
