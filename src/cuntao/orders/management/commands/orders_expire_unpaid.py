from django.core.management.base import BaseCommand

from cuntao.orders.services import orders_expire_unpaid


class Command(BaseCommand):
    help = ("Cancel online and relative-pays orders not paid by their deadline: stock released, "
            "payments expired (run every few minutes, like cron).")

    def handle(self, *args, **options):
        done = orders_expire_unpaid()
        self.stdout.write(f"expired {done} unpaid orders")
