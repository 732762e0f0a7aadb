from django.core.management.base import BaseCommand

from cuntao.shop.services import shop_reservations_expire


class Command(BaseCommand):
    help = ("Put back in stock the boxes of shop orders not paid within their hold, and expire their payments "
            "(run every few minutes, like cron).")

    def handle(self, *args, **options):
        done = shop_reservations_expire()
        self.stdout.write(f"expired {done} unpaid shop orders")
