"""County route plans: the fleet settings, the road matrix, planning and confirming a day's trucks.

Reads and writes of the county route page and the route-plan API. Planning gathers the
county's sorted parcels by station, solves with `routing.plan_routes` outside any
transaction (it takes seconds), re-checks the answer with `routing.check_plan`, then
writes the whole plan in one transaction: a refusal at any step writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, DomainError, NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.logistics.distances import (
    Place,
    TravelMatrix,
    matrix_from_places,
    parse_matrix_csv,
)
from cuntao.logistics.models import (
    CountyFleet,
    CountyTravelMatrix,
    Parcel,
    ParcelStatus,
    PlannedRoute,
    PlannedStop,
    RoutePlan,
    RoutePlanEvent,
    RoutePlanStatus,
)
from cuntao.logistics.routing import (
    Depot,
    RoutingProblem,
    Stop,
    Vehicles,
    check_plan,
    plan_routes,
)
from cuntao.logistics.services import parcels_dispatch
from cuntao.network.models import County, Station
from cuntao.network.selectors import county_get_for_actor

WAREHOUSE_CODE = "WH"  # the county warehouse in matrices and on route sheets (as in ParcelEvent.place)
MAX_TIME_LIMIT_S = 60.0
FLEET_FIELDS = ("vehicle_count", "capacity_parcels", "capacity_litres", "max_route_minutes", "speed_kmh",
                "service_minutes", "leaves_at", "returns_by")


# --- reads -----------------------------------------------------------------------------


def county_for_routes(*, scope: Scope, county_id: int) -> County:
    """The county whose routes the caller may plan; partners and other counties get NotFound."""
    if not scope.is_staff_scope:
        raise NotFound(detail="county")
    return county_get_for_actor(scope=scope, county_id=county_id)


def fleet_for_county(*, county: County) -> CountyFleet:
    """The county's fleet settings, or unsaved defaults when staff have not set them yet."""
    return CountyFleet.objects.filter(county=county).first() or CountyFleet(county=county)


def travel_matrix_latest(*, county: County) -> CountyTravelMatrix | None:
    return CountyTravelMatrix.objects.filter(county=county).order_by("-uploaded_at", "-pk").first()


def route_plan_list(*, scope: Scope, county_id: int | None = None) -> QuerySet[RoutePlan]:
    qs = scope.filter(RoutePlan.objects.select_related("county"), station_field=None)
    if not scope.is_staff_scope:
        return qs.none()
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    return qs.order_by("-created_at", "-pk")


def route_plan_get_for_actor(*, scope: Scope, plan_id: int, lock: bool = False) -> RoutePlan:
    return get_in_scope(route_plan_list(scope=scope), name="route plan", lock=lock, pk=plan_id)


def route_plan_latest(*, scope: Scope, county_id: int) -> RoutePlan | None:
    return route_plan_list(scope=scope, county_id=county_id).first()


@dataclass
class StopView:
    sequence: int
    station: Station
    arrival_at: dt.datetime
    start_at: dt.datetime
    parcels_count: int
    litres: int
    parcel_codes: list[str]


@dataclass
class TruckView:
    truck_no: int
    departure_at: dt.datetime
    return_at: dt.datetime
    distance_m: int
    duration_s: int
    load_parcels: int
    load_litres: int
    stops: list[StopView]

    @property
    def loading_order(self) -> list[StopView]:
        """Stops in the order their parcels go on the truck: the last delivery first, deepest in."""
        return list(reversed(self.stops))

    @property
    def distance_km(self) -> str:
        return f"{self.distance_m / 1000:.1f}"


def route_plan_trucks(*, plan: RoutePlan) -> list[TruckView]:
    """The plan's trucks with their stops in order (two queries)."""
    stops_by_route: dict[int, list[StopView]] = {}
    for s in PlannedStop.objects.filter(plan=plan).select_related("station", "station__village").order_by(
            "route_id", "sequence"):
        stops_by_route.setdefault(s.route_id, []).append(StopView(
            sequence=s.sequence, station=s.station, arrival_at=s.arrival_at, start_at=s.start_at,
            parcels_count=s.parcels_count, litres=s.litres, parcel_codes=list(s.parcel_codes)))
    return [TruckView(truck_no=r.truck_no, departure_at=r.departure_at, return_at=r.return_at,
                      distance_m=r.distance_m, duration_s=r.duration_s, load_parcels=r.load_parcels,
                      load_litres=r.load_litres, stops=stops_by_route.get(r.pk, []))
            for r in PlannedRoute.objects.filter(plan=plan).order_by("truck_no")]


