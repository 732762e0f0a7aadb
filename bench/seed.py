"""Time `cuntao seed` for the source story's 1,311 villages with 300 villagers each.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards), migrates it untimed, then times the seed command alone and prints:

{"bench": "seed", "db": ..., "villages": N, "villagers": N, "seconds": S, "rows_per_s": R}
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

COUNTIES, VILLAGES_PER_COUNTY = 69, 19  # 69 x 19 = 1,311 villages


def cuntao(*args: str, env: dict) -> str:
    command = [sys.executable, "-m", "cuntao", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


def scratch_postgres(url: str) -> tuple[str, callable]:
    import psycopg

    parts = urlsplit(url)
    name = (parts.path.lstrip("/") or "cuntao") + "_bench"
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=COUNTIES)
    parser.add_argument("--villages-per-county", type=int, default=VILLAGES_PER_COUNTY)
    parser.add_argument("--villagers-per-village", type=int, default=300)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="cuntao-bench-")
    env = {**os.environ, "CUNTAO_DATA_DIR": data_dir, "CUNTAO_SECRET_KEY": "bench-only",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    url = os.environ.get("DATABASE_URL", "")
    drop = lambda: None  # noqa: E731
    if url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"], drop = scratch_postgres(url)
        db = "postgresql"
    else:
        env.pop("DATABASE_URL", None)
        db = "sqlite"
    try:
        cuntao("migrate", "-v0", env=env)
        started = time.perf_counter()
        out = cuntao("seed", "--counties", str(args.counties), "--villages-per-county", str(args.villages_per_county),
                     "--villagers-per-village", str(args.villagers_per_village), "--seed", "1311", "--quiet", env=env)
        seconds = time.perf_counter() - started
        counts = json.loads(cuntao("shell", "-c", (
            "import json; from cuntao.network.models import *; from cuntao.villagers.models import *; "
            "from django.apps import apps; "
            "print(json.dumps({'villages': Village.objects.count(), 'villagers': Villager.objects.count(), "
            "'rows': sum(m.objects.count() for m in apps.get_models() if m._meta.app_label in "
            "('network', 'villagers', 'auth'))}))"), env=env).strip().splitlines()[-1])
    finally:
        drop()
    print(out.strip(), file=sys.stderr)
    print(json.dumps({"bench": "seed", "db": db, "villages": counts["villages"], "villagers": counts["villagers"],
                      "seconds": round(seconds, 2), "rows_per_s": round(counts["rows"] / seconds)}))


if __name__ == "__main__":
    main()
