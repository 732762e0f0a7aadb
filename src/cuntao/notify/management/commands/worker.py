"""`cuntao worker`: send the outbox's notices through the configured gateway."""

import json
import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection

from cuntao.notify.gateways import gateway_path, get_gateway
from cuntao.notify.services import notices_send_due

logger = logging.getLogger("cuntao.notify")


class Command(BaseCommand):
    help = ("Send the notices waiting in the outbox through the gateway settings.NOTIFY_GATEWAY names. "
            "Runs until stopped (SIGTERM or Ctrl-C end it after the current batch); --once sends what is "
            "due now and exits, for cron and tests. Any number of workers may run at once.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send every notice due now, then exit.")
        parser.add_argument("--batch", type=int, default=50, help="Notices claimed at a time (default 50).")
        parser.add_argument("--sleep", type=float, default=2.0,
                            help="Seconds to wait when nothing is due (default 2).")

    def handle(self, *args, once: bool, batch: int, sleep: float, **options):
        if batch < 1 or sleep < 0:
            raise CommandError("--batch must be at least 1 and --sleep at least 0.")
        gateway = get_gateway()
        stop = threading.Event()
        previous = self._install_signal_handlers(stop)
        totals = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0, "skipped": 0}
        logger.info("notify worker started: gateway %s, batch %s", gateway_path(), batch)
        try:
            while not stop.is_set():
                if not connection.in_atomic_block:  # (tests run the command inside their transaction)
                    close_old_connections()  # a long-lived loop: drop connections past their age or broken
                try:
                    counts = notices_send_due(gateway=gateway, batch=batch)
                except DatabaseError:
                    if once:
                        raise
                    logger.exception("notify worker: the database failed; trying again in %s s", max(sleep, 1.0))
                    stop.wait(max(sleep, 1.0))
                    continue
                for name, value in counts.items():
                    totals[name] += value
                if counts["claimed"] < batch:  # nothing more due now
                    if once:
                        break
                    stop.wait(sleep)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info("notify worker stopped")
        self.stdout.write(json.dumps({"worker": "notify", **totals}))

    @staticmethod
    def _install_signal_handlers(stop: threading.Event) -> dict:
        """Stop between batches on SIGTERM or SIGINT, so no claimed notice is abandoned mid-send."""
        if threading.current_thread() is not threading.main_thread():
            return {}  # signals reach only the main thread; a worker started elsewhere is stopped by its owner

        def on_signal(signum, frame):
            logger.info("notify worker: signal %s; stopping after this batch", signum)
            stop.set()

        return {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