def route_plan_data(*, plan: RoutePlan) -> dict:
    """The plan as plain JSON data, for the API."""
    def iso(value):
        return value.isoformat() if value else None

    return {
        "id": plan.pk, "county_id": plan.county_id, "date": plan.date.isoformat(), "status": plan.status,
        "distance_source": plan.distance_source, "parameters": plan.parameters,
        "total_distance_m": plan.total_distance_m, "total_duration_s": plan.total_duration_s,
        "time_limit_s": plan.time_limit_s, "solver_seconds": plan.solver_seconds,
        "created_at": iso(plan.created_at), "confirmed_at": iso(plan.confirmed_at),
        "routes": [{
            "truck_no": t.truck_no, "departure_at": iso(t.departure_at), "return_at": iso(t.return_at),
            "distance_m": t.distance_m, "duration_s": t.duration_s, "parcels": t.load_parcels,
            "litres": t.load_litres,
            "stops": [{"sequence": s.sequence, "station": s.station.code, "arrival_at": iso(s.arrival_at),
                       "parcels": s.parcels_count, "litres": s.litres, "parcel_codes": s.parcel_codes}
                      for s in t.stops],
        } for t in route_plan_trucks(plan=plan)],
    }


# --- writes: settings ------------------------------------------------------------------


def _require_staff_of(scope: Scope, county: County) -> None:
    if not scope.is_staff_scope or not scope.may_reach_county(county.pk):
        raise NotFound(detail="county")


