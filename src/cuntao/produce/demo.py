"""The demo's Jinzhai kiwi cooperative: a standard, farmers, a season of records, boxes.

Everything goes through the services, so the demo shows the rules at work: one farmer
sprays a banned herbicide (flagged, not refused), an inspector finds it, a residue test
clears it, and only then do that plot's kiwis go into branded boxes. The season is the
last one whose harvest is over, so no record is dated in the future.
"""

import datetime
import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cuntao.core.scope import Role, Scope
from cuntao.network.models import County, Partner, Station, StationStatus
from cuntao.produce import services
from cuntao.produce.codes import make_gtin14
from cuntao.produce.models import Brand, Cooperative, PackedBox, Product

SLUG = "jinzhai-kiwi"
GS1_PREFIX = "6975012"  # a made-up prefix of the GS1 China range (690-699)
INSPECTOR = "jinzhai-inspector"
# (name, villager consents to show name, plots: (name, area in mu, harvest kg))
FARMERS = [
    ("王德明", True, [("东坡", "3.5", "1680"), ("河湾", "2", "940")]),
    ("李秀珍", True, [("后山", "4", "1850")]),
    ("陈长根", False, [("老屋场", "2.5", "1120")]),
    ("张桂兰", True, [("茶园边", "3", "1390")]),
    ("刘大海", False, [("坡地", "2", "900")]),
    ("周玉梅", True, [("竹林下", "3", "1420")]),
]
VIOLATOR = "陈长根"


def demo_season(today: datetime.date) -> int:
    """The last season whose harvest (to mid-October) is over."""
    return today.year if today >= datetime.date(today.year, 10, 20) else today.year - 1


def _photo(name: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, format="JPEG", quality=70)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _near(degrees, thousandths: int) -> Decimal:
    """A coordinate a few hundred metres from the village centre."""
    return (Decimal(str(degrees)) + Decimal(thousandths) / 1000).quantize(Decimal("0.000001"))


def _user(username: str, password_hash: str | None):
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"first_name": username})
    if created:
        if password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _standard(scope: Scope, coop: Cooperative, season: int):
    day = lambda month, d: datetime.date(season, month, d)  # noqa: E731 - a short local date maker
    product = Product.objects.create(cooperative=coop, county_id=coop.county_id, name="猕猴桃", name_en="Kiwifruit",
                                     crop="kiwi")
    brand = Brand.objects.create(cooperative=coop, county_id=coop.county_id, name="金寨红心猕猴桃",
                                 name_en="Jinzhai Red-heart Kiwi", slug="jinzhai-red-heart",
                                 story="大别山区海拔 400 米以上的红心猕猴桃，统一标准种植、分级、溯源。",
                                 story_en="Red-heart kiwis from the Dabie mountains above 400 m, grown, graded and "
                                          "traced to one standard.")
    standard = services.standard_create(
        scope=scope, product=product, title=f"金寨猕猴桃 {season} 产季", title_en=f"Jinzhai kiwi, {season} season",
        season=season, brand=brand, label_text="金寨红心猕猴桃 · 统一标准 · 扫码溯源",
        label_text_en="Jinzhai red-heart kiwi · one standard · scan to trace", inspections_before_harvest=1,
        harvest_starts_on=day(9, 10), harvest_ends_on=day(10, 15))
    add = services.standard_section_add
    for name, kind, unit, max_dose, phi in (("有机肥", "organic_fertiliser", "kg", 300, 0),
                                             ("硫酸钾复合肥", "fertiliser", "kg", 50, 30),
                                             ("石硫合剂", "fungicide", "L", 5, 15),
                                             ("阿维菌素", "pesticide", "ml", 50, 14),
                                             ("氯吡脲", "growth_regulator", "ml", 10, 45)):
        add(scope=scope, standard=standard, section="allowed_input", name=name, kind=kind, dose_unit=unit,
            max_dose_per_mu=max_dose, pre_harvest_interval_days=phi)
    for name, name_en, start, end in (("冬季修剪", "Winter pruning", day(1, 5), day(2, 28)),
                                      ("授粉", "Pollination", day(4, 20), day(5, 10)),
                                      ("疏果", "Thinning", day(5, 15), day(6, 15)),
                                      ("套袋", "Bagging", day(6, 10), day(6, 30))):
        add(scope=scope, standard=standard, section="sop_task", name=name, name_en=name_en, window_starts_on=start,
            window_ends_on=end)
    add(scope=scope, standard=standard, section="checkpoint", name="投入品仓库检查", name_en="Input store check", order=1)
    add(scope=scope, standard=standard, section="checkpoint", name="采前农残速测", name_en="Pre-harvest residue test", order=2)
    grade_a = services.grade_add(scope=scope, standard=standard, code="A", name="特级果", name_en="Premium", rank=1,
                                 min_weight_g=100, min_brix=15)
    grade_b = services.grade_add(scope=scope, standard=standard, code="B", name="一级果", name_en="First grade", rank=2,
                                 min_weight_g=80, min_brix=13)
    services.grade_add(scope=scope, standard=standard, code="C", name="等外果", name_en="Below grade", rank=3,
                       min_weight_g=0, min_brix=0, branded=False)
    services.pack_size_add(scope=scope, standard=standard, grade=grade_a, name="5 kg 礼盒（特级）",
                           name_en="5 kg gift box (premium)", net_weight_g=5000, price_guidance_fen=12800,
                           gtin=make_gtin14(company_prefix=GS1_PREFIX, item_reference="00001"))
    services.pack_size_add(scope=scope, standard=standard, grade=grade_b, name="5 kg 家庭装（一级）",
                           name_en="5 kg family box (first grade)", net_weight_g=5000, price_guidance_fen=7800)
    return services.standard_publish(scope=scope, standard=standard)


