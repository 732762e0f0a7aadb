"""A Double-11 burst: station partners place assisted orders over HTTP against `cuntao serve`.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards). Seeds, untimed, one county whose every station's partner has an API token,
villagers at each station and the demo catalogue with ample stock; starts `cuntao
serve` (gunicorn) and lets each client, one partner, place cash-now orders of two
random products through POST /api/v1/orders with an Idempotency-Key, one after another,
for a fixed time. In the same run a bare-driver loop (psycopg or sqlite3, no Django)
makes the same rows per order with hand-written SQL: the database's own limit on this
machine. Prints one line per client count:

{"bench": "orders", "db": ..., "clients": N, "orders_per_s": .., "p50_ms": .., "p99_ms": .., "raw_per_s": .., "ratio": ..}

and on stderr, per client count, the answers by status, the server's configuration and
its CPU time per request (server_cpu_ms: steadier than the rates when other work shares
the machine).
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

LINES_PER_ORDER = 2
STOCK = 100_000_000


def seed(stations: int) -> dict:
    """The partners' tokens, their villagers and the products on sale (ids and prices)."""
    from cuntao.catalog.demo import catalog_seed_demo
    from cuntao.catalog.models import Product
    from cuntao.core.models import ApiToken, hash_token
    from cuntao.demo.services import network_seed_synthetic
    from cuntao.network.models import Partner
    from cuntao.villagers.models import Villager

    network_seed_synthetic(counties=1, villages_per_county=stations, villagers_per_village=20, seed=11)
    catalog_seed_demo()
    Product.objects.filter(listed=True).update(stock=STOCK)
    products = list(Product.objects.filter(listed=True).order_by("pk").values_list("pk", "price_fen"))
    clients = []
    for partner in Partner.objects.select_related("user").order_by("pk"):
        secret = f"ct_bench_{partner.pk}_{random.getrandbits(64):016x}"
        ApiToken.objects.create(user=partner.user, name="bench", key_hash=hash_token(secret), hint=secret[:8])
        villagers = list(Villager.objects.filter(station_id=partner.station_id).values_list("pk", flat=True))
        clients.append({"token": secret, "station_id": partner.station_id, "county_id": partner.county_id,
                        "user_id": partner.user_id, "villagers": villagers})
    return {"clients": clients, "products": products}


def order_requests(world: dict, run: str):
    """next_request for run_clients: client i is partner i, placing order n."""
    products = world["products"]
    clients = world["clients"]

    def next_request(index: int, n: int):
        client = clients[index % len(clients)]
        rng = random.Random(f"{run}-{index}-{n}")
        chosen = rng.sample(products, LINES_PER_ORDER)
        body = {"villager_id": rng.choice(client["villagers"]), "payment_method": "cash_now",
                "lines": [{"product_id": pk, "quantity": rng.randint(1, 3), "expected_unit_price_fen": price}
                          for pk, price in chosen]}
        headers = {"Authorization": f"Bearer {client['token']}", "Idempotency-Key": f"{run}-{index}-{n}"}
        return "/api/v1/orders", headers, body

    return next_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[32, 8])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per client count")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers, as `cuntao serve`)")
    parser.add_argument("--raw-seconds", type=float, default=10.0)
    args = parser.parse_args()

    with fresh_database() as (env, db):
        django_setup(env)
        started = time.perf_counter()
        world = seed(max(args.clients))
        print(f"seeded {len(world['clients'])} stations, {len(world['products'])} products "
              f"in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        lines, details = [], []
        with served(env, workers=args.workers, threads=args.threads) as (host, port, pid):
            for clients in args.clients:
                result = run_clients(host, port, clients=clients, duration_s=args.seconds,
                                     next_request=order_requests(world, f"c{clients}"), server_pid=pid)
                if result.errors:
                    print(f"{clients} clients: {len(result.errors)} errors, e.g. {result.errors[:3]}", file=sys.stderr)
                lines.append({"bench": "orders", "db": db, "clients": clients,
                              "orders_per_s": round(result.ok / result.seconds, 1),
                              "p50_ms": round(result.percentile(0.50), 1),
                              "p99_ms": round(result.percentile(0.99), 1)})
                # The server's CPU per request is less noisy than the rate on a shared machine.
                details.append({"clients": clients, "statuses": result.statuses, "workers": args.workers,
                                "threads": args.threads, "server_cpu_ms": result.server_cpu_ms,
                                "client_cpu_ms": result.client_cpu_ms})
        from raw_orders import raw_orders_per_s

        raw = raw_orders_per_s(env, db, world, seconds=args.raw_seconds)
        from django.db import connections

        connections.close_all()
    for line, detail in zip(lines, details, strict=True):
        print(json.dumps(detail), file=sys.stderr)
        line.update(raw_per_s=round(raw, 1), ratio=round(line["orders_per_s"] / raw, 3))
        print(json.dumps(line))


if __name__ == "__main__":
    main()
