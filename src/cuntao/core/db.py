"""A write transaction that, on SQLite, first waits its turn in a queue of the server's writers.

SQLite has one writer at a time. A second writer's BEGIN IMMEDIATE does not queue: it
sleeps and retries, with sleeps growing to 100 ms, so in a burst the database sits idle
while writers sleep and the latency of each request grows with the crowd. Writers of
the API therefore take an exclusive lock on a file beside the database (flock: the
kernel wakes the next one the moment it is released; a thread lock does the same
between the threads of one process) before they begin. PostgreSQL needs none of this:
its row locks let writers of different rows run at once.

Only an outermost transaction queues: one already open may hold SQLite's lock, and
waiting for the queue while holding it could stall a writer that holds the queue.
Writers that do not queue (pages, commands) still meet the others at SQLite's own lock.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Model, QuerySet

_thread_turn = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # by process: a descriptor shared over fork shares its lock


def _sqlite_file() -> str | None:
    """The SQLite database file, or None (another database, or SQLite in memory as in tests)."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return name


@contextmanager
def _writer_turn(path: str) -> Iterator[None]:
    with _thread_turn:
        fd = _lock_files.get((os.getpid(), path))
        if fd is None:
            fd = _lock_files[os.getpid(), path] = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def write_transaction() -> Iterator[None]:
    """transaction.atomic(), after this SQLite database's writer turn when it is the outermost."""
    path = _sqlite_file()
    if path is None or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _writer_turn(path), transaction.atomic():
        yield


def only_row(qs: QuerySet) -> Model | None:
    """The row of qs filtered by a unique key, or None.

    Unlike first(), adds no ORDER BY: with one row there is nothing to sort, and on a
    hot path compiling the ordering is a measurable part of the query's cost.
    """
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None