def _season_records(*, partner_scopes: dict, staff: Scope, inspector: Scope, standard, plots: list[tuple], season: int):
    """A season on every plot; plots are (plot, harvest kg). Return the harvest lots."""
    day = lambda month, d: datetime.date(season, month, d)  # noqa: E731
    checkpoints = {c.order: c for c in standard.checkpoints.all()}
    thinning = standard.sop_tasks.get(name="疏果")
    lots = []
    for i, (plot, harvest_kg) in enumerate(plots):
        scope = partner_scopes.get(plot.station_id, staff)
        area = plot.area_mu
        services.record_input_applied(scope=scope, plot=plot, input_name="有机肥", dose_total=area * 250, dose_unit="kg",
                                      applied_on=day(3, 2 + i))
        services.record_input_applied(scope=scope, plot=plot, input_name="阿维菌素", dose_total=area * 40, dose_unit="ml",
                                      applied_on=day(6, 20 + i % 5))
        services.record_task_done(scope=scope, plot=plot, sop_task_id=thinning.pk, done_on=day(5, 25 + i % 5))
        if i == 0:
            services.record_observation(scope=scope, plot=plot, observed_on=day(7, 12), note="果实膨大良好，已套袋",
                                        photos=[_photo("kiwi-bagged.jpg", (60, 140, 70))])
        if plot.member.name == VIOLATOR:
            # A banned herbicide: recorded and flagged, never refused.
            record = services.record_input_applied(scope=scope, plot=plot, input_name="百草枯", dose_total="0.5",
                                                   dose_unit="L", applied_on=day(7, 3), note="地边除草")
            failed = services.inspection_record(scope=inspector, plot=plot, checkpoint_id=checkpoints[1].pk,
                                                result="failed", inspected_on=day(7, 10),
                                                note="发现百草枯空瓶，已收缴；该地块果实暂停品牌销售",
                                                photos=[_photo("inspection.jpg", (150, 120, 90))])
            for violation in [*record.violations.all(), *failed.violations_found.all()]:
                services.violation_clear(scope=inspector, violation=violation,
                                         note="采前农残速测未检出百草枯，整改到位，解除限制")
        services.inspection_record(scope=inspector, plot=plot, checkpoint_id=checkpoints[2].pk, result="passed",
                                   inspected_on=day(9, 5), note="农残速测合格")
        lots.append(services.record_harvest(scope=scope, plot=plot, kg=harvest_kg, harvested_on=day(9, 18 + i % 3)))
    return lots


