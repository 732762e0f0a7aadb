"""Time catalogue search over 100,000 products: hanzi, full-pinyin and initials queries.

Runs against a fresh database of the kind DATABASE_URL names (SQLite in a temporary
data dir when unset; for PostgreSQL a scratch database beside the named one, dropped
afterwards), migrates it untimed, bulk-loads generated products with their search
words, then times what the catalogue page does for each query through the same
selector (product_search: the count and the first page of 20) and prints one line
per kind of query:

{"bench": "search", "db": ..., "kind": "hanzi"|"pinyin"|"initials", "products": N, "p50_ms": .., "p95_ms": ..}
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from freshdb import SRC, fresh_database


# (category slug, product words, unit, typical price in yuan): the kinds of goods a station sells.
KINDS = [
    ("kitchen", ["电饭煲", "智能电饭煲", "电饭锅", "电热水壶", "电磁炉", "微波炉", "豆浆机", "榨汁机"], "台", 200),
    ("appliances", ["洗衣机", "滚筒洗衣机", "电视", "智能电视", "冰箱", "空调", "热水器", "电风扇", "吸尘器"], "台", 1500),
    ("phones", ["老人手机", "智能手机", "充电宝", "数据线", "蓝牙耳机", "手机壳"], "部", 500),
    ("top-up", ["话费充值", "流量充值", "宽带续费"], "次", 50),
    ("seed", ["玉米种子", "水稻种子", "小麦种子", "白菜种子", "西瓜种子", "辣椒种子"], "袋", 40),
    ("fertiliser", ["复合肥", "尿素", "有机肥", "磷酸二铵", "钾肥"], "袋", 150),
    ("pesticide", ["农药", "杀虫剂", "除草剂", "杀菌剂", "叶面肥"], "瓶", 25),
    ("household", ["洗衣粉", "洗洁精", "卷纸", "水桶", "节能灯泡", "保温瓶", "炒锅", "棉被", "拖把"], "个", 30),
    ("clothing", ["夹克", "羽绒服", "棉鞋", "劳保手套", "雨靴", "书包", "毛衣", "运动鞋"], "件", 120),
    ("food", ["大米", "菜籽油", "面粉", "纯牛奶", "食盐", "奶粉", "挂面", "白砂糖", "饼干"], "袋", 40),
]
BRANDS = ["美的", "海尔", "格力", "苏泊尔", "九阳", "长虹", "海信", "华为", "小米", "红米", "丰收", "金龙鱼",
          "蒙牛", "伊利", "立白", "心相印", "安踏", "回力", "南极人", "恒源祥", "史丹利", "中化", "先正达", "隆平"]
SPECS = ["家用", "大容量", "加厚", "老人用", "迷你", "升级款", "特价", "新款", "实惠装", "全网通", "5公斤", "1升",
         "2024款", "包邮", "经济型", "高端"]

QUERIES = {
    "hanzi": ["电饭煲", "洗衣机", "手机", "玉米种子", "复合肥", "电视", "农药", "大米", "羽绒服", "充电宝", "美的",
              "智能电饭煲", "老人手机", "除草剂", "菜籽油", "海尔洗衣机", "种子", "电风扇", "冰箱", "棉被"],
    "pinyin": ["dianfanbao", "xiyiji", "shouji", "yumizhongzi", "fuhefei", "dianshi", "nongyao", "dami", "yurongfu",
               "chongdianbao", "meide", "zhinengdianfanbao", "laorenshouji", "chucaoji", "caiziyou", "haier",
               "zhongzi", "dianfengshan", "bingxiang", "dianf"],
    "initials": ["dfb", "xyj", "sj", "ymzz", "fhf", "ds", "ny", "dm", "yrf", "cdb", "md", "zndfb", "lrsj", "ccj",
                 "czy", "he", "zz", "dfs", "bx", "df"],
}


def load_products(count: int, seed: int) -> int:
    """Bulk-insert count products with their search words (the index fills by trigger or GIN)."""
    from django.db import connection, transaction

    from cuntao.catalog.demo import catalog_seed_demo
    from cuntao.catalog.models import Category, Merchant, Product
    from cuntao.catalog.search import product_tokens, rebuild_search_index

    catalog_seed_demo()
    categories = {c.slug: c for c in Category.objects.select_related("parent")}
    merchants = list(Merchant.objects.all())
    rng = random.Random(seed)
    words_cache: dict[tuple[str, int], tuple[str, str]] = {}
    rows = []
    for n in range(count):
        slug, words, unit, typical = KINDS[n % len(KINDS)]
        category = categories[slug]
        name = f"{rng.choice(BRANDS)}{rng.choice(words)} {rng.choice(SPECS)}"
        key = (name, category.pk)
        if key not in words_cache:
            names = [category.name] + ([category.parent.name] if category.parent_id else [])
            words_cache[key] = product_tokens(name=name, category_names=names)
        name_tokens, category_tokens = words_cache[key]
        price = max(1, int(typical * 100 * rng.uniform(0.3, 2.5)))
        rows.append(Product(
            merchant=merchants[n % len(merchants)], category=category, sku=f"BENCH-{n:07d}", name=name, unit=unit,
            price_fen=price, local_price_fen=price + price // 8, stock=rng.randint(0, 500),
            is_large_item=slug == "appliances", listed=True, name_tokens=name_tokens, category_tokens=category_tokens,
        ))
    with transaction.atomic():
        Product.objects.bulk_create(rows, batch_size=2000)
    rebuild_search_index(connection)  # a no-op beside the triggers, but a bulk path may skip them
    with connection.cursor() as cursor:  # as autovacuum would after a load this size
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return Product.objects.count()


def time_queries(kind: str, queries: list[str], rounds: int) -> tuple[float, float]:
    """(p50, p95) in ms of the page's work for each query: the count and the first page."""
    from cuntao.catalog.demo import SYSTEM
    from cuntao.catalog.selectors import product_search

    for q in queries:  # warm caches (jieba's dictionary, the database's pages) untimed
        list(product_search(scope=SYSTEM, q=q, limit=20))
    samples = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            qs = product_search(scope=SYSTEM, q=q, limit=None)
            qs.count()
            list(qs[:20])
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="times each query runs (20 queries per kind)")
    args = parser.parse_args()

    with fresh_database() as (env, db):
        os.environ.clear()
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "cuntao.settings"
        sys.path.insert(0, str(SRC))
        import django

        django.setup()
        started = time.perf_counter()
        products = load_products(args.products - 60, seed=2014)  # beside the demo catalogue's 60
        print(f"loaded {products} products in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        lines = []
        for kind, queries in QUERIES.items():
            p50, p95 = time_queries(kind, queries, args.rounds)
            lines.append({"bench": "search", "db": db, "kind": kind, "products": products,
                          "p50_ms": round(p50, 2), "p95_ms": round(p95, 2)})
        from django.db import connections

        connections.close_all()
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
