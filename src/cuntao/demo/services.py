"""Seed the demo network and synthetic networks of any size, with bulk inserts.

Both go through one writer, so the demo is a small synthetic network with real places.
The rows are written directly (not through the per-row services) because a load-test
network has hundreds of thousands of villagers; the generator only makes valid rows.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from cuntao.core.pinyin import name_initials, name_pinyin
from cuntao.demo.bulk import insert_rows, reserve_ids
from cuntao.demo.people import PeopleGenerator
from cuntao.network.models import (
    County,
    Partner,
    PartnerStatus,
    Province,
    StaffMembership,
    StaffRole,
    Station,
    StationStatus,
    StationStatusEvent,
    Village,
)
from cuntao.villagers.models import Household, MigrantRelative, Villager

User = get_user_model()
DEMO_PASSWORD = "cuntao-demo"
VILLAGE_PARTS_A = "桃李杏柳松竹梅枫石河山溪岭坪塘湾坡沟岗峪"
VILLAGE_PARTS_B = "园坪湾岭沟口坝山冲垭塘庄寨店铺"
VILLAGE_PREFIXES = "东西南北上下前后大小新老高龙凤金银青红白黄"
BATCH = 2000


@dataclass(frozen=True)
class CountySpec:
    province: str
    province_en: str
    name: str
    name_en: str
    code: str
    lat: float
    lon: float
    specialty: str
    winding: float
    villages: int
    id_region: str
    spread: float = 0.2  # degrees around the county seat where its villages lie
    village_word: str = "村"


# The source story's counties, at their real seats; villages are generated around them.
DEMO_COUNTIES = [
    CountySpec("安徽省", "Anhui", "金寨县", "Jinzhai", "JZ", 31.727, 115.934, "猕猴桃 kiwifruit", 1.5, 12, "341524"),
    CountySpec("湖北省", "Hubei", "利川市", "Lichuan", "LC", 30.291, 108.936, "山区 mountains, 莼菜 water shield", 1.8, 10, "422802"),
    CountySpec("青海省", "Qinghai", "互助土族自治县", "Huzhu", "HZ", 36.844, 101.956, "青稞 highland barley", 1.4, 6, "630223"),
    CountySpec("贵州省", "Guizhou", "雷山县", "Leishan", "LS", 26.378, 108.078, "银球茶 tea", 1.7, 8, "522634"),
    CountySpec("内蒙古自治区", "Inner Mongolia", "四子王旗", "Siziwang", "SZ", 41.533, 111.706, "羊肉 mutton", 1.2, 5, "150929",
               spread=0.6, village_word="嘎查"),
]
DEMO_VILLAGERS_PER_VILLAGE = 40


@dataclass
class SeedResult:
    counties: int = 0
    villages: int = 0
    stations: int = 0
    households: int = 0
    villagers: int = 0
    relatives: int = 0

    @property
    def rows(self) -> int:
        # Partners count twice: their user and their partner row; stations bring 3 events.
        return (self.counties + self.villages + self.stations * 6 + self.households + self.villagers
                + self.relatives)


def village_names(rng: random.Random, count: int, word: str) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        stem = rng.choice(VILLAGE_PARTS_A) + rng.choice(VILLAGE_PARTS_B)
        if len(names) > 300 or rng.random() < 0.3:
            stem = rng.choice(VILLAGE_PREFIXES) + stem
        if len(names) > 3000:
            stem += rng.choice(VILLAGE_PREFIXES)
        names.add(stem + word)
    return sorted(names, key=lambda _: rng.random())


def seed_county(
    *,
    spec: CountySpec,
    rng: random.Random,
    villagers_per_village: int,
    password_hash: str,
    first_partner_number: int,
    statuses: Callable[[int], str] = lambda i: StationStatus.OPEN,
    on_village: Callable[[], None] = lambda: None,
) -> tuple[County, SeedResult, list[Partner]]:
    """Write one county with its warehouse, villages, stations, partners and villagers.

    statuses(i) gives the i-th station's status; a village with status "" gets no station.
    """
    now = timezone.now()
    this_year = timezone.localdate().year
    result = SeedResult(counties=1)
    province, _ = Province.objects.get_or_create(name=spec.province, defaults={"name_en": spec.province_en})
    county = County.objects.create(
        province=province, name=spec.name, name_en=spec.name_en, code=spec.code, specialty=spec.specialty,
        centre_address=f"{spec.name}电子商务公共服务中心", centre_lat=round(spec.lat, 6), centre_lon=round(spec.lon, 6),
        warehouse_address=f"{spec.name}物流仓储中心", warehouse_lat=round(spec.lat - 0.012, 6),
        warehouse_lon=round(spec.lon + 0.015, 6), road_winding_factor=spec.winding,
    )
    villages = Village.objects.bulk_create([
        Village(county=county, name=name, lat=round(spec.lat + rng.uniform(-spec.spread, spec.spread), 6),
                lon=round(spec.lon + rng.uniform(-spec.spread, spec.spread), 6),
                population=population, households=population // rng.randint(3, 4))
        for name in village_names(rng, spec.villages, spec.village_word)
        for population in [rng.randint(600, 3200)]
    ], batch_size=BATCH)
    result.villages = len(villages)

    planned = [(i, v, statuses(i)) for i, v in enumerate(villages)]
    stations = Station.objects.bulk_create([
        Station(county=county, village=v, code=f"{spec.code}-{i + 1:04d}", name=f"{v.name}服务站",
                address=f"{v.name}村委会旁", status=status, status_changed_at=now,
                opened_at=now if status in CONTRACTED else None,
                shelf_capacity=rng.choice((60, 80, 100, 120)))
        for i, v, status in planned if status
    ], batch_size=BATCH)
    result.stations = len(stations)
    people = PeopleGenerator(rng, this_year=this_year, id_region=spec.id_region)
    numbers = [first_partner_number + i for i in range(len(stations))]
    users = User.objects.bulk_create([
        User(username=f"199{n:08d}", password=password_hash, first_name=people.name(rng.choice("王李张刘陈杨"), "female"))
        for n in numbers
    ], batch_size=BATCH)
    partners = Partner.objects.bulk_create([
        Partner(user=u, station=s, county=county, full_name=u.first_name, phone=f"+86199{n:08d}",
                national_id=people.national_id(rng.randint(1975, 1998), "female"),
                identity_verified_at=None if s.status == StationStatus.APPLYING else now,
                contract_start=datetime.date(this_year - 1, 3, 1) if s.status in CONTRACTED else None,
                contract_end=datetime.date(this_year + 2, 2, 28) if s.status in CONTRACTED else None,
                status=PARTNER_STATUS[s.status])
        for u, s, n in zip(users, stations, numbers, strict=True)
    ], batch_size=BATCH)
    StationStatusEvent.objects.bulk_create(
        [StationStatusEvent(station=s, county=county, from_status=a, to_status=b)
         for s in stations for a, b in STATUS_PATH[s.status]], batch_size=BATCH)

    serving = [s for s in stations if s.status in (StationStatus.OPEN, StationStatus.TRAINING, StationStatus.SUSPENDED)]
    for station in serving:
        counts = seed_station_villagers(station=station, people=people, villagers=villagers_per_village, now=now)
        result.households += counts[0]
        result.villagers += counts[1]
        result.relatives += counts[2]
        on_village()
    for _ in range(len(villages) - len(serving)):
        on_village()
    return county, result, partners


# The steps each seeded status went through, for its history.
STATUS_PATH = {
    StationStatus.APPLYING: [("", "applying")],
    StationStatus.TRAINING: [("", "applying"), ("applying", "training")],
    StationStatus.OPEN: [("", "applying"), ("applying", "training"), ("training", "open")],
    StationStatus.SUSPENDED: [("", "applying"), ("applying", "training"), ("training", "open"), ("open", "suspended")],
}
CONTRACTED = (StationStatus.OPEN, StationStatus.SUSPENDED)
PARTNER_STATUS = {
    StationStatus.APPLYING: PartnerStatus.APPLICANT,
    StationStatus.TRAINING: PartnerStatus.TRAINING,
    StationStatus.OPEN: PartnerStatus.ACTIVE,
    StationStatus.SUSPENDED: PartnerStatus.SUSPENDED,
}


HOUSEHOLD_FIELDS = ("id", "county", "station", "name", "address", "created_at")
VILLAGER_FIELDS = ("id", "county", "station", "household", "name", "name_pinyin", "name_initials", "phone",
                   "national_id", "birth_year", "gender", "needs_large_print", "needs_voice", "language",
                   "consent_at", "created_at", "updated_at")
RELATIVE_FIELDS = ("county", "station", "villager", "name", "phone", "city", "relation", "receives_notices",
                   "created_at")


def seed_station_villagers(*, station: Station, people: PeopleGenerator, villagers: int, now) -> tuple[int, int, int]:
    """Write one station's households, villagers and their relatives; return their counts."""
    plans = people.households(villagers)
    stamp = connection.ops.adapt_datetimefield_value(now)
    county_id, station_id = station.county_id, station.pk
    household_ids = reserve_ids(Household, len(plans))
    villager_ids = iter(reserve_ids(Villager, sum(len(plan.members) for plan in plans)))
    households, villager_rows, relative_rows = [], [], []
    for household_id, plan in zip(household_ids, plans, strict=True):
        households.append((household_id, county_id, station_id, plan.name, station.village.name, stamp))
        for position, p in enumerate(plan.members):
            villager_id = next(villager_ids)
            villager_rows.append((villager_id, county_id, station_id, household_id, p.name, name_pinyin(p.name),
                                  name_initials(p.name), p.phone, p.national_id, p.birth_year, p.gender,
                                  p.needs_large_print, p.needs_voice, "zh-hans", stamp, stamp, stamp))
            if position == 0:
                relative_rows.extend((county_id, station_id, villager_id, r.name, r.phone, r.city, r.relation, True,
                                      stamp) for r in plan.relatives)
    insert_rows(Household, HOUSEHOLD_FIELDS, households)
    insert_rows(Villager, VILLAGER_FIELDS, villager_rows)
    insert_rows(MigrantRelative, RELATIVE_FIELDS, relative_rows)
    return len(households), len(villager_rows), len(relative_rows)


