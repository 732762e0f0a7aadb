"""The shop's pages: public browsing, registration and sign-in, cart, checkout to the sandbox, order, staff, feed."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cuntao.core.money import plain_yuan
from cuntao.orders.payments import sandbox_deliver_webhooks
from cuntao.shop.feed import FEED_COLUMNS, feed_csv
from cuntao.shop.models import Buyer, ShopOrder
from tests.shop.factories import ADDRESS, PASSWORD, client_of, paid_order


def test_the_window_is_public_and_light(shop, django_assert_max_num_queries):
    client = Client()
    with django_assert_max_num_queries(8):
        response = client.get("/shop/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "金寨红心 5 kg 礼盒" in text and "10 boxes left" in text and "¥128.00" in text
    assert client.get(f"/shop/brands/{shop.brand.slug}/").status_code == 200
    assert client.get("/shop/cooperatives/kiwi/").status_code == 200
    assert client.get("/shop/brands/no-such-brand/").status_code == 404


def test_the_product_page_tells_the_story_and_links_a_box_trace(shop):
    shop.brand.story = "大别山深处的红心猕猴桃。"
    shop.brand.save()
    response = Client().get(f"/shop/products/{shop.listing.pk}/")
    text = response.content.decode()
    assert response.status_code == 200 and "大别山深处的红心猕猴桃。" in text and "金寨猕猴桃 2026" in text
    newest = max(shop.boxes, key=lambda b: b.pk)
    from cuntao.shop.selectors import trace_url_of

    assert trace_url_of(newest) and trace_url_of(newest) in text
    assert Client().get("/shop/products/999999/").status_code == 404


def test_the_window_speaks_chinese_by_default(shop):
    from django.utils import translation

    with translation.override("zh-hans"):
        response = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/shop/")
    assert response.status_code == 200 and 'lang="zh-hans"' in response.content.decode()


def test_register_signs_in_and_stores_the_phone_in_e164(db):
    client = Client()
    response = client.post("/shop/register/", {"name": "陈小姐", "phone": "139 0000 2222", "password": PASSWORD,
                                               "password_again": PASSWORD})
    assert response.status_code == 302
    buyer = Buyer.objects.get()
    assert buyer.phone == "+8613900002222" and buyer.user.username == "13900002222"
    assert client.get("/shop/cart/").status_code == 200


@pytest.mark.parametrize("phone, password, again, field", [
    ("12345", PASSWORD, PASSWORD, "phone"),
    ("13900002222", "123", "123", "password"),
    ("13900002222", PASSWORD, PASSWORD + "x", "password_again"),
])
def test_bad_registration_shows_the_field_error_and_makes_nobody(db, phone, password, again, field):
    response = Client().post("/shop/register/", {"name": "陈", "phone": phone, "password": password,
                                                 "password_again": again})
    assert response.status_code == 200
    assert response.context["form"].errors.get(field)
    assert not Buyer.objects.exists() and not get_user_model().objects.exists()


def test_a_phone_registered_twice_is_refused(chen):
    response = Client().post("/shop/register/", {"name": "陈", "phone": "+8613900001111", "password": PASSWORD,
                                                 "password_again": PASSWORD})
    assert response.status_code == 200 and "already registered" in response.content.decode()
    assert Buyer.objects.count() == 1


def test_sign_in_with_the_phone_in_any_usual_form(chen):
    client = Client()
    response = client.post("/shop/login/", {"username": "+86 139-0000-1111", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/shop/"


def test_a_visitor_adding_to_the_cart_is_sent_to_sign_in(shop):
    response = Client().post(f"/shop/products/{shop.listing.pk}/add/", {"quantity": 1})
    assert response.status_code == 302 and response["Location"].startswith("/shop/login/")


def test_cart_checkout_pay_and_follow_the_order(shop, chen):
    client = client_of(chen.user)
    assert client.post(f"/shop/products/{shop.listing.pk}/add/", {"quantity": 2}).status_code == 302
    assert client.post(f"/shop/products/{shop.listing.pk}/add/", {"quantity": 0}).status_code == 302
    cart = client.get("/shop/cart/")
    assert "¥256.00" in cart.content.decode()
    form = client.get("/shop/checkout/kiwi/")
    key = form.context["idempotency_key"]
    data = {"recipient_name": "陈小姐", "recipient_phone": "13900001111", "address": ADDRESS, "idempotency_key": key}
    response = client.post("/shop/checkout/kiwi/", data)
    assert response.status_code == 302 and response["Location"].startswith("/pay/sandbox/")
    order = ShopOrder.objects.get()
    # The sandbox checkout page: the buyer presses Pay; the provider's webhook comes later.
    sandbox = client.get(response["Location"])
    assert sandbox.status_code == 200
    client.post(response["Location"], {"action": "pay"})
    sandbox_deliver_webhooks()
    page = client.get(f"/shop/orders/{order.number}/")
    assert page.status_code == 200 and "Paid" in page.content.decode()
    assert ShopOrder.objects.get().status == "paid"


def test_a_checkout_form_with_a_bad_phone_shows_it(shop, chen):
    client = client_of(chen.user)
    client.post(f"/shop/products/{shop.listing.pk}/add/", {"quantity": 1})
    response = client.post("/shop/checkout/kiwi/", {"recipient_name": "陈", "recipient_phone": "1", "address": ADDRESS})
    assert response.status_code == 200 and response.context["form"].errors.get("recipient_phone")
    assert not ShopOrder.objects.exists()


def test_staff_pack_and_ship_from_the_order_page_and_see_payouts(shop, chen, clerk_client):
    order = paid_order(chen, shop.listing)
    assert clerk_client.get("/shop/coop/kiwi/orders/").status_code == 200
    clerk_client.post(f"/shop/orders/{order.number}/pack/")
    clerk_client.post(f"/shop/orders/{order.number}/ship/", {"carrier": "", "carrier_tracking_no": ""})
    order.refresh_from_db()
    assert order.status == "shipped"
    page = client_of(chen.user).get(f"/shop/orders/{order.number}/").content.decode()
    assert f"/t/{order.parcel.tracking_token}/" in page
    too_much = clerk_client.post(f"/shop/orders/{order.number}/refund/", {"amount": "500", "reason": "x"}, follow=True)
    assert "can still be refunded" in too_much.content.decode()
    bad = clerk_client.post(f"/shop/orders/{order.number}/refund/", {"amount": "abc", "reason": "x"}, follow=True)
    assert "such as 12.50" in bad.content.decode()
    client_of(chen.user).post(f"/shop/orders/{order.number}/delivered/")
    assert clerk_client.get("/shop/coop/kiwi/payouts/").status_code == 200
    statement = clerk_client.get(f"/shop/coop/kiwi/payouts/{shop.member.pk}/")
    assert statement.status_code == 200 and "¥121.60" in statement.content.decode()


def test_other_people_get_404_on_orders_and_staff_pages(shop, chen, partner_client):
    order = paid_order(chen, shop.listing)
    assert partner_client.get(f"/shop/orders/{order.number}/").status_code == 404
    assert partner_client.get("/shop/coop/kiwi/orders/").status_code == 404
    assert Client().get(f"/shop/orders/{order.number}/").status_code == 302
    assert client_of(chen.user).post(f"/shop/orders/{order.number}/explode/").status_code == 404


def test_the_feed_lists_every_product_with_price_stock_and_urls(shop):
    response = Client().get("/shop/feed.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert tuple(rows[0].keys()) == FEED_COLUMNS
    row = rows[0]
    assert row["id"] == f"cuntao-{shop.listing.pk}" and row["price_yuan"] == "128.00" and row["stock"] == "10"
    assert row["brand"] == "金寨红心" and row["pack_size"] == "5 kg 礼盒" and row["currency"] == "CNY"
    assert row["url"] == f"http://testserver/shop/products/{shop.listing.pk}/"
    assert row["image_url"].startswith("http://testserver/")


def test_the_feed_may_require_a_token(shop, settings):
    settings.SHOP_FEED_TOKEN = "s3cret"
    assert Client().get("/shop/feed.csv").status_code == 403
    assert Client().get("/shop/feed.csv?token=wrong").status_code == 403
    assert Client().get("/shop/feed.csv?token=s3cret").status_code == 200


def test_feed_cells_cannot_become_formulas():
    text = feed_csv([{column: "" for column in FEED_COLUMNS} | {"title_zh": "=HYPERLINK(1)"}])
    assert "'=HYPERLINK(1)" in text
    assert plain_yuan(5) == "0.05" and plain_yuan(12800) == "128.00"
