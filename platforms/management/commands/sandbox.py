"""`python manage.py sandbox --port 8100 [--latency-ms N]`: run the platform sandbox in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox.__main__ import run


class Command(BaseCommand):
    help = "Run the local sandbox of Facebook, Instagram, X and TikTok APIs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--latency-ms", type=int, default=0, help="added to every platform API response")
        parser.add_argument("--quiet", action="store_true", help="do not log each request")

    def handle(self, *args: Any, **options: Any) -> None:
        run(
            host=options["host"],
            port=options["port"],
            latency_ms=options["latency_ms"],
            quiet=options["quiet"],
            write=self.stdout.write,
        )