def demo_is_seeded() -> bool:
    return County.objects.filter(code=DEMO_COUNTIES[0].code).exists()


def demo_station_status(code: str) -> Callable[[int], str]:
    """Most stations are open; a few show the other steps of the life cycle."""
    special = {
        "JZ": {9: StationStatus.TRAINING, 10: StationStatus.APPLYING, 11: ""},  # onboarding to show
        "LC": {9: StationStatus.SUSPENDED},
    }.get(code, {})
    return lambda i: special.get(i, StationStatus.OPEN)


DEMO_LOGINS = [
    # (username, role, what they see)
    ("admin", "programme admin", "everything, and /admin/"),
    ("jinzhai", "county staff", "Jinzhai county console"),
    ("lichuan", "county staff", "Lichuan county console"),
    ("xiaoer", "partner", "station JZ-0001"),
    ("xiaoer2", "partner", "station LC-0001"),
    ("jinzhai-inspector", "inspector", "inspections of the Jinzhai kiwi cooperative"),
    ("13900000001", "city buyer", "the village shop at /shop/ (sign in with the phone number)"),
]


def network_seed_demo(*, on_village: Callable[[], None] = lambda: None, seed: int = 1311) -> bool:
    """Seed the demo network once; return False if it was already there."""
    if demo_is_seeded():
        return False
    rng = random.Random(seed)
    password_hash = make_password(DEMO_PASSWORD)
    with transaction.atomic():
        first_partners = {}
        number = Partner.objects.count() + 1
        for spec in DEMO_COUNTIES:
            county, result, partners = seed_county(
                spec=spec, rng=rng, villagers_per_village=DEMO_VILLAGERS_PER_VILLAGE, password_hash=password_hash,
                first_partner_number=number, statuses=demo_station_status(spec.code), on_village=on_village)
            number += result.stations
            first_partners[spec.code] = partners[0]
        admin = User.objects.create(username="admin", password=password_hash, is_staff=True, is_superuser=True,
                                    first_name="Programme admin")
        StaffMembership.objects.create(user=admin, role=StaffRole.PROGRAMME_ADMIN)
        for username, code in (("jinzhai", "JZ"), ("lichuan", "LC")):
            user = User.objects.create(username=username, password=password_hash, first_name=username.title())
            StaffMembership.objects.create(user=user, role=StaffRole.COUNTY_STAFF, county=County.objects.get(code=code))
        for username, code in (("xiaoer", "JZ"), ("xiaoer2", "LC")):
            User.objects.filter(pk=first_partners[code].user_id).update(username=username)
    return True


