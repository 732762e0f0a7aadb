import pytest

from cuntao.catalog.services import product_update
from cuntao.orders.models import Order
from tests.catalog.factories import SYSTEM
from tests.orders.factories import place, rice_cooker, villager_at


@pytest.fixture
def villager(station):
    return villager_at(station)


@pytest.fixture
def cooker(db):
    return rice_cooker()


def test_partner_finds_a_product_previews_total_savings_commission_and_places_cod_order(partner_client, station,
                                                                                      villager, cooker):
    url = f"/stations/{station.code}/orders/new/"
    found = partner_client.get(url, {"q": "dfb", "villager": villager.pk})
    assert found.status_code == 200 and "美的电饭煲" in found.content.decode()
    preview = partner_client.post(url, {"villager": villager.pk, "payment_method": "cash_on_delivery", "q": "dfb",
                                        "action": "preview", f"qty_{cooker.pk}": "2", "idempotency_key": "form-1"})
    text = preview.content.decode()
    assert "¥398.00" in text and "¥120.00" in text and "¥11.94" in text  # total, savings, commission
    assert not Order.objects.exists()
    placed = partner_client.post(url, {"villager": villager.pk, "payment_method": "cash_on_delivery",
                                       "action": "place", "line_product": cooker.pk, "line_quantity": "2",
                                       "line_price": "19900", "idempotency_key": "form-1"})
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == f"/orders/{order.number}/"
    assert order.status == "placed" and order.goods_total_fen == 39800
    listing = partner_client.get(f"/stations/{station.code}/orders/").content.decode()
    assert order.number in listing and "Pending" in listing
    detail = partner_client.get(f"/orders/{order.number}/").content.decode()
    assert "xiaoer" in detail and "¥11.94" in detail


def test_price_change_is_shown_with_the_new_price_and_nothing_is_placed(partner_client, station, villager, cooker):
    product_update(scope=SYSTEM, product=cooker, price_fen=20900)
    response = partner_client.post(f"/stations/{station.code}/orders/new/", {
        "villager": villager.pk, "payment_method": "cash_now", "action": "place", "line_product": cooker.pk,
        "line_quantity": "1", "line_price": "19900", "idempotency_key": "form-2"})
    text = response.content.decode()
    assert response.status_code == 200 and "¥209.00" in text and 'name="line_price" value="20900"' in text
    assert not Order.objects.exists()


def test_quantity_zero_or_absurd_places_nothing(partner_client, station, villager, cooker):
    response = partner_client.post(f"/stations/{station.code}/orders/new/", {
        "villager": villager.pk, "payment_method": "cash_now", "action": "place", "line_product": cooker.pk,
        "line_quantity": "5000", "line_price": "19900", "idempotency_key": "form-3"})
    assert response.status_code == 200 and not Order.objects.exists()


def test_cancel_from_the_detail_page_records_the_reason(partner, partner_client, station, villager, cooker, scope_of):
    order = place(scope_of(partner.user), station, villager, cooker)
    partner_client.post(f"/orders/{order.number}/cancel/", {"reason": "不要了"})
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert "不要了" in partner_client.get(f"/orders/{order.number}/").content.decode()


def test_station_home_shows_todays_orders_and_commission(partner, partner_client, station, villager, cooker, scope_of):
    place(scope_of(partner.user), station, villager, cooker)
    text = partner_client.get("/station/").content.decode()
    assert "orders today" in text and "¥5.97" in text


def test_other_stations_orders_are_not_found(partner_client, far_station, scope_of):
    from cuntao.network.models import Partner
    far = Partner.objects.get(station=far_station).user
    order = place(scope_of(far), far_station, villager_at(far_station), rice_cooker())
    assert partner_client.get(f"/orders/{order.number}/").status_code == 404
    assert partner_client.get(f"/stations/{far_station.code}/orders/").status_code == 404
