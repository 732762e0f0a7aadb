"""Warehouse scanning through the API against `cuntao serve`: a morning's truckload, scanned in bursts.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards). Seeds, untimed, one county with its stations and villagers, announced
parcels for them, and one county clerk with an API token per scanner; starts `cuntao
serve` (gunicorn) and lets each scanner POST /api/v1/scans/warehouse with its own
parcels' codes and an Idempotency-Key, one after another, for a fixed time. Every scan
sorts a parcel to its station (a parcel is scanned once). Prints one line:

{"bench": "scan", "db": ..., "scans_per_s": .., "p99_ms": ..}

and on stderr the clients, p50, the answers by status, the server's configuration and
its CPU time per scan (server_cpu_ms: steadier than the rate on a shared machine).
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from freshdb import fresh_database
from httpload import django_setup, run_clients, served


def seed(*, scanners: int, parcels: int) -> dict:
    """Scanners' tokens and, for each scanner, the codes of the parcels it will scan."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from cuntao.core.models import ApiToken, hash_token
    from cuntao.demo.services import network_seed_synthetic
    from cuntao.logistics.models import Parcel, Source
    from cuntao.network.models import County, StaffMembership, StaffRole, Station
    from cuntao.villagers.models import Villager

    network_seed_synthetic(counties=1, villages_per_county=30, villagers_per_village=10, seed=4)
    county = County.objects.get()
    villagers = list(Villager.objects.filter(county=county).values_list("pk", "station_id", "name"))
    stations = list(Station.objects.filter(county=county).values_list("pk", flat=True))
    rng = random.Random(4)
    with transaction.atomic():
        rows = []
        for n in range(parcels):
            if n % 10 == 9:  # now and then a carrier's parcel without a known addressee
                station, villager, name = rng.choice(stations), None, "王先生"
            else:
                villager, station, name = rng.choice(villagers)
            rows.append(Parcel(county=county, station_id=station, villager_id=villager, addressee_name=name,
                               source=Source.CARRIER, carrier="中通", carrier_tracking_no=f"ZT{7_000_000_000 + n}",
                               weight_g=rng.randint(200, 8000)))
        codes = [p.code for p in Parcel.objects.bulk_create(rows, batch_size=2000)]
        tokens = []
        for i in range(scanners):
            user = get_user_model().objects.create(username=f"scanner-{i}")
            StaffMembership.objects.create(user=user, role=StaffRole.COUNTY_STAFF, county=county)
            secret = f"ct_bench_scan_{i}_{rng.getrandbits(64):016x}"
            ApiToken.objects.create(user=user, name="scanner", key_hash=hash_token(secret), hint=secret[:8])
            tokens.append(secret)
    rng.shuffle(codes)
    return {"tokens": tokens, "codes": [codes[i::scanners] for i in range(scanners)]}


def scan_requests(world: dict):
    def next_request(index: int, n: int):
        codes = world["codes"][index]
        if n >= len(codes):
            return None
        headers = {"Authorization": f"Bearer {world['tokens'][index]}", "Idempotency-Key": f"scan-{index}-{n}"}
        return "/api/v1/scans/warehouse", headers, {"code": codes[n]}

    return next_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="scanners at once")
    parser.add_argument("--parcels", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers, as `cuntao serve`)")
    args = parser.parse_args()

    with fresh_database() as (env, db):
        django_setup(env)
        started = time.perf_counter()
        world = seed(scanners=args.clients, parcels=args.parcels)
        print(f"seeded {args.parcels} parcels in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        with served(env, workers=args.workers, threads=args.threads) as (host, port, pid):
            result = run_clients(host, port, clients=args.clients, duration_s=args.seconds,
                                 next_request=scan_requests(world), server_pid=pid)
        if result.errors:
            print(f"{len(result.errors)} errors, e.g. {result.errors[:3]}", file=sys.stderr)
        if result.sent >= args.parcels:
            print("every parcel was scanned before the time was up: give more --parcels", file=sys.stderr)
        from django.db import connections

        connections.close_all()
    print(json.dumps({"clients": args.clients, "p50_ms": round(result.percentile(0.50), 1),
                      "statuses": result.statuses, "server_cpu_ms": result.server_cpu_ms,
                      "workers": args.workers, "threads": args.threads}), file=sys.stderr)
    print(json.dumps({"bench": "scan", "db": db, "scans_per_s": round(result.ok / result.seconds, 1),
                      "p99_ms": round(result.percentile(0.99), 1)}))


if __name__ == "__main__":
    main()
