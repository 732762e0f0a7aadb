from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "cuntao.notify"
    label = "notify"
    verbose_name = _("Notices")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel
        from cuntao.notify import kinds  # noqa: F401  (registers the built-in notice kinds)
        from cuntao.notify.selectors import station_notice_counts

        register_station_panel(StationPanel(
            order=15, template="notify/_station_panel.html",
            context=lambda request, station: {"counts": station_notice_counts(scope=request.scope, station_id=station.pk)},
        ))
