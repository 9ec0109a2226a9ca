"""Database access from several threads of one process.

SQLite (the embedded default) has one writer at a time, and a deferred transaction that read before
writing fails at once with "database is locked" instead of waiting when another connection wrote in
between. Its in-memory test database is in shared-cache mode, where even readers fail instead of
waiting. So on SQLite the threads of a sync take turns at the database through one process-wide lock
(their network calls still overlap, which is where the time goes); PostgreSQL needs none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import close_old_connections, connection

T = TypeVar("T")

_sqlite_lock = threading.RLock()


@contextmanager
def turn() -> Iterator[None]:
    """Hold this around every database access made from a worker thread."""
    if connection.vendor == "sqlite":
        with _sqlite_lock:
            yield
    else:
        yield


def in_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """Wrap a function submitted to a thread pool so the thread's database connection is closed after it.

    Django opens one connection per thread and only closes them at the end of a request; pool threads
    have no request, and would otherwise leave a connection open per thread and job.
    """

    def run(*args: object, **kwargs: object) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            with turn():
                close_old_connections()
                connection.close()

    return run
