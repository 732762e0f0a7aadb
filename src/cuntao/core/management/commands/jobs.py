"""`cuntao jobs`: run every app's periodic chores when they are due."""

import dataclasses
import json
import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection

from cuntao.core.jobs import periodic_jobs

logger = logging.getLogger("cuntao.jobs")


class Command(BaseCommand):
    help = ("Run the periodic chores the apps register (expiring unpaid orders and reservations, completing "
            "orders past their return window, parcel reminders, payment webhook deliveries...) each when it is "
            "due. Runs until stopped; --once runs every chore once and exits; --list shows them.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every chore once, then exit.")
        parser.add_argument("--list", dest="list_jobs", action="store_true", help="List the chores and how often they run.")
        parser.add_argument("--only", action="append", default=[], help="Run only this chore (repeatable).")

    def handle(self, *args, once: bool, list_jobs: bool, only: list[str], **options):
        jobs = periodic_jobs()
        unknown = set(only) - {job.name for job in jobs}
        if unknown:
            raise CommandError(f"No such chore: {', '.join(sorted(unknown))}. See `cuntao jobs --list`.")
        if only:
            jobs = [job for job in jobs if job.name in only]
        if list_jobs:
            for job in jobs:
                self.stdout.write(f"{job.name:<28} every {job.every_seconds} s")
            return
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        next_run = {job.name: 0.0 for job in jobs}
        while not stop.is_set():
            for job in jobs:
                if stop.is_set() or time.monotonic() < next_run[job.name]:
                    continue
                next_run[job.name] = time.monotonic() + job.every_seconds
                self._run(job, once=once)
            if once:
                break
            stop.wait(max(min(next_run.values()) - time.monotonic(), 0.5) if next_run else 1.0)

    def _run(self, job, *, once: bool) -> None:
        if not connection.in_atomic_block:  # (tests run the command inside their transaction)
            close_old_connections()  # a long-lived loop: drop connections past their age or broken
        try:
            result = job.run()
        except DatabaseError:
            if once:
                raise
            logger.exception("chore %s: the database failed; it runs again next time", job.name)
            return
        result = _plain(result)
        line = json.dumps({"job": job.name, "result": result}, default=str)
        # A chore that found nothing to do says so only at debug level: most runs of a
        # two-second chore find nothing, and the log is for what changed.
        logger.log(logging.INFO if _did_something(result) else logging.DEBUG, line)
        if once:
            self.stdout.write(line)


def _plain(result):
    return dataclasses.asdict(result) if dataclasses.is_dataclass(result) else result


def _did_something(result) -> bool:
    if isinstance(result, dict):
        return any(result.values())
    return bool(result)
