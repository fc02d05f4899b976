"""What the Facebook and Instagram clients share: both speak Meta's Graph API.

One Graph error envelope, one set of error codes and usage headers, one Facebook Login (code →
short-lived user token → long-lived user token → Page tokens), and one
way to call the Graph: every request goes through `platforms.http.send`, so transport failures are
already RetryableError/OutcomeUnknown; error statuses are sorted by `classify_error`, the one place
that reads Meta's errors. What each code means and why it is sorted so: docs/platforms.md,
Facebook and Instagram.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from django.conf import settings

from platforms import http
from platforms.base import (
    AccountCredentials,
    OutcomeUnknown,
    PermanentError,
    PlatformError,
    PublishRequest,
    ReconnectNeeded,
    RetryableError,
    TokenGrant,
)

logger = logging.getLogger(__name__)

JSON = dict[str, Any]

DEFAULT_AUTHORIZE_URL = "https://www.facebook.com"
# Both lists are Graph edges with default page sizes of 25; more Pages or posts than this since the
# scheduled time is far beyond one SoSocial user, and a cap keeps a publish inside its time limit.
MAX_LISTING_PAGES = 5

# -- error codes (Meta's "Handling Errors" and Instagram "Error Codes" pages) --------------------------
TRANSIENT_CODES = frozenset({1, 2, -1, -2, 24})
# 4 app, 17 user, 32 Page-with-user-token, 341 app limit, 613 custom, 80001 BUC Pages, 80002 BUC IG.
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002})
SESSION_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
DUPLICATE_CODE = 506
INVALID_PARAMETER_CODE = 100
POLICY_BLOCK_CODE = 368
NOT_READY_CODE = 9007  # IG: media_publish before the container is FINISHED: poll, don't fail
PUBLISH_QUOTA_CODE = 9
MEDIA_FETCH_CODE = 9004

# Meta names no time for these; one hour is what Mixpost waits for app-level throttling.
DEFAULT_THROTTLE_WAIT = timedelta(hours=1)
# IG's publishing quota is a rolling 24 h window, so a slot is certainly free 24 h later.
PUBLISH_QUOTA_WAIT = timedelta(hours=24)
POSTING_TOO_FAST_WAIT = timedelta(hours=1)

# What happened to a user session (code 190 subcodes), finishing "Facebook no longer accepts ... because".
SESSION_SUBCODES: dict[int, str] = {
    458: "SoSocial's app was removed from the Facebook account",
    459: "Facebook wants you to log in on facebook.com and pass a security check first",
    460: "the Facebook password was changed",
    463: "the login expired",
    464: "Facebook wants you to confirm the account on facebook.com first",
    467: "the Facebook login was ended (logged out or revoked)",
    492: "the session is no longer valid (often a changed role on the Page)",
}

# Subcodes whose meaning overrides their code's general class. Permanent: trying again cannot help.
PERMANENT_SUBCODES: dict[int, str] = {
    2207004: "the image is larger than Instagram's 8 MB limit. Use a smaller image.",
    2207005: "the image format is not supported. Instagram takes JPEG images only.",
    2207009: "the image's aspect ratio is outside what Instagram allows (4:5 to 1.91:1). "
    "Crop the image and schedule it again.",
    2207010: "the caption is too long, or has more than 30 hashtags or 20 @mentions. Shorten it.",
    2207023: "the media type is not one Instagram accepts here.",
    2207026: "the video format is not supported. Use an MP4 or MOV video (H.264, AAC audio).",
    2207028: "a carousel needs between 2 and 10 photos or videos.",
    2207035: "the product tags are not valid.",
    2207036: "the product tags are not valid.",
    2207037: "the product tags are not valid.",
    2207040: "the caption @mentions more than 20 people. Remove some mentions.",
    2207050: "the Instagram account is restricted. Open the Instagram app to resolve it, then "
    "schedule the post again.",
    2207051: "Instagram restricted this activity as possible spam. Change the post or wait a "
    "while before posting again; SoSocial will not retry it automatically.",
    2207052: "Instagram could not download the media from its link. Check the file is still "
    "available, then schedule the post again.",
    2207057: "the video cover position (thumbnail offset) is outside the video.",
    2207077: "Instagram could not download the video. Check the file is still available, then "
    "schedule the post again.",
    2207081: "this account cannot post trial reels.",
    1366046: "the photo is too large or not a supported format. Use a JPEG or PNG under 4 MB.",
    1366051: "these photos were already posted.",
    1346003: "it goes against Facebook's Community Standards.",
    1404102: "it goes against Facebook's Community Standards.",
    1404078: "the Page needs Page Publishing Authorization. A Page admin must complete it on "
    "facebook.com, then schedule the post again.",
    1609005: "Facebook could not read the link in it. Check the link works, then schedule the post again.",
    1609008: "Facebook does not allow posting links to facebook.com this way. Remove the link.",
    2061006: "the link is not a valid URL. Fix it and schedule the post again.",
    4854002: "the account owner must first confirm their identity on facebook.com.",
}
# Subcodes Meta documents as temporary, whatever their code says; each text starts a sentence.
RETRYABLE_SUBCODES: dict[int, str] = {
    2207001: "Instagram had a server error",
    2207003: "Instagram timed out downloading the media",
    2207008: "Instagram lost the prepared media for a moment",
    2207020: "The prepared media expired before it was published",
    2207032: "Instagram could not prepare the media",
    2207053: "Instagram had an unknown error uploading the video",
    2207082: "Instagram had a temporary problem",
    1363047: "Facebook's service was unavailable",
    1609010: "Facebook's service was unavailable",
}
POSTING_TOO_FAST_SUBCODE = 1390008
PUBLISH_QUOTA_SUBCODE = 2207042

# Parameters that are credentials: never put in a URL (a paging link from Graph carries them).
SECRET_PARAMETERS = frozenset({"access_token", "appsecret_proof", "client_secret", "code"})

_PERMISSION = re.compile(r"\b(?:pages|instagram|publish|business|read|ads)_[a-z_]+\b")
_SUBCODE_IN_TEXT = re.compile(r"\b(\d{7})\b")


@dataclass(frozen=True)
class Answer:
    """A successful Graph answer."""

    body: JSON
    http_status: int


@dataclass(frozen=True)
class GraphError:
    """The `error` object of a Graph API answer."""

    code: int | None
    subcode: int | None
    message: str
    user_message: str
    is_transient: bool

    @classmethod
    def from_response(cls, response: requests.Response) -> GraphError | None:
        try:
            body = response.json()
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        return cls(
            code=_int_or_none(error.get("code")),
            subcode=_int_or_none(error.get("error_subcode")),
            message=str(error.get("message") or ""),
            user_message=str(error.get("error_user_msg") or ""),
            is_transient=error.get("is_transient") is True,
        )

    @property
    def code_name(self) -> str:
        """E.g. "meta_190_463": stored with the attempt, so support can look the code up."""
        parts = ["meta", str(self.code if self.code is not None else "unknown")]
        if self.subcode:
            parts.append(str(self.subcode))
        return "_".join(parts)

    @property
    def said(self) -> str:
        """Meta's own words, preferring the text Meta writes for end users."""
        return self.user_message or self.message


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def regain_access_at(headers: Mapping[str, str], *, now: datetime) -> datetime:
    """When a throttled app/Page may call again: the usage headers' longest estimate, else 1 h."""
    minutes = 0
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        minutes = max(minutes, _longest_estimate(usage))
    if minutes > 0:
        return now + timedelta(minutes=minutes)
    return now + DEFAULT_THROTTLE_WAIT


