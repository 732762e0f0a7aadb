"""Order test data: products and villagers through the other apps' factories, orders through the services."""

from cuntao.orders.services import credit_limit_set, order_place
from tests.catalog.factories import CategoryFactory, make_product
from tests.factories import VillagerFactory


def rice_cooker(**kwargs):
    """美的电饭煲: ¥199.00, township shop ¥259.00, 3 % commission (300 bp), 10 in stock."""
    kwargs.setdefault("category", CategoryFactory(slug="appliances", commission_rate_bp=300))
    return make_product(name="美的电饭煲", price_fen=19900, local_price_fen=25900, **kwargs)


def fertiliser(**kwargs):
    """复合肥 50kg: ¥120.00, 2 % commission."""
    kwargs.setdefault("category", CategoryFactory(slug="farm-inputs", commission_rate_bp=200))
    return make_product(name="复合肥", price_fen=12000, local_price_fen=13500, unit="袋", **kwargs)


def villager_at(station, **kwargs):
    return VillagerFactory(station=station, **kwargs)


def place(scope, station, villager, product, quantity=1, payment_method="cash_now", **kwargs):
    return order_place(scope=scope, station=station, villager=villager,
                       lines=[(product.pk, quantity, product.price_fen)], payment_method=payment_method, **kwargs)


def give_credit(scope, villager, limit_fen):
    return credit_limit_set(scope=scope, villager=villager, limit_fen=limit_fen)
