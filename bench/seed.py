"""Time `cuntao seed` for the source story's 1,311 villages with 300 villagers each.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards), migrates it untimed, then times the seed command alone and prints:

{"bench": "seed", "db": ..., "villages": N, "villagers": N, "seconds": S, "rows_per_s": R}
"""

import argparse
import json
import sys
import time

from freshdb import cuntao, fresh_database

COUNTIES, VILLAGES_PER_COUNTY = 69, 19  # 69 x 19 = 1,311 villages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=COUNTIES)
    parser.add_argument("--villages-per-county", type=int, default=VILLAGES_PER_COUNTY)
    parser.add_argument("--villagers-per-village", type=int, default=300)
    args = parser.parse_args()

    with fresh_database() as (env, db):
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
    print(out.strip(), file=sys.stderr)
    print(json.dumps({"bench": "seed", "db": db, "villages": counts["villages"], "villagers": counts["villagers"],
                      "seconds": round(seconds, 2), "rows_per_s": round(counts["rows"] / seconds)}))


if __name__ == "__main__":
    main()
