"""The demo shop: the produce demo's branded packs on sale, three city buyers and their orders.

Run after produce_seed_demo. Everything goes through the services and the sandbox payment
provider, exactly as a buyer's clicks would: one order delivered (so the farmers'
statements have a line), one shipped (with its parcel's tracking link), one paid and
waiting to be packed. Idempotent: a second run finds the demo buyers and does nothing.
"""

import logging

from django.contrib.auth import get_user_model

from cuntao.core.errors import Conflict
from cuntao.core.scope import Role, Scope
from cuntao.produce.models import BoxStatus, PackedBox, PackSize, StandardStatus
from cuntao.shop import services
from cuntao.shop.models import Buyer, Listing

logger = logging.getLogger("cuntao.shop")

DEMO_PASSWORD = "cuntao-demo"
# (name, phone, boxes, how far the order gets, address)
DEMO_BUYERS = [
    ("陈晓雯", "+8613900000001", 2, "delivered", "上海市浦东新区世纪大道100号 环球金融中心 5楼"),
    ("周立明", "+8613900000002", 1, "shipped", "北京市朝阳区建国路88号 SOHO现代城 2号楼 1201"),
    ("Emma Li", "+8613900000003", 3, "paid", "广东省深圳市南山区科技园南区 高新南一道 9号"),
]


def _system_scope() -> Scope:
    """The demo acts as the programme (as county staff would, for the cooperative)."""
    admin = get_user_model().objects.filter(username="admin").first()
    return Scope(user=admin, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)


def _publish_packs_in_stock(scope: Scope) -> list[Listing]:
    """List every pack size of a published, branded standard that has boxes in stock."""
    pack_ids = (PackedBox.objects.filter(status=BoxStatus.IN_STOCK).values_list("pack_size_id", flat=True).distinct())
    packs = (PackSize.objects.filter(pk__in=pack_ids, standard__status=StandardStatus.PUBLISHED,
                                     standard__brand__isnull=False).order_by("pk"))
    listings = []
    for pack in packs:
        existing = Listing.objects.filter(pack_size=pack).first()
        listings.append(existing or services.listing_publish(scope=scope, pack_size=pack))
    return listings


def _buyer(name: str, phone: str) -> Buyer:
    existing = Buyer.objects.filter(phone=phone).first()
    return existing or services.buyer_register(name=name, phone=phone, password=DEMO_PASSWORD)


def _pay_in_sandbox(order) -> None:
    from cuntao.core.scope import resolve_scope
    from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay

    checkout = services.shop_order_pay(scope=resolve_scope(order.buyer.user), order=order,
                                       return_url=order.get_absolute_url())
    sandbox_pay(provider_ref=checkout.pay_url.rstrip("/").rsplit("/", 1)[-1], approve=True)
    sandbox_deliver_webhooks()
    order.refresh_from_db()


def shop_seed_demo() -> int:
    """Put the demo cooperative's packs on sale and place the demo buyers' orders; returns orders placed."""
    from cuntao.core.scope import resolve_scope

    if Buyer.objects.filter(phone=DEMO_BUYERS[0][1]).exists():
        return 0
    scope = _system_scope()
    listings = _publish_packs_in_stock(scope)
    if not listings:
        logger.warning("shop demo: no packed boxes in stock; run the produce demo first")
        return 0
    listing = max(listings, key=lambda item: item.price_fen)
    placed = 0
    for name, phone, boxes, stage, address in DEMO_BUYERS:
        buyer = _buyer(name, phone)
        delivery = services.clean_delivery(recipient_name=name, recipient_phone=phone, address=address)
        try:
            order = services.shop_checkout(scope=resolve_scope(buyer.user), lines=[(listing.pk, boxes)],
                                           delivery=delivery, idempotency_key=f"demo-{phone}")
        except Conflict:
            logger.warning("shop demo: not enough boxes in stock for %s", name)
            break
        _pay_in_sandbox(order)
        if stage in ("shipped", "delivered"):
            services.shop_order_pack(scope=scope, order=order)
            services.shop_order_ship(scope=scope, order=order)
        if stage == "delivered":
            services.shop_order_deliver(scope=scope, order=order)
        placed += 1
    return placed
