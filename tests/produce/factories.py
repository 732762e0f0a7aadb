"""Produce test data, built through the services so every rule applies to it."""

import datetime
import io
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cuntao.core.scope import Role, Scope
from cuntao.produce import services
from cuntao.produce.models import Brand, Cooperative, Product
from tests.factories import UserFactory

SEASON = 2026
HARVEST_STARTS = datetime.date(2026, 9, 1)
GTIN_A5 = "06901234000016"  # 0 + prefix 6901234 + item 00001 + check digit 6


def staff_scope(user=None) -> Scope:
    user = user or UserFactory(username="produce-staff")
    return Scope(user=user, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)


def kiwi_cooperative(*, station, gs1: bool = False, slug: str = "kiwi") -> SimpleNamespace:
    """A cooperative with one member and plot at `station`'s village, and a published standard.

    Allowed: 有机肥 (≤200 kg/mu, no interval) and 阿维菌素 (≤50 ml/mu, 14 days before harvest).
    Grades A (≥100 g, ≥15 °Brix), B (≥80 g, ≥13 °Brix) and C (culls, not branded).
    """
    scope = staff_scope()
    county = station.county
    coop = services.cooperative_create(scope=scope, county_id=county.pk, name=f"猕猴桃合作社{slug}", slug=slug,
                                       registration_no=f"93341500MA{slug.upper():>8}", fee_rate_bp=500,
                                       gs1_company_prefix="6901234" if gs1 else "")
    product = Product.objects.create(cooperative=coop, county=county, name="猕猴桃", name_en="Kiwi", crop="kiwi")
    brand = Brand.objects.create(cooperative=coop, county=county, name="金寨红心", slug=f"brand-{slug}")
    standard = services.standard_create(scope=scope, product=product, title="金寨猕猴桃 2026", season=SEASON, brand=brand,
                                        label_text="金寨红心猕猴桃", harvest_starts_on=HARVEST_STARTS,
                                        inspections_before_harvest=0,  # test_lots sets it where it matters
                                        harvest_ends_on=datetime.date(2026, 10, 31))
    add = services.standard_section_add
    manure = add(scope=scope, standard=standard, section="allowed_input", name="有机肥", kind="organic_fertiliser",
                 dose_unit="kg", max_dose_per_mu=200, pre_harvest_interval_days=0)
    abamectin = add(scope=scope, standard=standard, section="allowed_input", name="阿维菌素", kind="pesticide",
                    dose_unit="ml", max_dose_per_mu=50, pre_harvest_interval_days=14)
    thinning = add(scope=scope, standard=standard, section="sop_task", name="疏果", name_en="Thinning",
                   window_starts_on=datetime.date(2026, 5, 15), window_ends_on=datetime.date(2026, 6, 15))
    checkpoint = add(scope=scope, standard=standard, section="checkpoint", name="采前农残检测", name_en="Pre-harvest residue test")
    grade_a = services.grade_add(scope=scope, standard=standard, code="A", name="特级", rank=1, min_weight_g=100, min_brix=15)
    grade_b = services.grade_add(scope=scope, standard=standard, code="B", name="一级", rank=2, min_weight_g=80, min_brix=13)
    grade_c = services.grade_add(scope=scope, standard=standard, code="C", name="等外", rank=3, min_weight_g=0, min_brix=0,
                                 branded=False)
    pack_a = services.pack_size_add(scope=scope, standard=standard, grade=grade_a, name="5 kg 礼盒", net_weight_g=5000,
                                    price_guidance_fen=12800, gtin=GTIN_A5 if gs1 else "")
    pack_b = services.pack_size_add(scope=scope, standard=standard, grade=grade_b, name="5 kg 家庭装", net_weight_g=5000,
                                    price_guidance_fen=8800)
    services.standard_publish(scope=scope, standard=standard)
    member = services.member_add(scope=scope, cooperative=coop, village=station.village, name="王大山",
                                 show_name_publicly=True)
    plot = services.plot_add(scope=scope, member=member, name="东坡", lat="31.70", lon="115.90", area_mu=2, crop="kiwi")
    return SimpleNamespace(coop=coop, product=product, brand=brand, standard=standard, manure=manure, abamectin=abamectin,
                           thinning=thinning, checkpoint=checkpoint, grade_a=grade_a, grade_b=grade_b, grade_c=grade_c,
                           pack_a=pack_a, pack_b=pack_b, member=member, plot=plot, scope=scope)


def another_plot(kiwi, *, village, name="李四", plot_name="西坡"):
    member = services.member_add(scope=kiwi.scope, cooperative=kiwi.coop, village=village, name=name)
    return services.plot_add(scope=kiwi.scope, member=member, name=plot_name, lat="31.71", lon="115.91", area_mu=3,
                             crop="kiwi")


def assign_inspector(coop: Cooperative, *, username: str):
    user = UserFactory(username=username)
    services.inspector_assign(scope=staff_scope(), user=user, cooperative=coop)
    return user


def harvest(kiwi, *, plot=None, kg="1000", on=datetime.date(2026, 9, 20)):
    return services.record_harvest(scope=kiwi.scope, plot=plot or kiwi.plot, kg=kg, harvested_on=on)


def grade(kiwi, lots, *, grades=None, samples=((120, "16.0"), (90, "14.0")), on=datetime.date(2026, 9, 22)):
    return services.grading_record(scope=kiwi.scope, harvest_lots=lots, grade_kg=grades or {"A": "600", "B": "300"},
                                   samples=samples, graded_on=on)


def pack(kiwi, graded_lot, *, boxes=10, pack_size=None, on=datetime.date(2026, 9, 23)):
    return services.packing_record(scope=kiwi.scope, graded_lot=graded_lot, pack_size=pack_size or kiwi.pack_a,
                                   box_count=boxes, packed_on=on)


def boxes_of(kiwi, *, count=10):
    """Harvest, grade and pack `count` grade-A boxes; return (graded lot A, boxes)."""
    lot = harvest(kiwi)
    grading = grade(kiwi, [lot])
    lot_a = grading.graded_lots.get(grade__code="A")
    packing = pack(kiwi, lot_a, boxes=count)
    return lot_a, list(packing.boxes.order_by("pk"))


def png(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 160, 60)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")
