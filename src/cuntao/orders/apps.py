from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _panel_context(request, station) -> dict:
    from django.utils import timezone

    from cuntao.orders.selectors import station_order_panel

    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {**station_order_panel(scope=request.scope, station_id=station.pk, since=start_of_today)}


class OrdersConfig(AppConfig):
    name = "cuntao.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel

        register_station_panel(StationPanel(order=25, template="orders/_station_panel.html", context=_panel_context))
