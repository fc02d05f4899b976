from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from platforms.oauth import code_challenge_s256, expiry_from

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
