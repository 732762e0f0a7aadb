import time

from django.core.management import BaseCommand, CommandError
from tqdm import tqdm

from cuntao.demo.services import network_seed_synthetic


class Command(BaseCommand):
    help = "Add a synthetic station network of any size, for load tests (bulk inserts)."

    def add_arguments(self, parser):
        parser.add_argument("--counties", type=int, default=1)
        parser.add_argument("--villages-per-county", type=int, default=20)
        parser.add_argument("--villagers-per-village", type=int, default=300)
        parser.add_argument("--seed", type=int, default=0, help="Random seed: the same seed makes the same people.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, counties, villages_per_county, villagers_per_village, seed, quiet, **options):
        for name, value in (("--counties", counties), ("--villages-per-county", villages_per_county)):
            if not 1 <= value <= 100_000:
                raise CommandError(f"{name} must be between 1 and 100000, not {value}.")
        if not 0 <= villagers_per_village <= 100_000:
            raise CommandError(f"--villagers-per-village must be between 0 and 100000, not {villagers_per_village}.")
        started = time.perf_counter()
        with tqdm(total=counties * villages_per_county, desc="Seeding villages", unit="village", disable=quiet) as bar:
            result = network_seed_synthetic(counties=counties, villages_per_county=villages_per_county,
                                            villagers_per_village=villagers_per_village, seed=seed,
                                            on_village=lambda: bar.update(1))
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Seeded {result.counties} counties, {result.villages} villages, {result.stations} stations, "
            f"{result.households} households, {result.villagers} villagers, {result.relatives} relatives "
            f"({result.rows} rows) in {seconds:.1f} s."
        )
