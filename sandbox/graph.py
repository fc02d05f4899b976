"""What Facebook Pages and Instagram (Facebook Login) share: the Graph API host.

The Graph error envelope, access tokens and their checks, the login dialog and token exchange,
`/me/accounts`, field selection (`fields=a,b{c}`) and reading a node by id.
`/facebook/graph` and `/instagram/graph` (and `/facebook/graph-video`) are one Graph over one state.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sandbox import oauth
from sandbox.faults import Fault
from sandbox.routing import META_VERSION, ApiError, Request, Response, Router, html_response, json_response
from sandbox.state import HOUR, Account, Person, State, Token, meta_time

GRAPH = r"/(?P<host>facebook|instagram)/graph(?:-video)?/" + META_VERSION
WWW = r"/(?:facebook|instagram)/www/" + META_VERSION

SHORT_LIVED_SECONDS = 3600
LONG_LIVED_SECONDS = 5183944  # what Meta answers for a long-lived user token (~60 days)
PAGE_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"]
RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
    80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
}


MISMATCH = (
    "Error validating verification code. Please make sure your redirect_uri is identical to the one you "
    "used in the OAuth dialog request"
)


def code_error(message: str, subcode: int | None = None) -> ApiError:
    return fail(100, message, subcode=subcode)


GRANT = oauth.Grant(
    family="meta",
    code_seconds=600,
    access_seconds=SHORT_LIVED_SECONDS,
    access_kind="user",
    access_prefix="EAAB",
    denial={"error_code": "200", "error_description": "Permissions error", "error_reason": "user_denied"},
    fragment="#_=_",
    refusal=code_error,
    refusals={
        "invalid_code": ("Invalid verification code format.",),
        "used_code": ("This authorization code has been used.", 36009),
        "expired_code": ("This authorization code has expired.", 36007),
        "wrong_client": (MISMATCH, 36008),
        "wrong_redirect": (MISMATCH, 36008),
    },
)


# The error envelope --------------------------------------------------------------------------


def error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    status: int = 400,
    user_title: str = "",
    user_msg: str = "",
    transient: bool | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    if transient is not None:
        body["is_transient"] = transient
    if user_title:
        body["error_user_title"] = user_title
    if user_msg:
        body["error_user_msg"] = user_msg
    body["fbtrace_id"] = State.random(11)
    return json_response(status, {"error": body}, headers)


def fail(code: int, message: str, **kwargs: Any) -> ApiError:
    return ApiError(error(code, message, **kwargs))


def not_found(node_id: str) -> ApiError:
    return fail(
        100,
        f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
    )


def expired_token_error(expired_at: float, now: float) -> Response:
    return error(
        190,
        f"Error validating access token: Session has expired on {meta_time(expired_at)}. "
        f"The current time is {meta_time(now)}.",
        subcode=463,
        headers=_invalid_token_header(),
    )


def revoked_token_error() -> Response:
    return error(
        190,
        "Error validating access token: The session has been invalidated because the user changed "
        "their password or Facebook has changed the session for security reasons.",
        subcode=460,
        headers=_invalid_token_header(),
    )


def _invalid_token_header() -> dict[str, str]:
    return {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Error validating access token"'}


def usage_headers(*, percent: int, buc_id: str, buc_type: str, minutes: int = 0) -> dict[str, str]:
    usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
    buc = {
        buc_id or "0": [
            {"type": buc_type, **usage, "estimated_time_to_regain_access": minutes},
        ]
    }
    return {
        "X-App-Usage": json.dumps(usage, separators=(",", ":")),
        "X-Business-Use-Case-Usage": json.dumps(buc, separators=(",", ":")),
    }


class MetaErrors:
    def __init__(self, platform: str) -> None:
        self.platform = platform

    def for_fault(self, state: State, request: Request, fault: Fault, names: frozenset[str]) -> Response:
        status = int(fault.number("status", 0)) or None
        if fault.kind == "server_error":
            code = int(fault.number("code", 2))
            message = fault.text(
                "message", "An unexpected error has occurred. Please retry your request later."
            )
            return error(code, message, status=status or 500, transient=True)
        if fault.kind == "rate_limit":
            code = int(fault.number("code", 80002 if self.platform == "instagram" else 80001))
            minutes = max(1, math.ceil(fault.number("retry_after_seconds", 60) / 60))
            token = state.tokens.get(request.access_token())
            headers = usage_headers(
                percent=100,
                buc_id=(token.account_id if token else "") or request.path_params.get("node", ""),
                buc_type="instagram" if self.platform == "instagram" else "pages",
                minutes=minutes,
            )
            message = fault.text("message", RATE_LIMIT_MESSAGES.get(code, f"(#{code}) Rate limit reached"))
            return error(code, message, status=status or 400, transient=True, headers=headers)
        if fault.kind == "expired_token":
            now = state.now()
            return expired_token_error(now - 1, now)
        if fault.kind == "revoked_token":
            return revoked_token_error()
        code = int(fault.number("code", 100))
        subcode = int(fault.number("subcode", 0)) or None
        message = fault.text("message", f"(#{code}) Invalid parameter")
        return error(
            code,
            message,
            subcode=subcode,
            status=status or 400,
            user_title=fault.text("error_user_title", ""),
            user_msg=fault.text("error_user_msg", ""),
            transient=False,
        )

    def unknown_endpoint(self, request: Request) -> Response:
        return error(2500, f"Unknown path components: {request.path}")

    def internal_error(self, request: Request) -> Response:
        return error(1, "An unknown error has occurred.", status=500, transient=True)


# Tokens --------------------------------------------------------------------------------------


def authenticate(state: State, request: Request, *, platform: str = "") -> Token:
    """The valid Meta token on this request, or the Graph error a real call would get."""
    value = request.access_token()
    if not value:
        raise fail(104, "An access token is required to request this resource.")
    token = state.tokens.get(value)
    if token is None or token.family != "meta":
        raise fail(
            190, "Invalid OAuth access token - Cannot parse access token", headers=_invalid_token_header()
        )
    problem = state.token_problem(token)
    if problem == "revoked":
        raise ApiError(revoked_token_error())
    if problem == "expired":
        assert token.expires_at is not None
        raise ApiError(expired_token_error(token.expires_at, state.now()))
    calls = state.hit(f"meta-app:{token.client_id}", HOUR)
    percent = min(100, calls * 100 // max(1, state.config.meta_calls_per_hour))
    buc_type = "instagram" if (platform or request.path_params.get("host")) == "instagram" else "pages"
    request.response_headers.update(
        usage_headers(percent=percent, buc_id=token.account_id, buc_type=buc_type)
    )
    return token


def may_act_for(token: Token, *, owner: str, page_id: str) -> bool:
    """A user token reaches everything its person manages; a Page token only its Page (and IG)."""
    if token.person_id != owner:
        return False
    return token.kind == "user" or (bool(page_id) and token.account_id == page_id)


def page_token_for(state: State, user_token: Token, page: Account) -> Token:
    """Page tokens from a long-lived user token never expire; from a short-lived one, an hour."""
    for token in state.tokens.values():
        if (
            token.kind == "page"
            and token.account_id == page.id
            and token.grant == user_token.grant
            and token.long_lived == user_token.long_lived
            and not state.token_problem(token)
        ):
            return token
    lifetime = None if user_token.long_lived else float(SHORT_LIVED_SECONDS)
    return state.issue_token(
        family="meta",
        kind="page",
        person_id=user_token.person_id,
        lifetime=lifetime,
        grant=user_token.grant,
        prefix="EAAG",
        account_id=page.id,
        long_lived=user_token.long_lived,
        client_id=user_token.client_id,
    )


# People, Pages and Instagram accounts --------------------------------------------------------


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower()) or "sandbox"


def add_meta_person(state: State, *, name: str, key: str) -> Person:
    return state.add_person(family="meta", person_id=state.new_id("100", 15), name=name, key=key)


def add_page(state: State, person: Person, *, name: str) -> Account:
    return state.add_account(
        Account(
            platform="facebook",
            id=state.new_id("1021", 15),
            name=name,
            username=slug(name),
            owner=person.id,
            created_at=state.now(),
        )
    )


def add_instagram_account(state: State, page: Account, *, name: str, username: str) -> Account:
    account = state.add_account(
        Account(
            platform="instagram",
            id=state.new_id("17841", 17),
            name=name,
            username=username,
            owner=page.owner,
            created_at=state.now(),
            page_id=page.id,
        )
    )
    page.instagram_id = account.id
    return account


def meta_persona(state: State, key: str) -> Person:
    """The person an authorize request logs in as: reused by name (or by a person, Page or IG account
    id, to log in as an account made through `/_sandbox/accounts`), else a new one with two Pages."""
    existing = state.accounts.get(key)
    if existing is not None and existing.platform in ("facebook", "instagram"):
        return state.persons[existing.owner]
    person = state.persons.get(key) or state.find_person(family="meta", key=key)
    if person is not None and person.family == "meta":
        return person
    person = add_meta_person(state, name=key, key=key)
    first_name = key.split()[0]
    bakery = add_page(state, person, name=f"{first_name}'s Bakery")
    add_instagram_account(state, bakery, name=f"{first_name}'s Bakery", username=f"{slug(first_name)}.bakery")
    add_page(state, person, name=f"{first_name}'s Garage")
    return person


def long_lived_user_token(state: State, person: Person, *, client_id: str = "sandbox") -> Token:
    return state.issue_token(
        family="meta",
        kind="user",
        person_id=person.id,
        lifetime=LONG_LIVED_SECONDS,
        prefix="EAAB",
        long_lived=True,
        client_id=client_id,
    )


# Fields --------------------------------------------------------------------------------------

FieldSpec = dict[str, "FieldSpec | None"]


@dataclass
class Linked:
    """A node inside another node's fields: rendered as `{"id"}` unless sub-fields are asked for."""

    fields: dict[str, Any]
    default: tuple[str, ...] = ("id",)


