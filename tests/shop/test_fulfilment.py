"""The cooperative packs and ships (an outbound parcel), the buyer receives, the farmers are paid their shares."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, DomainError, NotFound
from cuntao.ledger.models import Transaction
from cuntao.logistics.models import Parcel
from cuntao.orders.models import Payment
from cuntao.produce.models import GradedContribution, PackedBox
from cuntao.shop import services
from cuntao.shop.models import LotSale, PayoutShare
from cuntao.shop.selectors import farmer_statement, payout_totals
from tests.shop.factories import delivery, paid_order, scope_of_buyer


@pytest.fixture
def staff(clerk, scope_of):
    """County staff of the cooperative's county: they run its shop orders."""
    return scope_of(clerk)


def ship(order, staff, **kwargs):
    services.shop_order_pack(scope=staff, order=order)
    return services.shop_order_ship(scope=staff, order=order, **kwargs)


def test_pack_then_ship_registers_an_outbound_parcel_with_a_tracking_link(shop, chen, staff, station):
    order = paid_order(chen, shop.listing, quantity=2)
    order = ship(order, staff, carrier="顺丰", carrier_tracking_no="SF1234567890")
    assert order.status == "shipped" and order.packed_at and order.shipped_at
    parcel = Parcel.objects.get(order_ref=order.number)
    assert order.parcel_id == parcel.pk
    assert parcel.direction == "outbound" and parcel.source == "our_order" and parcel.station_id == station.pk
    assert parcel.addressee_name == "陈小姐" and parcel.weight_g == 10000 and parcel.carrier == "顺丰"
    assert set(PackedBox.objects.filter(order_ref=order.number).values_list("status", flat=True)) == {"shipped"}
    from cuntao.shop.selectors import tracking_url_of

    assert tracking_url_of(order) == f"/t/{parcel.tracking_token}/"
    again = services.shop_order_ship(scope=staff, order=order)
    assert again.parcel_id == parcel.pk and Parcel.objects.count() == 1


def test_an_unpaid_order_cannot_be_packed_nor_a_paid_one_shipped_unpacked(shop, chen, staff):
    from tests.shop.factories import checkout

    unpaid = checkout(chen, shop.listing)
    with pytest.raises(Conflict):
        services.shop_order_pack(scope=staff, order=unpaid)
    paid = paid_order(chen, shop.listing)
    with pytest.raises(Conflict):
        services.shop_order_ship(scope=staff, order=paid)


def test_staff_of_another_county_and_buyers_cannot_pack(shop, chen, far_station, scope_of):
    from django.contrib.auth import get_user_model

    order = paid_order(chen, shop.listing)
    far_clerk = get_user_model().objects.get(username="far-clerk")
    with pytest.raises(NotFound):
        services.shop_order_pack(scope=scope_of(far_clerk), order=order)
    with pytest.raises(NotFound):
        services.shop_order_pack(scope=scope_of_buyer(chen), order=order)


def two_farmer_lot(shop, station):
    """A second farmer's harvest graded together with the first's: 600 kg and 400 kg in."""
    from tests.produce.factories import another_plot, grade, harvest, pack

    plot2 = another_plot(shop, village=station.village)
    lots = [harvest(shop, kg="600"), harvest(shop, plot=plot2, kg="400")]
    grading = grade(shop, lots, grades={"A": "700", "B": "200"})
    lot_a = grading.graded_lots.get(grade__code="A")
    pack(shop, lot_a, boxes=5)
    return lot_a, plot2.member


