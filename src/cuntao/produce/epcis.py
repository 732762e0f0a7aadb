"""EPCIS 2.0 JSON-LD export of a lot's history (GS1 EPCIS/CBV 2.0).

Events, in time order:

- harvest (commissioning): ObjectEvent ADD of the harvest lot's kilograms, read at the
  plot's coordinates;
- inspection (inspecting): ObjectEvent OBSERVE of the plot, conformant or not;
- grading: TransformationEvent, harvest lots' kg in, graded lots' kg out;
- packing: AggregationEvent ADD, the graded lot's kg and the new boxes into the packing;
- sale and shipping (retail_selling, shipping): ObjectEvent OBSERVE of boxes, from the
  box status changes the shop records.

Objects are named by URIs on the public site (boxes by the URL printed on them, a GS1
Digital Link where the cooperative has GTINs); lots are quantities in kilograms (KGM).
Lineage steps carry their stored event_id; other events get a UUID derived from their
row, so exporting twice gives the same eventIDs.
"""

import datetime
import uuid
from decimal import Decimal

from django.utils import timezone

from cuntao.produce import codes
from cuntao.produce.models import (
    BoxEvent,
    BoxStatus,
    GradedLot,
    HarvestLot,
    Inspection,
    InspectionResult,
    ItemKind,
    ItemRole,
    PackedBox,
    Plot,
    Transformation,
    TransformationKind,
)

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
ID_NAMESPACE = uuid.UUID("6f1c3a52-6d8e-4f0a-9c4b-2b1f6a1e5d10")
CHUNK = 2000


def namespace() -> str:
    return codes.public_url("/produce/ns/epcis#")


def lot_uri(code: str) -> str:
    return codes.public_url(f"/produce/id/lot/{code}")


def plot_uri(plot_id: int) -> str:
    return codes.public_url(f"/produce/id/plot/{plot_id}")


def packing_uri(code: str) -> str:
    return codes.public_url(f"/produce/id/packing/{code}")


def _offset(day: datetime.date) -> tuple[str, str]:
    """The event time (noon local on the day: records carry dates) and its UTC offset."""
    local = datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_default_timezone())
    raw = local.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:]}"
    return local.isoformat(timespec="milliseconds"), offset


def _when(day: datetime.date) -> dict:
    event_time, offset = _offset(day)
    return {"eventTime": event_time, "eventTimeZoneOffset": offset}


def _kg(value) -> float:
    return float(Decimal(value).normalize())


def _quantity(code: str, kg) -> dict:
    return {"epcClass": lot_uri(code), "quantity": _kg(kg), "uom": "KGM"}


def _derived_id(kind: str, pk: int) -> str:
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'{kind}:{pk}')}"


# --- events ------------------------------------------------------------------------------

def commissioning_event(lot: HarvestLot, step: Transformation | None) -> dict:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{step.event_id}" if step else _derived_id("harvest", lot.pk),
        **_when(lot.harvested_on),
        "epcList": [],
        "quantityList": [_quantity(lot.code, lot.kg)],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active" if lot.compliant else "non_conformant",
        "readPoint": {"id": f"geo:{lot.plot.lat},{lot.plot.lon}"},
        "bizLocation": {"id": plot_uri(lot.plot_id)},
        "ilmd": {"cuntao:harvestedOn": lot.harvested_on.isoformat(), "cuntao:plot": plot_uri(lot.plot_id),
                 "cuntao:standardVersion": lot.standard_id},
    }


def inspection_event(inspection: Inspection) -> dict:
    plot = inspection.plot
    return {
        "type": "ObjectEvent",
        "eventID": _derived_id("inspection", inspection.pk),
        **_when(inspection.inspected_on),
        "epcList": [plot_uri(plot.pk)],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "disposition": "conformant" if inspection.result == InspectionResult.PASSED else "non_conformant",
        "readPoint": {"id": f"geo:{plot.lat},{plot.lon}"},
        "cuntao:checkpoint": inspection.checkpoint.name,
    }


def grading_event(step: Transformation) -> dict:
    items = step.items.all()
    return {
        "type": "TransformationEvent",
        "eventID": f"urn:uuid:{step.event_id}",
        **_when(step.occurred_on),
        "inputQuantityList": [_quantity(i.item_code, i.kg) for i in items if i.role == ItemRole.INPUT],
        "outputQuantityList": [_quantity(i.item_code, i.kg) for i in items if i.role == ItemRole.OUTPUT],
        "transformationID": lot_uri(step.grading.code),
        # CBV has no grading step; an extension URI names it (CBV 2.0 allows them).
        "bizStep": f"{namespace()}grading",
        "disposition": "active",
    }


def packing_event(step: Transformation, box_uris: dict[str, str]) -> dict:
    items = step.items.all()
    return {
        "type": "AggregationEvent",
        "eventID": f"urn:uuid:{step.event_id}",
        **_when(step.occurred_on),
        "parentID": packing_uri(step.packing.code),
        "childEPCs": [box_uris[i.item_code] for i in items if i.role == ItemRole.OUTPUT],
        "childQuantityList": [_quantity(i.item_code, i.kg) for i in items if i.role == ItemRole.INPUT],
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
    }


