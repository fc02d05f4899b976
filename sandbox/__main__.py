"""`python -m sandbox --port 8100 [--host 127.0.0.1] [--latency-ms N] [--profile fast|realistic]`"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sandbox import profile
from sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every platform API response")
    parser.add_argument(
        "--profile",
        choices=profile.PROFILES,
        default=profile.FAST,
        help="realistic: latency drawn from a long-tailed distribution, media processing as long as "
        "on the platforms, rate limits on (sandbox/profile.py)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    options = parser.parse_args(argv)
    run(
        host=options.host,
        port=options.port,
        latency_ms=options.latency_ms,
        quiet=options.quiet,
        profile_name=options.profile,
    )


def run(
    *,
    host: str,
    port: int,
    latency_ms: int,
    quiet: bool,
    write: Callable[[str], object] | None = None,
    profile_name: str = profile.FAST,
) -> None:
    say = write or print
    server = SandboxServer(host=host, port=port, latency_ms=latency_ms, quiet=quiet, profile=profile_name)
    say(
        f"SoSocial sandbox on {server.url} "
        f"(accounts and posts: {server.url}/, control: {server.url}/_sandbox/)"
    )
    say("Point SoSocial at it with:")
    for name, url in server.base_urls().items():
        say(f"  {name}={url}")
    sys.stdout.flush()  # a parent process may be waiting for the first line
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