@dataclass
class Edge:
    """A list inside a node's fields (`children`), rendered as `{"data": [...]}`."""

    items: list[Linked] = field(default_factory=list)


def parse_fields(text: str) -> FieldSpec:
    """`id,name,instagram_business_account{id,username}` -> nested dict; modifiers are ignored."""
    spec: FieldSpec = {}
    depth = 0
    start = 0
    pieces: list[str] = []
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
    pieces.append(text[start:])
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        name, brace, rest = piece.partition("{")
        name = name.split(".")[0].strip()
        spec[name] = parse_fields(rest.rsplit("}", 1)[0]) if brace else None
    return spec


def select(available: dict[str, Any], spec: FieldSpec | None, default: Sequence[str]) -> dict[str, Any]:
    """The requested fields that exist (unknown ones are left out), `id` always when the node has one."""
    wanted: FieldSpec = spec if spec else dict.fromkeys(default)
    result: dict[str, Any] = {}
    for name, sub in wanted.items():
        if name not in available or available[name] is None:
            continue
        value = available[name]
        if isinstance(value, Linked):
            result[name] = select(value.fields, sub, value.default)
        elif isinstance(value, Edge):
            result[name] = {"data": [select(item.fields, sub, item.default) for item in value.items]}
        else:
            result[name] = value
    if "id" in available and "id" not in result:
        result["id"] = available["id"]
    return result


