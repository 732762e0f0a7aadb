import subprocess
import sys

from django.conf import settings
from django.core.management import BaseCommand, call_command
from tqdm import tqdm

from cuntao.core.server import serve
from cuntao.demo.services import DEMO_LOGINS, DEMO_PASSWORD, demo_seed_all, demo_village_count
from cuntao.produce.demo import demo_box_codes

# Run beside the web server, as a deployment would: the outbox worker sends notices,
# the jobs process delivers the sandbox's payment webhooks and runs the chores.
BACKGROUND = (["worker"], ["jobs"])


class Command(BaseCommand):
    help = "Create, migrate and seed the embedded demo database once, then serve it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port on 127.0.0.1 (default 8000).")
        parser.add_argument("--workers", type=int, default=2, help="Worker processes (default 2).")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the database and stop.")
        parser.add_argument("--no-background", action="store_true",
                            help="Serve without the notice worker and the periodic jobs beside it.")

    def handle(self, *args, port, workers, no_serve, no_background, **options):
        database = settings.DATABASES["default"]
        self.stdout.write(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.seed()
        self.print_welcome(f"http://127.0.0.1:{port}/")
        if no_serve:
            return
        helpers = [] if no_background else [self.start_background(command) for command in BACKGROUND]
        try:
            # Threads: the browser is the client, with no proxy in front, and it opens
            # connections ahead that may send nothing; a sync worker would wait on one.
            serve(bind=f"127.0.0.1:{port}", workers=workers, threads=4)
        finally:
            for process in helpers:
                process.terminate()
            for process in helpers:
                process.wait(timeout=15)

    def seed(self):
        with tqdm(total=demo_village_count(), desc="Seeding demo villages", unit="village") as bar:
            seeded = demo_seed_all(on_village=lambda: bar.update(1))
        if not seeded:
            self.stdout.write("The demo network is already seeded; keeping it.")

    def print_welcome(self, url: str):
        self.stdout.write(self.style.SUCCESS(f"\ncuntao demo: {url}"))
        self.stdout.write(f"Every demo login has the password: {DEMO_PASSWORD}")
        for username, role, sees in DEMO_LOGINS:
            self.stdout.write(f"  {username:<18} {role:<16} {sees}")
        self.stdout.write(f"Check a station code (public): {url}verify/?code=JZ-0001")
        self.stdout.write(f"Village shop for city buyers: {url}shop/")
        for code in demo_box_codes(2):
            self.stdout.write(f"A kiwi box's story (what its QR code opens): {url}b/{code}")
        self.stdout.write(f"API docs: {url}api/v1/docs\n")

    def start_background(self, command: list[str]) -> subprocess.Popen:
        """Start `cuntao <command>` with this process's environment (same database and settings)."""
        return subprocess.Popen([sys.executable, "-m", "cuntao", *command])
