"""The public traceability page among a million boxes, and a season's EPCIS export.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards). Seeds, untimed, the demo network and its Jinzhai kiwi cooperative, then
grows that cooperative's season through the produce services (members, plots,
inspections, harvests, gradings, packings, boxes sold and shipped) until its EPCIS
export holds --events events, and times building and serialising that document.
Then spreads --boxes boxes over the season's branded graded lots (produce/bulk.py:
COPY or executemany; the seeding time goes to stderr) and times the trace page of
random boxes through Django's handler in-process (django.test.Client: URL resolution,
middleware, the scan it records, the template; no network, no web server), each box
at the URL printed on it:

- cold: the lot's story is not cached (the cache is cleared before each request), as
  for the first scan of a lot's boxes in STORY_TTL;
- warm: another box of the lot was scanned just before (untimed), so the lot's parts and
  rendered story are cached, as for every other scan within STORY_TTL.

Prints one line per cache state and one for the export:

{"bench": "trace", "db": ..., "boxes": N, "cache": "cold"|"warm", "p50_ms": .., "p95_ms": ..}
{"bench": "epcis", "db": ..., "events": N, "seconds": S}

and on stderr seeding times, the spread over --rounds, queries per page and the size
of the export. One smaller export (a graded lot's history) is checked against GS1's
EPCIS 2.0 schema, untimed.
"""

import argparse
import datetime
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from freshdb import fresh_database
from httpload import django_setup

EPCIS_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "data" / "epcis" / "EPCIS-JSON-Schema.json"
PLOTS_PER_MEMBER = 2
HARVESTS_PER_PLOT = 4
HARVEST_KG = 300
LOTS_PER_GRADING = 20
BOXES_PER_PACKING = {"A": 200, "B": 100}
BOXES_PER_ORDER = 5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- seeding --------------------------------------------------------------------------------

def seed_demo_cooperative():
    """The demo network and the Jinzhai kiwi cooperative, through their own seeders."""
    from cuntao.demo.services import network_seed_demo
    from cuntao.produce.demo import SLUG, produce_seed_demo
    from cuntao.produce.models import Cooperative

    network_seed_demo()
    if not produce_seed_demo():
        raise SystemExit("the produce demo did not seed (no Jinzhai county?)")
    return Cooperative.objects.get(slug=SLUG)


class Season:
    """The demo cooperative's season and the scopes that write it."""

    def __init__(self, coop):
        from django.contrib.auth import get_user_model

        from cuntao.core.scope import Role, Scope
        from cuntao.produce.demo import INSPECTOR
        from cuntao.produce.models import Standard, StandardStatus

        users = get_user_model().objects
        self.coop = coop
        self.standard = Standard.objects.get(cooperative=coop, status=StandardStatus.PUBLISHED)
        self.year = self.standard.season
        self.staff = Scope(user=users.get(username="jinzhai"), role=Role.COUNTY_STAFF,
                           county_ids=frozenset({coop.county_id}), station_ids=None)
        self.inspector = Scope(user=users.get(username=INSPECTOR), role=Role.NONE, county_ids=frozenset(),
                               station_ids=frozenset())

    def day(self, month: int, day: int) -> datetime.date:
        return datetime.date(self.year, month, day)

    def event_count(self) -> int:
        """Events the season's export holds now (as epcis.season_history counts them)."""
        from cuntao.produce.models import (
            BoxEvent,
            GradedLot,
            HarvestLot,
            Inspection,
            Packing,
        )

        harvests = HarvestLot.objects.filter(cooperative=self.coop, harvested_on__year=self.year)
        gradings = GradedLot.objects.filter(grading__inputs__harvest_lot__in=harvests).values("grading_id")
        return (harvests.count()
                + Inspection.objects.filter(plot__cooperative=self.coop, inspected_on__year=self.year).count()
                + gradings.distinct().count()
                + Packing.objects.filter(graded_lot__grading_id__in=gradings).count()
                + BoxEvent.objects.filter(box__graded_lot__grading_id__in=gradings,
                                          to_status__in=["sold", "shipped"]).count())


def grow_plots(season: Season, plots: int) -> list:
    """New members with plots, each plot inspected once before harvest."""
    from cuntao.produce import services

    villages = list(season.coop.villages.order_by("pk"))
    checkpoint = season.standard.checkpoints.filter(before_harvest=True).order_by("order").first()
    made = []
    for i in range(0, plots, PLOTS_PER_MEMBER):
        village = villages[i % len(villages)]
        member = services.member_add(scope=season.staff, cooperative=season.coop, village=village, name=f"社员{i:04d}",
                                     show_name_publicly=i % 3 == 0, joined_on=season.day(1, 8))
        for j in range(PLOTS_PER_MEMBER):
            plot = services.plot_add(scope=season.staff, member=member, name=f"地块{j + 1}", area_mu=2, crop="kiwi",
                                     lat=village.lat, lon=village.lon)
            services.inspection_record(scope=season.inspector, plot=plot, checkpoint_id=checkpoint.pk, result="passed",
                                       inspected_on=season.day(9, 5), note="农残速测合格")
            made.append(plot)
    return made


