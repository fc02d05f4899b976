from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses

from platforms.base import AccountCredentials, ReconnectNeeded
from platforms.oauth import OAuth2Client, code_challenge_s256, expiry_from
from platforms.tiktok import TikTokClient
from platforms.x import XClient

# RFC 7636 Appendix B: the worked example every implementation must reproduce.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_the_s256_challenge_matches_the_rfc_example() -> None:
    assert code_challenge_s256(RFC_VERIFIER) == RFC_CHALLENGE


@pytest.mark.parametrize("verifier", ["too-short", "x" * 129, "has spaces" + "x" * 40, "é" * 50])
def test_a_malformed_verifier_is_refused(verifier: str) -> None:
    with pytest.raises(ValueError, match="PKCE"):
        code_challenge_s256(verifier)


def test_expiry_counts_from_now() -> None:
    now = datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert expiry_from(7200, now=now) == now + timedelta(hours=2)
    assert expiry_from("86400", now=now) == now + timedelta(days=1)


@pytest.mark.parametrize("value", [None, "", "soon", 0, -5])
def test_no_usable_lifetime_means_no_expiry(value: object) -> None:
    assert expiry_from(value) is None


@pytest.mark.parametrize(
    ("client_class", "code"),
    [(XClient, "x_no_refresh_token"), (TikTokClient, "tiktok_no_refresh_token")],
)
def test_an_account_without_a_refresh_token_must_be_reconnected_without_asking_the_platform(
    client_class: type[OAuth2Client], code: str, mocked: responses.RequestsMock
) -> None:
    account = AccountCredentials(platform=client_class.platform_key, account_id="1", access_token="old")
    with pytest.raises(ReconnectNeeded) as raised:
        client_class().refresh_token(account)
    assert raised.value.code == code
    assert client_class.platform_name in raised.value.message
    assert len(mocked.calls) == 0
