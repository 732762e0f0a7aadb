"""`cuntao payments_deliver`: the sandbox payment provider's webhook sender."""

import json
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from cuntao.orders.payments import sandbox_deliver_webhooks


class Command(BaseCommand):
    help = ("Deliver the sandbox payment provider's queued, signed webhooks (what a real provider does on its "
            "side). Runs until stopped; --once delivers what is due and exits. Not needed with a real provider.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver every webhook due now, then exit.")
        parser.add_argument("--sleep", type=float, default=1.0, help="Seconds between rounds (default 1).")

    def handle(self, *args, once: bool, sleep: float, **options):
        if sleep < 0:
            raise CommandError("--sleep must be at least 0.")
        totals = {"delivered": 0, "failed": 0}
        stop = threading.Event()
        try:
            while not stop.is_set():
                if not connection.in_atomic_block:
                    close_old_connections()
                counts = sandbox_deliver_webhooks()
                for name, value in counts.items():
                    totals[name] += value
                if once:
                    break
                stop.wait(sleep)
        except KeyboardInterrupt:
            pass
        self.stdout.write(json.dumps({"worker": "payments", **totals}))