def demo_village_count() -> int:
    return sum(spec.villages for spec in DEMO_COUNTIES)


def network_seed_synthetic(
    *, counties: int, villages_per_county: int, villagers_per_village: int, seed: int,
    on_village: Callable[[], None] = lambda: None,
) -> SeedResult:
    """Add a synthetic network for load tests: every station open, every partner's password the demo one."""
    rng = random.Random(seed)
    password_hash = make_password(DEMO_PASSWORD)
    total = SeedResult()
    start = County.objects.filter(code__regex=r"^S[0-9]{4}$").count()  # not the demo's SZ
    number = 50_000_000 + Partner.objects.filter(phone__startswith="+861995").count()
    for index in range(start, start + counties):
        base = DEMO_COUNTIES[index % len(DEMO_COUNTIES)]
        spec = CountySpec(
            province=base.province, province_en=base.province_en, name=f"合成{index + 1}县",
            name_en=f"Synthetic {index + 1}", code=f"S{index + 1:04d}", lat=base.lat + rng.uniform(-2, 2),
            lon=base.lon + rng.uniform(-2, 2), specialty="", winding=base.winding, villages=villages_per_county,
            id_region=base.id_region, spread=0.3,
        )
        with transaction.atomic():
            _, result, _ = seed_county(spec=spec, rng=rng, villagers_per_village=villagers_per_village,
                                       password_hash=password_hash, first_partner_number=number, on_village=on_village)
        number += result.stations
        for name in ("counties", "villages", "stations", "households", "villagers", "relatives"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
    return total


# A morning at the first Jinzhai station: (product name contains, quantity, how the villager pays).
DEMO_ORDERS = [("电饭煲", 1, "cash_on_delivery"), ("复合肥", 2, "cash_now"), ("老人手机", 1, "credit")]


def orders_seed_demo() -> int:
    """Place a few real orders at JZ-0001 through the orders service; once."""
    from cuntao.catalog.models import Product
    from cuntao.core.scope import resolve_scope
    from cuntao.orders.models import Order
    from cuntao.orders.services import credit_limit_set, order_place

    partner = Partner.objects.select_related("station", "user").filter(user__username="xiaoer").first()
    if partner is None or Order.objects.filter(station=partner.station).exists():
        return 0
    scope = resolve_scope(partner.user)
    villagers = list(Villager.objects.filter(station=partner.station, birth_year__lte=1966).order_by("pk")[:3])
    placed = 0
    for (name, quantity, method), villager in zip(DEMO_ORDERS, villagers, strict=False):
        product = Product.objects.filter(name__contains=name, listed=True).order_by("pk").first()
        if product is None:
            continue
        if method == "credit":
            credit_limit_set(scope=scope, villager=villager, limit_fen=product.price_fen * quantity)
        order_place(scope=scope, station=partner.station, villager=villager, payment_method=method,
                    lines=[(product.pk, quantity, product.price_fen)], idempotency_key=f"demo-{name}")
        placed += 1
    return placed


def demo_seed_all(*, on_village: Callable[[], None] = lambda: None) -> bool:
    """Everything the demo shows, each step once and through the apps' services.

    Returns whether the network was seeded now (False when it was already there; the
    later steps still add whatever is missing).
    """
    from django.contrib.auth.hashers import make_password

    from cuntao.catalog.demo import catalog_seed_demo
    from cuntao.logistics.demo import logistics_seed_demo
    from cuntao.produce.demo import produce_seed_demo
    from cuntao.shop.demo import shop_seed_demo

    seeded = network_seed_demo(on_village=on_village)
    catalog_seed_demo()
    orders_seed_demo()  # a few orders at JZ-0001
    logistics_seed_demo()  # Jinzhai's trucks, parcels at the warehouse and at JZ-0001
    produce_seed_demo(password_hash=make_password(DEMO_PASSWORD))  # the Jinzhai kiwi cooperative's season
    shop_seed_demo()  # city buyers' orders for the kiwi boxes
    return seeded
