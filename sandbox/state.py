"""Everything the sandbox remembers, behind one lock.

Asynchronous platform work (Instagram containers, X media processing, TikTok publishing, Facebook
video processing) is stored as timestamps and advanced lazily by `settle()` at the start of every
request, so there are no background threads and `/_sandbox/clock` fast-forwards all of it.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox import profile
from sandbox.faults import Fault

HOUR = 3600.0
DAY = 86400.0


@dataclass
class Config:
    # `fast` or `realistic` (sandbox/profile.py): latency distribution and media processing times.
    profile: str = "fast"
    latency_ms: int = 0
    # Natural platform limits (X 15-minute windows, TikTok per-minute init limit, daily caps).
    rate_limits: bool = True
    facebook_video_seconds: float = 2.0
    # Meta documents no lifetime for unpublished photos; the sandbox discards unattached ones after this.
    facebook_unpublished_photo_seconds: float = DAY
    meta_calls_per_hour: int = 200  # drives the X-App-Usage / X-Business-Use-Case-Usage percentages
    instagram_image_seconds: float = 0.5
    instagram_video_seconds: float = 3.0
    instagram_quota_total: int = 50
    # A container never published turns EXPIRED this long after it was made (Meta: 24 hours).
    instagram_container_seconds: float = DAY
    x_processing_seconds: float = 2.0
    # Uploaded media ids stop working this long after the upload (X's `expires_after_secs`).
    x_media_expiry_seconds: float = DAY
    x_duplicate_window_seconds: float = DAY
    x_posts_per_15_minutes: int = 100
    x_user_posts_per_day: int = 2400
    tiktok_processing_seconds: float = 1.0
    tiktok_moderation_seconds: float = 2.0
    tiktok_inits_per_minute: int = 6
    tiktok_posts_per_day: int = 15
    # Real TikTok only reports a post id for public posts; set true to get one for every privacy level.
    tiktok_private_post_ids: bool = False
    # PULL_FROM_URL prefixes the "app" verified; empty accepts every URL.
    tiktok_verified_url_prefixes: list[str] = field(default_factory=list)
    # Known apps per platform family ("meta", "x", "tiktok"): client id -> secret. Empty accepts any.
    apps: dict[str, dict[str, str]] = field(default_factory=dict)

    def update(self, values: dict[str, Any]) -> None:
        """Apply `values`, checking names and types; raises ValueError before changing anything.
        A `profile` brings its own settings first; the others given with it override them."""
        if "profile" in values:
            values = {**profile.values(str(values["profile"])), **values}
        fields = {item.name: item for item in dataclasses.fields(self)}
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name not in fields:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(fields))}")
            current = getattr(self, name)
            if isinstance(current, bool):
                ok = isinstance(value, bool)
            elif isinstance(current, int | float):
                ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
                value = type(current)(value) if ok else value
            else:
                ok = isinstance(value, type(current))
            if not ok:
                raise ValueError(f"{name} must be a {type(current).__name__}")
            checked[name] = value
        for name, value in checked.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Person:
    """Someone who logs in: a Facebook user (owning Pages and IG accounts), an X user, a TikTok user."""

    family: str  # "meta" | "x" | "tiktok"
    id: str
    name: str
    key: str  # the persona name an authorize request asked for, so a second login reuses it


@dataclass
class Account:
    """Something SoSocial publishes to: a Page, an IG professional account, an X user, a TikTok creator."""

    platform: str
    id: str
    name: str
    username: str
    owner: str  # Person id
    created_at: float
    page_id: str = ""  # instagram: the Page it is linked to
    instagram_id: str = ""  # facebook: the linked IG account
    privacy_level_options: list[str] = field(default_factory=list)
    max_video_post_duration_sec: int = 600


@dataclass
class Token:
    value: str
    family: str
    kind: str  # "user" | "page" | "access" | "refresh"
    person_id: str
    created_at: float
    expires_at: float | None  # None: never
    grant: str  # tokens from one login and its refreshes share a grant
    scopes: list[str] = field(default_factory=list)
    account_id: str = ""  # the Page a Page token speaks for
    long_lived: bool = False
    client_id: str = ""
    revoked: bool = False
    used: bool = False  # refresh tokens rotate: one use each


@dataclass
class AuthCode:
    value: str
    family: str
    person_id: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: float
    code_challenge: str = ""
    code_challenge_method: str = ""
    used: bool = False


@dataclass
class Post:
    """A post as a person would see it on the platform; what `/_sandbox/posts` lists."""

    platform: str
    id: str
    account_id: str
    text: str
    created_at: float
    permalink: str
    kind: str  # "text" | "link" | "photo" | "album" | "video" | "reel" | "image" | "carousel" | ...
    media: list[dict[str, Any]] = field(default_factory=list)
    # "published" | "processing" | "scheduled" | "failed" | "inbox" | "deleted"
    status: str = "published"
    extra: dict[str, Any] = field(default_factory=dict)
    # When the call that created it reached the sandbox, before the emulated latency (X posts and
    # Facebook feed posts).
    requested_at: float = 0.0

    @property
    def visible(self) -> bool:
        return self.status == "published"


@dataclass
class FacebookPhoto:
    id: str
    page_id: str
    url: str
    caption: str
    created_at: float
    published: bool
    post_id: str = ""
    attached_to: str = ""


@dataclass
class FacebookVideo:
    id: str
    page_id: str
    kind: str  # "video"
    created_at: float
    title: str = ""
    description: str = ""
    file_url: str = ""
    status: str = "uploading"  # "uploading" | "processing" | "ready" | "error"
    ready_at: float | None = None
    uploaded_bytes: int = 0
    post_id: str = ""
    fail: bool = False


@dataclass
class InstagramContainer:
    id: str
    account_id: str
    media_type: str  # "IMAGE" | "VIDEO" | "REELS" | "STORIES" | "CAROUSEL"
    created_at: float
    caption: str = ""
    media_url: str = ""
    is_carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    status_code: str = "IN_PROGRESS"  # IN_PROGRESS | FINISHED | ERROR | EXPIRED | PUBLISHED
    ready_at: float | None = None
    error: str = ""  # "<code>/<subcode>" when it ends in ERROR
    media_id: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class XMedia:
    id: str
    media_key: str
    owner: str
    media_type: str
    category: str
    total_bytes: int
    created_at: float
    expires_at: float
    segments: dict[int, int] = field(default_factory=dict)  # segment_index -> bytes
    state: str = "uploading"  # uploading | pending | in_progress | succeeded | failed
    processing_started: float = 0.0
    ready_at: float = 0.0
    fail: bool = False


@dataclass
class TikTokPublish:
    id: str
    account_id: str
    token: str
    source: str  # FILE_UPLOAD | PULL_FROM_URL
    media_type: str  # VIDEO | PHOTO
    mode: str  # DIRECT_POST | INBOX
    post_info: dict[str, Any]
    created_at: float
    post_id: str
    video_size: int = 0
    chunk_size: int = 0
    total_chunk_count: int = 0
    uploaded_bytes: int = 0
    upload_id: str = ""
    upload_expires_at: float = 0.0
    status: str = "PROCESSING_UPLOAD"
    processing_until: float | None = None
    completed_at: float | None = None
    fail_reason: str = ""
    fail_on_processing: str = ""
    public_post_ids: list[str] = field(default_factory=list)
    source_urls: list[str] = field(default_factory=list)


@dataclass
class RateWindow:
    started: float
    count: int = 0


def _random(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class State:
    def __init__(self, config: Config | None = None) -> None:
        self.lock = threading.RLock()
        self._defaults = dataclasses.replace(config or Config())
        # Functions each platform module gives to advance its lazy state machines.
        self.settlers: list[Callable[[State], None]] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = dataclasses.replace(
                self._defaults,
                tiktok_verified_url_prefixes=list(self._defaults.tiktok_verified_url_prefixes),
                apps={family: dict(apps) for family, apps in self._defaults.apps.items()},
            )
            self.clock_offset = 0.0
            self._ids = itertools.count(1)
            self.persons: dict[str, Person] = {}
            self.accounts: dict[str, Account] = {}
            self.tokens: dict[str, Token] = {}
            self.codes: dict[str, AuthCode] = {}
            self.posts: dict[str, Post] = {}
            # The same posts by (platform, account id) and by (platform, ""): creating a post checks
            # its account's recent posts, which must not mean scanning every post held.
            self._posts_by: dict[tuple[str, str], dict[str, Post]] = {}
            self.facebook_photos: dict[str, FacebookPhoto] = {}
            self.facebook_videos: dict[str, FacebookVideo] = {}
            self.instagram_containers: dict[str, InstagramContainer] = {}
            self.x_media: dict[str, XMedia] = {}
            self.tiktok_publishes: dict[str, TikTokPublish] = {}
            self.tiktok_uploads: dict[str, str] = {}  # upload id -> publish id
            self.faults: list[Fault] = []
            self._fault_ids = itertools.count(1)
            self.windows: dict[str, RateWindow] = {}
            self.hits: dict[str, deque[float]] = {}
            self.request_log: deque[dict[str, Any]] = deque(maxlen=1000)

    # Time -------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    def settle(self) -> None:
        with self.lock:
            for settle in self.settlers:
                settle(self)

    # Identifiers ------------------------------------------------------------------------------

    def new_id(self, prefix: str, width: int) -> str:
        """A numeric id that looks like the platform's: `prefix` then a zero-padded counter."""
        return f"{prefix}{next(self._ids):0{width - len(prefix)}d}"

    @staticmethod
    def random(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return _random(length, alphabet)

    # People and accounts ----------------------------------------------------------------------

    def add_person(self, *, family: str, person_id: str, name: str, key: str) -> Person:
        person = Person(family=family, id=person_id, name=name, key=key)
        self.persons[person.id] = person
        return person

    def find_person(self, *, family: str, key: str) -> Person | None:
        return next((p for p in self.persons.values() if p.family == family and p.key == key), None)

    def add_account(self, account: Account) -> Account:
        self.accounts[account.id] = account
        return account

    def account(self, account_id: str, platform: str) -> Account | None:
        account = self.accounts.get(account_id)
        return account if account is not None and account.platform == platform else None

    def accounts_of(self, person_id: str, platform: str) -> list[Account]:
        return [a for a in self.accounts.values() if a.owner == person_id and a.platform == platform]

    # Tokens and codes -------------------------------------------------------------------------

    def issue_token(
        self,
        *,
        family: str,
        kind: str,
        person_id: str,
        lifetime: float | None,
        grant: str = "",
        prefix: str = "",
        length: int = 48,
        **fields: Any,
    ) -> Token:
        now = self.now()
        token = Token(
            value=prefix + _random(length),
            family=family,
            kind=kind,
            person_id=person_id,
            created_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            grant=grant or _random(12),
            **fields,
        )
        self.tokens[token.value] = token
        return token

    def token_problem(self, token: Token | None) -> str:
        """ "" when the token works; otherwise "invalid", "revoked" or "expired"."""
        if token is None:
            return "invalid"
        if token.revoked:
            return "revoked"
        if token.expires_at is not None and token.expires_at <= self.now():
            return "expired"
        return ""

    def expire_token(self, value: str) -> None:
        token = self.tokens.get(value)
        if token is not None:
            token.expires_at = self.now() - 1

    def revoke_grant(self, value: str) -> None:
        """Kill a token and everything issued alongside it (Meta: all of that person's tokens)."""
        token = self.tokens.get(value)
        if token is None:
            return
        for other in self.tokens.values():
            same_person = token.family == "meta" and other.person_id == token.person_id
            if other.family == token.family and (other.grant == token.grant or same_person):
                other.revoked = True

    def issue_code(
        self,
        *,
        family: str,
        person_id: str,
        client_id: str,
        redirect_uri: str,
        scopes: list[str],
        lifetime: float,
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> AuthCode:
        code = AuthCode(
            value=_random(40),
            family=family,
            person_id=person_id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            expires_at=self.now() + lifetime,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
        )
        self.codes[code.value] = code
        return code

    def app_secret_ok(self, family: str, client_id: str, secret: str | None) -> bool:
        """Any app is accepted unless `config.apps[family]` lists some; then id and secret must match.

        `secret=None` checks only the client id (public clients, authorize pages).
        """
        known = self.config.apps.get(family)
        if not known:
            return bool(client_id)
        if client_id not in known:
            return False
        return secret is None or known[client_id] == secret

    # Posts ------------------------------------------------------------------------------------

    def add_post(self, post: Post) -> Post:
        self.posts[post.id] = post
        for key in ((post.platform, post.account_id), (post.platform, "")):
            self._posts_by.setdefault(key, {})[post.id] = post
        return post

    def remove_post(self, post_id: str) -> Post:
        """Forget a post entirely (not a platform delete, which only marks it `deleted`)."""
        post = self.posts.pop(post_id)
        for key in ((post.platform, post.account_id), (post.platform, "")):
            self._posts_by[key].pop(post_id, None)
        return post

    def posts_of(self, platform: str, account_id: str = "") -> list[Post]:
        return list(self._posts_by.get((platform, account_id), {}).values())

    # Faults -----------------------------------------------------------------------------------

    def add_fault(self, spec: dict[str, Any]) -> Fault:
        with self.lock:
            fault = Fault.from_spec(next(self._fault_ids), spec)
            self.faults.append(fault)
            return fault

    def take_fault(
        self, *, platform: str, names: frozenset[str], method: str, path: str, text: str = ""
    ) -> Fault | None:
        """The first armed fault for this request, consumed once; spent faults are forgotten."""
        for fault in self.faults:
            if fault.matches(platform=platform, names=names, method=method, path=path, text=text):
                fault.count -= 1
                fault.hits += 1
                if fault.count < 1:
                    self.faults.remove(fault)
                return fault
        return None

    # Rate counters ----------------------------------------------------------------------------

    def window(self, key: str, length: float) -> RateWindow:
        """A fixed window (X style: resets `length` seconds after its first call)."""
        now = self.now()
        current = self.windows.get(key)
        if current is None or current.started + length <= now:
            current = self.windows[key] = RateWindow(started=now)
        return current

    def hit(self, key: str, length: float) -> int:
        """Record one call and return how many fell in the sliding `length` seconds (TikTok, Meta)."""
        now = self.now()
        calls = self.hits.setdefault(key, deque())
        while calls and calls[0] <= now - length:
            calls.popleft()
        calls.append(now)
        return len(calls)


def account_answer(account: Account, access: Token, refresh: Token | None = None) -> dict[str, Any]:
    """What `POST /_sandbox/accounts` answers for a new account and its tokens (platforms add extras)."""
    return {
        "platform": account.platform,
        "account_id": account.id,
        "display_name": account.name,
        "username": account.username,
        "access_token": access.value,
        "refresh_token": refresh.value if refresh else "",
        "expires_at": None if access.expires_at is None else iso(access.expires_at),
    }


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def meta_time(moment: float) -> str:
    """Graph API time format: 2026-11-01T12:00:00+0000."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