def _longest_estimate(usage: Any) -> int:
    """Max `estimated_time_to_regain_access` anywhere in a usage header (BUC nests per id/type)."""
    if isinstance(usage, dict):
        own = _int_or_none(usage.get("estimated_time_to_regain_access")) or 0
        return max([own, *(_longest_estimate(value) for value in usage.values())])
    if isinstance(usage, list):
        return max((_longest_estimate(item) for item in usage), default=0)
    return 0


def subcode_in_status(status: str) -> int | None:
    """An IG container's `status` text names its error subcode ("Error: 2207026 ...")."""
    match = _SUBCODE_IN_TEXT.search(status)
    return int(match.group(1)) if match else None


def classify_error(response: requests.Response, *, platform: str) -> PlatformError:
    """The error to raise for a Graph answer that is not a success.

    `platform` is the name the user knows ("Facebook", "Instagram"). Classified by the Graph code
    and subcode, not the HTTP status, which Meta sets to 400 for almost everything.
    """
    status = response.status_code
    now = datetime.now(UTC)
    error = GraphError.from_response(response)
    if error is None:
        return _classify_bare_status(status, platform=platform, headers=response.headers, now=now)

    code, subcode, name = error.code, error.subcode, error.code_name
    said = f' {platform} said: "{error.said}"' if error.said else ""

    # Subcodes first: several reuse a code that otherwise means something else (4/2207051 is spam,
    # not throttling; 1/2207057 is a bad parameter, not downtime).
    if subcode in PERMANENT_SUBCODES:
        detail = error.user_message or PERMANENT_SUBCODES[subcode]
        return PermanentError(
            f"{platform} refused this post: {_sentence(detail)}", code=name, http_status=status
        )
    if code == PUBLISH_QUOTA_CODE or subcode == PUBLISH_QUOTA_SUBCODE:
        # Retry rather than fail: the post is fine and the rolling window frees a slot within 24 h;
        # the pipeline's attempt cap still bounds how often this can repeat.
        return RetryableError(
            f"{platform}'s daily publishing limit for this account is reached. SoSocial will try "
            "again when the limit resets (within 24 hours).",
            code=name,
            http_status=status,
            retry_at=now + PUBLISH_QUOTA_WAIT,
        )
    if subcode == POSTING_TOO_FAST_SUBCODE:
        # 368 is a policy block, but this subcode is only about pace: a late retry is what helps.
        return RetryableError(
            f"{platform} says this account is posting too fast. SoSocial will try again in an hour.",
            code=name,
            http_status=status,
            retry_at=now + POSTING_TOO_FAST_WAIT,
        )
    if subcode in RETRYABLE_SUBCODES:
        return RetryableError(
            f"{RETRYABLE_SUBCODES[subcode]}; SoSocial will try again.",
            code=name,
            http_status=status,
        )

    if code in THROTTLE_CODES:
        # Meta says calling while throttled extends the block, so wait the whole estimate.
        retry_at = regain_access_at(response.headers, now=now)
        return RetryableError(
            f"{platform} is limiting how often SoSocial may call it right now. SoSocial will try "
            f"again after {retry_at:%Y-%m-%d %H:%M} UTC.",
            code=name,
            http_status=status,
            retry_at=retry_at,
        )
    if code in SESSION_CODES:
        # Meta gives no refresh token: only a new login brings the account back.
        reason = SESSION_SUBCODES.get(subcode or 0, "the login is no longer valid")
        return ReconnectNeeded(
            f"{platform} no longer accepts SoSocial's access to this account because {reason}. "
            "Reconnect the account in SoSocial, then schedule the post again.",
            code=name,
            http_status=status,
        )
    if code in PERMISSION_CODES:
        return ReconnectNeeded(
            _missing_permission_message(error, platform=platform), code=name, http_status=status
        )

    if code in TRANSIENT_CODES or error.is_transient or status >= 500:
        return RetryableError(
            f"{platform} had a temporary problem; SoSocial will try again.{said}",
            code=name,
            http_status=status,
        )
    if code == NOT_READY_CODE:
        return RetryableError(
            f"{platform} was still processing the media; SoSocial will try again.",
            code=name,
            http_status=status,
        )
    if code == DUPLICATE_CODE:
        return PermanentError(
            f"{platform} refused this post as a duplicate: the same text was just posted on this "
            "account. Check the account; to post it again, change the text.",
            code=name,
            http_status=status,
        )
    if code == POLICY_BLOCK_CODE:
        # Meta says "wait and retry", but posting while blocked can lengthen the block: a person
        # decides when.
        return PermanentError(
            f"{platform} has temporarily blocked this account from posting for going against its "
            f"policies. Wait a few hours, then retry the post from SoSocial.{said}",
            code=name,
            http_status=status,
        )
    if code == MEDIA_FETCH_CODE:
        return PermanentError(
            f"{platform} could not download the media from its link. Check the file is still "
            f"available, then schedule the post again.{said}",
            code=name,
            http_status=status,
        )
    if code == INVALID_PARAMETER_CODE:
        return PermanentError(
            f"{platform} refused this post because something in it is not valid.{said} "
            "Edit the post and schedule it again.",
            code=name,
            http_status=status,
        )
    return PermanentError(
        f"{platform} refused this post.{said} Edit it or check the account, then schedule it again.",
        code=name,
        http_status=status,
    )


