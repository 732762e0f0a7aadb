"""Real races: threads, each with its own database connection, meeting at a barrier."""

import pytest

from cuntao.core.errors import Conflict
from cuntao.produce.models import PackedBox
from cuntao.shop.models import ShopOrder
from tests.orders.test_races import run_in_threads
from tests.shop.factories import buyer, checkout, kiwi_shop

pytestmark = pytest.mark.django_db(transaction=True)


def test_sixteen_buyers_racing_for_the_last_five_boxes_buy_exactly_five(station):
    shop = kiwi_shop(station=station, boxes=5)
    buyers = [buyer(name=f"买家{i}") for i in range(16)]

    def buy(i):
        try:
            return checkout(buyers[i], shop.listing, quantity=1).number
        except Conflict as e:
            assert e.code == "out_of_stock"
            return "out_of_stock"

    outcomes, errors = run_in_threads(16, buy)
    assert not errors, errors
    sold = [o for o in outcomes if o != "out_of_stock"]
    assert len(sold) == 5 and outcomes.count("out_of_stock") == 11
    assert ShopOrder.objects.count() == 5
    assert PackedBox.objects.filter(status="in_stock").count() == 0
    # Every box went to exactly one order, and every order got exactly one box.
    assert sorted(PackedBox.objects.values_list("order_ref", flat=True)) == sorted(sold)


def test_one_buyer_sending_one_idempotency_key_five_times_makes_one_order(station):
    shop = kiwi_shop(station=station, boxes=5)
    chen = buyer()
    outcomes, errors = run_in_threads(5, lambda i: checkout(chen, shop.listing, quantity=2, idempotency_key="k").pk)
    assert not errors, errors
    assert len(set(outcomes)) == 1 and ShopOrder.objects.count() == 1
    assert PackedBox.objects.filter(status="reserved").count() == 2
