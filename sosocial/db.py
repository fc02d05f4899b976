"""Database connections shared by the threads of a worker."""

from __future__ import annotations

from django.db import connection


def release_while_waiting() -> None:
    """Hand this thread's connection back to the pool before a wait on the network.

    With psycopg's pool (PostgreSQL, DATABASE_POOL_SIZE) a publishing thread needs a connection only
    for its claim and its record, so a few connections serve a worker's 64 threads. Without a pool
    the thread keeps its connection (reopening one costs more than the wait saves), and inside a
    transaction nothing is released: the caller's work is not done.
    """
    if connection.connection is None or connection.in_atomic_block:
        return
    if getattr(connection, "pool", None) is None:
        return
    connection.close()