def harvest_grade_pack(season: Season, plots: list) -> None:
    from cuntao.produce import services

    lots = [services.record_harvest(scope=season.staff, plot=plot, kg=HARVEST_KG, harvested_on=season.day(9, 18 + k))
            for k in range(HARVESTS_PER_PLOT) for plot in plots]
    samples = [(118, "16.2"), (104, "15.1"), (88, "13.6"), (72, "12.1")]
    packs = {p.grade.code: p for p in season.standard.pack_sizes.select_related("grade")}
    for start in range(0, len(lots), LOTS_PER_GRADING):
        group = lots[start:start + LOTS_PER_GRADING]
        total = sum(lot.kg for lot in group)
        grading = services.grading_record(
            scope=season.staff, harvest_lots=group, graded_on=season.day(9, 25), samples=samples,
            grade_kg={code: (total * share / 100).quantize(services.GRAM) for code, share in (("A", 55), ("B", 30), ("C", 10))})
        for graded in grading.graded_lots.select_related("grade", "standard"):
            if graded.grade.code in BOXES_PER_PACKING:
                services.packing_record(scope=season.staff, graded_lot=graded, pack_size=packs[graded.grade.code],
                                        box_count=BOXES_PER_PACKING[graded.grade.code], packed_on=season.day(9, 26))


def sell_and_ship(season: Season, events: int) -> None:
    """Sell boxes in small orders and ship about half of them: two events per shipped box."""
    from cuntao.produce import services
    from cuntao.produce.models import BoxStatus, PackedBox

    sold, shipped = events - events // 2, events // 2
    ids = list(PackedBox.objects.filter(cooperative=season.coop, status=BoxStatus.IN_STOCK).order_by("pk")
               .values_list("pk", flat=True)[:sold])
    if len(ids) < sold:
        raise SystemExit(f"only {len(ids)} boxes to sell for {sold} sale events: grow the season")
    for n in range(0, len(ids), BOXES_PER_ORDER):
        services.box_reserve(box_ids=ids[n:n + BOXES_PER_ORDER], order_ref=f"BENCH-{n // BOXES_PER_ORDER}",
                             to_status=BoxStatus.SOLD)
    for box in PackedBox.objects.filter(pk__in=ids[:shipped]):
        services.box_set_status(box=box, to_status=BoxStatus.SHIPPED)


