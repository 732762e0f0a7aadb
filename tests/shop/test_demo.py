"""The demo shop: the produce demo's boxes on sale and three city orders, once."""

from cuntao.shop.demo import shop_seed_demo
from cuntao.shop.models import Listing, PayoutShare, ShopOrder
from tests.produce.factories import boxes_of, kiwi_cooperative


def test_the_demo_lists_the_packs_and_places_orders_once(station):
    kiwi = kiwi_cooperative(station=station)
    boxes_of(kiwi, count=10)
    assert shop_seed_demo() == 3
    assert Listing.objects.filter(pack_size=kiwi.pack_a).exists()
    assert sorted(ShopOrder.objects.values_list("status", flat=True)) == ["delivered", "paid", "shipped"]
    assert ShopOrder.objects.get(status="shipped").parcel is not None
    assert PayoutShare.objects.filter(member=kiwi.member).exists()
    assert shop_seed_demo() == 0
    assert ShopOrder.objects.count() == 3


def test_without_boxes_the_demo_places_nothing(db):
    assert shop_seed_demo() == 0
    assert not ShopOrder.objects.exists()