def test_delivery_shares_each_lots_revenue_less_the_fee_by_graded_kilograms(shop, chen, staff, station):
    # Sell the first lot's 10 boxes out, so the order takes the shared lot's boxes.
    services.shop_checkout(scope=scope_of_buyer(chen), lines=[(shop.listing.pk, 10)],
                           delivery=delivery())
    lot, li_si = two_farmer_lot(shop, station)
    order = paid_order(chen, shop.listing, quantity=3)
    ship(order, staff)
    order = services.shop_order_deliver(scope=scope_of_buyer(chen), order=order)
    assert order.status == "delivered" and order.delivered_at
    sale = LotSale.objects.get(order=order)
    assert sale.graded_lot_id == lot.pk and sale.boxes == 3
    assert sale.revenue_fen == 3 * 12800 and sale.fee_rate_bp == 500
    assert sale.fee_fen == 1920 and sale.farmers_fen == 38400 - 1920
    grams = {m: int(kg * 1000) for m, kg in GradedContribution.objects.filter(graded_lot=lot).values_list("member_id", "kg")}
    assert grams == {shop.member.pk: 420000, li_si.pk: 280000}  # 700 kg of A shared 60:40
    shares = dict(PayoutShare.objects.filter(lot_sale=sale).values_list("member_id", "amount_fen"))
    assert shares == {shop.member.pk: 21888, li_si.pk: 14592}
    assert sum(shares.values()) == sale.farmers_fen
    # A second delivery call changes nothing.
    services.shop_order_deliver(scope=scope_of_buyer(chen), order=order)
    assert LotSale.objects.count() == 1 and PayoutShare.objects.count() == 2
    totals = payout_totals(scope=staff, cooperative=shop.coop)
    assert [(r["member_id"], r["total_fen"]) for r in totals] == [(shop.member.pk, 21888), (li_si.pk, 14592)]
    statement = farmer_statement(scope=staff, cooperative=shop.coop, member_id=li_si.pk)
    assert statement["total_fen"] == 14592 and statement["shares"][0].lot_grams == 700000


def test_a_partial_refund_before_delivery_lowers_the_revenue_shared(shop, chen, staff):
    order = paid_order(chen, shop.listing, quantity=2)
    ship(order, staff)
    services.shop_order_refund(scope=staff, order=order, amount_fen=5000, reason="one box bruised")
    order = services.shop_order_deliver(scope=staff, order=order)
    sale = LotSale.objects.get(order=order)
    assert sale.revenue_fen == 25600 - 5000
    assert sum(PayoutShare.objects.filter(lot_sale=sale).values_list("amount_fen", flat=True)) == sale.farmers_fen


def test_refund_more_than_paid_is_refused_and_changes_nothing(shop, chen, staff):
    order = paid_order(chen, shop.listing, quantity=1)
    with pytest.raises(DomainError) as e:
        services.shop_order_refund(scope=staff, order=order, amount_fen=12801, reason="too much")
    assert e.value.code == "refund_too_large"
    services.shop_order_refund(scope=staff, order=order, amount_fen=12000, reason="bruised")
    with pytest.raises(DomainError) as e:
        services.shop_order_refund(scope=staff, order=order, amount_fen=801, reason="again")
    assert e.value.code == "refund_too_large"
    order.refresh_from_db()
    assert order.refunded_fen == 12000
    payment = Payment.objects.get(reference=order.number)
    assert payment.refunded_fen == 12000 and payment.status == "partially_refunded"
    refund = Transaction.objects.get(kind="refund", reference_id=str(order.pk))
    assert sorted(refund.entries.values_list("account__kind", "amount_fen")) == [("online_clearing", -12000),
                                                                                  ("refunds", 12000)]


@pytest.mark.parametrize("amount", [0, -5, Decimal("1.5")])
def test_a_refund_of_nothing_is_a_field_error(shop, chen, staff, amount):
    order = paid_order(chen, shop.listing)
    with pytest.raises(ValidationError):
        services.shop_order_refund(scope=staff, order=order, amount_fen=amount, reason="x")


def test_a_refund_needs_a_reason(shop, chen, staff):
    order = paid_order(chen, shop.listing)
    with pytest.raises(ValidationError) as e:
        services.shop_order_refund(scope=staff, order=order, amount_fen=100, reason=" ")
    assert "reason" in e.value.message_dict


def test_cancelling_a_paid_order_refunds_it_and_puts_the_boxes_back(shop, chen, staff):
    order = paid_order(chen, shop.listing, quantity=3)
    services.shop_order_pack(scope=staff, order=order)
    order = services.shop_order_cancel(scope=staff, order=order, reason="frost damage")
    assert order.status == "cancelled" and order.refunded_fen == order.goods_total_fen
    assert PackedBox.objects.filter(status="in_stock").count() == 10
    assert Payment.objects.get(reference=order.number).status == "refunded"


def test_the_buyer_cannot_cancel_a_paid_order_nor_refund_after_delivery(shop, chen, staff):
    order = paid_order(chen, shop.listing)
    with pytest.raises(Conflict):
        services.shop_order_cancel(scope=scope_of_buyer(chen), order=order, reason="changed my mind")
    ship(order, staff)
    services.shop_order_deliver(scope=staff, order=order)
    with pytest.raises(Conflict):
        services.shop_order_refund(scope=staff, order=order, amount_fen=100, reason="late complaint")
