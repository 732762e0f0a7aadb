"""Periodic jobs: the small chores that keep the network's promises on time.

Apps register their chores in AppConfig.ready() (expire unpaid orders, complete orders
whose return window passed, remind about uncollected parcels...). `cuntao jobs` runs
each one when it is due, in one process beside `cuntao serve` and `cuntao worker`;
each app's own command still runs its chore alone, for cron. Every chore is a service
that is safe to run twice or in two processes at once: it finds what is due under row
locks, so a job runner that dies mid-way loses nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    run: Callable[[], object]  # returns a count or a dict of counts, printed in the log


_jobs: dict[str, PeriodicJob] = {}


def register_periodic_job(name: str, *, every_seconds: int, run: Callable[[], object]) -> None:
    if every_seconds < 1:
        raise ValueError("A periodic job runs at most once a second.")
    _jobs[name] = PeriodicJob(name=name, every_seconds=every_seconds, run=run)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)