def leaves_outcome_open(response: requests.Response) -> bool:
    """True when an error answer to a call that publishes does not prove that nothing was published.

    Meta promises nothing about a server error, a "transient" error (codes 1/2, `is_transient`) or
    the duplicate refusal (506, which means an identical post may already be there): any of them can
    follow a post that was made. Throttling, quota, validation, permission and token refusals are
    checked before the write, so they prove nothing happened.
    """
    error = GraphError.from_response(response)
    if error is None:
        return response.status_code >= 500
    if (
        error.subcode in PERMANENT_SUBCODES
        or error.code in THROTTLE_CODES
        or error.code in SESSION_CODES
        or error.code in PERMISSION_CODES
        or error.code in (PUBLISH_QUOTA_CODE, NOT_READY_CODE)
        or error.subcode in (PUBLISH_QUOTA_SUBCODE, POSTING_TOO_FAST_SUBCODE)
    ):
        return False
    return (
        error.code in TRANSIENT_CODES
        or error.code == DUPLICATE_CODE
        or error.is_transient
        or response.status_code >= 500
    )


def _classify_bare_status(
    status: int, *, platform: str, headers: Mapping[str, str], now: datetime
) -> PlatformError:
    """An error with no Graph envelope: a proxy or load balancer answered, not the Graph."""
    if status == 429:
        return RetryableError(
            f"{platform} is limiting how often SoSocial may call it right now; SoSocial will try "
            "again later.",
            code="meta_http_429",
            http_status=status,
            retry_at=regain_access_at(headers, now=now),
        )
    if status >= 500:
        return RetryableError(
            f"{platform} had a temporary problem (HTTP {status}); SoSocial will try again.",
            code=f"meta_http_{status}",
            http_status=status,
        )
    return PermanentError(
        f"{platform} refused the request with an unexpected answer (HTTP {status}). If this keeps "
        "happening, reconnect the account.",
        code=f"meta_http_{status}",
        http_status=status,
    )


