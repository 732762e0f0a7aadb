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
