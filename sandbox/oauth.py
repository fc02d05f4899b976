"""OAuth 2.0 grants for every platform: the login redirect, authorization codes (with PKCE where the
platform asks for it), access and refresh tokens, refresh with rotation.

One flow; what differs between Meta, X and TikTok (lifetimes, token shapes, PKCE forms, which scope
earns a refresh token, the words of each refusal) is data in each platform's `Grant`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sandbox.routing import ApiError, Request, Response, redirect
from sandbox.state import AuthCode, State, Token

# Why a code or a refresh token is refused; each platform words each one its own way.
REFUSALS = ("invalid_code", "used_code", "wrong_client", "expired_code", "wrong_redirect", "bad_verifier",
            "bad_refresh", "unsupported_grant")  # fmt: skip


@dataclass(frozen=True)
class Grant:
    family: str  # whose codes and tokens: "meta", "x" or "tiktok"
    code_seconds: float
    access_seconds: float
    # How the platform refuses: `refusal(*refusals[reason])` for each of REFUSALS, the
    # "invalid_code" entry standing for any reason the platform does not tell apart.
    refusal: Callable[..., ApiError]
    refusals: Mapping[str, tuple[Any, ...]]
    access_kind: str = "access"  # Meta's login gives a "user" token
    refresh_seconds: float | None = None  # None: no refresh tokens
    refresh_scope: str = ""  # a refresh token only when this scope was granted ("" = always)
    access_prefix: str = ""
    refresh_prefix: str = ""
    token_length: int = 48
    scope_separator: str = " "
    bearer: str = "bearer"  # how the answer spells its token_type
    # PKCE challenge forms accepted whatever the method says ("s256", "hex", "plain"); empty: the
    # method decides (S256 or plain), as RFC 7636 says.
    pkce_forms: frozenset[str] = frozenset()
    # Added to the redirect when the person refuses (`sandbox_deny=1`), besides `error` and `state`.
    denial: Mapping[str, str] = field(default_factory=dict)
    fragment: str = ""  # Meta appends "#_=_" to its redirects
    echo_scopes: bool = False  # TikTok names the granted scopes in the redirect

    def __post_init__(self) -> None:
        assert "invalid_code" in self.refusals, self.family
        assert set(self.refusals) <= set(REFUSALS), self.refusals

    def refuse(self, reason: str) -> ApiError:
        return self.refusal(*self.refusals.get(reason, self.refusals["invalid_code"]))


def with_query(url: str, query: Mapping[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(query)


def login_redirect(
    state: State,
    grant: Grant,
    request: Request,
    *,
    client_id: str,
    scopes: list[str],
    log_in: Callable[[], str],
) -> Response:
    """After the login page: back to `redirect_uri` with a code for the person `log_in` returns,
    or with `error=access_denied` when the request says `sandbox_deny`."""
    redirect_uri = request.param("redirect_uri")
    if request.param("sandbox_deny"):
        query = {"error": "access_denied", **grant.denial, "state": request.param("state")}
        return redirect(with_query(redirect_uri, query) + grant.fragment)
    code = state.issue_code(
        family=grant.family,
        person_id=log_in(),
        client_id=client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        lifetime=grant.code_seconds,
        code_challenge=request.param("code_challenge"),
        code_challenge_method=request.param("code_challenge_method", "plain"),
    )
    query = {"code": code.value, "state": request.param("state")}
    if grant.echo_scopes:
        query["scopes"] = grant.scope_separator.join(scopes)
    return redirect(with_query(redirect_uri, query) + grant.fragment)


def pkce_ok(grant: Grant, verifier: str, challenge: str, method: str) -> bool:
    forms = grant.pkce_forms or {"plain" if method == "plain" else "s256"}
    digest = hashlib.sha256(verifier.encode()).digest()
    accepted = {
        "s256": base64.urlsafe_b64encode(digest).decode().rstrip("="),
        "hex": digest.hex(),
        "plain": verifier,
    }
    return bool(verifier) and any(accepted[form] == challenge for form in forms)


def redeem_code(state: State, grant: Grant, request: Request, client_id: str) -> AuthCode:
    """The code the request presents, spent (a failed PKCE check spends it too)."""
    code = state.codes.get(request.param("code"))
    if code is None or code.family != grant.family:
        raise grant.refuse("invalid_code")
    if code.used:
        raise grant.refuse("used_code")
    if code.client_id != client_id:
        raise grant.refuse("wrong_client")
    if code.expires_at <= state.now():
        raise grant.refuse("expired_code")
    if code.redirect_uri != request.param("redirect_uri"):
        raise grant.refuse("wrong_redirect")
    code.used = True
    if code.code_challenge and not pkce_ok(
        grant, request.param("code_verifier"), code.code_challenge, code.code_challenge_method
    ):
        raise grant.refuse("bad_verifier")
    return code


def rotate_refresh(state: State, grant: Grant, request: Request, client_id: str) -> Token:
    """The refresh token the request presents, spent: each one works once."""
    old = state.tokens.get(request.param("refresh_token"))
    if (
        old is None
        or old.family != grant.family
        or old.kind != "refresh"
        or old.used
        or state.token_problem(old)
        or (old.client_id and old.client_id != client_id)
    ):
        raise grant.refuse("bad_refresh")
    old.used = True
    return old


def issue(
    state: State, grant: Grant, *, person_id: str, scopes: list[str], client_id: str, grant_id: str = ""
) -> tuple[Token, Token | None]:
    """An access token, and a refresh token of the same grant where the platform gives one."""
    access = state.issue_token(
        family=grant.family,
        kind=grant.access_kind,
        person_id=person_id,
        lifetime=grant.access_seconds,
        grant=grant_id,
        prefix=grant.access_prefix,
        length=grant.token_length,
        scopes=scopes,
        client_id=client_id,
    )
    if grant.refresh_seconds is None or (grant.refresh_scope and grant.refresh_scope not in scopes):
        return access, None
    refresh = state.issue_token(
        family=grant.family,
        kind="refresh",
        person_id=person_id,
        lifetime=grant.refresh_seconds,
        grant=access.grant,
        prefix=grant.refresh_prefix,
        length=grant.token_length,
        scopes=scopes,
        client_id=client_id,
    )
    return access, refresh


def token_body(grant: Grant, access: Token, refresh: Token | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": grant.bearer,
        "expires_in": int(grant.access_seconds),
        "scope": grant.scope_separator.join(access.scopes),
    }
    if refresh is not None:
        body["refresh_token"] = refresh.value
    return body


def exchange(state: State, grant: Grant, request: Request, client_id: str) -> tuple[Token, Token | None]:
    """The token endpoint after client authentication: a code, or a refresh token, for new tokens."""
    grant_type = request.param("grant_type")
    if grant_type == "authorization_code":
        code = redeem_code(state, grant, request, client_id)
        return issue(state, grant, person_id=code.person_id, scopes=code.scopes, client_id=client_id)
    if grant_type == "refresh_token":
        old = rotate_refresh(state, grant, request, client_id)
        return issue(
            state, grant, person_id=old.person_id, scopes=old.scopes, client_id=client_id, grant_id=old.grant
        )
    raise grant.refuse("unsupported_grant")
