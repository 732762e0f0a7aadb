from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LogisticsConfig(AppConfig):
    name = "cuntao.logistics"
    label = "logistics"
    verbose_name = _("Logistics")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel
        from cuntao.logistics.conf import remind_after_days
        from cuntao.logistics.selectors import station_parcel_counts

        register_station_panel(StationPanel(
            order=30, template="logistics/_station_panel.html",
            context=lambda request, station: {"counts": station_parcel_counts(scope=request.scope, station_id=station.pk),
                                              "long_days": remind_after_days()},
        ))

        from cuntao.core.jobs import register_periodic_job
        from cuntao.logistics.services import parcels_age

        # Reminders are deduplicated per local day, so running hourly sends at most one a day.
        register_periodic_job("parcels_age", every_seconds=3600, run=parcels_age)
