"""The produce API: farm records, inspections, lots, grading, packing and EPCIS export.

Creates take an Idempotency-Key. Records that break the standard answer 201 with their
violations listed: the log is kept honest, never refused.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema

from cuntao.core.idempotency import idempotent_create
from cuntao.core.scope import get_in_scope
from cuntao.produce import codes, epcis, services
from cuntao.produce.models import InspectionResult, PackSize, RecordKind
from cuntao.produce.selectors import (
    box_list,
    cooperative_get_for_actor,
    cooperative_list,
    graded_lot_get_for_actor,
    graded_lot_list,
    harvest_lot_list,
    harvest_lots_for_grading,
    inspector_plot_get,
    inspector_violation_get,
    plot_get_for_actor,
    plot_list,
    record_list,
)

router = Router(tags=["produce"])


# --- schemas ------------------------------------------------------------------------------

class CooperativeOut(Schema):
    slug: str
    name: str
    county_id: int
    registration_no: str
    fee_rate_bp: int
    gs1_company_prefix: str


class PlotOut(Schema):
    id: int
    name: str
    member_id: int
    member_name: str = Field(..., alias="member.name")
    village: str = Field(..., alias="village.name")
    lat: Decimal
    lon: Decimal
    area_mu: Decimal
    crop: str


class ViolationOut(Schema):
    id: int
    kind: str
    detail: str
    status: str


class RecordIn(Schema):
    kind: RecordKind
    occurred_on: datetime.date
    input_name: str = Field("", max_length=80, description="input_applied: the input's name as on the pack.")
    dose_total: Decimal | None = Field(None, description="input_applied: amount on the whole plot.")
    dose_unit: str = Field("", max_length=10)
    sop_task_id: int | None = Field(None, description="task_done: the SOP task.")
    kg: Decimal | None = Field(None, description="harvest: kilograms picked.")
    note: str = Field("", max_length=500)


class RecordOut(Schema):
    id: int
    kind: str
    plot_id: int
    occurred_on: datetime.date
    input_name: str
    dose_per_mu: Decimal | None
    dose_unit: str
    sop_task_id: int | None
    harvest_kg: Decimal | None
    compliant: bool
    note: str
    harvest_lot_code: str | None = None
    violations: list[ViolationOut] = []


class InspectionIn(Schema):
    plot_id: int
    checkpoint_id: int
    result: InspectionResult
    inspected_on: datetime.date
    note: str = Field("", max_length=500)


class InspectionOut(Schema):
    id: int
    plot_id: int
    checkpoint_id: int
    result: str
    inspected_on: datetime.date
    note: str
    violation_id: int | None = None


class ClearIn(Schema):
    note: str = Field(..., max_length=500)


class HarvestLotOut(Schema):
    code: str
    member_id: int
    plot_id: int
    harvested_on: datetime.date
    kg: Decimal
    compliant: bool
    status: str


class SampleIn(Schema):
    weight_g: int
    brix: Decimal


class GradingIn(Schema):
    harvest_lots: list[str] = Field(..., min_length=1, max_length=200, description="Harvest lot codes, graded whole.")
    grades: dict[str, Decimal] = Field(..., description="kg per grade code, such as {\"A\": 600, \"B\": 300}.")
    samples: list[SampleIn] = Field(..., max_length=500)
    graded_on: datetime.date


class ContributionOut(Schema):
    member_id: int
    plot_id: int
    harvest_lot: str = Field(..., alias="harvest_lot.code")
    kg: Decimal


class GradedLotOut(Schema):
    code: str
    grade: str = Field(..., alias="grade.code")
    kg: Decimal
    packed_kg: Decimal
    branded: bool
    status: str


class GradingOut(Schema):
    code: str
    graded_on: datetime.date
    input_kg: Decimal
    loss_kg: Decimal
    graded_lots: list[GradedLotOut]


class PackingIn(Schema):
    pack_size_id: int
    box_count: int = Field(..., ge=1, le=2000)
    packed_on: datetime.date


class BoxOut(Schema):
    code: str
    status: str
    net_weight_g: int
    url: str
    scan_count: int
    suspect: bool


class PackingOut(Schema):
    code: str
    graded_lot: str
    packed_on: datetime.date
    box_count: int
    boxes: list[BoxOut]


def _record(record, lot=None) -> dict:
    data = RecordOut.from_orm(record).model_dump(mode="json")
    data["violations"] = [ViolationOut.from_orm(v).model_dump(mode="json") for v in record.violations.all()]
    data["harvest_lot_code"] = lot.code if lot else None
    return data


def _box(box) -> dict:
    return BoxOut(code=box.code, status=box.status, net_weight_g=box.net_weight_g, url=codes.box_url(box),
                  scan_count=box.scan_count, suspect=box.suspect_since is not None).model_dump(mode="json")


# --- routes -----------------------------------------------------------------------------------

@router.get("/produce/cooperatives", response=list[CooperativeOut], summary="Cooperatives in scope")
def list_cooperatives(request: HttpRequest):
    return list(cooperative_list(scope=request.scope))


@router.get("/produce/plots", response=list[PlotOut], summary="Plots in scope (a partner: their station's farmers)")
def list_plots(request: HttpRequest, cooperative: str | None = None):
    coop_id = cooperative_get_for_actor(scope=request.scope, slug=cooperative).pk if cooperative else None
    return list(plot_list(scope=request.scope, cooperative_id=coop_id)[:1000])


@router.get("/produce/plots/{plot_id}/records", response=list[RecordOut], summary="A plot's farm log, newest first")
def list_records(request: HttpRequest, plot_id: int):
    plot = plot_get_for_actor(scope=request.scope, plot_id=plot_id)
    return JsonResponse([_record(r) for r in record_list(scope=request.scope, plot_id=plot.pk)[:200]], safe=False)


@router.post("/produce/plots/{plot_id}/records", response={201: RecordOut},
             summary="Record an input, task, observation or harvest; breaches are flagged, not refused")
def create_record(request: HttpRequest, plot_id: int, payload: RecordIn,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    scope = request.scope
    plot = plot_get_for_actor(scope=scope, plot_id=plot_id)

    def create():
        lot = None
        if payload.kind == RecordKind.INPUT_APPLIED:
            record = services.record_input_applied(scope=scope, plot=plot, input_name=payload.input_name,
                                                   dose_total=payload.dose_total, dose_unit=payload.dose_unit,
                                                   applied_on=payload.occurred_on, note=payload.note)
        elif payload.kind == RecordKind.TASK_DONE:
            record = services.record_task_done(scope=scope, plot=plot, sop_task_id=payload.sop_task_id or 0,
                                               done_on=payload.occurred_on, note=payload.note)
        elif payload.kind == RecordKind.OBSERVATION:
            record = services.record_observation(scope=scope, plot=plot, observed_on=payload.occurred_on, note=payload.note)
        else:
            lot = services.record_harvest(scope=scope, plot=plot, kg=payload.kg, harvested_on=payload.occurred_on,
                                          note=payload.note)
            record = lot.record
        return 201, _record(record, lot)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/produce/inspections", response={201: InspectionOut},
             summary="Record an inspection (assigned inspectors); a failure opens a violation")
def create_inspection(request: HttpRequest, payload: InspectionIn,
                      idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    plot = inspector_plot_get(scope=request.scope, plot_id=payload.plot_id)

    def create():
        inspection = services.inspection_record(scope=request.scope, plot=plot, checkpoint_id=payload.checkpoint_id,
                                                result=payload.result, inspected_on=payload.inspected_on, note=payload.note)
        data = InspectionOut.from_orm(inspection).model_dump(mode="json")
        violation = inspection.violations_found.first()
        data["violation_id"] = violation.pk if violation else None
        return 201, data

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/produce/violations/{violation_id}/clear", response=ViolationOut, summary="Clear a violation with a note")
def clear_violation(request: HttpRequest, violation_id: int, payload: ClearIn):
    violation = inspector_violation_get(scope=request.scope, violation_id=violation_id)
    return services.violation_clear(scope=request.scope, violation=violation, note=payload.note)


@router.get("/produce/harvest-lots", response=list[HarvestLotOut], summary="Harvest lots in scope")
def list_harvest_lots(request: HttpRequest, cooperative: str | None = None, status: Literal["open", "closed"] | None = None):
    coop_id = cooperative_get_for_actor(scope=request.scope, slug=cooperative).pk if cooperative else None
    return list(harvest_lot_list(scope=request.scope, cooperative_id=coop_id, status=status)[:1000])


@router.post("/produce/gradings", response={201: GradingOut}, summary="Grade whole harvest lots into graded lots")
def create_grading(request: HttpRequest, payload: GradingIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    lots = harvest_lots_for_grading(scope=request.scope, codes=payload.harvest_lots)

    def create():
        grading = services.grading_record(scope=request.scope, harvest_lots=lots, grade_kg=payload.grades,
                                          samples=[(s.weight_g, s.brix) for s in payload.samples],
                                          graded_on=payload.graded_on)
        data = {"code": grading.code, "graded_on": grading.graded_on.isoformat(), "input_kg": str(grading.input_kg),
                "loss_kg": str(grading.loss_kg),
                "graded_lots": [GradedLotOut.from_orm(g).model_dump(mode="json")
                                for g in grading.graded_lots.select_related("grade").order_by("grade__rank")]}
        return 201, data

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/produce/graded-lots", response=list[GradedLotOut], summary="Graded lots in scope")
def list_graded_lots(request: HttpRequest, cooperative: str | None = None):
    coop_id = cooperative_get_for_actor(scope=request.scope, slug=cooperative).pk if cooperative else None
    return list(graded_lot_list(scope=request.scope, cooperative_id=coop_id)[:1000])


@router.get("/produce/graded-lots/{code}/contributions", response=list[ContributionOut],
            summary="Each farmer's graded kilograms in the lot (the payout basis)")
def list_contributions(request: HttpRequest, code: str):
    lot = graded_lot_get_for_actor(scope=request.scope, code=code)
    return list(lot.contributions.select_related("harvest_lot").order_by("pk"))


@router.post("/produce/graded-lots/{code}/packings", response={201: PackingOut},
             summary="Pack branded boxes, each with its own traceability code")
def create_packing(request: HttpRequest, code: str, payload: PackingIn,
                   idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    lot = graded_lot_get_for_actor(scope=request.scope, code=code)
    pack = PackSize.objects.filter(pk=payload.pack_size_id, standard_id=lot.standard_id).first()
    if pack is None:
        raise ValidationError({"pack_size_id": [_("Choose a pack of this lot's standard.")]})

    def create():
        packing = services.packing_record(scope=request.scope, graded_lot=lot, pack_size=pack,
                                          box_count=payload.box_count, packed_on=payload.packed_on)
        boxes = box_list(scope=request.scope, packing_id=packing.pk)
        return 201, {"code": packing.code, "graded_lot": lot.code, "packed_on": packing.packed_on.isoformat(),
                     "box_count": packing.box_count, "boxes": [_box(b) for b in boxes]}

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/produce/graded-lots/{code}/epcis", summary="The lot's history as an EPCIS 2.0 JSON-LD document")
def graded_lot_epcis(request: HttpRequest, code: str):
    lot = graded_lot_get_for_actor(scope=request.scope, code=code)
    return JsonResponse(epcis.graded_lot_history(lot), content_type="application/ld+json",
                        json_dumps_params={"ensure_ascii": False})


@router.get("/produce/cooperatives/{slug}/epcis", summary="A season's events of a cooperative as EPCIS 2.0 JSON-LD")
def season_epcis(request: HttpRequest, slug: str, season: int):
    coop = cooperative_get_for_actor(scope=request.scope, slug=slug)
    return JsonResponse(epcis.season_history(cooperative_id=coop.pk, season=season), content_type="application/ld+json",
                        json_dumps_params={"ensure_ascii": False})


@router.get("/produce/boxes/{code}", response=BoxOut, summary="One box in scope, with its trace URL")
def get_box(request: HttpRequest, code: str):
    return JsonResponse(_box(get_in_scope(box_list(scope=request.scope), name="box", code=code)))
