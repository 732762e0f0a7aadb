"""Search by characters, pinyin, initials, prefixes and mixtures; one ranking on both databases.

The suite runs on SQLite and on PostgreSQL (DATABASE_URL): every expectation here is
the same list on both, so the two full-text indexes must agree row for row.
"""

import pytest

from cuntao.catalog import selectors
from cuntao.catalog.models import Product
from cuntao.catalog.search import parse_query, product_tokens
from cuntao.catalog.selectors import product_search
from cuntao.catalog.services import merchant_archive, merchant_verify, product_archive, product_update
from tests.catalog.factories import SYSTEM, CategoryFactory, MerchantFactory, make_product

NAMES = [
    "美的电饭煲 4L 家用",        # 0
    "智能电饭煲 手机远程预约",     # 1
    "老式电饭锅 3L",             # 2
    "落地电风扇",                 # 3
    "老人手机 大字大声",           # 4
    "玉米种子 1公斤",             # 5
    "复合肥 50公斤",              # 6
    "电饭煲",                    # 7: a name that is exactly the word
]


@pytest.fixture
def catalogue(db):
    kitchen = CategoryFactory(name="厨房电器", slug="kitchen")
    phones = CategoryFactory(name="手机通讯", slug="phones")
    farm = CategoryFactory(name="农资", slug="farm")
    categories = [kitchen, kitchen, kitchen, kitchen, phones, farm, farm, kitchen]
    prices = [19900, 32900, 8900, 12900, 19900, 3800, 16500, 9900]
    return [make_product(name=name, category=category, price_fen=price)
            for name, category, price in zip(NAMES, categories, prices, strict=True)]


def names(q, **filters):
    return [p.name for p in product_search(scope=SYSTEM, q=q, **filters)]


