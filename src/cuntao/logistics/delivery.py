"""Home delivery runs: the partner picks waiting parcels, PyVRP orders the stops, each stop ends delivered or not.

A run is one motorbike from the station (the depot) through the addressees' homes: a
villager's recorded HomeLocation when the partner has saved one, else their village's
coordinates. Parcels stay "at the station" while out on a run (a villager who walks in
can still collect), and a parcel is on at most one open stop (a database constraint).
Delivered means handed over through logistics.services (code, signature or photo), so
the hand-over signal fires exactly once whichever way the parcel was handed over.

Planning solves outside any transaction, like the county's truck routes, then writes the
run in one transaction after re-checking the parcels under their locks.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.logistics.conf import delivery_speed_kmh, delivery_time_limit_s
from cuntao.logistics.distances import Place, matrix_from_places
from cuntao.logistics.models import (
    DeliveryRun,
    DeliveryRunStatus,
    DeliveryStop,
    FailureReason,
    HandoverMethod,
    HomeLocation,
    Parcel,
    ParcelEvent,
    ParcelStatus,
    ScanKind,
    StopOutcome,
)
from cuntao.logistics.routing import Depot, RoutingProblem, Stop, Vehicles, check_plan, plan_routes
from cuntao.logistics.selectors import parcel_list
from cuntao.logistics.services import (
    HandoverOutcome,
    _lock,
    _mark_return_due,
    handover_with_code,
    handover_with_proof,
)
from cuntao.network.models import Station

MAX_RUN_STOPS = 80  # a motorbike's load, and a day's riding
STATION = "STATION"  # the depot's code in the run's travel matrix


# --- reads ---------------------------------------------------------------------------


def delivery_candidates(*, scope: Scope, station_id: int) -> QuerySet[Parcel]:
    """Parcels waiting at the station that are not out on a run: what the partner may take today."""
    out = DeliveryStop.objects.filter(parcel=OuterRef("pk"), outcome=StopOutcome.PENDING)
    return (parcel_list(scope=scope, station_id=station_id, status=ParcelStatus.AT_STATION)
            .select_related("villager", "villager__home_location")
            .filter(~Exists(out)).order_by("arrived_at_station_at", "pk"))


def delivery_run_list(*, scope: Scope, station_id: int | None = None) -> QuerySet[DeliveryRun]:
    qs = scope.filter(DeliveryRun.objects.select_related("station"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    return qs.order_by("-created_at", "-pk")


def delivery_run_get_for_actor(*, scope: Scope, run_id: int, lock: bool = False) -> DeliveryRun:
    return get_in_scope(delivery_run_list(scope=scope), name="delivery run", lock=lock, pk=run_id)


def delivery_stops(*, run: DeliveryRun) -> QuerySet[DeliveryStop]:
    return run.stops.select_related("parcel", "parcel__villager").order_by("sequence")


def delivery_stop_get_for_actor(*, scope: Scope, run_id: int, sequence: int) -> DeliveryStop:
    run = delivery_run_get_for_actor(scope=scope, run_id=run_id)
    stop = delivery_stops(run=run).filter(sequence=sequence).first()
    if stop is None:
        raise NotFound(detail="delivery stop")
    return stop


def home_location_of(*, villager) -> HomeLocation | None:
    """Where the villager lives, if the partner has saved it (the caller already reached the villager)."""
    return HomeLocation.objects.filter(villager=villager).first()


def proof_event(*, parcel: Parcel) -> ParcelEvent | None:
    """The hand-over event carrying the parcel's proof of delivery, if any."""
    return parcel.events.filter(kind=ScanKind.HANDED_OVER).exclude(proof="").order_by("-at", "-pk").first()


# --- planning ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    parcel: Parcel
    lat: float
    lon: float
    at_home: bool


def _targets(parcels: list[Parcel]) -> list[_Target]:
    homes = {h.villager_id: h for h in HomeLocation.objects.filter(
        villager_id__in=[p.villager_id for p in parcels if p.villager_id])}
    targets = []
    for p in parcels:
        home = homes.get(p.villager_id)
        if home is not None:
            targets.append(_Target(p, float(home.lat), float(home.lon), True))
        else:
            village = p.station.village
            targets.append(_Target(p, float(village.lat), float(village.lon), False))
    return targets


def _solve(station: Station, targets: list[_Target], time_limit_s: float):
    """Order the stops: one motorbike from the station, no capacity or hours to respect."""
    village = station.village
    depot = Place(STATION, float(village.lat), float(village.lon))
    travel = matrix_from_places(depot, [Place(t.parcel.code, t.lat, t.lon) for t in targets],
                                winding=float(station.county.road_winding_factor), speed_kmh=delivery_speed_kmh())
    problem = RoutingProblem(
        depot=Depot(STATION, opens_s=0, closes_s=None),
        stops=tuple(Stop(t.parcel.code, demand=(1,)) for t in targets),
        vehicles=(Vehicles(count=1, capacity=(len(targets),), name="motorbike"),),
        travel=travel,
    )
    solved = plan_routes(problem, time_limit_s=time_limit_s)
    check_plan(problem, solved)
    return solved