def _grade_and_pack(*, staff: Scope, lots, season: int):
    total = sum(lot.kg for lot in lots)
    grading = services.grading_record(
        scope=staff, harvest_lots=lots, graded_on=datetime.date(season, 9, 22),
        grade_kg={code: (total * share / 100).quantize(services.GRAM) for code, share in (("A", 55), ("B", 30), ("C", 10))},
        samples=[(118, "16.2"), (126, "15.8"), (104, "15.1"), (95, "14.0"), (88, "13.6"), (72, "12.1"), (131, "17.0")])
    graded = {g.grade.code: g for g in grading.graded_lots.select_related("grade")}
    packed_on = datetime.date(season, 9, 23)
    for code, boxes in (("A", 60), ("B", 40)):
        lot = graded[code]
        pack = lot.standard.pack_sizes.get(grade=lot.grade)
        services.packing_record(scope=staff, graded_lot=lot, pack_size=pack, box_count=boxes, packed_on=packed_on)
    return graded


def _scans(coop: Cooperative) -> None:
    """A few honest scans, and one code copied onto fake boxes across the country."""
    boxes = list(PackedBox.objects.filter(cooperative=coop).order_by("pk")[:3])
    for box, city in zip(boxes, ("上海", "杭州", "北京"), strict=False):
        services.scan_record(box=box, city=city, ip="203.0.113.9")
    if boxes:
        for city in ("上海", "广州", "成都", "西安", "沈阳"):
            services.scan_record(box=boxes[-1], city=city)


def produce_seed_demo(*, password_hash: str | None = None) -> bool:
    """Seed the Jinzhai kiwi cooperative once; False if it exists or the Jinzhai demo county does not."""
    county = County.objects.filter(code="JZ").first()
    if county is None or Cooperative.objects.filter(slug=SLUG).exists():
        return False
    stations = list(Station.objects.filter(county=county, status=StationStatus.OPEN).select_related("village")
                    .order_by("code")[:3])
    staff_user = get_user_model().objects.filter(username="jinzhai").first() or _user("jinzhai", password_hash)
    if not stations:
        return False
    season = demo_season(timezone.localdate())
    staff = Scope(user=staff_user, role=Role.COUNTY_STAFF, county_ids=frozenset({county.pk}), station_ids=None)
    with transaction.atomic():
        coop = services.cooperative_create(
            scope=staff, county_id=county.pk, name="金寨县红心猕猴桃专业合作社", name_en="Jinzhai Red-heart Kiwi Cooperative",
            slug=SLUG, registration_no="93341524MA2TJZKIW1", fee_rate_bp=800, gs1_company_prefix=GS1_PREFIX,
            village_ids=[s.village_id for s in stations])
        inspector_user = _user(INSPECTOR, password_hash)
        services.inspector_assign(scope=staff, user=inspector_user, cooperative=coop)
        inspector = Scope(user=inspector_user, role=Role.NONE, county_ids=frozenset(), station_ids=frozenset())
        standard = _standard(staff, coop, season)
        partner_scopes = {p.station_id: Scope(user=p.user, role=Role.PARTNER, county_ids=frozenset({county.pk}),
                                              station_ids=frozenset({p.station_id}))
                          for p in Partner.objects.filter(station__in=stations).select_related("user")}
        plots = []
        for i, (name, consents, farmer_plots) in enumerate(FARMERS):
            station = stations[i % len(stations)]
            villager = station.villagers.order_by("pk")[i // len(stations):].first()
            member = services.member_add(scope=staff, cooperative=coop, village=station.village, name=name,
                                         villager=villager, show_name_publicly=consents, joined_on=datetime.date(season, 1, 8))
            for j, (plot_name, area, kg) in enumerate(farmer_plots):
                plot = services.plot_add(scope=staff, member=member, name=plot_name, area_mu=area, crop="kiwi",
                                         lat=_near(station.village.lat, (j + 1) * 2), lon=_near(station.village.lon, -i * 2))
                plots.append((plot, kg))
        lots = _season_records(partner_scopes=partner_scopes, staff=staff, inspector=inspector, standard=standard,
                               plots=plots, season=season)
        _grade_and_pack(staff=staff, lots=lots, season=season)
        _scans(coop)
    return True


def demo_box_codes(limit: int = 3) -> list[str]:
    """Codes of a few demo boxes in stock, for the demo command to print."""
    return list(PackedBox.objects.filter(cooperative__slug=SLUG, suspect_since__isnull=True)
                .order_by("pk").values_list("code", flat=True)[:limit])

