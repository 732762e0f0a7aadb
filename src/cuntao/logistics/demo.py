"""Demo parcels for Jinzhai, made through the logistics services so the pages show real things.

`logistics_seed_demo()` is idempotent: it does nothing once its first parcel exists. It
gives Jinzhai a fleet of three trucks; parcels sorted at the county warehouse for a few
stations (today's route plan has work); at JZ-0001 parcels waiting on the shelf (one
for a week, so the reminder and the "waiting long" figure show), and parcels on the
truck to JZ-0001 not scanned in yet, for the partner to receive (the browser test scans
one in and hands it over with the code from its pickup notice).
"""

import math
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from cuntao.core.scope import resolve_scope
from cuntao.logistics.models import CountyFleet, Parcel, ParcelEvent, ParcelStatus, Source
from cuntao.logistics.planning import county_fleet_set
from cuntao.logistics.services import (
    home_location_set,
    parcel_register,
    parcels_dispatch,
    station_receive_scan,
    warehouse_scan,
)
from cuntao.network.models import County, Station
from cuntao.villagers.models import Villager

CARRIERS = ("ZTO", "YTO", "JD", "SF", "EMS")
TRACKING_PREFIX = "JZDEMO"
WAITING_AT_STATION = 4  # one of them waits a week
COMING_TO_STATION = 3
SORTED_PER_STATION = (5, 3, 4, 2)  # JZ-0002, JZ-0003...: today's trucks have somewhere to go
LONG_WAIT_DAYS = 7
# Homes round the village, as (km east, km north): a delivery run with a shape to draw.
HOMES_KM = ((0.6, 0.2), (1.4, 0.9), (0.3, 1.5), (-0.8, 1.1), (-1.2, -0.4), (0.4, -1.0), (1.8, -0.3))


def _register(scope, station: Station, villager: Villager, n: int) -> Parcel:
    return parcel_register(scope=scope, station=station, villager=villager, source=Source.CARRIER,
                           carrier=CARRIERS[n % len(CARRIERS)], carrier_tracking_no=f"{TRACKING_PREFIX}{n:06d}",
                           weight_g=500 + 350 * (n % 7), volume_cm3=3000 + 1500 * (n % 5),
                           is_large_item=n % 11 == 0, fee_fen=50)


def _villagers(station: Station, count: int) -> list[Villager]:
    """Villagers with a phone first, so the pickup notices go out by text message."""
    return list(Villager.objects.filter(station=station).exclude(phone="").order_by("pk")[:count])


def logistics_seed_demo() -> int:
    """Seed Jinzhai's fleet and parcels once; return how many parcels were made (0 when already there)."""
    county = County.objects.filter(code="JZ").first()
    User = get_user_model()
    staff = User.objects.filter(username="jinzhai").first()
    partner = User.objects.filter(username="xiaoer").first()
    if county is None or staff is None or partner is None:
        return 0
    if Parcel.objects.filter(carrier_tracking_no__startswith=TRACKING_PREFIX).exists():
        return 0
    home = Station.objects.filter(code="JZ-0001").select_related("village").first()
    if home is None:
        return 0
    clerk, xiaoer = resolve_scope(staff), resolve_scope(partner)
    made = 0
    with transaction.atomic():
        if not CountyFleet.objects.filter(county=county).exists():
            county_fleet_set(scope=clerk, county=county, vehicle_count=3, capacity_parcels=120,
                             capacity_litres=2500, max_route_minutes=480)
        villagers = _villagers(home, WAITING_AT_STATION + COMING_TO_STATION)
        for villager, (east, north) in zip(villagers[1:], HOMES_KM):  # the first lives where the partner never went
            _place_home(xiaoer, villager, home, east_km=east, north_km=north)
        waiting = []
        for villager in villagers[:WAITING_AT_STATION]:
            waiting.append(_register(clerk, home, villager, made))
            made += 1
        for parcel in waiting:
            warehouse_scan(scope=clerk, code_or_tracking_number=parcel.code)
        parcels_dispatch(scope=clerk, station=home)
        for shelf, parcel in enumerate(waiting, start=1):
            station_receive_scan(scope=xiaoer, station=home, code_or_tracking_number=parcel.code,
                                 shelf_position=f"A{shelf}")
        if waiting:
            _backdate_arrival(waiting[0], days=LONG_WAIT_DAYS)
        coming = []
        for villager in villagers[WAITING_AT_STATION:]:
            coming.append(_register(clerk, home, villager, made))
            made += 1
        for parcel in coming:
            warehouse_scan(scope=clerk, code_or_tracking_number=parcel.code)
        parcels_dispatch(scope=clerk, station=home)
        others = Station.objects.filter(county=county, status="open").exclude(pk=home.pk).order_by("code")
        for station, count in zip(others, SORTED_PER_STATION):
            for villager in _villagers(station, count):
                parcel = _register(clerk, station, villager, made)
                made += 1
                warehouse_scan(scope=clerk, code_or_tracking_number=parcel.code)
    return made


def _backdate_arrival(parcel: Parcel, *, days: int) -> None:
    """Make one parcel look as if it came a week ago (the demo has no past), its events with it."""
    then = timezone.now() - timedelta(days=days)
    Parcel.objects.filter(pk=parcel.pk, status=ParcelStatus.AT_STATION).update(arrived_at_station_at=then)
    events = ParcelEvent.objects.filter(parcel=parcel).order_by("at", "pk")
    for offset, event in enumerate(reversed(list(events))):
        ParcelEvent.objects.filter(pk=event.pk).update(at=then - timedelta(hours=offset * 3))


def _place_home(scope, villager: Villager, station: Station, *, east_km: float, north_km: float) -> None:
    lat, lon = float(station.village.lat), float(station.village.lon)
    home_location_set(scope=scope, villager=villager,
                      lat=Decimal(f"{lat + north_km / 111.32:.6f}"),
                      lon=Decimal(f"{lon + east_km / (111.32 * math.cos(math.radians(lat))):.6f}"))
