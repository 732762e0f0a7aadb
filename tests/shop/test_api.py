"""The shop's API: public products, the buyer's cart and checkout with Idempotency-Key, staff actions, errors."""

import json

import pytest
from django.test import Client

from cuntao.orders.payments import SIGNATURE_HEADER, sandbox_deliver_webhooks, sandbox_pay
from cuntao.produce.models import PackedBox
from cuntao.shop.models import CartLine, ShopOrder
from tests.shop.factories import ADDRESS, client_of, paid_order


@pytest.fixture
def chen_client(chen):
    return client_of(chen.user)


def post(client, url, data=None, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data or {}, content_type="application/json", **extra)


def body(shop, quantity=1, **kwargs):
    return {"lines": [{"product_id": shop.listing.pk, "quantity": quantity}], "recipient_name": "陈小姐",
            "recipient_phone": "+86 139 0000 1111", "address": ADDRESS, **kwargs}


def test_products_are_public_with_stock(shop):
    response = Client().get("/api/v1/shop/products")
    assert response.status_code == 200
    [product] = response.json()
    assert product["id"] == shop.listing.pk and product["stock"] == 10 and product["price_fen"] == 12800
    assert product["brand"] == "金寨红心" and product["cooperative_slug"] == "kiwi"
    assert Client().get(f"/api/v1/shop/products/{shop.listing.pk}").json()["stock"] == 10
    assert Client().get("/api/v1/shop/products/999999").status_code == 404


def test_cart_needs_sign_in(shop):
    assert Client().get("/api/v1/shop/cart").status_code == 401


def test_cart_put_and_remove(shop, chen_client):
    response = chen_client.put(f"/api/v1/shop/cart/{shop.listing.pk}", {"quantity": 2}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["total_fen"] == 25600
    response = chen_client.delete(f"/api/v1/shop/cart/{shop.listing.pk}")
    assert response.json()["lines"] == []


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**15])
def test_bad_cart_quantity_is_422(shop, chen_client, quantity):
    response = chen_client.put(f"/api/v1/shop/cart/{shop.listing.pk}", {"quantity": quantity},
                               content_type="application/json")
    assert response.status_code == 422 and "quantity" in response.json()["error"]["fields"]
    assert not CartLine.objects.exists()


