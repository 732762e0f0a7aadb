"""Shop test data: the produce app's kiwi cooperative and boxes, listings and buyers through the services."""

from django.test import Client

from cuntao.core.scope import resolve_scope
from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay
from cuntao.shop import services
from tests.factories import UserFactory
from tests.produce.factories import boxes_of, kiwi_cooperative, staff_scope

PASSWORD = "Kiwi-Buyer-2026!"
ADDRESS = "上海市浦东新区世纪大道100号5楼"


def kiwi_shop(*, station, boxes: int = 10, slug: str = "kiwi"):
    """The kiwi cooperative with `boxes` grade-A boxes packed, and its 5 kg gift box listed at ¥128.00."""
    kiwi = kiwi_cooperative(station=station, slug=slug)
    kiwi.lot_a, kiwi.boxes = boxes_of(kiwi, count=boxes) if boxes else (None, [])
    kiwi.listing = services.listing_publish(scope=staff_scope(UserFactory(username=f"lister-{slug}")),
                                            pack_size=kiwi.pack_a)
    return kiwi


_phones = iter(range(10_000_000))


def buyer(*, name="陈小姐", phone=None):
    phone = phone or f"1390000{next(_phones):04d}"
    return services.buyer_register(name=name, phone=phone, password=PASSWORD)


def scope_of_buyer(b):
    return resolve_scope(b.user)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def delivery(**kwargs):
    values = {"recipient_name": "陈小姐", "recipient_phone": "13900001111", "address": ADDRESS, **kwargs}
    return services.clean_delivery(**values)


def checkout(b, listing, quantity=1, **kwargs):
    return services.shop_checkout(scope=scope_of_buyer(b), lines=[(listing.pk, quantity)], delivery=delivery(),
                                  **kwargs)


def pay(order, *, approve=True):
    """The buyer pays on the sandbox's checkout page, and the provider's webhook arrives."""
    checkout_ = services.shop_order_pay(scope=scope_of_buyer(order.buyer), order=order, return_url="/done")
    ref = checkout_.pay_url.rstrip("/").rsplit("/", 1)[-1]
    sandbox_pay(provider_ref=ref, approve=approve)
    sandbox_deliver_webhooks()
    order.refresh_from_db()
    return order


def paid_order(b, listing, quantity=1):
    return pay(checkout(b, listing, quantity))