@transaction.atomic
def county_fleet_set(*, scope: Scope, county: County, **values) -> CountyFleet:
    """Save the county's fleet settings (all of FLEET_FIELDS may be given)."""
    _require_staff_of(scope, county)
    unknown = set(values) - set(FLEET_FIELDS)
    if unknown:
        raise ValidationError({NON_FIELD_ERRORS: [_("Unknown fleet settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}]})
    fleet = CountyFleet.objects.select_for_update().filter(county=county).first() or CountyFleet(county=county)
    for name, value in values.items():
        setattr(fleet, name, value)
    fleet.updated_by = scope.user
    fleet.full_clean()
    fleet.save()
    return fleet


@transaction.atomic
def county_matrix_upload(*, scope: Scope, county: County, data: bytes | str, file_name: str = "") -> CountyTravelMatrix:
    """Store an uploaded distance/time CSV, parsed; a malformed file is refused line by line.

    Raises ValidationError({"file": ["Line N: why", ...]}) and stores nothing.
    """
    _require_staff_of(scope, county)
    matrix = parse_matrix_csv(data, field="file")
    if WAREHOUSE_CODE not in matrix.codes:
        raise ValidationError({"file": [_("The file has no rows for the warehouse; name it %(code)s.")
                                        % {"code": WAREHOUSE_CODE}]})
    return CountyTravelMatrix.objects.create(
        county=county, file_name=file_name[:200], places=len(matrix.codes),
        data={"codes": list(matrix.codes), "metres": [list(r) for r in matrix.metres],
              "seconds": [list(r) for r in matrix.seconds]},
        uploaded_by=scope.user)


# --- writes: planning ------------------------------------------------------------------


def _seconds_of_day(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _at(date: dt.date, seconds: int) -> dt.datetime:
    """The aware moment `seconds` after midnight of `date` in the network time zone."""
    midnight = dt.datetime.combine(date, dt.time(0), tzinfo=timezone.get_default_timezone())
    return midnight + dt.timedelta(seconds=int(seconds))


@dataclass(frozen=True)
class _Gathered:
    stations: dict[str, Station]
    codes: dict[str, list[str]]  # station code -> parcel codes
    litres: dict[str, int]


def _gather(county: County) -> _Gathered:
    parcels = (Parcel.objects.filter(county=county, status=ParcelStatus.SORTED)
               .select_related("station", "station__village").order_by("station__code", "code"))
    stations: dict[str, Station] = {}
    codes: dict[str, list[str]] = {}
    volume: dict[str, int] = {}
    for p in parcels:
        stations.setdefault(p.station.code, p.station)
        codes.setdefault(p.station.code, []).append(p.code)
        volume[p.station.code] = volume.get(p.station.code, 0) + p.volume_cm3
    return _Gathered(stations=stations, codes=codes,
                     litres={code: math.ceil(cm3 / 1000) for code, cm3 in volume.items()})


def _travel(county: County, fleet: CountyFleet, stations: dict[str, Station]) -> tuple[TravelMatrix, str]:
    """The uploaded matrix when it names every place of the day, else coordinates x winding."""
    wanted = [WAREHOUSE_CODE, *stations]
    uploaded = travel_matrix_latest(county=county)
    if uploaded is not None and set(wanted) <= set(uploaded.data["codes"]):
        full = TravelMatrix(codes=tuple(uploaded.data["codes"]),
                            metres=tuple(map(tuple, uploaded.data["metres"])),
                            seconds=tuple(map(tuple, uploaded.data["seconds"])))
        return full.restricted_to(wanted), "matrix"
    depot = Place(WAREHOUSE_CODE, float(county.warehouse_lat), float(county.warehouse_lon))
    places = [Place(code, float(s.village.lat), float(s.village.lon)) for code, s in stations.items()]
    return matrix_from_places(depot, places, winding=float(county.road_winding_factor),
                              speed_kmh=float(fleet.speed_kmh)), "coordinates"


def _problem(county: County, fleet: CountyFleet, gathered: _Gathered, travel: TravelMatrix) -> RoutingProblem:
    use_litres = fleet.capacity_litres > 0
    dims = ("parcels", "litres") if use_litres else ("parcels",)
    stops = []
    for code, station in gathered.stations.items():
        demand = (len(gathered.codes[code]), gathered.litres[code]) if use_litres else (len(gathered.codes[code]),)
        stops.append(Stop(code, demand=demand, service_s=fleet.service_minutes * 60,
                          opens_s=_seconds_of_day(station.opens_at), closes_s=_seconds_of_day(station.closes_at)))
    capacity = (fleet.capacity_parcels, fleet.capacity_litres) if use_litres else (fleet.capacity_parcels,)
    return RoutingProblem(
        depot=Depot(WAREHOUSE_CODE, opens_s=_seconds_of_day(fleet.leaves_at),
                    closes_s=_seconds_of_day(fleet.returns_by)),
        stops=tuple(stops),
        vehicles=(Vehicles(count=fleet.vehicle_count, capacity=capacity,
                           max_duration_s=fleet.max_route_minutes * 60),),
        travel=travel,
        dimensions=dims,
    )


class NothingToPlan(DomainError):
    """No station of the county has sorted parcels waiting."""

    status = 409
    code = "nothing_to_plan"


def route_plan_create(*, scope: Scope, county: County, date: dt.date, time_limit_s: float = 5,
                      seed: int = 1) -> RoutePlan:
    """Plan the county's trucks for `date` from the sorted parcels and save the plan as a draft.

    The solver runs outside the transaction; the plan is written in one transaction
    afterwards. Raises NothingToPlan, DomainError (no vehicles, capacity too small,
    hours that cannot be met), NoFeasiblePlan or ValidationError; nothing is written then.
    """
    _require_staff_of(scope, county)
    if not (0 < time_limit_s <= MAX_TIME_LIMIT_S):
        raise ValidationError({"time_limit_s": [_("The time limit is more than 0 and at most %(max)d seconds.")
                                                % {"max": MAX_TIME_LIMIT_S}]})
    fleet = fleet_for_county(county=county)
    gathered = _gather(county)
    if not gathered.stations:
        raise NothingToPlan(_("No station of this county has sorted parcels waiting: there is nothing to plan."))
    if fleet.vehicle_count < 1:
        raise DomainError(_("The county has no trucks: set the number of trucks first."), code="no_vehicles")
    travel, source = _travel(county, fleet, gathered.stations)
    problem = _problem(county, fleet, gathered, travel)
    solved = plan_routes(problem, time_limit_s=time_limit_s, seed=seed)
    check_plan(problem, solved)
    parameters = {
        "vehicle_count": fleet.vehicle_count, "capacity_parcels": fleet.capacity_parcels,
        "capacity_litres": fleet.capacity_litres, "max_route_minutes": fleet.max_route_minutes,
        "speed_kmh": fleet.speed_kmh, "service_minutes": fleet.service_minutes,
        "leaves_at": fleet.leaves_at.strftime("%H:%M") if hasattr(fleet.leaves_at, "strftime") else str(fleet.leaves_at),
        "returns_by": fleet.returns_by.strftime("%H:%M") if hasattr(fleet.returns_by, "strftime") else str(fleet.returns_by),
        "road_winding_factor": str(county.road_winding_factor), "dimensions": list(problem.dimensions),
        "seed": seed,
    }
    return _write_plan(scope=scope, county=county, date=date, gathered=gathered, solved=solved, source=source,
                       parameters=parameters, time_limit_s=time_limit_s)


@transaction.atomic
def _write_plan(*, scope, county, date, gathered, solved, source, parameters, time_limit_s) -> RoutePlan:
    now = timezone.now()
    plan = RoutePlan.objects.create(
        county=county, date=date, status=RoutePlanStatus.DRAFT, distance_source=source, parameters=parameters,
        total_distance_m=solved.distance_m, total_duration_s=solved.duration_s, time_limit_s=time_limit_s,
        solver_seconds=solved.solver_seconds, created_by=scope.user)
    RoutePlanEvent.objects.create(plan=plan, county=county, actor=scope.user, at=now, from_status="",
                                  to_status=RoutePlanStatus.DRAFT)
    stops = []
    for route in solved.routes:
        row = PlannedRoute.objects.create(
            plan=plan, county=county, truck_no=route.vehicle_no, departure_at=_at(date, route.departure_s),
            return_at=_at(date, route.return_s), distance_m=route.distance_m, duration_s=route.duration_s,
            load_parcels=route.load[0], load_litres=route.load[1] if len(route.load) > 1 else 0)
        for seq, visit in enumerate(route.visits, start=1):
            code = visit.stop_id
            stops.append(PlannedStop(
                route=row, plan=plan, county=county, station=gathered.stations[code], sequence=seq,
                arrival_at=_at(date, visit.arrival_s), start_at=_at(date, visit.start_s),
                parcels_count=len(gathered.codes[code]), litres=gathered.litres[code],
                parcel_codes=gathered.codes[code]))
    PlannedStop.objects.bulk_create(stops)
    return plan


@transaction.atomic
def route_plan_confirm(*, scope: Scope, plan: RoutePlan) -> tuple[RoutePlan, int]:
    """Confirm a draft plan and load each of its stations' sorted parcels on the trucks.

    Returns the plan and how many parcels went from sorted to in transit. A confirmed
    plan is refused (Conflict): it is never confirmed twice.
    """
    plan = route_plan_get_for_actor(scope=scope, plan_id=plan.pk, lock=True)
    _require_staff_of(scope, plan.county)
    if plan.status != RoutePlanStatus.DRAFT:
        raise Conflict(_("This plan is already confirmed."), code="plan_confirmed")
    newer = RoutePlan.objects.filter(county=plan.county, date=plan.date, pk__gt=plan.pk).exists()
    if newer:
        raise Conflict(_("A newer plan for this day replaces this one; confirm the newest plan."),
                       code="plan_superseded")
    now = timezone.now()
    plan.status = RoutePlanStatus.CONFIRMED
    plan.confirmed_at = now
    plan.confirmed_by = scope.user
    plan.save(update_fields=["status", "confirmed_at", "confirmed_by"])
    RoutePlanEvent.objects.create(plan=plan, county=plan.county, actor=scope.user, at=now,
                                  from_status=RoutePlanStatus.DRAFT, to_status=RoutePlanStatus.CONFIRMED)
    dispatched = 0
    station_ids = sorted(PlannedStop.objects.filter(plan=plan).values_list("station_id", flat=True))
    for station in Station.objects.filter(pk__in=station_ids).order_by("pk"):
        dispatched += parcels_dispatch(scope=scope, station=station)
    return plan, dispatched


def county_sorted_summary(*, county: County) -> dict:
    """How many sorted parcels and stations wait for today's trucks."""
    agg = Parcel.objects.filter(county=county, status=ParcelStatus.SORTED).aggregate(
        parcels=Count("pk"), stations=Count("station", distinct=True), cm3=Sum("volume_cm3"))
    return {"parcels": agg["parcels"], "stations": agg["stations"], "litres": math.ceil((agg["cm3"] or 0) / 1000)}
