"""A local SMTP server for development and tests: keeps every message it receives, sends nothing on.

    python -m notifications.mailcatcher --port 1025 --dir var/mail

`make run` starts it (Procfile.dev); the app's DEBUG-only page /notifications/dev-mail/ lists and
opens what it caught. Tests start it in process and read `messages`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import socket
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class MailCatcher:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        # aiosmtpd checks the server by connecting to the port it was given, so 0 cannot stand for
        # "any free port": pick one here.
        self.port = port or _free_port(host)
        self._controller = Controller(self, hostname=host, port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            count = len(self.messages)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{time.time_ns()}-{count}.eml").write_bytes(raw)
        return "250 Message accepted"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    catcher = MailCatcher(host=args.host, port=args.port, folder=args.dir).start()
    print(f"Mail catcher on {args.host}:{catcher.port}, keeping messages in {args.dir}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
