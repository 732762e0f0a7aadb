from django.conf import settings
from django.core.management import BaseCommand, call_command
from tqdm import tqdm

from cuntao.catalog.demo import catalog_seed_demo
from cuntao.core.server import serve
from cuntao.demo.services import DEMO_LOGINS, DEMO_PASSWORD, demo_village_count, network_seed_demo, orders_seed_demo


class Command(BaseCommand):
    help = "Create, migrate and seed the embedded demo database once, then serve it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port on 127.0.0.1 (default 8000).")
        parser.add_argument("--workers", type=int, default=2, help="Worker processes (default 2).")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the database and stop.")

    def handle(self, *args, port, workers, no_serve, **options):
        database = settings.DATABASES["default"]
        self.stdout.write(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        with tqdm(total=demo_village_count(), desc="Seeding demo villages", unit="village") as bar:
            seeded = network_seed_demo(on_village=lambda: bar.update(1))
        if not seeded:
            self.stdout.write("The demo network is already seeded; keeping it.")
        catalog_seed_demo()  # idempotent: adds what is missing
        orders_seed_demo()  # a few orders at JZ-0001, placed through the orders service
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write(self.style.SUCCESS(f"\ncuntao demo: {url}"))
        self.stdout.write(f"Every demo login has the password: {DEMO_PASSWORD}")
        for username, role, sees in DEMO_LOGINS:
            self.stdout.write(f"  {username:<10} {role:<16} {sees}")
        self.stdout.write(f"Check a station code (public): {url}verify/?code=JZ-0001")
        self.stdout.write(f"API docs: {url}api/v1/docs\n")
        if not no_serve:
            serve(bind=f"127.0.0.1:{port}", workers=workers)
