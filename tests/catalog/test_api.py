"""GET and write routes of /api/v1/products and /api/v1/categories."""

import pytest

from cuntao.catalog.models import Product
from cuntao.catalog.services import product_archive
from tests.catalog.factories import SYSTEM, CategoryFactory, MerchantFactory, make_product
from tests.conftest import login


@pytest.fixture
def products(db):
    kitchen = CategoryFactory(name="厨房电器", slug="kitchen")
    return [make_product(name="美的电饭煲", category=kitchen, price_fen=19900, local_price_fen=23900),
            make_product(name="智能电饭煲", category=kitchen, price_fen=32900),
            make_product(name="洗衣机", category=CategoryFactory(name="家用电器", slug="appliances"), price_fen=99900,
                         is_large_item=True)]


@pytest.fixture
def admin_client(programme_admin):
    return login(programme_admin)


def test_partner_searches_products_by_initials_with_price_filter(partner_client, products):
    body = partner_client.get("/api/v1/products", {"q": "dfb", "price_max_fen": 20000}).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["name"], item["price_fen"], item["savings_fen"], item["category"]) == ("美的电饭煲", 19900, 4000, "kitchen")


def test_list_filters_by_category_slug_and_unknown_category_is_404(partner_client, products):
    body = partner_client.get("/api/v1/products", {"category": "appliances"}).json()
    assert [i["name"] for i in body["items"]] == ["洗衣机"] and body["items"][0]["is_large_item"]
    assert partner_client.get("/api/v1/products", {"category": "nope"}).status_code == 404


def test_detail_and_archived_product_is_404(partner_client, products):
    assert partner_client.get(f"/api/v1/products/{products[0].pk}").json()["sku"] == products[0].sku
    product_archive(scope=SYSTEM, product=products[0])
    assert partner_client.get(f"/api/v1/products/{products[0].pk}").status_code == 404


def test_categories_are_listed(partner_client, products):
    assert {c["slug"] for c in partner_client.get("/api/v1/categories").json()} == {"kitchen", "appliances"}


def test_catalogue_needs_sign_in(client, products):
    assert client.get("/api/v1/products").status_code == 401


def test_partner_cannot_create_or_change_products(partner_client, products):
    payload = {"merchant_id": products[0].merchant_id, "category": "kitchen", "sku": "X-1", "name": "电饭煲",
               "price_fen": 100}
    response = partner_client.post("/api/v1/products", payload, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = partner_client.patch(f"/api/v1/products/{products[0].pk}", {"price_fen": 1},
                                    content_type="application/json")
    assert response.status_code == 403
    assert Product.objects.count() == 3 and Product.objects.get(pk=products[0].pk).price_fen == 19900


def test_admin_creates_once_per_idempotency_key(admin_client, products):
    payload = {"merchant_id": MerchantFactory().pk, "category": "kitchen", "sku": "RC-9", "name": "苏泊尔电饭煲",
               "price_fen": 13900, "local_price_fen": 16900, "stock": 4, "unit": "台"}
    first = admin_client.post("/api/v1/products", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = admin_client.post("/api/v1/products", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Product.objects.filter(sku="RC-9").count() == 1


def test_bad_price_answers_422_with_the_field(admin_client, products):
    payload = {"merchant_id": products[0].merchant_id, "category": "kitchen", "sku": "RC-10", "name": "电饭煲",
               "price_fen": -1}
    response = admin_client.post("/api/v1/products", payload, content_type="application/json")
    assert response.status_code == 422 and "price_fen" in response.json()["error"]["fields"]
    response = admin_client.patch(f"/api/v1/products/{products[0].pk}", {"stock": -3}, content_type="application/json")
    assert response.status_code == 422 and "stock" in response.json()["error"]["fields"]


def test_admin_patch_changes_price_and_answers_the_product(admin_client, products):
    response = admin_client.patch(f"/api/v1/products/{products[0].pk}", {"price_fen": 18800},
                                  content_type="application/json")
    assert response.status_code == 200 and response.json()["price_fen"] == 18800


def test_signed_in_user_with_no_role_sees_no_products(products, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x")
    assert login(user).get("/api/v1/products").json()["count"] == 0
    assert login(user).get("/api/v1/products", {"q": "dfb"}).json()["count"] == 0