def requested_fields(request: Request) -> FieldSpec | None:
    text = request.param("fields")
    return parse_fields(text) if text else None


def listing(items: list[dict[str, Any]], request: Request, default_limit: int = 25) -> dict[str, Any]:
    """A Graph edge page: `limit` and an `after` cursor (the offset, as Meta's cursors are opaque)."""
    try:
        limit = max(1, min(100, int(request.param("limit") or default_limit)))
        offset = int(request.param("after") or 0)
    except ValueError as bad:
        raise fail(100, "(#100) Invalid limit or cursor") from bad
    page = items[offset : offset + limit]
    result: dict[str, Any] = {"data": page}
    if page:
        cursors = {"before": str(offset), "after": str(offset + len(page))}
        result["paging"] = {"cursors": cursors}
        if offset + len(page) < len(items):
            next_query = {**request.query, "after": str(offset + len(page))}
            result["paging"]["next"] = f"{request.base_url}{request.path}?{urlencode(next_query)}"
    return result


def time_filter(request: Request) -> Callable[[float], bool]:
    """Graph `since` / `until` (unix seconds) as a predicate on a timestamp."""
    try:
        since = float(request.param("since") or "-inf")
        until = float(request.param("until") or "inf")
    except ValueError as bad:
        raise fail(100, "(#100) since and until must be unix timestamps") from bad
    return lambda moment: since <= moment <= until


