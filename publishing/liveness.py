"""Which worker process holds a claim, and whether it still lives.

Each process that claims a date names itself (host, pid and a random tag) and keeps a heartbeat key
in Redis with a short time to live. A date whose claimant's key is gone (or whose process is gone,
on this host) belongs to a dead worker: it is reconciled at once instead of after the lease.
When Redis cannot tell (down, or flushed or restarted within the key's lifetime), the answer is
"unknown" and only the lease decides, because calling a live worker dead could send a post twice.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)
PREFIX = "sosocial:worker:"
# Set once per Redis lifetime: a key store younger than a heartbeat's lifetime cannot tell the dead
# from the live whose next beat has not come yet.
EPOCH = "sosocial:workers-since"

_lock = threading.Lock()
_name = ""
_pid = 0


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def ttl() -> float:
    return 3 * settings.SOSOCIAL_HEARTBEAT_SECONDS


def _beat(name: str) -> bool:
    try:
        client = _client()
        client.set(EPOCH, str(time.time()), nx=True)
        client.set(PREFIX + name, "1", px=int(ttl() * 1000))
    except redis.RedisError as error:
        logger.warning("Worker heartbeat not written: %s", error)
        return False
    return True


def _keep_beating(name: str) -> None:
    while True:
        time.sleep(settings.SOSOCIAL_HEARTBEAT_SECONDS)
        _beat(name)


def claimant() -> str:
    """This process's name with its heartbeat running; "" when Redis is out of reach (then the
    claim names no one, and only the lease can settle it)."""
    global _name, _pid
    with _lock:
        if _pid != os.getpid():  # first call, or a forked child: a name and a beat of its own
            name = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
            if not _beat(name):
                return ""
            _name, _pid = name, os.getpid()
            threading.Thread(target=_keep_beating, args=(name,), daemon=True, name="heartbeat").start()
        return _name


def _process_gone(name: str) -> bool:
    host, _, rest = name.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_alive(name: str) -> bool | None:
    """False: the claimant is certainly gone. None: nobody can tell (only the lease decides)."""
    if not name:
        return None
    if _process_gone(name):
        return False
    try:
        client = _client()
        since, beating = client.get(EPOCH), client.exists(PREFIX + name)
    except redis.RedisError:
        return None
    if beating:
        return True
    if since is None or time.time() - float(since) < ttl():
        return None
    return False