def test_checkout_then_the_same_key_again_makes_one_order(shop, chen_client):
    first = post(chen_client, "/api/v1/shop/checkout", body(shop, 2), key="c-1")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "awaiting_payment" and data["goods_total_fen"] == 25600 and len(data["boxes"]) == 2
    again = post(chen_client, "/api/v1/shop/checkout", body(shop, 2), key="c-1")
    assert again.status_code == 201 and again.json()["number"] == data["number"]
    assert ShopOrder.objects.count() == 1 and PackedBox.objects.filter(status="reserved").count() == 2
    other = post(chen_client, "/api/v1/shop/checkout", body(shop, 3), key="c-1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**15])
def test_bad_checkout_quantity_is_422_naming_the_line(shop, chen_client, quantity):
    response = post(chen_client, "/api/v1/shop/checkout", body(shop, quantity), key="q")
    assert response.status_code == 422
    assert "lines.0.quantity" in response.json()["error"]["fields"]
    assert not ShopOrder.objects.exists()


def test_checkout_of_more_than_in_stock_is_409(shop, chen_client):
    response = post(chen_client, "/api/v1/shop/checkout", body(shop, 11), key="s")
    assert response.status_code == 409 and response.json()["error"]["code"] == "out_of_stock"
    assert not ShopOrder.objects.exists()


def test_checkout_with_a_bad_phone_is_422(shop, chen_client):
    response = post(chen_client, "/api/v1/shop/checkout", body(shop, 1, recipient_phone="12"), key="p")
    assert response.status_code == 422 and "recipient_phone" in response.json()["error"]["fields"]


def test_checkout_of_the_cart(shop, chen_client):
    chen_client.put(f"/api/v1/shop/cart/{shop.listing.pk}", {"quantity": 3}, content_type="application/json")
    data = body(shop)
    del data["lines"]
    response = post(chen_client, "/api/v1/shop/checkout", data, key="cart-1")
    assert response.status_code == 201 and response.json()["lines"][0]["quantity"] == 3
    assert not CartLine.objects.exists()
    empty = post(chen_client, "/api/v1/shop/checkout", data, key="cart-2")
    assert empty.status_code == 422 and "lines" in empty.json()["error"]["fields"]


def test_pay_follow_and_the_forged_webhook(shop, chen_client):
    number = post(chen_client, "/api/v1/shop/checkout", body(shop), key="f").json()["number"]
    pay = post(chen_client, f"/api/v1/shop/orders/{number}/pay", {})
    assert pay.status_code == 200 and pay.json()["pay_url"].startswith("/pay/sandbox/")
    ref = pay.json()["pay_url"].rstrip("/").rsplit("/", 1)[-1]
    forged = json.dumps({"id": "evt_forged", "type": "payment.succeeded", "timestamp": 0,
                         "data": {"provider_ref": ref, "amount_fen": 12800}})
    response = Client().post("/api/v1/payments/webhook/sandbox", forged, content_type="application/json",
                             **{f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": "0" * 64})
    assert response.status_code == 400
    assert chen_client.get(f"/api/v1/shop/orders/{number}").json()["status"] == "awaiting_payment"
    sandbox_pay(provider_ref=ref, approve=True)
    sandbox_deliver_webhooks()
    order = chen_client.get(f"/api/v1/shop/orders/{number}").json()
    assert order["status"] == "paid" and order["paid_at"]
    assert [o["number"] for o in chen_client.get("/api/v1/shop/orders").json()] == [number]
    again = post(chen_client, f"/api/v1/shop/orders/{number}/pay", {})
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_payable"


def test_staff_pack_ship_refund_and_payouts(shop, chen, clerk_client):
    order = paid_order(chen, shop.listing, quantity=2)
    listed = clerk_client.get("/api/v1/shop/cooperatives/kiwi/orders").json()
    assert [o["number"] for o in listed] == [order.number]
    assert post(clerk_client, f"/api/v1/shop/orders/{order.number}/pack").json()["status"] == "packed"
    shipped = post(clerk_client, f"/api/v1/shop/orders/{order.number}/ship", {"carrier": "", "carrier_tracking_no": ""})
    assert shipped.status_code == 200 and shipped.json()["tracking_url"].startswith("/t/")
    too_much = post(clerk_client, f"/api/v1/shop/orders/{order.number}/refund", {"amount_fen": 30000, "reason": "x"})
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "refund_too_large"
    ok = post(clerk_client, f"/api/v1/shop/orders/{order.number}/refund", {"amount_fen": 600, "reason": "dent"})
    assert ok.status_code == 200 and ok.json()["refunded_fen"] == 600
    assert post(clerk_client, f"/api/v1/shop/orders/{order.number}/delivered").json()["status"] == "delivered"
    payouts = clerk_client.get("/api/v1/shop/cooperatives/kiwi/payouts").json()
    revenue = 25600 - 600
    assert payouts == [{"member_id": shop.member.pk, "name": "王大山", "total_fen": revenue - revenue * 500 // 10000,
                        "sales": 1}]
    statement = clerk_client.get(f"/api/v1/shop/cooperatives/kiwi/payouts/{shop.member.pk}").json()
    assert statement["total_fen"] == payouts[0]["total_fen"] and statement["shares"][0]["fee_rate_bp"] == 500


def test_a_buyer_cannot_use_staff_routes_or_see_others_orders(shop, chen, chen_client):
    from tests.shop.factories import buyer, checkout

    order = paid_order(chen, shop.listing)
    assert chen_client.get("/api/v1/shop/cooperatives/kiwi/orders").status_code == 404
    assert post(chen_client, f"/api/v1/shop/orders/{order.number}/pack").status_code == 404
    other = checkout(buyer(name="李先生"), shop.listing)
    assert chen_client.get(f"/api/v1/shop/orders/{other.number}").status_code == 404


def test_the_product_list_takes_the_same_few_queries_for_many_products(shop, station, django_assert_max_num_queries):
    from tests.produce.factories import pack
    from cuntao.shop.services import listing_publish

    pack(shop, shop.lot_a.grading.graded_lots.get(grade__code="B"), boxes=3, pack_size=shop.pack_b)
    listing_publish(scope=shop.scope, pack_size=shop.pack_b)
    with django_assert_max_num_queries(3):
        response = Client().get("/api/v1/shop/products")
    assert [p["stock"] for p in response.json()] == [10, 3]
