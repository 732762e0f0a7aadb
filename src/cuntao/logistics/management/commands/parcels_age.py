import json

from django.core.management import BaseCommand

from cuntao.logistics.conf import remind_after_days, return_after_days
from cuntao.logistics.services import parcels_age


class Command(BaseCommand):
    help = ("Run daily: remind villagers of parcels uncollected after LOGISTICS_REMIND_AFTER_DAYS days (at most "
            "once a day) and put parcels uncollected after LOGISTICS_RETURN_AFTER_DAYS days on the return list.")

    def handle(self, *args, **options):
        report = parcels_age()
        self.stdout.write(json.dumps({"reminded": report.reminded, "marked_for_return": report.marked_for_return,
                                      "remind_after_days": remind_after_days(),
                                      "return_after_days": return_after_days()}))