def _clean_codes(scope: Scope, station: Station, codes: list[str]) -> list[Parcel]:
    codes = list(dict.fromkeys((c or "").strip().upper() for c in codes if (c or "").strip()))
    if not codes:
        raise ValidationError({"parcels": [_("Choose at least one parcel to deliver.")]})
    if len(codes) > MAX_RUN_STOPS:
        raise ValidationError({"parcels": [_("One run takes at most %(max)d parcels.") % {"max": MAX_RUN_STOPS}]})
    found = {p.code: p for p in delivery_candidates(scope=scope, station_id=station.pk)
             .select_related("station", "station__village", "station__county").filter(code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError({"parcels": [_("Not waiting here, or already out on a run: %(codes)s.")
                                           % {"codes": ", ".join(unknown)}]})
    return [found[c] for c in codes]


def delivery_run_create(*, scope: Scope, station: Station, parcel_codes: list[str],
                        time_limit_s: float | None = None) -> DeliveryRun:
    """Plan a home delivery run for the chosen waiting parcels and save it, stops in the solver's order.

    The solver runs outside the transaction (it takes up to a second); the run is then
    written under the parcels' locks, and a parcel handed over or taken on another run
    meanwhile refuses the whole run (Conflict), writing nothing.
    """
    if not scope.may_reach_station(station.pk, station.county_id):
        raise NotFound(detail="station")
    parcels = _clean_codes(scope, station, parcel_codes)
    targets = _targets(parcels)
    solved = _solve(parcels[0].station, targets, time_limit_s or delivery_time_limit_s())
    by_code = {t.parcel.code: t for t in targets}
    order = [by_code[v.stop_id] for route in solved.routes for v in route.visits]
    return _write_run(scope=scope, station=station, order=order, distance_m=solved.distance_m,
                      duration_s=solved.duration_s, solver_seconds=solved.solver_seconds)


@transaction.atomic
def _write_run(*, scope: Scope, station: Station, order: list[_Target], distance_m: int, duration_s: int,
               solver_seconds: float) -> DeliveryRun:
    now = timezone.now()
    # The station first, as every hand-over does; then the parcels in pk order.
    Station.objects.select_for_update().get(pk=station.pk)
    locked = {p.pk: p for p in (Parcel.objects.select_for_update(of=("self",)).select_related("station")
                                .filter(pk__in=[t.parcel.pk for t in order]).order_by("pk"))}
    busy = set(DeliveryStop.objects.filter(parcel_id__in=locked, outcome=StopOutcome.PENDING)
               .values_list("parcel__code", flat=True))
    if busy:
        raise Conflict(_("Already out on another run: %(codes)s. Plan the run again.")
                       % {"codes": ", ".join(sorted(busy))}, code="parcel_on_a_run")
    run = DeliveryRun.objects.create(county_id=station.county_id, station=station, date=timezone.localdate(now),
                                     distance_m=distance_m, duration_s=duration_s, solver_seconds=solver_seconds,
                                     created_by=scope.user)
    stops = []
    for sequence, target in enumerate(order, start=1):
        parcel = locked[target.parcel.pk]
        if parcel.status != ParcelStatus.AT_STATION:
            raise Conflict(_("Parcel %(code)s is %(status)s now; plan the run again.")
                           % {"code": parcel.code, "status": parcel.get_status_display()}, code="parcel_moved")
        stops.append(DeliveryStop(run=run, county_id=station.county_id, station=station, parcel=parcel,
                                  sequence=sequence, lat=round(target.lat, 6), lon=round(target.lon, 6),
                                  at_home=target.at_home))
        ParcelEvent.objects.create(parcel=parcel, county_id=parcel.county_id, actor=scope.user, at=now,
                                   place=station.code, kind=ScanKind.OUT_FOR_DELIVERY, from_status=parcel.status,
                                   to_status=parcel.status, note=f"run {run.pk} stop {sequence}")
    try:
        with transaction.atomic():
            DeliveryStop.objects.bulk_create(stops)
    except IntegrityError:
        # Another phone put one of these parcels on its run between the check and here.
        raise Conflict(_("One of these parcels is already out on another run; plan the run again."),
                       code="parcel_on_a_run") from None
    return run


# --- at each stop ----------------------------------------------------------------------


def _lock_pending_stop(scope: Scope, stop: DeliveryStop) -> DeliveryStop:
    """Lock the station, then the stop (the hand-over's lock order: station, parcel, stop)."""
    if not scope.may_reach_station(stop.station_id, stop.county_id):
        raise NotFound(detail="delivery stop")
    Station.objects.select_for_update().get(pk=stop.station_id)
    stop = DeliveryStop.objects.select_for_update().select_related("run", "parcel").get(pk=stop.pk)
    if stop.outcome != StopOutcome.PENDING:
        raise Conflict(_("This stop is already done: %(outcome)s.") % {"outcome": stop.get_outcome_display()},
                       code="stop_done")
    if stop.run.status != DeliveryRunStatus.OPEN:
        raise Conflict(_("This run is closed."), code="run_closed")
    return stop


def _finish(stop: DeliveryStop, *, scope: Scope, outcome: str, reason: str = "", note: str = "") -> DeliveryStop:
    stop.outcome, stop.failure_reason, stop.note = outcome, reason, note[:200]
    stop.done_at, stop.done_by = timezone.now(), scope.user
    stop.save(update_fields=["outcome", "failure_reason", "note", "done_at", "done_by"])
    return stop


@transaction.atomic
def delivery_stop_deliver(*, scope: Scope, stop: DeliveryStop, method: str, code: str = "", proof=None,
                          receiver_name: str = "") -> HandoverOutcome:
    """Deliver a stop's parcel at the door, with the pickup code, a signature or a photo.

    A wrong code is answered (not raised) and counted, as at the station, and the stop
    stays to deliver. Returns the hand-over outcome.
    """
    stop = _lock_pending_stop(scope, stop)
    if method == HandoverMethod.CODE:
        outcome = handover_with_code(scope=scope, parcel=stop.parcel, code=code)
    elif method in (HandoverMethod.SIGNATURE, HandoverMethod.PHOTO):
        parcel = handover_with_proof(scope=scope, parcel=stop.parcel, method=method, proof=proof,
                                     receiver_name=receiver_name)
        outcome = HandoverOutcome(True, parcel, 0, _("Handed over."))
    else:
        raise ValidationError({"method": [_("Choose the pickup code, a signature or a photo.")]})
    if outcome.ok:
        _finish(stop, scope=scope, outcome=StopOutcome.DELIVERED, note=method)
    return outcome


@transaction.atomic
def delivery_stop_fail(*, scope: Scope, stop: DeliveryStop, reason: str, note: str = "") -> DeliveryStop:
    """Record why a stop's parcel was not delivered; it goes back on the shelf.

    A refused parcel goes on the station's return list at once.
    """
    if reason not in FailureReason.values or reason == FailureReason.NOT_ATTEMPTED:
        raise ValidationError({"reason": [_("Choose why the parcel was not delivered.")]})
    if len((note or "").strip()) > 200:
        raise ValidationError({"note": [_("At most 200 characters.")]})
    stop = _lock_pending_stop(scope, stop)
    parcel = _lock(stop.parcel_id)
    label = FailureReason(reason).label
    ParcelEvent.objects.create(parcel=parcel, county_id=parcel.county_id, actor=scope.user, at=timezone.now(),
                               place=parcel.station.code, kind=ScanKind.DELIVERY_FAILED, from_status=parcel.status,
                               to_status=parcel.status, note=f"{reason}: {(note or '').strip()}"[:300])
    if reason == FailureReason.REFUSED and parcel.status == ParcelStatus.AT_STATION:
        _mark_return_due(parcel, scope=scope, now=timezone.now(), note=str(label))
    return _finish(stop, scope=scope, outcome=StopOutcome.FAILED, reason=reason, note=(note or "").strip())


@transaction.atomic
def delivery_run_close(*, scope: Scope, run: DeliveryRun) -> DeliveryRun:
    """Close the run: stops left to deliver are recorded as not attempted and their parcels are free again."""
    run = delivery_run_get_for_actor(scope=scope, run_id=run.pk)
    Station.objects.select_for_update().get(pk=run.station_id)
    run = DeliveryRun.objects.select_for_update().get(pk=run.pk)
    if run.status == DeliveryRunStatus.CLOSED:
        return run
    for stop in run.stops.select_for_update().filter(outcome=StopOutcome.PENDING).order_by("pk"):
        _finish(stop, scope=scope, outcome=StopOutcome.FAILED, reason=FailureReason.NOT_ATTEMPTED)
    run.status, run.closed_at, run.closed_by = DeliveryRunStatus.CLOSED, timezone.now(), scope.user
    run.save(update_fields=["status", "closed_at", "closed_by"])
    return run


def run_picture(*, run: DeliveryRun, stops: list[DeliveryStop]) -> str:
    """The run's small SVG: the station, then the stops in order (see sheets.map_svg)."""
    from cuntao.logistics.sheets import map_svg

    village = run.station.village
    points = [(float(s.lat), float(s.lon), str(s.sequence), f"{s.sequence}. {s.parcel.code}") for s in stops]
    return map_svg(depot=(float(village.lat), float(village.lon)), depot_label=run.station.code[-2:],
                   depot_title=run.station.name, routes=[points] if points else [])