BOX_STEPS = {BoxStatus.SOLD: ("retail_selling", "retail_sold"), BoxStatus.SHIPPED: ("shipping", "in_transit")}


def box_event(event: BoxEvent, box_uri: str) -> dict:
    biz_step, disposition = BOX_STEPS[event.to_status]
    return {
        "type": "ObjectEvent",
        "eventID": _derived_id("box-event", event.pk),
        **_when(timezone.localdate(event.at)),
        "epcList": [box_uri],
        "action": "OBSERVE",
        "bizStep": biz_step,
        "disposition": disposition,
    }


# --- documents ------------------------------------------------------------------------------

def document(events: list[dict], *, about: str) -> dict:
    """An EPCISDocument around the events, sorted by time."""
    return {
        "@context": [EPCIS_CONTEXT, {"cuntao": namespace()}],
        "id": codes.public_url(f"/produce/epcis/{about}/{uuid.uuid4()}"),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": timezone.now().isoformat(timespec="milliseconds"),
        "epcisBody": {"eventList": sorted(events, key=lambda e: e["eventTime"])},
    }


def _box_uris(boxes) -> dict[str, str]:
    return {box.code: codes.box_url(box) for box in boxes}


def _boxes(qs) -> list[PackedBox]:
    return list(qs.select_related("pack_size", "graded_lot", "cooperative"))


def _events_for(*, harvest_lots: list[HarvestLot], plot_ids: set[int], gradings, packing_ids, boxes, until=None) -> list[dict]:
    steps = {s.pk: s for s in Transformation.objects.filter(
        kind=TransformationKind.COMMISSIONING,
        items__role=ItemRole.OUTPUT, items__item_kind=ItemKind.HARVEST_LOT,
        items__item_code__in=[h.code for h in harvest_lots]).prefetch_related("items")}
    by_lot = {i.item_code: s for s in steps.values() for i in s.items.all() if i.role == ItemRole.OUTPUT}
    events = [commissioning_event(h, by_lot.get(h.code)) for h in harvest_lots]
    inspections = Inspection.objects.filter(plot_id__in=plot_ids).select_related("plot", "checkpoint")
    if until is not None:
        inspections = inspections.filter(inspected_on__lte=until)
    events += [inspection_event(i) for i in inspections]
    for step in (Transformation.objects.filter(kind=TransformationKind.GRADING, grading__in=gradings)
                 .select_related("grading").prefetch_related("items")):
        events.append(grading_event(step))
    uris = _box_uris(boxes)
    for step in (Transformation.objects.filter(kind=TransformationKind.PACKING, packing_id__in=packing_ids)
                 .select_related("packing").prefetch_related("items")):
        events.append(packing_event(step, uris))
    for event in BoxEvent.objects.filter(box__in=[b.pk for b in boxes], to_status__in=list(BOX_STEPS)).select_related("box"):
        events.append(box_event(event, uris[event.box.code]))
    return events


def graded_lot_history(lot: GradedLot) -> dict:
    """The EPCIS document of a graded lot: its harvest lots, their plots' inspections, its
    grading, its packings and what became of its boxes."""
    harvest_lots = list(HarvestLot.objects.filter(grading_input__grading_id=lot.grading_id).select_related("plot"))
    plot_ids = {h.plot_id for h in harvest_lots}
    boxes = _boxes(PackedBox.objects.filter(graded_lot=lot))
    events = _events_for(harvest_lots=harvest_lots, plot_ids=plot_ids, gradings=[lot.grading_id],
                         packing_ids=list(lot.packings.values_list("pk", flat=True)), boxes=boxes,
                         until=max((h.harvested_on for h in harvest_lots), default=None))
    return document(events, about=f"lot/{lot.code}")


def season_history(*, cooperative_id: int, season: int) -> dict:
    """Every event of a cooperative's season (harvests of that year and what followed)."""
    harvest_lots = list(HarvestLot.objects.filter(cooperative_id=cooperative_id, harvested_on__year=season)
                        .select_related("plot"))
    plot_ids = set(Plot.objects.filter(cooperative_id=cooperative_id).values_list("pk", flat=True))
    gradings = list(GradedLot.objects.filter(grading__inputs__harvest_lot__in=[h.pk for h in harvest_lots])
                    .values_list("grading_id", flat=True).distinct())
    lots = GradedLot.objects.filter(grading_id__in=gradings)
    boxes = _boxes(PackedBox.objects.filter(graded_lot__in=lots))
    packing_ids = list({b.packing_id for b in boxes})
    events = _events_for(harvest_lots=harvest_lots, plot_ids=plot_ids, gradings=gradings, packing_ids=packing_ids,
                         boxes=boxes)
    events = [e for e in events if e["bizStep"] != "inspecting" or e["eventTime"][:4] == str(season)]
    return document(events, about=f"season/{cooperative_id}/{season}")

