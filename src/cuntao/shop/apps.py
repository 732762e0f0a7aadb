from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "cuntao.shop"
    label = "shop"
    verbose_name = _("Village shop")

    def ready(self):
        from cuntao.orders.payments import register_payment_handler
        from cuntao.shop.services import PAYMENT_PURPOSE, shop_payment_failed, shop_payment_succeeded

        register_payment_handler(PAYMENT_PURPOSE, on_succeeded=shop_payment_succeeded, on_failed=shop_payment_failed)

        from cuntao.core.jobs import register_periodic_job
        from cuntao.shop.services import shop_reservations_expire

        register_periodic_job("shop_expire_reservations", every_seconds=60, run=shop_reservations_expire)
