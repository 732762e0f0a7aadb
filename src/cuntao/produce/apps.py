from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _panel_context(request, station) -> dict:
    from cuntao.produce.selectors import station_produce_panel

    return station_produce_panel(scope=request.scope, station_id=station.pk)


class ProduceConfig(AppConfig):
    name = "cuntao.produce"
    label = "produce"
    verbose_name = _("Produce")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel

        register_station_panel(StationPanel(order=60, template="produce/_station_panel.html", context=_panel_context))
