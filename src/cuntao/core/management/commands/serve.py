import os

from django.core.management import BaseCommand, call_command

from cuntao.core.server import default_workers, serve


class Command(BaseCommand):
    help = "Serve cuntao with gunicorn (for deployments; put any proxy in front)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("CUNTAO_BIND", "127.0.0.1:8000"),
                            help="Address:port to listen on (env CUNTAO_BIND; default 127.0.0.1:8000).")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="Worker processes (env CUNTAO_WORKERS; default 2 x cores + 1).")
        parser.add_argument("--threads", type=int, default=int(os.environ.get("CUNTAO_THREADS", "1")),
                            help="Threads per worker (env CUNTAO_THREADS; default 1: sync workers, which serve "
                                 "a burst in arrival order; more only without a proxy in front, for slow clients).")
        parser.add_argument("--no-collectstatic", action="store_true", help="Skip collecting static files first.")

    def handle(self, *args, bind, workers, threads, no_collectstatic, **options):
        if not no_collectstatic:
            call_command("collectstatic", interactive=False, verbosity=0)
        serve(bind=bind, workers=workers, threads=threads)
