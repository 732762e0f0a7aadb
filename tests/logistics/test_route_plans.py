"""County route plans: planning from sorted parcels, refusals that write nothing, confirming, the API."""

import base64
import datetime as dt
import json
import re
import zlib
from collections import Counter

import pytest
from django.utils import timezone

from cuntao.core.errors import DomainError, NotFound
from cuntao.logistics.models import (
    CountyFleet,
    CountyTravelMatrix,
    ParcelEvent,
    ParcelStatus,
    PlannedRoute,
    PlannedStop,
    RoutePlan,
    RoutePlanEvent,
    RoutePlanStatus,
)
from cuntao.logistics.planning import (
    NothingToPlan,
    _gather,
    _problem,
    _travel,
    county_fleet_set,
    county_matrix_upload,
    fleet_for_county,
    route_plan_confirm,
    route_plan_create,
    route_plan_trucks,
)
from cuntao.logistics.routing import Route, Visit, check_plan
from cuntao.logistics.routing import RoutePlan as SolvedPlan
from cuntao.logistics.sheets import route_sheet_pdf, route_svg
from tests.factories import StationFactory
from tests.logistics.factories import ParcelFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 30)
LIMIT = 0.2
# Villages around the factory warehouse (31.69, 115.92), a few km apart.
SPOTS = [(31.74, 115.95), (31.66, 115.99), (31.72, 115.86), (31.63, 115.90), (31.78, 116.00)]


@pytest.fixture
def county_stations(station):
    """`station` and four more stations of its county, each at its own village, with sorted parcels."""
    county = station.county
    station.village.lat, station.village.lon = SPOTS[0]
    station.village.save()
    stations = [station] + [StationFactory(village__county=county, village__lat=lat, village__lon=lon)
                            for lat, lon in SPOTS[1:]]
    for n, s in enumerate(stations):
        for _ in range(n + 2):  # 2, 3, 4, 5, 6 parcels: 20 in all
            ParcelFactory(station=s, status=ParcelStatus.SORTED)
    return stations


def set_fleet(county, clerk, scope_of, **values):
    base = {"vehicle_count": 2, "capacity_parcels": 12, "capacity_litres": 0, "max_route_minutes": 480,
            "speed_kmh": 40, "service_minutes": 10, "leaves_at": dt.time(7), "returns_by": dt.time(20)}
    base.update(values)
    return county_fleet_set(scope=scope_of(clerk), county=county, **base)


def nothing_written():
    return (RoutePlan.objects.count(), PlannedRoute.objects.count(), PlannedStop.objects.count(),
            RoutePlanEvent.objects.count()) == (0, 0, 0, 0)


def test_plan_visits_each_station_once_within_capacity(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)

    assert plan.status == RoutePlanStatus.DRAFT and plan.distance_source == "coordinates"
    stops = list(PlannedStop.objects.filter(plan=plan).select_related("station"))
    assert Counter(s.station.code for s in stops) == Counter(s.code for s in county_stations)
    for route in PlannedRoute.objects.filter(plan=plan):
        own = [s for s in stops if s.route_id == route.pk]
        assert sum(s.parcels_count for s in own) == route.load_parcels <= 12
        assert sorted(s.sequence for s in own) == list(range(1, len(own) + 1))
    # Parcels per stop are the station's sorted parcels, codes and all.
    for s in stops:
        codes = set(s.station.parcels.filter(status=ParcelStatus.SORTED).values_list("code", flat=True))
        assert set(s.parcel_codes) == codes and s.parcels_count == len(codes)
    assert sum(s.parcels_count for s in stops) == 20
    assert plan.total_distance_m == sum(PlannedRoute.objects.filter(plan=plan).values_list("distance_m", flat=True))


