"""The partner's catalogue search page, product page, station-home panel, admin and demo data."""

import pytest

from cuntao.catalog.demo import catalog_seed_demo
from cuntao.catalog.models import Category, Merchant, Product
from tests.catalog.factories import CategoryFactory, make_product, tiny_image
from tests.conftest import login


@pytest.fixture
def products(db):
    kitchen = CategoryFactory(name="厨房电器", slug="kitchen")
    made = [make_product(name=f"电饭煲 {n}号", category=kitchen, price_fen=19900 + n, local_price_fen=23900)
            for n in range(30)]
    made.append(make_product(name="滚筒洗衣机", category=CategoryFactory(name="家用电器", slug="appliances"),
                             price_fen=199900, is_large_item=True))
    return made


def test_search_page_shows_price_savings_and_large_item_within_a_query_budget(partner_client, products,
                                                                              django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = partner_client.get("/catalog/?q=dfb")
    html = response.content.decode()
    assert response.status_code == 200
    assert "¥199.00" in html and "¥40.00" in html and 'data-live-target="#results"' in html
    assert html.count('href="/catalog/products/') == 20  # one page
    with django_assert_max_num_queries(12):
        response = partner_client.get("/catalog/?q=xiyiji", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "¥1,999.00" in html and "large item: delivery and installation" in html


def test_live_search_gets_only_the_results_list(partner_client, products):
    response = partner_client.get("/catalog/?q=xyj", HTTP_X_PARTIAL="results")
    html = response.content.decode()
    assert "滚筒洗衣机" in html and "<html" not in html and "电饭煲" not in html


def test_category_chip_and_price_filter_narrow_the_list(partner_client, products):
    html = partner_client.get("/catalog/c/appliances/").content.decode()
    assert "滚筒洗衣机" in html and "电饭煲 1号" not in html
    html = partner_client.get("/catalog/?q=dfb&price_min=199.05&price_max=199.10").content.decode()
    assert [n for n in range(30) if f"电饭煲 {n}号<" in html] == [5, 6, 7, 8, 9, 10]
    assert 'data-live-target' not in html  # the live search would drop the price filter
    response = partner_client.get("/catalog/?price_min=abc", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "such as 50 or 12.50" in response.content.decode()


def test_product_page_shows_details_and_thumbnail(partner_client, products, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from cuntao.catalog.services import product_update
    from tests.catalog.factories import SYSTEM

    product = product_update(scope=SYSTEM, product=products[0], picture=tiny_image())
    html = partner_client.get(f"/catalog/products/{product.pk}/").content.decode()
    assert product.sku in html and "¥199.00" in html and product.thumbnail.url in html


def test_archived_or_missing_product_page_is_404(partner_client, products):
    from cuntao.catalog.services import product_archive
    from tests.catalog.factories import SYSTEM

    product_archive(scope=SYSTEM, product=products[0])
    assert partner_client.get(f"/catalog/products/{products[0].pk}/").status_code == 404
    assert partner_client.get("/catalog/c/no-such-thing/").status_code == 404


def test_pages_need_sign_in(client, products):
    response = client.get("/catalog/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_station_home_has_a_catalogue_search_panel(partner_client, products):
    html = partner_client.get("/station/").content.decode()
    assert 'action="/catalog/"' in html and "/catalog/c/kitchen/" in html


def test_programme_admin_sees_the_catalogue_in_django_admin(products, programme_admin):
    programme_admin.is_staff = programme_admin.is_superuser = True
    programme_admin.save()
    client = login(programme_admin)
    for path in ("/admin/catalog/product/", f"/admin/catalog/product/{products[0].pk}/change/",
                 "/admin/catalog/merchant/", "/admin/catalog/category/", "/admin/catalog/product/add/"):
        assert client.get(path).status_code == 200, path


def test_admin_add_form_goes_through_the_service(products, programme_admin):
    programme_admin.is_staff = programme_admin.is_superuser = True
    programme_admin.save()
    client = login(programme_admin)
    form = {"merchant": products[0].merchant_id, "category": products[0].category_id, "sku": "ADM-1", "name": "九阳豆浆机",
            "description": "", "unit": "台", "price_fen": "29900", "local_price_fen": "", "stock": "3",
            "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"}
    response = client.post("/admin/catalog/product/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(sku="ADM-1")
    assert product.listed and "djj" in product.name_tokens.split() and product.created_by == programme_admin
    bad = client.post("/admin/catalog/product/add/", {**form, "sku": "ADM-2", "price_fen": "0"})
    assert bad.status_code == 200 and not Product.objects.filter(sku="ADM-2").exists()


def test_demo_catalogue_is_idempotent_and_findable(db):
    first = catalog_seed_demo()
    assert first["products_created"] >= 60
    assert catalog_seed_demo()["products_created"] == 0
    assert Merchant.objects.filter(verified_at__isnull=False).count() == 4
    assert Category.objects.filter(slug="farm-inputs").get().commission_rate_bp == 500
    assert Product.objects.filter(listed=True).count() == first["products_created"]
    assert all(p.local_price_fen is None or p.local_price_fen > p.price_fen for p in Product.objects.all())


def test_admin_adds_and_verifies_a_merchant_with_events(programme_admin):
    from cuntao.catalog.models import MerchantEvent

    programme_admin.is_staff = programme_admin.is_superuser = True
    programme_admin.save()
    client = login(programme_admin)
    response = client.post("/admin/catalog/merchant/add/", {"name": "县城家电城", "contact_phone": "+8613905510001",
                                                            "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    merchant = Merchant.objects.get(name="县城家电城")
    client.post("/admin/catalog/merchant/", {"action": "verify", "_selected_action": [merchant.pk]})
    merchant.refresh_from_db()
    assert merchant.verified_by == programme_admin
    assert list(MerchantEvent.objects.filter(merchant=merchant).values_list("action", flat=True)) == ["created", "verified"]
