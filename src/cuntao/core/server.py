"""Serve the WSGI application with gunicorn, from inside a management command."""

import os

from django.core.wsgi import get_wsgi_application
from django.db import connections
from gunicorn.app.base import BaseApplication


class CuntaoServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return get_wsgi_application()


def default_workers() -> int:
    return int(os.environ.get("CUNTAO_WORKERS") or (2 * (os.cpu_count() or 1) + 1))


def serve(*, bind: str, workers: int, threads: int = 1, timeout: int = 30) -> None:
    """Run gunicorn in the foreground until interrupted.

    One thread per worker means gunicorn's sync workers: a worker takes the next
    connection only when it is free, so in a burst the requests are served in the
    order they came, whichever worker is free. Threaded (gthread) workers keep each
    kept-alive connection in the worker that accepted it; in a Double-11 burst of 32
    clients one worker held 31 of them and served each client at 275 ms while the
    other served its one client at 13 ms (bench/orders.py: p99 320-350 ms on
    PostgreSQL with 2 x 2 threads, 234 ms with 4 sync workers, at the same rate).
    Threads are for clients with no proxy in front: a sync worker waits for all of a
    slow upload, and on a connection a browser opens ahead and sends nothing on.

    Connections opened before the fork (by migrate or seeding) are closed first: a
    database connection must not be shared between worker processes.
    """
    connections.close_all()
    CuntaoServer({
        "bind": bind, "workers": workers, "threads": threads, "worker_class": "sync" if threads == 1 else "gthread",
        "timeout": timeout, "graceful_timeout": 10, "accesslog": "-", "errorlog": "-", "loglevel": "info",
        "proc_name": "cuntao",
    }).run()
