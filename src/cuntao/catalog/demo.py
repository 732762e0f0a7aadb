"""A demo catalogue: categories for village life, a few verified merchants, ~60 products."""

from django.db import transaction

from cuntao.catalog.models import Category, Merchant, Product
from cuntao.catalog.services import category_save, merchant_create, merchant_verify, product_create
from cuntao.core.scope import Role, Scope

SYSTEM = Scope(user=None, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)

# (slug, name, parent slug, commission in basis points, sort order). Appliances and
# phones carry thin margins; farm inputs and food pay the partner more per yuan.
CATEGORIES = [
    ("phones", "手机通讯", None, 200, 10),
    ("top-up", "话费充值", "phones", 100, 11),
    ("appliances", "家用电器", None, 300, 20),
    ("kitchen", "厨房电器", "appliances", 400, 21),
    ("farm-inputs", "农资", None, 500, 30),
    ("seed", "种子", "farm-inputs", 600, 31),
    ("fertiliser", "化肥", "farm-inputs", 400, 32),
    ("pesticide", "农药", "farm-inputs", 500, 33),
    ("household", "日用百货", None, 800, 40),
    ("clothing", "服装鞋帽", None, 800, 50),
    ("food", "食品粮油", None, 600, 60),
]

MERCHANTS = [
    ("县城家电城", "+8613905510001"),
    ("丰收农资合作社", "+8613905510002"),
    ("乐购日用百货", "+8613905510003"),
    ("移动通信营业厅", "+8613905510004"),
]

