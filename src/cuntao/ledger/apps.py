from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def station_money_panel(request, station) -> dict:
    from cuntao.ledger.selectors import station_balances

    shown = {b.kind: b.shown_fen for b in station_balances(scope=request.scope, station=station)}
    return {"cash": shown["cash_in_hand"], "pending": shown["commission_pending"], "owed": shown["commission_owed"]}


class LedgerConfig(AppConfig):
    name = "cuntao.ledger"
    label = "ledger"
    verbose_name = _("Ledger")

    def ready(self):
        from cuntao.core.panels import StationPanel, register_station_panel

        register_station_panel(StationPanel(order=40, template="ledger/_station_panel.html", context=station_money_panel))