def test_saved_plan_passes_the_independent_check(county_stations, clerk, scope_of):
    county = county_stations[0].county
    fleet = set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    # Rebuild the problem and the plan from the saved rows and check them from first principles.
    gathered = _gather(county)
    travel, _source = _travel(county, fleet, gathered.stations)
    problem = _problem(county, fleet, gathered, travel)
    midnight = dt.datetime.combine(DAY, dt.time(0), tzinfo=timezone.get_default_timezone())

    def sec(at):
        return int((at - midnight).total_seconds())

    routes = []
    for t in route_plan_trucks(plan=plan):
        visits = []
        for s in t.stops:
            start = sec(s.start_at)
            visits.append(Visit(s.station.code, arrival_s=sec(s.arrival_at), start_s=start,
                                departure_s=start + fleet.service_minutes * 60))
        routes.append(Route(vehicle="truck", vehicle_no=t.truck_no, visits=tuple(visits),
                            departure_s=sec(t.departure_at), return_s=sec(t.return_at), load=(t.load_parcels,),
                            distance_m=t.distance_m, duration_s=t.duration_s))
    rebuilt = SolvedPlan(routes=tuple(routes), unassigned=(), distance_m=plan.total_distance_m,
                         duration_s=plan.total_duration_s, cost=plan.total_distance_m)
    assert check_plan(problem, rebuilt) == plan.total_distance_m


def test_litres_become_a_second_capacity_when_set(county_stations, clerk, scope_of):
    county = county_stations[0].county
    # 6000 cm3 a parcel: the station with 6 parcels needs 36 litres.
    set_fleet(county, clerk, scope_of, vehicle_count=5, capacity_parcels=100, capacity_litres=40)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert plan.parameters["dimensions"] == ["parcels", "litres"]
    for route in PlannedRoute.objects.filter(plan=plan):
        assert 0 < route.load_litres <= 40


def test_no_sorted_parcels_means_no_plan(station, clerk, scope_of):
    ParcelFactory(station=station)  # announced, not sorted
    with pytest.raises(NothingToPlan) as e:
        route_plan_create(scope=scope_of(clerk), county=station.county, date=DAY, time_limit_s=LIMIT)
    assert "nothing to plan" in str(e.value.message)
    assert nothing_written()


def test_no_trucks_is_refused_and_writes_nothing(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of, vehicle_count=0)
    with pytest.raises(DomainError) as e:
        route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert e.value.code == "no_vehicles" and 400 <= e.value.status < 500
    assert nothing_written()


def test_too_little_capacity_is_refused_and_writes_nothing(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of, vehicle_count=2, capacity_parcels=8)  # 16 < 20 parcels
    with pytest.raises(DomainError) as e:
        route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert e.value.code == "fleet_over_capacity" and "4 parcels too many" in str(e.value.message)
    set_fleet(county, clerk, scope_of, vehicle_count=9, capacity_parcels=5)  # one station has 6
    with pytest.raises(DomainError) as e:
        route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert e.value.code == "stop_over_capacity"
    assert nothing_written()


def test_uploaded_matrix_is_used_when_it_covers_every_place(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of, vehicle_count=1, capacity_parcels=50)
    codes = ["WH"] + [s.code for s in county_stations]
    rows = ["from,to,metres,seconds"] + [f"{a},{b},1000,120" for a in codes for b in codes if a != b]
    county_matrix_upload(scope=scope_of(clerk), county=county, data="\n".join(rows), file_name="roads.csv")
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert plan.distance_source == "matrix"
    assert plan.total_distance_m == 1000 * (len(county_stations) + 1)


