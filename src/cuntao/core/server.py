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


def serve(*, bind: str, workers: int, threads: int = 4, timeout: int = 30) -> None:
    """Run gunicorn in the foreground until interrupted.

    Connections opened before the fork (by migrate or seeding) are closed first: a
    database connection must not be shared between worker processes.
    """
    connections.close_all()
    CuntaoServer({
        "bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": timeout, "graceful_timeout": 10, "accesslog": "-", "errorlog": "-", "loglevel": "info",
        "proc_name": "cuntao",
    }).run()
