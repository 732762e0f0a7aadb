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