def _missing_permission_message(error: GraphError, *, platform: str) -> str:
    named = sorted(set(_PERMISSION.findall(error.message)))
    if named:
        permissions = ", ".join(named)
        return (
            f"{platform} says SoSocial is missing the permission {permissions} for this account. "
            "Reconnect the account and allow every permission it asks for (you need a role on the "
            "Page that can create content)."
        )
    return (
        f"{platform} no longer lets SoSocial post for this account: a permission was removed or "
        "your role on the Page changed. Reconnect the account and allow every permission it asks for."
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def parse_graph_time(value: Any) -> datetime | None:
    """Graph timestamps look like "2026-11-28T12:00:00+0000"."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def same_text(published: Any, wanted: str) -> bool:
    """Meta trims surrounding whitespace from messages and captions, and omits empty ones."""
    return (published if isinstance(published, str) else "").strip() == wanted.strip()


class GraphClient:
    """Graph plumbing and Facebook Login, shared by the Facebook and Instagram clients."""

    platform_key: ClassVar[str]  # the SOSOCIAL_PLATFORMS key
    platform_name: ClassVar[str]  # the name users know, used in every message
    scopes: ClassVar[tuple[str, ...]]

    def __init__(self, *, session: requests.Session | None = None) -> None:
        self.config: Mapping[str, str] = settings.SOSOCIAL_PLATFORMS[self.platform_key]
        self.session = session or http.new_session()
        self.graph_url = self.config["graph_url"].rstrip("/")
        self.version = self.config["api_version"]

    # -- calls ---------------------------------------------------------------------------------------
    def url(self, path: str, *, base: str | None = None) -> str:
        return f"{(base or self.graph_url).rstrip('/')}/{self.version}/{path.lstrip('/')}"

    def _proof(self, token: str) -> dict[str, str]:
        secret = self.config.get("app_secret", "")
        if not secret:
            return {}
        # Meta's recommended proof that the call comes from the app's server (required when
        # "Require App Secret" is on); harmless otherwise. Graph reads it only as a parameter.
        return {"appsecret_proof": hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()}

    def get(self, path: str, *, token: str, params: Mapping[str, Any] | None = None) -> JSON:
        return self.read_url(self.url(path), token=token, params=params)

    def read_url(self, url: str, *, token: str | None, params: Mapping[str, Any] | None = None) -> JSON:
        """A Graph read, sent so that no secret is in its URL (URLs end up in logs).

        The token travels in the Authorization header; the app secret proof, client secret and code
        in a form body, as a POST with `method=GET`, which Graph serves as the read it names (the
        way Meta's PHP SDK sends every call). Nothing is changed, so a lost answer is retryable.
        """
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {**(params or {}), **(self._proof(token) if token else {}), "method": "GET"}
        try:
            response = http.send(self.session, "POST", url, data=body, headers=headers)
        except OutcomeUnknown as error:
            raise RetryableError(
                f"The connection to {self.platform_name} dropped while reading; SoSocial will try again.",
                code=error.code,
            ) from error
        return self._read(response, publishes=False).body

    def post(
        self,
        path: str,
        *,
        token: str,
        data: Mapping[str, Any],
        publishes: bool,
        base: str | None = None,
    ) -> Answer:
        """POST form data; `publishes` says whether success makes something public.

        A write that cannot make anything public (an IG container, an unpublished photo) leaves
        nothing a user could see twice, so a lost answer to it is retryable, not unknown.
        """
        url = self.url(path, base=base)
        # The token in a header and the proof in the body: neither is ever in a (logged) URL.
        body = {**data, **self._proof(token)}
        try:
            response = http.send(
                self.session, "POST", url, data=body, headers={"Authorization": f"Bearer {token}"}
            )
        except OutcomeUnknown as error:
            if publishes:
                raise
            raise RetryableError(
                f"The connection to {self.platform_name} dropped while preparing the post; nothing "
                "was published. SoSocial will try again.",
                code=error.code,
            ) from error
        return self._read(response, publishes=publishes)

    def _read(self, response: requests.Response, *, publishes: bool) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            error = classify_error(response, platform=self.platform_name)
            if publishes and leaves_outcome_open(response):
                graph_error = GraphError.from_response(response)
                said = (
                    f' {self.platform_name} said: "{graph_error.said}"'
                    if graph_error and graph_error.said
                    else ""
                )
                raise OutcomeUnknown(
                    f"{self.platform_name} answered with an error that does not say whether the post "
                    "was made, so it may be live. SoSocial is checking before sending anything again." + said,
                    code=error.code,
                    http_status=response.status_code,
                ) from error
            raise error
        if not isinstance(body, dict):
            if publishes:
                raise OutcomeUnknown(
                    f"{self.platform_name} accepted the request but its answer could not be read, "
                    "so the post may be live. SoSocial is checking before sending anything again.",
                    code="meta_unreadable_answer",
                    http_status=response.status_code,
                )
            raise RetryableError(
                f"{self.platform_name} sent an answer SoSocial could not read; SoSocial will try again.",
                code="meta_unreadable_answer",
                http_status=response.status_code,
            )
        return Answer(body=body, http_status=response.status_code)

    def require_id(self, answer: Answer, *, what: str, publishes: bool) -> str:
        """The id a create call answers with; without it, whether the call acted is unknown."""
        value = answer.body.get("id")
        if value:
            return str(value)
        if publishes:
            raise OutcomeUnknown(
                f"{self.platform_name} accepted the post but did not say which {what} it made, so it "
                "may be live. SoSocial is checking before sending anything again.",
                code="meta_no_id",
                http_status=answer.http_status,
            )
        raise RetryableError(
            f"{self.platform_name} did not return the {what} it prepared; SoSocial will try again.",
            code="meta_no_id",
            http_status=answer.http_status,
        )

    def listing(self, path: str, *, token: str, params: Mapping[str, Any]) -> tuple[list[JSON], bool]:
        """Items of a Graph edge across pages, and whether that is all of them."""
        items: list[JSON] = []
        body = self.get(path, token=token, params=params)
        for _ in range(MAX_LISTING_PAGES):
            data = body.get("data")
            page = [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
            items.extend(page)
            paging = body.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not page or not isinstance(next_url, str):
                return items, True
            if not next_url.startswith(self.graph_url + "/"):
                # Never follow a link anywhere but the Graph, even with the token in a header.
                return items, False
            # Graph's next link repeats the token and proof in its query: read it without them.
            parts = urlsplit(next_url)
            query = {
                key: value
                for key, value in parse_qsl(parts.query, keep_blank_values=True)
                if key not in SECRET_PARAMETERS
            }
            body = self.read_url(parts._replace(query="").geturl(), token=token, params=query)
        return items, False

    def earliest_post(
        self,
        request: PublishRequest,
        edge: str,
        *,
        since: datetime,
        fields: str,
        text_field: str,
        time_field: str,
    ) -> tuple[JSON | None, bool]:
        """The account's earliest item on `edge` since `since` whose `text_field` is the request's
        text (how a lost attempt's post is found again), and whether the listing was whole."""
        items, complete = self.listing(
            f"{request.account.account_id}/{edge}",
            token=request.account.access_token,
            params={"fields": fields, "since": int(since.timestamp())},
        )
        matches: list[tuple[datetime, JSON]] = []
        for item in items:
            if not item.get("id") or not same_text(item.get(text_field), request.text):
                continue
            if str(item["id"]) in request.taken_post_ids:
                continue  # another date of this post, with the same text, made it
            # The Graph already filtered by `since`; a missing time is trusted to that filter.
            made = parse_graph_time(item.get(time_field)) or since
            if made >= since:
                matches.append((made, item))
        # Newest come first; the earliest match is the first attempt's post.
        return (min(matches, key=lambda match: match[0])[1] if matches else None), complete

    # -- Facebook Login ------------------------------------------------------------------------------
    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        # Meta's login has no PKCE for server apps: the app secret protects the code exchange.
        authorize = (
            self.config.get("authorize_url")
            or settings.SOSOCIAL_PLATFORMS.get("facebook", {}).get("authorize_url")
            or DEFAULT_AUTHORIZE_URL
        )
        query = urlencode(
            {
                "client_id": self.config["app_id"],
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(self.scopes),
            }
        )
        return f"{authorize.rstrip('/')}/{self.version}/dialog/oauth?{query}"

    def refresh_token(self, account: AccountCredentials) -> TokenGrant:
        raise ReconnectNeeded(
            f"{self.platform_name} connections cannot be renewed automatically (Meta gives no refresh "
            "token). Reconnect the account in SoSocial to keep posting.",
            code="meta_no_refresh",
        )

    def login_pages(self, *, code: str, redirect_uri: str) -> list[JSON]:
        """The Pages the user granted, with Page tokens that do not expire."""
        try:
            short = self._exchange_token(
                {"redirect_uri": redirect_uri, "code": code},
            )
            # Page tokens got from a short-lived user token die within hours; from a long-lived
            # one they have no expiry, so always exchange first.
            long_lived = self._exchange_token(
                {"grant_type": "fb_exchange_token", "fb_exchange_token": short},
            )
            pages, _complete = self.listing(
                "me/accounts",
                token=long_lived,
                params={"fields": "id,name,access_token,instagram_business_account{id,username}"},
            )
        except RetryableError:
            raise
        except PlatformError as error:
            raise ReconnectNeeded(
                f"{self.platform_name} did not accept the login: {error.message} Try connecting again.",
                code=error.code,
                http_status=error.http_status,
            ) from error
        return [page for page in pages if page.get("id") and page.get("access_token")]

    def _exchange_token(self, params: Mapping[str, str]) -> str:
        body = self.read_url(
            self.url("oauth/access_token"),
            token=None,
            params={
                "client_id": self.config["app_id"],
                "client_secret": self.config["app_secret"],
                **params,
            },
        )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PermanentError(
                f"{self.platform_name} answered the login without an access token.",
                code="meta_no_access_token",
            )
        return token