def page_fields(state: State, page: Account, token: Token | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": page.id,
        "name": page.name,
        "username": page.username,
        "category": "Local business",
        "tasks": PAGE_TASKS,
        "link": f"https://sandbox.invalid/facebook/{page.id}",
    }
    instagram = state.account(page.instagram_id, "instagram")
    if instagram is not None:
        fields["instagram_business_account"] = Linked(instagram_fields(instagram))
        fields["connected_instagram_account"] = Linked(instagram_fields(instagram))
    if token is not None and token.kind == "user":
        fields["access_token"] = page_token_for(state, token, page).value
    elif token is not None and token.kind == "page" and token.account_id == page.id:
        fields["access_token"] = token.value
    return fields


def instagram_fields(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "ig_id": int(account.id[-10:]),
        "username": account.username,
        "name": account.name,
        "profile_picture_url": f"https://sandbox.invalid/instagram/{account.username}.jpg",
        "followers_count": 1200,
        "media_count": 0,
    }


# Nodes ---------------------------------------------------------------------------------------


@dataclass
class Node:
    """Something `GET /{id}` can read, as a platform module describes it."""

    platform: str
    names: frozenset[str]
    owner: str  # the person who manages it
    page_id: str  # the Page whose token may read it
    fields: Callable[[Token], dict[str, Any]]
    default: tuple[str, ...] = ("id",)


NodeFinder = Callable[[State, str], "Node | None"]


def node_of(
    account: Account, name: str, fields: Callable[[Token], dict[str, Any]], default: tuple[str, ...] = ("id",)
) -> Node:
    """A node managed through `account`'s Page (a Page's own, or the one an IG account is linked to)."""
    return Node(
        platform=account.platform,
        names=frozenset({"node", name}),
        owner=account.owner,
        page_id=account.page_id or account.id,
        fields=fields,
        default=default,
    )


def account_node(state: State, node_id: str) -> Node | None:
    account = state.accounts.get(node_id)
    if account is not None and account.platform == "facebook":
        return node_of(account, "page", lambda token: page_fields(state, account, token), ("name", "id"))
    if account is not None and account.platform == "instagram":
        posts = len(state.posts_of("instagram", account.id))
        return node_of(account, "ig_user", lambda token: {**instagram_fields(account), "media_count": posts})
    person = state.persons.get(node_id)
    if person is not None and person.family == "meta":
        return Node(
            platform="facebook",
            names=frozenset({"node", "user"}),
            owner=person.id,
            page_id="",
            fields=lambda token: {"id": person.id, "name": person.name},
            default=("name", "id"),
        )
    return None


def honour_method_override(request: Request) -> None:
    """Serve a Graph POST carrying `method=GET` as the read it names, as Graph does.

    SoSocial sends its reads this way so that secrets stay out of URLs.
    """
    override = request.params.get("method")
    if request.method != "POST" or not isinstance(override, str) or not re.match(GRAPH, request.path):
        return
    if override.upper() == "GET":
        request.method = "GET"
        del request.params["method"]