def test_matrix_missing_a_station_falls_back_to_coordinates(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    county_matrix_upload(scope=scope_of(clerk), county=county, data="from,to,metres,seconds\nWH,X,1,1\nX,WH,1,1\n")
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    assert plan.distance_source == "coordinates"


def test_malformed_matrix_is_refused_with_the_line(station, clerk, scope_of):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as e:
        county_matrix_upload(scope=scope_of(clerk), county=station.county,
                             data="from,to,metres,seconds\nWH,S1,100,10\nS1,WH,lots,10\n")
    assert any("Line 3" in m for m in e.value.message_dict["file"])
    assert not CountyTravelMatrix.objects.exists()


def test_confirm_dispatches_the_plans_parcels_and_records_the_change(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    plan, dispatched = route_plan_confirm(scope=scope_of(clerk), plan=plan)
    assert dispatched == 20 and plan.status == RoutePlanStatus.CONFIRMED and plan.confirmed_by == clerk
    for s in county_stations:
        assert set(s.parcels.values_list("status", flat=True)) == {ParcelStatus.IN_TRANSIT}
    assert ParcelEvent.objects.filter(kind="dispatched").count() == 20
    assert list(RoutePlanEvent.objects.filter(plan=plan).values_list("from_status", "to_status")) == [
        ("", "draft"), ("draft", "confirmed")]
    with pytest.raises(DomainError) as e:
        route_plan_confirm(scope=scope_of(clerk), plan=plan)
    assert e.value.code == "plan_confirmed"


def test_an_older_draft_cannot_be_confirmed_once_replanned(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    old = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    with pytest.raises(DomainError) as e:
        route_plan_confirm(scope=scope_of(clerk), plan=old)
    assert e.value.code == "plan_superseded"
    assert ParcelEvent.objects.filter(kind="dispatched").count() == 0


def test_staff_of_another_county_and_partners_cannot_plan(county_stations, far_station, partner, scope_of):
    from django.contrib.auth import get_user_model

    county = county_stations[0].county
    far_clerk = get_user_model().objects.get(username="far-clerk")
    for user in (far_clerk, partner.user):
        with pytest.raises(NotFound):
            route_plan_create(scope=scope_of(user), county=county, date=DAY, time_limit_s=LIMIT)
        with pytest.raises(NotFound):
            county_fleet_set(scope=scope_of(user), county=county, vehicle_count=3)
    assert nothing_written() and not CountyFleet.objects.exists()


def test_fleet_defaults_until_staff_save_them(station):
    fleet = fleet_for_county(county=station.county)
    assert fleet.pk is None and fleet.vehicle_count == 1


# --- sheets ----------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The page streams of a reportlab PDF, inflated, as latin-1 text (enough to find ASCII codes)."""
    out = []
    start = 0
    while (i := pdf.find(b"stream", start)) != -1:
        body_start = pdf.index(b"\n", i) + 1
        end = pdf.find(b"endstream", body_start)
        raw = pdf[body_start:end].rstrip(b"\r\n")
        for decode in (zlib.decompress, lambda b: zlib.decompress(base64.a85decode(b.strip(), adobe=True))):
            try:
                out.append(decode(raw).decode("latin-1"))
                break
            except (zlib.error, ValueError):
                pass  # not this encoding; try the next, or skip the stream (a font)
        start = end + len(b"endstream")
    return "\n".join(out)


def test_pdf_has_a_page_per_truck_with_stations_and_parcel_codes(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    trucks = route_plan_trucks(plan=plan)
    pdf = route_sheet_pdf(plan=plan, trucks=trucks)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert len(re.findall(rb"/Type /Page\b(?!s)", pdf)) == len(trucks) >= 2
    for t in trucks:
        assert f"(T{t.truck_no})" in text
        for s in t.stops:
            assert f"({s.station.code}) Tj" in text
            assert all(code in text for code in s.parcel_codes)


def test_svg_has_one_polyline_per_truck_and_numbered_stops(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    trucks = route_plan_trucks(plan=plan)
    svg = route_svg(depot=(float(county.warehouse_lat), float(county.warehouse_lon)), trucks=trucks)
    assert svg.startswith("<svg") and svg.count("<polyline") == len(trucks) >= 2
    assert svg.count("<circle") == len(county_stations)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external assets


def test_loading_order_is_the_reverse_of_delivery(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of, vehicle_count=1, capacity_parcels=50)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    (truck,) = route_plan_trucks(plan=plan)
    assert [s.sequence for s in truck.loading_order] == [5, 4, 3, 2, 1]


# --- API -------------------------------------------------------------------------------


def test_api_creates_a_plan_once_per_key_and_reads_it(county_stations, clerk, clerk_client, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    body = {"county_id": county.pk, "date": DAY.isoformat(), "time_limit_s": LIMIT}
    first = clerk_client.post("/api/v1/route-plans", json.dumps(body), content_type="application/json",
                              headers={"Idempotency-Key": "plan-1"})
    again = clerk_client.post("/api/v1/route-plans", json.dumps(body), content_type="application/json",
                              headers={"Idempotency-Key": "plan-1"})
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and RoutePlan.objects.count() == 1
    data = clerk_client.get(f"/api/v1/route-plans/{first.json()['id']}").json()
    assert sorted(s["station"] for r in data["routes"] for s in r["stops"]) == sorted(
        s.code for s in county_stations)


def test_api_refuses_no_trucks_with_a_message_and_no_plan(county_stations, clerk, clerk_client, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of, vehicle_count=0)
    r = clerk_client.post("/api/v1/route-plans", json.dumps({"county_id": county.pk, "date": DAY.isoformat(),
                                                              "time_limit_s": LIMIT}),
                          content_type="application/json", headers={"Idempotency-Key": "plan-2"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_vehicles"
    assert nothing_written()


def test_api_hides_plans_from_other_counties_and_partners(county_stations, clerk, far_station, partner_client,
                                                            scope_of):
    from django.contrib.auth import get_user_model
    from django.test import Client

    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    far = Client()
    far.force_login(get_user_model().objects.get(username="far-clerk"))
    assert far.get(f"/api/v1/route-plans/{plan.pk}").status_code == 404
    assert partner_client.get(f"/api/v1/route-plans/{plan.pk}").status_code == 404
    r = far.post("/api/v1/route-plans", json.dumps({"county_id": county.pk, "date": DAY.isoformat()}),
                 content_type="application/json", headers={"Idempotency-Key": "x"})
    assert r.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_dispatch_once(county_stations, clerk, scope_of):
    from tests.logistics.factories import run_in_threads

    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)

    def confirm():
        try:
            return route_plan_confirm(scope=scope_of(clerk), plan=plan)[1]
        except DomainError as e:
            return e.code

    results, errors = run_in_threads(confirm, [(), ()])
    assert not errors
    assert sorted(map(str, results)) == ["20", "plan_confirmed"]
    assert ParcelEvent.objects.filter(kind="dispatched").count() == 20
    assert RoutePlanEvent.objects.filter(plan=plan, to_status="confirmed").count() == 1


def test_station_opening_hours_bound_the_unloading_time(county_stations, clerk, scope_of):
    county = county_stations[0].county
    late = county_stations[2]
    late.opens_at, late.closes_at = dt.time(10, 30), dt.time(12)
    late.save()
    set_fleet(county, clerk, scope_of)
    plan = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    stop = PlannedStop.objects.get(plan=plan, station=late)
    local = timezone.localtime(stop.start_at)
    assert dt.time(10, 30) <= local.time() <= dt.time(12) and local.date() == DAY


def test_replanning_after_confirming_leaves_the_confirmed_plan_as_it_was(county_stations, clerk, scope_of):
    county = county_stations[0].county
    set_fleet(county, clerk, scope_of)
    first = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    route_plan_confirm(scope=scope_of(clerk), plan=first)
    before = list(PlannedStop.objects.filter(plan=first).values_list("station_id", "sequence", "parcel_codes"))
    late = ParcelFactory(station=county_stations[1], status=ParcelStatus.SORTED)
    second = route_plan_create(scope=scope_of(clerk), county=county, date=DAY, time_limit_s=LIMIT)
    first.refresh_from_db()
    assert first.status == RoutePlanStatus.CONFIRMED
    assert list(PlannedStop.objects.filter(plan=first).values_list("station_id", "sequence", "parcel_codes")) == before
    assert list(PlannedStop.objects.filter(plan=second).values_list("parcel_codes", flat=True)) == [[late.code]]


def test_api_says_nothing_to_plan_without_sorted_parcels(station, clerk_client):
    r = clerk_client.post("/api/v1/route-plans", json.dumps({"county_id": station.county.pk,
                                                              "date": DAY.isoformat(), "time_limit_s": LIMIT}),
                          content_type="application/json", headers={"Idempotency-Key": "plan-3"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_plan"
    assert nothing_written()
