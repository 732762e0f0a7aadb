from django.core.management.base import BaseCommand

from cuntao.orders.services import order_complete_due


class Command(BaseCommand):
    help = "Complete handed-over orders whose return window has passed and earn their commission (run daily)."

    def handle(self, *args, **options):
        done = order_complete_due()
        self.stdout.write(f"completed {done} orders")