class Graph:
    """The shared Graph endpoints, with the node finders of the Facebook and Instagram modules."""

    def __init__(self, finders: Sequence[NodeFinder]) -> None:
        self.finders = [account_node, *finders]

    def find(self, state: State, node_id: str) -> Node | None:
        for finder in self.finders:
            node = finder(state, node_id)
            if node is not None:
                return node
        return None

    def register(self, router: Router) -> None:
        router.add("GET", WWW + r"dialog/oauth/?", authorize, platform="facebook", names={"authorize"})
        router.add("GET", GRAPH + r"oauth/access_token", exchange_token, classify=by_host({"token"}))
        router.add("GET", GRAPH + r"me/accounts", my_accounts, classify=by_host({"accounts"}))
        router.add("GET", GRAPH + r"(?P<node>[0-9_]+)", self.read, classify=self.classify)

    def classify(self, state: State, request: Request) -> tuple[str, frozenset[str]]:
        node = self.find(state, request.path_params["node"])
        if node is None:
            return request.path_params["host"], frozenset({"node"})
        return node.platform, node.names

    def _node(self, state: State, request: Request) -> tuple[Node, Token]:
        node_id = request.path_params["node"]
        node = self.find(state, node_id)
        token = authenticate(state, request, platform=node.platform if node else "")
        if node is None or not may_act_for(token, owner=node.owner, page_id=node.page_id):
            raise not_found(node_id)
        return node, token

    def read(self, state: State, request: Request) -> Response:
        node, token = self._node(state, request)
        return json_response(200, select(node.fields(token), requested_fields(request), node.default))


def by_host(names: set[str]) -> Callable[[State, Request], tuple[str, frozenset[str]]]:
    return lambda state, request: (request.path_params["host"], frozenset(names))


# Login ---------------------------------------------------------------------------------------


def authorize(state: State, request: Request) -> Response:
    """The login dialog: logs in as `sandbox_user` (default "Sam Sandbox") and redirects back."""
    client_id = request.param("client_id")
    redirect_uri = request.param("redirect_uri")
    if not redirect_uri or not state.app_secret_ok("meta", client_id, None):
        return html_response(400, "<h1>Invalid App ID or redirect_uri</h1>")
    return oauth.login_redirect(
        state,
        GRANT,
        request,
        client_id=client_id,
        scopes=[s for s in re.split(r"[,\s]+", request.param("scope")) if s],
        log_in=lambda: meta_persona(state, request.param("sandbox_user") or "Sam Sandbox").id,
    )


def exchange_token(state: State, request: Request) -> Response:
    client_id = request.param("client_id")
    secret = request.param("client_secret")
    if not state.app_secret_ok("meta", client_id, secret) or not secret:
        raise fail(1, "Error validating client secret.")
    if request.param("grant_type") == "fb_exchange_token":
        return _exchange_long_lived(state, request, client_id)
    code = oauth.redeem_code(state, GRANT, request, client_id)
    token, _ = oauth.issue(state, GRANT, person_id=code.person_id, scopes=code.scopes, client_id=client_id)
    return _user_token_answer(token, SHORT_LIVED_SECONDS)


def _user_token_answer(token: Token, seconds: int) -> Response:
    return json_response(200, {"access_token": token.value, "token_type": "bearer", "expires_in": seconds})


def _exchange_long_lived(state: State, request: Request, client_id: str) -> Response:
    short = state.tokens.get(request.param("fb_exchange_token"))
    problem = state.token_problem(short)
    if short is None or short.family != "meta" or short.kind != "user" or problem == "invalid":
        raise fail(
            190, "Invalid OAuth access token - Cannot parse access token", headers=_invalid_token_header()
        )
    if problem == "revoked":
        raise ApiError(revoked_token_error())
    if problem == "expired":
        assert short.expires_at is not None
        raise ApiError(expired_token_error(short.expires_at, state.now()))
    token = state.issue_token(
        family="meta",
        kind="user",
        person_id=short.person_id,
        lifetime=LONG_LIVED_SECONDS,
        grant=short.grant,
        prefix="EAAB",
        scopes=short.scopes,
        long_lived=True,
        client_id=client_id,
    )
    return _user_token_answer(token, LONG_LIVED_SECONDS)


def my_accounts(state: State, request: Request) -> Response:
    token = authenticate(state, request)
    if token.kind != "user":
        raise fail(100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
    spec = requested_fields(request)
    pages = [
        select(page_fields(state, page, token), spec, ("name", "access_token", "category", "tasks", "id"))
        for page in state.accounts_of(token.person_id, "facebook")
    ]
    return json_response(200, listing(pages, request))