# (sku, name, category, merchant index, unit, price ¥, township price ¥ or None, stock, large item)
PRODUCTS = [
    ("KT-RC-001", "美的电饭煲 4L 家用", "kitchen", 0, "台", 199, 239, 30, False),
    ("KT-RC-002", "智能电饭煲 手机远程预约 5L", "kitchen", 0, "台", 329, 399, 20, False),
    ("KT-RC-003", "苏泊尔迷你电饭煲 2L", "kitchen", 0, "台", 139, 169, 25, False),
    ("KT-RC-004", "老式机械电饭锅 3L", "kitchen", 0, "台", 89, 110, 40, False),
    ("KT-KE-001", "电热水壶 1.7L 不锈钢", "kitchen", 0, "个", 59, 75, 60, False),
    ("KT-IH-001", "电磁炉 家用大火力", "kitchen", 0, "台", 169, 210, 15, False),
    ("KT-MW-001", "微波炉 20L", "kitchen", 0, "台", 399, 469, 8, False),
    ("AP-WM-001", "海尔滚筒洗衣机 10公斤", "appliances", 0, "台", 1999, 2399, 6, True),
    ("AP-WM-002", "小天鹅波轮洗衣机 8公斤", "appliances", 0, "台", 1099, 1299, 10, True),
    ("AP-TV-001", "长虹智能电视 55英寸", "appliances", 0, "台", 2299, 2699, 5, True),
    ("AP-TV-002", "海信液晶电视 43英寸", "appliances", 0, "台", 1299, 1599, 7, True),
    ("AP-FR-001", "双门冰箱 180升", "appliances", 0, "台", 1499, 1799, 4, True),
    ("AP-AC-001", "格力空调 1.5匹 冷暖", "appliances", 0, "台", 2799, 3199, 3, True),
    ("AP-WH-001", "电热水器 60升", "appliances", 0, "台", 899, 1099, 6, True),
    ("AP-FN-001", "落地电风扇", "appliances", 0, "台", 129, 159, 30, False),
    ("PH-OLD-001", "老人手机 大字大声 超长待机", "phones", 3, "部", 199, 259, 40, False),
    ("PH-OLD-002", "老年人按键手机 4G 全网通", "phones", 3, "部", 269, 329, 25, False),
    ("PH-SM-001", "华为畅享智能手机 4G 128GB", "phones", 3, "部", 1199, 1399, 12, False),
    ("PH-SM-002", "红米智能手机 5G 256GB", "phones", 3, "部", 999, 1199, 15, False),
    ("PH-ACC-001", "手机充电宝 10000毫安", "phones", 3, "个", 69, 89, 50, False),
    ("PH-ACC-002", "手机数据线 充电器套装", "phones", 3, "套", 29, 39, 80, False),
    ("TU-050", "话费充值 50元", "top-up", 3, "次", 50, None, 100000, False),
    ("TU-100", "话费充值 100元", "top-up", 3, "次", 100, None, 100000, False),
    ("TU-FLOW-01", "流量充值 10GB 月包", "top-up", 3, "次", 30, None, 100000, False),
    ("FI-FE-001", "复合肥 50公斤 硫酸钾型", "fertiliser", 1, "袋", 165, 185, 200, False),
    ("FI-FE-002", "尿素 40公斤 含氮46%", "fertiliser", 1, "袋", 118, 130, 150, False),
    ("FI-FE-003", "有机肥 40公斤", "fertiliser", 1, "袋", 45, 55, 300, False),
    ("FI-FE-004", "磷酸二铵 50公斤", "fertiliser", 1, "袋", 195, 215, 120, False),
    ("FI-SE-001", "玉米种子 郑单958 1公斤", "seed", 1, "袋", 38, 45, 500, False),
    ("FI-SE-002", "玉米种子 先玉335 1公斤", "seed", 1, "袋", 52, 60, 400, False),
    ("FI-SE-003", "水稻种子 杂交稻 1公斤", "seed", 1, "袋", 68, 80, 300, False),
    ("FI-SE-004", "小麦种子 济麦22 25公斤", "seed", 1, "袋", 110, 125, 100, False),
    ("FI-SE-005", "白菜种子 10克", "seed", 1, "包", 5, 8, 1000, False),
    ("FI-PE-001", "农药 杀虫剂 吡虫啉 100克", "pesticide", 1, "瓶", 15, 20, 300, False),
    ("FI-PE-002", "除草剂 草甘膦 1升", "pesticide", 1, "瓶", 28, 35, 200, False),
    ("FI-PE-003", "杀菌剂 多菌灵 500克", "pesticide", 1, "袋", 18, 24, 200, False),
    ("FI-TL-001", "电动喷雾器 16升", "farm-inputs", 1, "台", 238, 280, 20, False),
    ("FI-TL-002", "农用地膜 2米宽", "farm-inputs", 1, "卷", 85, 98, 60, False),
    ("HG-001", "洗衣粉 5公斤", "household", 2, "袋", 35, 42, 100, False),
    ("HG-002", "洗洁精 1.5公斤", "household", 2, "瓶", 12, 15, 150, False),
    ("HG-003", "卷纸 10卷装", "household", 2, "包", 19, 25, 200, False),
    ("HG-004", "塑料水桶 大号", "household", 2, "个", 15, 20, 80, False),
    ("HG-005", "LED节能灯泡 3个装", "household", 2, "包", 25, 35, 120, False),
    ("HG-006", "保温瓶 暖水壶 3.2升", "household", 2, "个", 39, 48, 60, False),
    ("HG-007", "不锈钢炒锅 32厘米", "household", 2, "个", 79, 99, 40, False),
    ("HG-008", "棉被 冬季加厚", "household", 2, "件", 159, 199, 30, False),
    ("CL-001", "男士夹克 春秋款", "clothing", 2, "件", 129, 168, 40, False),
    ("CL-002", "女士羽绒服 中长款", "clothing", 2, "件", 299, 380, 25, False),
    ("CL-003", "老人棉鞋 防滑保暖", "clothing", 2, "双", 59, 75, 60, False),
    ("CL-004", "劳保手套 12双装", "clothing", 2, "包", 18, 25, 100, False),
    ("CL-005", "雨靴 高筒", "clothing", 2, "双", 39, 49, 50, False),
    ("CL-006", "儿童书包", "clothing", 2, "个", 69, 89, 40, False),
    ("FD-001", "东北大米 10公斤", "food", 2, "袋", 59, 68, 100, False),
    ("FD-002", "菜籽油 5升", "food", 2, "桶", 79, 92, 80, False),
    ("FD-003", "面粉 5公斤", "food", 2, "袋", 25, 30, 100, False),
    ("FD-004", "纯牛奶 24盒装", "food", 2, "箱", 55, 65, 60, False),
    ("FD-005", "食盐 400克", "food", 2, "袋", 3, 4, 300, False),
    ("FD-006", "老年奶粉 800克", "food", 2, "罐", 89, 108, 40, False),
    ("FD-007", "挂面 2公斤", "food", 2, "袋", 15, 18, 150, False),
    ("FD-008", "白砂糖 1公斤", "food", 2, "袋", 9, 11, 120, False),
]

@transaction.atomic
def catalog_seed_demo() -> dict[str, int]:
    """Create the demo catalogue; running it again adds nothing that is already there."""
    categories: dict[str, Category] = {}
    for slug, name, parent, rate, order in CATEGORIES:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            category = category_save(scope=SYSTEM, category=Category(
                slug=slug, name=name, parent=categories.get(parent), commission_rate_bp=rate, sort_order=order))
        categories[slug] = category
    merchants: list[Merchant] = []
    for name, phone in MERCHANTS:
        merchant = Merchant.objects.filter(name=name).first() or merchant_create(scope=SYSTEM, name=name, contact_phone=phone)
        merchants.append(merchant_verify(scope=SYSTEM, merchant=merchant))
    existing = set(Product.objects.values_list("sku", flat=True))
    created = 0
    for sku, name, category, merchant, unit, price, local, stock, large in PRODUCTS:
        if sku in existing:
            continue
        product_create(scope=SYSTEM, merchant=merchants[merchant], category=categories[category], sku=sku, name=name,
                       unit=unit, price_fen=price * 100, local_price_fen=local * 100 if local else None,
                       stock=stock, is_large_item=large)
        created += 1
    return {"categories": len(categories), "merchants": len(merchants), "products_created": created}
