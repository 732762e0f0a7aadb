"""Shipping an order from its page and the API, and handing over goods that came as a parcel."""

import pytest

from cuntao.logistics.models import Parcel
from cuntao.logistics.services import station_receive_scan, warehouse_scan
from cuntao.orders.models import OrderStatus
from cuntao.orders.parcels import order_ship
from tests.orders.factories import place, rice_cooker, villager_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cod_order(partner, station, scope_of):
    return place(scope_of(partner.user), station, villager_at(station), rice_cooker(), payment_method="cash_on_delivery")


def test_staff_ship_an_order_through_the_api(cod_order, clerk_client):
    url = f"/api/v1/orders/{cod_order.number}/ship"
    body = {"carrier": "ZTO", "tracking_number": "ZT2026000001", "weight_g": 4200}
    response = clerk_client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["tracking_number"]) == (OrderStatus.SHIPPED, "ZT2026000001")
    assert Parcel.objects.get(order_ref=cod_order.number).code == data["parcel_code"]
    # The same again is the same parcel; another number for a shipped order is refused.
    assert clerk_client.post(url, body, content_type="application/json").json()["parcel_code"] == data["parcel_code"]
    other = clerk_client.post(url, {**body, "tracking_number": "ZT9"}, content_type="application/json")
    assert (other.status_code, other.json()["error"]["code"]) == (409, "already_shipped")
    assert Parcel.objects.filter(order_ref=cod_order.number).count() == 1


def test_shipping_needs_a_carrier_and_a_number(cod_order, clerk_client):
    response = clerk_client.post(f"/api/v1/orders/{cod_order.number}/ship", {"carrier": " ", "tracking_number": ""},
                                 content_type="application/json")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"carrier", "tracking_number"}
    cod_order.refresh_from_db()
    assert cod_order.status == OrderStatus.PLACED and not Parcel.objects.exists()


def test_a_partner_may_not_ship(cod_order, partner_client):
    response = partner_client.post(f"/api/v1/orders/{cod_order.number}/ship",
                                   {"carrier": "ZTO", "tracking_number": "ZT1"}, content_type="application/json")
    assert response.status_code == 403
    assert not Parcel.objects.exists()


def test_staff_ship_from_the_order_page(cod_order, clerk_client):
    page = clerk_client.get(f"/orders/{cod_order.number}/").content.decode()
    assert 'name="tracking_number"' in page
    clerk_client.post(f"/orders/{cod_order.number}/ship/", {"carrier": "YTO", "tracking_number": "YT55"})
    page = clerk_client.get(f"/orders/{cod_order.number}/").content.decode()
    parcel = Parcel.objects.get(order_ref=cod_order.number)
    assert parcel.code in page and "YT55" in page


def test_goods_that_came_as_a_parcel_are_handed_over_through_the_parcel(cod_order, clerk, partner, station, scope_of,
                                                                        partner_client):
    parcel = order_ship(scope=scope_of(clerk), order=cod_order, carrier="ZTO", tracking_number="ZT2")
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code)
    cod_order.refresh_from_db()
    assert cod_order.status == OrderStatus.AT_STATION
    page = partner_client.get(f"/orders/{cod_order.number}/").content.decode()
    assert f"/orders/{cod_order.number}/handover/" not in page  # the parcel's page hands it over
    response = partner_client.post(f"/api/v1/orders/{cod_order.number}/handover")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "hand_over_the_parcel")
    cod_order.refresh_from_db()
    assert cod_order.status == OrderStatus.AT_STATION and cod_order.paid_at is None
