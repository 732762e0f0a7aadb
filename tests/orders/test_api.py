import pytest
from django.test import Client

from cuntao.catalog.models import Product
from cuntao.catalog.services import product_update
from cuntao.ledger.models import Transaction
from cuntao.notify.models import Notice
from cuntao.orders.models import Order
from tests.catalog.factories import SYSTEM
from tests.orders.factories import place, rice_cooker, villager_at


@pytest.fixture
def villager(station):
    return villager_at(station)


@pytest.fixture
def cooker(db):
    return rice_cooker()


def body(villager, product, quantity=1, price=None, method="cash_now"):
    return {"villager_id": villager.pk, "payment_method": method,
            "lines": [{"product_id": product.pk, "quantity": quantity,
                       "expected_unit_price_fen": price or product.price_fen}]}


def post(client, url, data, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data, content_type="application/json", **extra)


def test_partner_places_an_order_and_sees_totals_savings_and_commission(partner_client, villager, cooker):
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, quantity=2), key="a-1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "paid" and data["goods_total_fen"] == 39800
    assert data["savings_fen"] == 2 * (25900 - 19900)
    assert data["commission_fen"] == 1194 and data["commission_state"] == "pending"
    assert data["lines"][0]["commission_rate_bp"] == 300
    assert [e["to_status"] for e in data["events"]] == ["placed", "paid"]
    again = post(partner_client, "/api/v1/orders", body(villager, cooker, quantity=2), key="a-1")
    assert again.json()["number"] == data["number"] and Order.objects.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 5000])
def test_bad_quantity_is_422_naming_the_line_and_changes_nothing(partner_client, villager, cooker, quantity):
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, quantity=quantity), key="q")
    assert response.status_code == 422
    assert "lines.0.quantity" in response.json()["error"]["fields"]
    assert not Order.objects.exists() and not Transaction.objects.exists() and not Notice.objects.exists()
    assert Product.objects.get(pk=cooker.pk).stock == 10


def test_price_changed_is_409_with_new_prices_then_a_confirmed_resend_succeeds(partner_client, villager, cooker):
    product_update(scope=SYSTEM, product=cooker, price_fen=18900)
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, price=19900), key="p-1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "price_changed"
    assert error["fields"] == {"lines.0.expected_unit_price_fen": ["18900"]}
    assert not Order.objects.exists()
    assert post(partner_client, "/api/v1/orders", body(villager, cooker, price=18900), key="p-2").status_code == 201


def test_out_of_stock_and_credit_limit_are_4xx_and_change_nothing(partner_client, villager, cooker):
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, quantity=11), key="s")
    assert response.status_code == 409 and response.json()["error"]["code"] == "out_of_stock"
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, method="credit"), key="c")
    assert response.status_code == 400 and response.json()["error"]["code"] == "credit_limit_exceeded"
    response = post(partner_client, "/api/v1/orders", body(villager, cooker, method="barter"), key="o")
    assert response.status_code == 422 and "payment_method" in response.json()["error"]["fields"]
    assert not Order.objects.exists() and not Transaction.objects.exists()
    assert Product.objects.get(pk=cooker.pk).stock == 10


def test_list_is_scoped_and_shows_commission_state(partner, partner_client, station, villager, cooker, far_station,
                                                   scope_of):
    from cuntao.network.models import Partner
    mine = place(scope_of(partner.user), station, villager, cooker)
    far_partner = Partner.objects.get(station=far_station).user
    theirs = place(scope_of(far_partner), far_station, villager_at(far_station), rice_cooker(category=cooker.category))
    listed = partner_client.get("/api/v1/orders").json()["items"]
    assert [(o["number"], o["commission_fen"], o["commission_state"]) for o in listed] == [
        (mine.number, 597, "pending")]
    assert partner_client.get(f"/api/v1/orders/{theirs.number}").status_code == 404
    assert post(partner_client, f"/api/v1/orders/{theirs.number}/cancel", {"reason": "x"}).status_code == 404


def test_cancel_handover_and_return_routes(partner, partner_client, clerk, station, villager, cooker, scope_of):
    order = place(scope_of(partner.user), station, villager, cooker, payment_method="cash_on_delivery")
    assert post(partner_client, f"/api/v1/orders/{order.number}/handover", {}).status_code == 409
    assert post(partner_client, f"/api/v1/orders/{order.number}/advance", {"to_status": "shipped"}).status_code == 403
    clerk_client = Client()
    clerk_client.force_login(clerk)
    for status in ("shipped", "at_county_warehouse", "at_station"):
        assert post(clerk_client, f"/api/v1/orders/{order.number}/advance", {"to_status": status}).status_code == 200
    handed = post(partner_client, f"/api/v1/orders/{order.number}/handover", {}).json()
    assert handed["status"] == "handed_over" and handed["paid_at"] and handed["return_window_ends"]
    assert post(partner_client, f"/api/v1/orders/{order.number}/cancel", {"reason": "x"}).status_code == 409
    returned = post(partner_client, f"/api/v1/orders/{order.number}/return", {"reason": "坏了"})
    assert returned.status_code == 200 and returned.json()["commission_state"] == "reversed"
    assert Product.objects.get(pk=cooker.pk).stock == 10


def test_anonymous_caller_gets_no_orders(client, villager, cooker):
    assert post(client, "/api/v1/orders", body(villager, cooker)).status_code in (401, 403)


def test_order_list_costs_the_same_few_queries_however_many_orders(partner, partner_client, station, villager,
                                                                  cooker, scope_of, django_assert_max_num_queries):
    scope = scope_of(partner.user)
    for _ in range(5):
        place(scope, station, villager, cooker)
    with django_assert_max_num_queries(8):
        assert len(partner_client.get("/api/v1/orders").json()["items"]) == 5
    with django_assert_max_num_queries(12):
        assert partner_client.get(f"/stations/{station.code}/orders/").status_code == 200
