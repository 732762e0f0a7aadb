"""Parcels, scans and hand-overs for carriers, scanners and phones; public tracking by token."""

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate

from cuntao.core.idempotency import idempotent_create
from cuntao.logistics.models import Direction, ParcelStatus, Source
from cuntao.logistics.selectors import (
    parcel_events,
    parcel_get_by_tracking_token,
    parcel_get_for_actor,
    parcel_list,
)
from cuntao.logistics.services import (
    ScanResult,
    handover_with_code,
    handover_with_identity,
    parcel_register,
    station_receive_scan,
    warehouse_scan,
)
from cuntao.network.selectors import station_for_write, station_get_for_actor
from cuntao.villagers.selectors import villager_get_for_actor

router = Router(tags=["logistics"])


class ParcelIn(Schema):
    station: str = Field(..., max_length=20, description="Code of the destination (or, outbound, origin) station.")
    source: Source
    direction: Direction = Direction.INBOUND
    villager_id: int | None = Field(None, description="Leave out when the addressee is not known yet.")
    addressee_name: str = Field("", max_length=100)
    carrier: str = Field("", max_length=40)
    carrier_tracking_no: str = Field("", max_length=40)
    weight_g: int = Field(0, ge=0)
    volume_cm3: int = Field(0, ge=0)
    is_large_item: bool = False
    fee_fen: int = Field(0, ge=0, description="What the carrier pays the station, in fen.")
    order_ref: str = Field("", max_length=40)


class ParcelOut(Schema):
    code: str
    station: str = Field(..., alias="station.code")
    villager_id: int | None
    direction: Direction
    source: Source
    carrier: str
    carrier_tracking_no: str
    weight_g: int
    volume_cm3: int
    is_large_item: bool
    fee_fen: int
    status: ParcelStatus
    is_damaged: bool
    shelf_position: str
    arrived_at_station_at: datetime | None
    handed_over_at: datetime | None
    handover_method: str
    order_ref: str
    tracking_token: str
    created_at: datetime


class EventOut(Schema):
    at: datetime
    place: str
    kind: str
    from_status: str
    to_status: str
    note: str


class ParcelDetailOut(ParcelOut):
    events: list[EventOut] = Field(..., alias="event_rows")


class ScanIn(Schema):
    code: str = Field(..., max_length=60, description="Our CT code or the carrier's tracking number.")
    damaged: bool = False


class StationScanIn(Schema):
    code: str = Field(..., max_length=60)
    station: str | None = Field(None, max_length=20, description="A partner may leave it out for their own station.")
    shelf_position: str = Field("", max_length=40)


class ScanOut(Schema):
    outcome: str
    message: str
    parcel: str | None
    station: str
    village: str
    status: str | None


class HandoverIn(Schema):
    code: str | None = Field(None, max_length=20, description="The villager's pickup code.")
    receiver_name: str = Field("", max_length=100, description="Without a code: who received it.")
    how_checked: str = Field("", max_length=200, description="Without a code: how their identity was checked.")


class TrackStepOut(Schema):
    at: datetime
    status: str
    label: str
    place: str


class TrackOut(Schema):
    status: str
    label: str
    station: str
    steps: list[TrackStepOut]


def scan_body(result: ScanResult) -> dict:
    return {"outcome": result.outcome, "message": str(result.message),
            "parcel": result.parcel.code if result.parcel else None, "station": result.station_code,
            "village": result.village, "status": result.parcel.status if result.parcel else None}