def seed_season(season: Season, events: int) -> None:
    """Grow the season through the services until its export holds `events` events."""
    # A plot gives about 5.6 events (4 harvests, an inspection, its share of gradings and
    # packings): a plot per 25 events leaves three quarters of them to boxes sold and shipped.
    plots = max(PLOTS_PER_MEMBER, events // 25 // PLOTS_PER_MEMBER * PLOTS_PER_MEMBER)
    harvest_grade_pack(season, grow_plots(season, plots))
    sell_and_ship(season, events - season.event_count())


# --- EPCIS ------------------------------------------------------------------------------------

def check_schema(season: Season) -> None:
    """One graded lot's history against GS1's EPCIS 2.0 schema (untimed sanity check)."""
    import jsonschema

    from cuntao.produce import epcis
    from cuntao.produce.models import GradedLot

    lot = GradedLot.objects.filter(cooperative=season.coop, grade__code="A").order_by("pk").first()
    document = epcis.graded_lot_history(lot)
    schema = json.loads(EPCIS_SCHEMA.read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
    if errors:
        raise SystemExit(f"EPCIS export of {lot.code} does not validate: {errors[0].message}")
    log(f"EPCIS history of {lot.code}: {len(document['epcisBody']['eventList'])} events, valid against the schema")


def time_epcis(season: Season, rounds: int) -> tuple[int, list[float], int]:
    from django.core.serializers.json import DjangoJSONEncoder

    from cuntao.produce import epcis

    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        document = epcis.season_history(cooperative_id=season.coop.pk, season=season.year)
        body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False)
        times.append(time.perf_counter() - started)
    return len(document["epcisBody"]["eventList"]), times, len(body)


# --- trace page ---------------------------------------------------------------------------

def seed_boxes(season: Season, boxes: int) -> int:
    """Spread `boxes` over the season's branded graded lots through produce/bulk.py."""
    from cuntao.produce.bulk import produce_seed_bulk_boxes
    from cuntao.produce.models import GradedLot

    lots = list(GradedLot.objects.filter(cooperative=season.coop, branded=True).select_related("grading").order_by("pk"))
    started, made = time.perf_counter(), 0
    for i, lot in enumerate(lots):
        share = boxes // len(lots) + (1 if i < boxes % len(lots) else 0)
        made += produce_seed_bulk_boxes(graded_lot=lot, boxes=share, actor=season.staff.user)
    log(f"seeded {made} boxes over {len(lots)} graded lots in {time.perf_counter() - started:.1f} s")
    return len(lots)


def analyse() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def sample_paths(count: int, rng: random.Random) -> list[tuple[str, tuple]]:
    """(printed path, (graded lot id, packing day)) of random boxes, by random ids in the id range."""
    from django.db.models import Max, Min

    from cuntao.produce import codes
    from cuntao.produce.models import PackedBox

    bounds = PackedBox.objects.aggregate(low=Min("pk"), high=Max("pk"))
    ids = rng.sample(range(bounds["low"], bounds["high"] + 1), count)
    boxes = PackedBox.objects.filter(pk__in=ids).select_related("pack_size", "graded_lot", "cooperative")
    paths = [(codes.box_path(b), (b.graded_lot_id, b.packed_on)) for b in boxes]
    rng.shuffle(paths)
    return paths


class QueryCounter:
    """Counts the queries a request sends (an execute wrapper: no debug cursor, no log)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def time_pages(client, paths: list[tuple[str, tuple]], *, cold: bool) -> tuple[list[float], list[int]]:
    from django.core.cache import cache
    from django.db import connection

    sibling = sibling_paths({lot for _path, lot in paths})
    times, queries = [], []
    for n, (path, lot) in enumerate(paths):
        if cold:
            cache.clear()
        else:
            # Another box of the lot and packing day scanned just before, untimed: whatever
            # the cache's size, this page finds its lot's parts and rendered story cached.
            client.get(sibling[lot])
        city = ("上海", "北京", "杭州", "")[n % 4]
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(path, {"city": city} if city else {})
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        queries.append(counter.count)
    return times, queries


def sibling_paths(keys: set[tuple]) -> dict[tuple, str]:
    """For each (lot, packing day), the short path of one of its boxes (rarely a sampled one)."""
    from cuntao.produce import codes
    from cuntao.produce.models import PackedBox

    return {(lot_id, day): codes.short_path(PackedBox.objects.filter(graded_lot_id=lot_id, packed_on=day)
                                            .order_by("pk").values_list("code", flat=True)[0])
            for lot_id, day in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000, help="events in the season's EPCIS export")
    parser.add_argument("--pages", type=int, default=400, help="random boxes whose page is timed, per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(1_000_000)

    with fresh_database() as (env, db):
        django_setup(env)
        from django.core.management import call_command
        from django.test import Client

        call_command("collectstatic", interactive=False, verbosity=0)  # pages link the manifest's names

        started = time.perf_counter()
        season = Season(seed_demo_cooperative())
        log(f"seeded the demo network and cooperative in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        seed_season(season, args.events)
        log(f"grew the {season.year} season to {season.event_count()} events through the services "
            f"in {time.perf_counter() - started:.1f} s")
        check_schema(season)
        analyse()
        events, epcis_times, size = time_epcis(season, args.rounds)
        log(json.dumps({"epcis_seconds": [round(t, 2) for t in epcis_times], "bytes": size}))

        seed_boxes(season, args.boxes)
        started = time.perf_counter()
        analyse()
        log(f"analysed in {time.perf_counter() - started:.1f} s")
        from cuntao.produce.models import PackedBox

        boxes = PackedBox.objects.count()
        client = Client(HTTP_HOST="127.0.0.1")
        results = {"cold": [], "warm": []}
        for round_ in range(args.rounds):
            paths = sample_paths(args.pages, rng)
            for state in ("cold", "warm"):
                times, queries = time_pages(client, paths, cold=state == "cold")
                results[state].append(times)
                log(json.dumps({"round": round_ + 1, "cache": state, "pages": len(times),
                                "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 0.95), 1),
                                "max_ms": round(max(times), 1), "queries": sorted(set(queries))}))
        from django.db import connections

        connections.close_all()
    for state, rounds in results.items():
        every = [t for times in rounds for t in times]
        print(json.dumps({"bench": "trace", "db": db, "boxes": boxes, "cache": state,
                          "p50_ms": round(statistics.median(every), 1), "p95_ms": round(percentile(every, 0.95), 1)}))
    print(json.dumps({"bench": "epcis", "db": db, "events": events, "seconds": round(statistics.median(epcis_times), 2)}))


if __name__ == "__main__":
    main()
