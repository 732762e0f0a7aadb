from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VillagersConfig(AppConfig):
    name = "cuntao.villagers"
    label = "villagers"
    verbose_name = _("Villagers")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel
        from cuntao.villagers.selectors import station_villager_counts

        register_station_panel(StationPanel(
            order=10, template="villagers/_station_panel.html",
            context=lambda request, station: {"counts": station_villager_counts(scope=request.scope, station_id=station.pk)},
        ))