@router.post("/parcels", response={201: ParcelOut}, summary="Register (announce) a parcel")
def register_parcel(request: HttpRequest, payload: ParcelIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        station = station_get_for_actor(scope=scope, code=payload.station)
        villager = villager_get_for_actor(scope=scope, villager_id=payload.villager_id) if payload.villager_id else None
        data = payload.dict(exclude={"station", "villager_id"})
        parcel = parcel_register(scope=scope, station=station, villager=villager, **data)
        return 201, ParcelOut.from_orm(parcel).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/parcels", response=list[ParcelOut], summary="Parcels in your scope")
@paginate
def list_parcels(request: HttpRequest, station: str | None = None, status: ParcelStatus | None = None,
                 q: str | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return parcel_list(scope=request.scope, station_id=station_id, status=status, q=q)


@router.get("/parcels/{code}", response=ParcelDetailOut, summary="One parcel with its scans")
def get_parcel(request: HttpRequest, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    parcel.event_rows = list(parcel_events(parcel=parcel))
    return parcel


@router.post("/scans/warehouse", response={200: ScanOut}, summary="Scan a parcel in at the county warehouse",
             url_name="scan_warehouse")
def scan_warehouse(request: HttpRequest, payload: ScanIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        result = warehouse_scan(scope=request.scope, code_or_tracking_number=payload.code, damaged=payload.damaged)
        return 200, scan_body(result)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/scans/station", response={200: ScanOut}, summary="Scan a parcel in at the station")
def scan_station(request: HttpRequest, payload: StationScanIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        station = station_for_write(scope=request.scope, code=payload.station)
        result = station_receive_scan(scope=request.scope, station=station, code_or_tracking_number=payload.code,
                                      shelf_position=payload.shelf_position)
        return 200, scan_body(result)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/parcels/{code}/handover", response={200: ParcelOut}, summary="Hand a parcel over")
def hand_over(request: HttpRequest, code: str, payload: HandoverIn,
              idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """With `code` the pickup code is checked; without it, `receiver_name` and `how_checked` record an identity check.

    A wrong code answers 422 `wrong_pickup_code` with `attempts_left`; the attempt is
    counted (a retry with the same Idempotency-Key is answered again, not counted again).
    """
    def create():
        scope = request.scope
        parcel = parcel_get_for_actor(scope=scope, code=code)
        if payload.code is not None:
            outcome = handover_with_code(scope=scope, parcel=parcel, code=payload.code)
            if not outcome.ok:
                return 422, {"error": {"code": "wrong_pickup_code", "message": str(outcome.message),
                                       "fields": {"code": [str(outcome.message)]}},
                             "attempts_left": outcome.attempts_left}
            parcel = outcome.parcel
        else:
            parcel = handover_with_identity(scope=scope, parcel=parcel, receiver_name=payload.receiver_name,
                                            how_checked=payload.how_checked)
        return 200, ParcelOut.from_orm(parcel).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


def track_data(token: str) -> dict:
    """The public journey: statuses, times and station name only (no names, phones or codes)."""
    parcel = parcel_get_by_tracking_token(token=token)
    labels = dict(ParcelStatus.choices)
    steps = []
    for event in parcel_events(parcel=parcel):
        if steps and steps[-1]["status"] == event.to_status:
            continue  # a note without a move (addressee found) is not a step of the journey
        place = str(_("County warehouse")) if event.place == "WH" else parcel.station.name
        steps.append({"at": event.at, "status": event.to_status, "label": str(labels.get(event.to_status, "")),
                      "place": place})
    return {"status": parcel.status, "label": str(parcel.get_status_display()), "station": parcel.station.name,
            "steps": steps}


@router.get("/track/{token}", response=TrackOut, auth=None, tags=["public"], summary="Track a parcel by its link")
def track(request: HttpRequest, token: str):
    return track_data(token)


# --- County route plans (planning.py) ------------------------------------------------------

import datetime as _dt

from cuntao.logistics.planning import (
    MAX_TIME_LIMIT_S,
    county_for_routes,
    route_plan_create,
    route_plan_data,
    route_plan_get_for_actor,
)


class RoutePlanIn(Schema):
    county_id: int
    date: _dt.date
    time_limit_s: float = Field(5.0, gt=0, le=MAX_TIME_LIMIT_S, description="How long the solver may search.")


@router.post("/route-plans", response={201: dict}, summary="Plan a county's trucks for a day (a draft plan)")
def create_route_plan(request: HttpRequest, payload: RoutePlanIn,
                      idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Plan from the county's sorted parcels. No parcels answers 409 `nothing_to_plan`; no trucks or too
    little capacity answers 400 with the reason; nothing is written then."""
    def create():
        county = county_for_routes(scope=request.scope, county_id=payload.county_id)
        plan = route_plan_create(scope=request.scope, county=county, date=payload.date,
                                 time_limit_s=payload.time_limit_s)
        return 201, route_plan_data(plan=plan)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/route-plans/{plan_id}", response=dict, summary="One route plan with its trucks and stops")
def get_route_plan(request: HttpRequest, plan_id: int):
    return route_plan_data(plan=route_plan_get_for_actor(scope=request.scope, plan_id=plan_id))


# --- Returns, labels, shelf capacity, homes and delivery runs ------------------------------

from django.http import HttpResponse

from cuntao.logistics.delivery import (
    delivery_candidates,
    delivery_run_close,
    delivery_run_create,
    delivery_run_get_for_actor,
    delivery_stop_deliver,
    delivery_stop_fail,
    delivery_stop_get_for_actor,
    delivery_stops,
)
from cuntao.logistics.labels import parcel_labels_pdf
from cuntao.logistics.models import FailureReason
from cuntao.logistics.selectors import station_parcel_counts, station_returns
from cuntao.logistics.services import (
    home_location_set,
    parcel_mark_for_return,
    parcel_return_send,
    station_shelf_set,
)


class ReturnIn(Schema):
    reason: str = Field(..., max_length=200)


class ShelfIn(Schema):
    capacity_parcels: int = Field(..., ge=1, le=5000)


class ShelfOut(Schema):
    waiting: int
    waiting_long: int
    return_due: int
    expected: int
    shelved: int
    capacity: int
    over_capacity: int


class HomeIn(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)
    note: str = Field("", max_length=100)


class HomeOut(Schema):
    villager_id: int
    lat: float
    lon: float
    note: str


class RunIn(Schema):
    station: str | None = Field(None, max_length=20, description="A partner may leave it out for their own station.")
    parcels: list[str] = Field(..., min_length=1, max_length=200, description="Parcel codes waiting at the station.")


class StopOut(Schema):
    sequence: int
    parcel: str
    addressee: str
    lat: float
    lon: float
    at_home: bool
    outcome: str
    failure_reason: str
    note: str
    done_at: datetime | None


class RunOut(Schema):
    id: int
    station: str
    date: _dt.date
    status: str
    distance_m: int
    duration_s: int
    stops: list[StopOut]


class FailIn(Schema):
    reason: FailureReason
    note: str = Field("", max_length=200)


def run_body(run) -> dict:
    stops = [{"sequence": s.sequence, "parcel": s.parcel.code,
              "addressee": s.parcel.villager.name if s.parcel.villager_id else s.parcel.addressee_name,
              "lat": float(s.lat), "lon": float(s.lon), "at_home": s.at_home, "outcome": s.outcome,
              "failure_reason": s.failure_reason, "note": s.note, "done_at": s.done_at}
             for s in delivery_stops(run=run)]
    return RunOut(id=run.pk, station=run.station.code, date=run.date, status=run.status, distance_m=run.distance_m,
                  duration_s=run.duration_s, stops=stops).model_dump(mode="json")


@router.post("/parcels/{code}/return", response=ParcelOut, summary="Put a waiting parcel on the return list")
def mark_for_return(request: HttpRequest, code: str, payload: ReturnIn):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    return parcel_mark_for_return(scope=request.scope, parcel=parcel, reason=payload.reason)


@router.post("/parcels/{code}/return/sent", response=ParcelOut, summary="The driver took a parcel on the return list")
def return_sent(request: HttpRequest, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    return parcel_return_send(scope=request.scope, parcel=parcel)


@router.get("/stations/{code}/returns", response=list[ParcelOut], summary="A station's return list")
def list_returns(request: HttpRequest, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    return station_returns(scope=request.scope, station_id=station.pk)


@router.get("/parcels/{code}/label.pdf", summary="A 100 x 150 mm label (PDF) with the parcel's Code 128 barcode",
            response={200: None})
def label_pdf(request: HttpRequest, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    return HttpResponse(parcel_labels_pdf(parcels=[parcel]), content_type="application/pdf")


@router.get("/stations/{code}/shelf", response=ShelfOut, summary="A station's shelf: what waits, and its capacity")
def get_shelf(request: HttpRequest, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    return station_parcel_counts(scope=request.scope, station_id=station.pk)


@router.put("/stations/{code}/shelf", response=ShelfOut, summary="Set a station's shelf capacity")
def set_shelf(request: HttpRequest, code: str, payload: ShelfIn):
    station = station_get_for_actor(scope=request.scope, code=code)
    station_shelf_set(scope=request.scope, station=station, capacity_parcels=payload.capacity_parcels)
    return station_parcel_counts(scope=request.scope, station_id=station.pk)


@router.put("/villagers/{villager_id}/home-location", response=HomeOut, summary="Record where a villager lives")
def set_home(request: HttpRequest, villager_id: int, payload: HomeIn):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    home = home_location_set(scope=request.scope, villager=villager, lat=payload.lat, lon=payload.lon,
                             note=payload.note)
    return {"villager_id": villager.pk, "lat": float(home.lat), "lon": float(home.lon), "note": home.note}


@router.get("/delivery/candidates", response=list[ParcelOut], summary="Parcels waiting at the station, not on a run")
def list_candidates(request: HttpRequest, station: str | None = None):
    where = station_for_write(scope=request.scope, code=station)
    return delivery_candidates(scope=request.scope, station_id=where.pk)


@router.post("/delivery-runs", response={201: RunOut}, summary="Plan a home delivery run (stops ordered by PyVRP)")
def create_run(request: HttpRequest, payload: RunIn,
               idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        station = station_for_write(scope=request.scope, code=payload.station)
        run = delivery_run_create(scope=request.scope, station=station, parcel_codes=payload.parcels)
        return 201, run_body(run)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/delivery-runs/{run_id}", response=RunOut, summary="A delivery run with its stops in order")
def get_run(request: HttpRequest, run_id: int):
    return run_body(delivery_run_get_for_actor(scope=request.scope, run_id=run_id))


DELIVER_FORM = {"requestBody": {"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["method"],
    "properties": {
        "method": {"type": "string", "enum": ["code", "signature", "photo"]},
        "code": {"type": "string", "description": "The pickup code, with method code."},
        "receiver_name": {"type": "string", "maxLength": 50},
        "proof": {"type": "string", "format": "binary",
                  "description": "The signature or photo (JPEG or PNG), with method signature or photo."},
    }}}}}}


@router.post("/delivery-runs/{run_id}/stops/{sequence}/deliver", response={200: RunOut},
             summary="Deliver a stop: pickup code, or a signature or photo (multipart)", openapi_extra=DELIVER_FORM)
def deliver_stop(request: HttpRequest, run_id: int, sequence: int,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """A multipart form (see the request body). A wrong code answers 422 `wrong_pickup_code` with `attempts_left`.

    The form is read inside the idempotent create, after the request's bytes were taken
    for its fingerprint: a retried upload with the same key is answered, not handed over
    again. The whole request must stay under Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    """
    def create():
        stop = delivery_stop_get_for_actor(scope=request.scope, run_id=run_id, sequence=sequence)
        form = request.POST
        outcome = delivery_stop_deliver(scope=request.scope, stop=stop, method=form.get("method", ""),
                                        code=form.get("code", ""), proof=request.FILES.get("proof"),
                                        receiver_name=form.get("receiver_name", ""))
        if not outcome.ok:
            return 422, {"error": {"code": "wrong_pickup_code", "message": str(outcome.message),
                                   "fields": {"code": [str(outcome.message)]}},
                         "attempts_left": outcome.attempts_left}
        return 200, run_body(stop.run)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/delivery-runs/{run_id}/stops/{sequence}/fail", response={200: RunOut},
             summary="Record why a stop's parcel was not delivered")
def fail_stop(request: HttpRequest, run_id: int, sequence: int, payload: FailIn,
              idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        stop = delivery_stop_get_for_actor(scope=request.scope, run_id=run_id, sequence=sequence)
        delivery_stop_fail(scope=request.scope, stop=stop, reason=payload.reason, note=payload.note)
        return 200, run_body(stop.run)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/delivery-runs/{run_id}/close", response=RunOut, summary="Close a run; stops left are not attempted")
def close_run(request: HttpRequest, run_id: int):
    run = delivery_run_get_for_actor(scope=request.scope, run_id=run_id)
    return run_body(delivery_run_close(scope=request.scope, run=run))