@pytest.mark.parametrize("q, expected", [
    ("电饭煲", ["电饭煲", "美的电饭煲 4L 家用", "智能电饭煲 手机远程预约"]),     # exact name, then word matches
    ("dianfanbao", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),  # full pinyin
    ("dfb", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),         # initials
    ("DFB", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),         # any case
    ("ｄｆｂ", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),       # full-width letters
    ("电饭bao", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),     # characters + pinyin
    ("dian饭煲", ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲"]),    # pinyin + characters
    ("美的dfb", ["美的电饭煲 4L 家用"]),                                        # brand + initials
    ("ymzz", ["玉米种子 1公斤"]),
    ("fhf", ["复合肥 50公斤"]),
    ("zndfb", ["智能电饭煲 手机远程预约"]),                                     # initials across words
    ("老人 手机", ["老人手机 大字大声"]),                                       # every term must match
    ("zzzz", []),
    ("！？", None),                                                             # nothing searchable: everything
])
def test_finds_products_by_characters_pinyin_initials_and_mixtures(catalogue, q, expected):
    if expected is None:
        assert len(names(q)) == len(NAMES)
    else:
        assert names(q) == expected


def test_whole_words_rank_before_prefixes_which_rank_before_category_matches(catalogue):
    found = product_search(scope=SYSTEM, q="dianf")
    # dianf starts dianfanbao (电饭煲), dianfanguo (电饭锅) and dianfengshan (电风扇): prefixes only, by id.
    assert [(p.name, p.search_rank) for p in found] == [
        ("美的电饭煲 4L 家用", 2), ("智能电饭煲 手机远程预约", 2), ("老式电饭锅 3L", 2), ("落地电风扇", 2), ("电饭煲", 2)]
    shouji = [(p.name, p.search_rank) for p in product_search(scope=SYSTEM, q="shouji")]
    # 老人手机 and 智能电饭煲 手机… have the word in their names; nothing else is a phone by name.
    assert shouji == [("智能电饭煲 手机远程预约", 1), ("老人手机 大字大声", 1)]
    nongzi = [(p.name, p.search_rank) for p in product_search(scope=SYSTEM, q="nongzi")]
    assert nongzi == [("玉米种子 1公斤", 3), ("复合肥 50公斤", 3)]  # only the category 农资 matches


def test_exact_name_comes_first_even_when_it_is_the_newest(catalogue):
    assert names("电饭煲")[0] == "电饭煲"
    assert product_search(scope=SYSTEM, q="电饭煲")[0].search_rank == 0


def test_filters_by_category_with_its_sub_categories_and_by_price(catalogue):
    kitchen = catalogue[0].category
    rice = CategoryFactory(name="电饭煲专区", slug="rice-cookers", parent=kitchen)
    make_product(name="小熊迷你电饭煲", category=rice, price_fen=9900)
    assert names("dfb", category=kitchen) == ["美的电饭煲 4L 家用", "智能电饭煲 手机远程预约", "电饭煲", "小熊迷你电饭煲"]
    assert names("dfb", category=rice) == ["小熊迷你电饭煲"]
    assert names("dfb", price_max_fen=19900) == ["美的电饭煲 4L 家用", "电饭煲", "小熊迷你电饭煲"]
    assert names("dfb", price_min_fen=20000) == ["智能电饭煲 手机远程预约"]
    assert names("", category=catalogue[5].category, price_min_fen=10000) == ["复合肥 50公斤"]


def test_archived_products_and_products_of_unverified_or_archived_merchants_are_not_found(catalogue):
    product_archive(scope=SYSTEM, product=catalogue[0])
    assert "美的电饭煲 4L 家用" not in names("dfb")
    assert "美的电饭煲 4L 家用" not in names("")
    merchant_archive(scope=SYSTEM, merchant=catalogue[1].merchant)
    assert names("dfb") == ["电饭煲"]
    unverified = MerchantFactory(verified_at=None)
    product = make_product(name="新款电饭煲", merchant=MerchantFactory())
    Product.objects.filter(pk=product.pk).update(merchant=unverified)  # as if listed before the check
    merchant_verify(scope=SYSTEM, merchant=unverified)
    assert "新款电饭煲" in names("dfb")


def test_renamed_product_is_found_by_its_new_name_only(catalogue):
    product_update(scope=SYSTEM, product=catalogue[5], name="水稻种子 1公斤")
    assert names("ymzz") == []
    assert names("sdzz") == ["水稻种子 1公斤"]


def test_slices_of_the_results_agree_with_the_whole_list(catalogue):
    whole = [p.pk for p in product_search(scope=SYSTEM, q="d", limit=None)[0:50]]
    results = product_search(scope=SYSTEM, q="d", limit=None)
    pieces = [p.pk for start in range(0, len(whole), 2) for p in results[start:start + 2]]
    assert pieces == whole and len(whole) == results.count()


def test_a_search_counts_at_most_max_counted_and_says_so(catalogue, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_COUNTED", 3)
    results = product_search(scope=SYSTEM, q="d", limit=None)
    assert results.count() == 3 and results.more_than_counted
    assert len(results[0:10]) == 3


def test_people_without_a_role_see_no_products(catalogue, scope_of, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert list(product_search(scope=scope_of(nobody), q="dfb")) == []
    assert list(product_search(scope=scope_of(nobody))) == []


def test_search_words_hold_characters_pinyin_and_initials():
    name_tokens, category_tokens = product_tokens(name="美的电饭煲", category_names=["厨房电器"])
    assert {"电饭煲", "dianfanbao", "dfb", "美的", "meide", "md", "美的电饭煲", "mddfb"} <= set(name_tokens.split())
    assert {"厨房", "chufang", "cf", "电器", "dianqi"} <= set(category_tokens.split())
    assert all(" " not in word and word for word in name_tokens.split(" "))


def test_query_keeps_only_searchable_characters_so_it_cannot_inject_syntax():
    parsed = parse_query('dfb" OR * NEAR(\'x\') -- ;')
    assert all(word.isalnum() for term in parsed.terms for alt in term for word in alt)
    assert parse_query("  ") is None


def test_search_index_is_installed_for_this_database(db):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'catalog_product_fts%%' AND type='trigger'")
            assert {row[0] for row in cursor.fetchall()} == {
                "catalog_product_fts_insert", "catalog_product_fts_update", "catalog_product_fts_delete"}
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_product' AND indexname LIKE %s",
                           ["catalog_product_search%"])
            assert {row[0] for row in cursor.fetchall()} == {"catalog_product_search_gin", "catalog_product_search_name_gin"}


def test_stock_changes_leave_the_search_index_alone_and_still_match(catalogue):
    Product.objects.filter(pk=catalogue[0].pk).update(stock=0)
    assert names("dfb")[0] == "美的电饭煲 4L 家用"
