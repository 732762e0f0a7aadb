"""Orders and parcels linked: shipping registers the parcel, its scans and hand-over move the order."""

import pytest

from cuntao.core.errors import Conflict, Forbidden
from cuntao.ledger.models import Transaction
from cuntao.ledger.services import account_balance_fen, account_for
from cuntao.logistics.models import Parcel, ParcelStatus, Source
from cuntao.logistics.services import (
    handover_with_code,
    parcel_mark_for_return,
    parcel_return_send,
    station_receive_scan,
    warehouse_scan,
)
from cuntao.orders.models import OrderStatus
from cuntao.orders.parcels import order_parcel, order_ship
from cuntao.orders.services import order_cancel
from tests.logistics.factories import PICKUP_CODE
from tests.orders.factories import place, rice_cooker, villager_at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def known_code(monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)


@pytest.fixture
def cod_order(partner, station, scope_of):
    return place(scope_of(partner.user), station, villager_at(station), rice_cooker(), payment_method="cash_on_delivery")


def ship(clerk, scope_of, order, number="ZT2026000001"):
    return order_ship(scope=scope_of(clerk), order=order, carrier="ZTO", tracking_number=number)


def refreshed(obj):
    obj.refresh_from_db()
    return obj


def test_shipping_an_order_registers_its_parcel(cod_order, clerk, scope_of):
    parcel = ship(clerk, scope_of, cod_order)
    assert refreshed(cod_order).status == OrderStatus.SHIPPED
    assert (parcel.source, parcel.order_ref, parcel.villager_id, parcel.station_id) == (
        Source.OUR_ORDER, cod_order.number, cod_order.villager_id, cod_order.station_id)
    assert order_parcel(scope=scope_of(clerk), order=cod_order) == parcel


def test_shipping_again_with_the_same_number_returns_the_same_parcel(cod_order, clerk, scope_of):
    first = ship(clerk, scope_of, cod_order)
    assert ship(clerk, scope_of, cod_order) == first
    assert Parcel.objects.filter(order_ref=cod_order.number).count() == 1
    with pytest.raises(Conflict) as caught:
        ship(clerk, scope_of, cod_order, number="ZT2026009999")
    assert caught.value.code == "already_shipped"


def test_a_partner_cannot_ship(cod_order, partner, scope_of):
    with pytest.raises(Forbidden):
        order_ship(scope=scope_of(partner.user), order=cod_order, carrier="ZTO", tracking_number="X1")
    assert refreshed(cod_order).status == OrderStatus.PLACED
    assert not Parcel.objects.exists()


def test_scans_move_the_order_and_hand_over_takes_the_cash(cod_order, clerk, partner, station, scope_of):
    parcel = ship(clerk, scope_of, cod_order)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    assert refreshed(cod_order).status == OrderStatus.AT_COUNTY_WAREHOUSE
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    order = refreshed(cod_order)
    assert order.status == OrderStatus.AT_STATION
    assert order.events.get(to_status=OrderStatus.AT_STATION).actor == partner.user
    assert order.paid_at is None
    assert handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE).ok
    order = refreshed(cod_order)
    assert order.status == OrderStatus.HANDED_OVER and order.paid_at is not None
    assert Transaction.objects.filter(kind="payment").count() == 1


def test_a_repeated_scan_moves_the_order_once(cod_order, clerk, scope_of):
    parcel = ship(clerk, scope_of, cod_order)
    for _ in range(2):
        warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    assert refreshed(cod_order).events.filter(to_status=OrderStatus.AT_COUNTY_WAREHOUSE).count() == 1


def test_an_unexpected_arrival_moves_the_order_through_the_warehouse_step(cod_order, clerk, partner, station,
                                                                          scope_of):
    parcel = ship(clerk, scope_of, cod_order)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    order = refreshed(cod_order)
    assert order.status == OrderStatus.AT_STATION
    assert list(order.events.values_list("to_status", flat=True))[-3:] == [
        OrderStatus.SHIPPED, OrderStatus.AT_COUNTY_WAREHOUSE, OrderStatus.AT_STATION]


def test_the_goods_of_a_cancelled_order_are_not_handed_over(cod_order, clerk, partner, station, scope_of):
    parcel = ship(clerk, scope_of, cod_order)
    order_cancel(scope=scope_of(partner.user), order=cod_order, reason="changed her mind")
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    assert refreshed(cod_order).status == OrderStatus.CANCELLED
    with pytest.raises(Conflict) as caught:
        handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE)
    assert caught.value.code == "order_closed"
    assert refreshed(parcel).status == ParcelStatus.AT_STATION
    assert not Transaction.objects.filter(kind="payment").exists()


def test_a_carrier_parcel_naming_no_order_moves_nothing(clerk, partner, station, scope_of):
    from tests.logistics.factories import ParcelFactory

    parcel = ParcelFactory(station=station, order_ref="NOPE-1")
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    assert refreshed(parcel).status == ParcelStatus.SORTED


def test_delivery_at_the_door_with_a_signature_takes_the_cash_once(cod_order, clerk, partner, station, scope_of,
                                                                   settings, tmp_path):
    from cuntao.logistics.delivery import delivery_run_create, delivery_stop_deliver
    from tests.catalog.factories import tiny_image

    settings.MEDIA_ROOT = tmp_path
    parcel = ship(clerk, scope_of, cod_order)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    scope = scope_of(partner.user)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="signature", proof=tiny_image())
    order = refreshed(cod_order)
    assert order.status == OrderStatus.HANDED_OVER and order.paid_at is not None
    assert order.events.filter(to_status=OrderStatus.HANDED_OVER).count() == 1
    assert Transaction.objects.filter(kind="payment").count() == 1


def _waiting_at_station(order, clerk, partner, station, scope_of):
    parcel = ship(clerk, scope_of, order)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    return parcel


def test_a_parcel_sent_back_uncollected_cancels_its_order_and_releases_the_stock(cod_order, clerk, partner, station,
                                                                               scope_of):
    product = cod_order.lines.get().product
    held = refreshed(product).stock
    parcel = _waiting_at_station(cod_order, clerk, partner, station, scope_of)
    parcel = parcel_mark_for_return(scope=scope_of(partner.user), parcel=parcel, reason="拒收")
    assert refreshed(cod_order).status == OrderStatus.AT_STATION  # on the return list it can still be collected
    parcel_return_send(scope=scope_of(partner.user), parcel=parcel)
    order = refreshed(cod_order)
    assert order.status == OrderStatus.CANCELLED and "went back" in order.events.last().note
    assert refreshed(product).stock == held + 1
    assert not Transaction.objects.filter(kind="payment").exists()  # nothing was paid, nothing to refund
    parcel_return_send(scope=scope_of(partner.user), parcel=parcel)  # a repeat changes nothing
    assert refreshed(cod_order).events.filter(to_status=OrderStatus.CANCELLED).count() == 1


def test_a_paid_order_whose_parcel_goes_back_is_refunded_in_cash(partner, clerk, station, scope_of):
    order = place(scope_of(partner.user), station, villager_at(station), rice_cooker(), payment_method="cash_now")
    cash = account_for(kind="cash_in_hand", station=station)
    assert account_balance_fen(cash) == order.goods_total_fen
    parcel = _waiting_at_station(order, clerk, partner, station, scope_of)
    parcel = parcel_mark_for_return(scope=scope_of(partner.user), parcel=parcel, reason="地址不对")
    parcel_return_send(scope=scope_of(partner.user), parcel=parcel)
    assert refreshed(order).status == OrderStatus.CANCELLED
    assert account_balance_fen(cash) == 0
