"""Production refuses to start half configured; the documented setup passes `check --deploy`."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def documented_environment() -> dict[str, str]:
    """The production environment the README's Deploying section gives, placeholders filled in."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh production-environment\n(.*?)```", readme, re.DOTALL)
    assert block, "README.md lost its production environment block"
    filled = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    environment: dict[str, str] = {}
    for raw in block.group(1).splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        environment[name] = filled.get(name, value) if value.startswith("<") else value
    assert not [name for name, value in environment.items() if value.startswith("<")]
    return environment


def run(args: list[str], environment: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "SOSOCIAL_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_with_the_documented_environment_prints_no_warnings(tmp_path: Path) -> None:
    result = run(["check", "--deploy"], documented_environment(), tmp_path)

    assert result.returncode == 0, result.stderr
    # One check is silenced on purpose: axes.W006 (sign-in locks by username, not by address,
    # because behind a proxy every client shares the proxy's address; see SIGNIN_LOCK_BY_ADDRESS).
    assert "System check identified no issues (1 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("SECRET_KEY", None, "SECRET_KEY is not set"),
        ("SECRET_KEY", "short", "SECRET_KEY must be a random value"),
        ("DATABASE_URL", None, "DATABASE_URL is not set"),
        ("SOSOCIAL_PUBLIC_BASE_URL", None, "SOSOCIAL_PUBLIC_BASE_URL must be the https:// address"),
        ("SOSOCIAL_PUBLIC_BASE_URL", "http://sosocial.example.com", "SOSOCIAL_PUBLIC_BASE_URL must be"),
        ("SOSOCIAL_PUBLIC_BASE_URL", "https://127.0.0.1:8000", "SOSOCIAL_PUBLIC_BASE_URL must be"),
        ("ALLOWED_HOSTS", None, "ALLOWED_HOSTS must name"),
        ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS must name"),
        ("FIELD_ENCRYPTION_KEYS", None, "FIELD_ENCRYPTION_KEYS is not set"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key", "key 1 is not a Fernet key"),
        ("SOSOCIAL_MEDIA_URL", "http://media.example.com/media/", "SOSOCIAL_MEDIA_URL must be an https://"),
    ],
)
def test_production_start_up_fails_on_each_missing_or_unsafe_setting(
    tmp_path: Path, variable: str, value: str | None, complaint: str
) -> None:
    environment = documented_environment()
    if value is None:
        environment.pop(variable, None)
    else:
        environment[variable] = value

    result = run(["migrate", "--check"], environment, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured: SOSOCIAL_ENV=production refuses to start" in result.stderr
    assert complaint in result.stderr


def test_demo_setup_refuses_in_production(tmp_path: Path) -> None:
    result = run(["demo_setup"], documented_environment(), tmp_path)

    assert result.returncode != 0
    assert "refuses to run with SOSOCIAL_ENV=production" in result.stderr


def test_the_proxy_header_is_trusted_only_when_the_setting_says_so(tmp_path: Path) -> None:
    environment = documented_environment()
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    trusted = run(["shell", "-c", code], environment, tmp_path)
    environment["SOSOCIAL_TRUST_PROXY_SSL_HEADER"] = "false"
    untrusted = run(["shell", "-c", code], environment, tmp_path)

    assert trusted.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert untrusted.stdout.strip().splitlines()[-1] == "None"
