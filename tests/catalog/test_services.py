"""Catalogue writes: validation with clear field errors, admin-only, events, thumbnails, locks."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from PIL import Image

from cuntao.catalog.models import MAX_PRICE_FEN, MerchantEvent, Product, ProductEvent
from cuntao.catalog.services import (
    merchant_create,
    merchant_verify,
    product_archive,
    product_create,
    product_lock_for_update,
    product_update,
)
from cuntao.core.errors import Conflict, Forbidden
from tests.catalog.factories import SYSTEM, CategoryFactory, MerchantFactory, make_product, tiny_image


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def admin_scope(programme_admin, scope_of):
    return scope_of(programme_admin)


def good(**changes):
    return {"merchant": MerchantFactory(), "category": CategoryFactory(), "sku": "RC-001", "name": "美的电饭煲",
            "price_fen": 19900, "local_price_fen": 23900, "stock": 5, "unit": "台", **changes}


def test_programme_admin_lists_a_product_with_search_words_and_an_event(admin_scope, programme_admin):
    product = product_create(scope=admin_scope, **good())
    assert product.listed and "dfb" in product.name_tokens.split()
    assert product.savings_fen == 4000
    event = ProductEvent.objects.get(product=product)
    assert event.action == "created" and event.actor == programme_admin


@pytest.mark.parametrize("changes, field", [
    ({"price_fen": 0}, "price_fen"),
    ({"price_fen": -100}, "price_fen"),
    ({"price_fen": MAX_PRICE_FEN + 1}, "price_fen"),
    ({"price_fen": "199"}, "price_fen"),
    ({"price_fen": True}, "price_fen"),
    ({"local_price_fen": 0}, "local_price_fen"),
    ({"stock": -1}, "stock"),
    ({"stock": 10_000_000}, "stock"),
    ({"sku": "has space"}, "sku"),
    ({"sku": ""}, "sku"),
    ({"name": "   "}, "name"),
    ({"name": "电" * 121}, "name"),
    ({"unit": "吨"}, "unit"),
    ({"merchant": None}, "merchant"),
])
def test_bad_values_name_the_field_and_write_nothing(admin_scope, changes, field):
    with pytest.raises(ValidationError) as caught:
        product_create(scope=admin_scope, **good(**changes))
    assert field in caught.value.message_dict
    assert not Product.objects.exists() and not ProductEvent.objects.exists()


def test_unverified_merchant_cannot_list_products(admin_scope):
    with pytest.raises(ValidationError) as caught:
        product_create(scope=admin_scope, **good(merchant=MerchantFactory(verified_at=None)))
    assert "merchant" in caught.value.message_dict


def test_sku_is_unique_with_a_clear_message(admin_scope):
    product_create(scope=admin_scope, **good())
    with pytest.raises(ValidationError) as caught:
        product_create(scope=admin_scope, **good(name="另一个"))
    assert "RC-001" in caught.value.message_dict["sku"][0]


def test_partner_and_county_staff_cannot_change_the_catalogue(partner, clerk, scope_of):
    for user in (partner.user, clerk):
        with pytest.raises(Forbidden):
            product_create(scope=scope_of(user), **good())
        with pytest.raises(Forbidden):
            merchant_create(scope=scope_of(user), name="假商家")
    assert not Product.objects.exists()


def test_update_records_each_changed_field_from_and_to(admin_scope):
    product = make_product(name="电饭煲", price_fen=19900)
    product_update(scope=admin_scope, product=product, price_fen=18900, stock=7)
    event = ProductEvent.objects.filter(product=product, action="changed").get()
    assert event.changes == {"price_fen": [19900, 18900], "stock": [10, 7]}


def test_update_refuses_bad_price_and_keeps_the_old_one(admin_scope):
    product = make_product(name="电饭煲", price_fen=19900)
    with pytest.raises(ValidationError) as caught:
        product_update(scope=admin_scope, product=product, price_fen=-5, stock=3)
    assert set(caught.value.message_dict) == {"price_fen"}
    product.refresh_from_db()
    assert (product.price_fen, product.stock) == (19900, 10)


def test_unknown_fields_are_refused(admin_scope):
    product = make_product(name="电饭煲")
    with pytest.raises(ValidationError) as caught:
        product_update(scope=admin_scope, product=product, listed=False)
    assert "listed" in caught.value.message_dict


def test_archived_product_stays_archived_and_cannot_be_changed(admin_scope, programme_admin):
    product = make_product(name="电饭煲")
    product_archive(scope=admin_scope, product=product)
    product_archive(scope=admin_scope, product=product)  # twice is harmless
    product.refresh_from_db()
    assert product.archived_by == programme_admin and not product.listed
    assert ProductEvent.objects.filter(product=product, action="archived").count() == 1
    with pytest.raises(Conflict):
        product_update(scope=admin_scope, product=product, price_fen=100)


def test_merchant_verification_is_recorded(admin_scope, programme_admin):
    merchant = merchant_create(scope=admin_scope, name="县城家电城", contact_phone="13905510001")
    assert merchant.contact_phone == "+8613905510001" and not merchant.is_verified
    merchant = merchant_verify(scope=admin_scope, merchant=merchant)
    assert merchant.verified_by == programme_admin
    assert list(MerchantEvent.objects.filter(merchant=merchant).values_list("action", flat=True)) == ["created", "verified"]


def test_database_refuses_negative_stock_even_around_the_services(db):
    product = make_product(name="电饭煲")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)


def test_upload_makes_a_small_jpeg_thumbnail(admin_scope, media):
    product = product_create(scope=admin_scope, picture=tiny_image(size=(800, 600)), **good())
    assert product.picture.name and product.thumbnail.name.endswith(".jpg")
    with Image.open(product.thumbnail.path) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) == 160 and thumb.size == (160, 120)


def test_new_picture_on_update_gets_a_new_thumbnail(admin_scope, media):
    product = make_product(name="电饭煲")
    assert not product.thumbnail
    product = product_update(scope=admin_scope, product=product, picture=tiny_image("JPEG", (100, 300), "p.jpg"))
    with Image.open(product.thumbnail.path) as thumb:
        assert thumb.size == (53, 160)
    assert "picture" in ProductEvent.objects.filter(product=product, action="changed").get().changes


def test_a_file_that_is_not_a_picture_is_refused(admin_scope, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as caught:
        product_create(scope=admin_scope, picture=SimpleUploadedFile("x.jpg", b"not an image"), **good())
    assert "picture" in caught.value.message_dict
    assert not Product.objects.exists()


def test_lock_for_update_returns_the_products_locked_in_id_order(db):
    first, second = make_product(name="电饭煲"), make_product(name="洗衣机")
    with transaction.atomic():
        locked = product_lock_for_update(product_ids=[second.pk, first.pk, second.pk, 999_999])
    assert list(locked) == [first.pk, second.pk]


def test_category_rename_refreshes_its_products_search_words(admin_scope):
    from cuntao.catalog.selectors import product_search
    from cuntao.catalog.services import category_save

    product = make_product(name="某某", category=CategoryFactory(name="厨房电器", slug="kitchen"))
    category = product.category
    category.name = "小家电"
    category_save(scope=admin_scope, category=category)
    assert [p.pk for p in product_search(scope=SYSTEM, q="xjd")] == [product.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_price_changes_are_serialised_so_the_history_chains(programme_admin, scope_of):
    import threading

    from django.db import connection

    product = make_product(name="电饭煲", price_fen=10000)
    scope = scope_of(programme_admin)
    barrier = threading.Barrier(4, timeout=10)
    errors = []

    def change(price):
        try:
            barrier.wait()
            product_update(scope=scope, product=product, price_fen=price)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=(price,)) for price in (11000, 12000, 13000, 14000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    history = [e.changes["price_fen"] for e in ProductEvent.objects.filter(product=product, action="changed").order_by("pk")]
    assert len(history) == 4
    assert [h[0] for h in history] == [10000] + [h[1] for h in history[:-1]]  # each change starts where the last ended
    product.refresh_from_db()
    assert product.price_fen == history[-1][1]


def test_a_picture_with_absurdly_many_pixels_is_refused(admin_scope, media):
    big = tiny_image("PNG", (8000, 6000), "huge.png")  # 48 megapixels of one colour: a small file
    with pytest.raises(ValidationError) as caught:
        product_create(scope=admin_scope, picture=big, **good())
    assert "picture" in caught.value.message_dict


def test_lock_for_sale_reads_price_stock_and_the_category_rate_of_each_product(db):
    from cuntao.catalog.services import product_lock_for_sale

    cooker = make_product(name="电饭煲", price_fen=19900, local_price_fen=25900,
                          category=CategoryFactory(slug="hot-appliances", commission_rate_bp=300))
    seed = make_product(name="玉米种子", price_fen=3500, category=CategoryFactory(slug="hot-seed", commission_rate_bp=0))
    got = product_lock_for_sale(product_ids=[seed.pk, cooker.pk, 10**9, cooker.pk])
    assert list(got) == sorted([cooker.pk, seed.pk])  # id order, the order the locks are taken in
    assert got[cooker.pk] == (cooker.pk, "电饭煲", 19900, 25900, 10, True, cooker.category_id, 300)
    assert got[seed.pk].commission_rate_bp == 0 and got[seed.pk].local_price_fen is None
    assert got[seed.pk].listed is True  # a bool on SQLite too


def test_stock_moves_for_all_products_in_one_statement_and_never_below_zero(db):
    from cuntao.catalog.services import product_stock_move

    a, b = make_product(name="甲", stock=5), make_product(name="乙", stock=7)
    product_stock_move(changes={a.pk: -2, b.pk: 3})
    assert dict(Product.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "stock")) == {a.pk: 3, b.pk: 10}
    with pytest.raises(IntegrityError), transaction.atomic():
        product_stock_move(changes={a.pk: -1, b.pk: -11})  # the CHECK refuses the whole statement
    assert dict(Product.objects.filter(pk__in=[a.pk, b.pk]).values_list("pk", "stock")) == {a.pk: 3, b.pk: 10}
