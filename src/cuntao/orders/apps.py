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

        from cuntao.logistics.signals import parcel_changed
        from cuntao.orders.parcels import order_follow_parcel

        parcel_changed.connect(order_follow_parcel, dispatch_uid="orders.follow_parcel")

        from cuntao.orders.models import PAYMENT_PURPOSE
        from cuntao.orders.payments import register_payment_handler
        from cuntao.orders.services import order_payment_succeeded

        register_payment_handler(PAYMENT_PURPOSE, order_payment_succeeded)

        from cuntao.core.jobs import register_periodic_job
        from cuntao.orders.payments import sandbox_deliver_webhooks
        from cuntao.orders.services import order_complete_due, orders_expire_unpaid

        # The sandbox provider's webhooks arrive a moment after the payer presses Pay, as a real one's do.
        register_periodic_job("payments_deliver_sandbox", every_seconds=2, run=sandbox_deliver_webhooks)
        register_periodic_job("orders_expire_unpaid", every_seconds=60, run=orders_expire_unpaid)
        register_periodic_job("orders_complete_due", every_seconds=3600, run=order_complete_due)
