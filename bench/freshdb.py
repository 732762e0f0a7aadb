"""A fresh, migrated database for one benchmark run, of the kind DATABASE_URL names.

SQLite lives in a temporary data dir; PostgreSQL gets a scratch database beside the
named one (its name ends in the process id), dropped afterwards. Benchmarks never touch the data they are pointed at.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SRC = Path(__file__).resolve().parents[1] / "src"


def cuntao(*args: str, env: dict) -> str:
    """Run a `cuntao` command in env and return what it printed."""
    command = [sys.executable, "-m", "cuntao", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    import psycopg

    parts = urlsplit(url)
    # One per process: two benchmarks running at once must not drop each other's database.
    name = f"{parts.path.lstrip('/') or 'cuntao'}_bench_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database() -> Iterator[tuple[dict, str]]:
    """Yield (environment for `cuntao`, "sqlite" or "postgresql") with migrations applied."""
    data_dir = tempfile.mkdtemp(prefix="cuntao-bench-")
    env = {**os.environ, "CUNTAO_DATA_DIR": data_dir, "CUNTAO_SECRET_KEY": "bench-only", "PYTHONPATH": str(SRC)}
    url = os.environ.get("DATABASE_URL", "")
    try:
        if url.startswith(("postgres://", "postgresql://")):
            with scratch_postgres(url) as scratch:
                env["DATABASE_URL"] = scratch
                cuntao("migrate", "-v0", env=env)
                yield env, "postgresql"
        else:
            env.pop("DATABASE_URL", None)
            cuntao("migrate", "-v0", env=env)
            yield env, "sqlite"
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
