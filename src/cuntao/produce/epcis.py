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
import functools
import uuid
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet
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
    Packing,
    Plot,
    Transformation,
    TransformationItem,
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


@functools.lru_cache(maxsize=4096)
def _offset(day: datetime.date, zone: str) -> tuple[str, str]:
    """The event time (noon local on the day: records carry dates) and its UTC offset.

    Kept per day and zone: a season's thousands of events fall on a few dozen days.
    """
    local = datetime.datetime.combine(day, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(zone))
    raw = local.strftime("%z")
    offset = f"{raw[:3]}:{raw[3:]}"
    return local.isoformat(timespec="milliseconds"), offset


def _when(day: datetime.date) -> dict:
    event_time, offset = _offset(day, timezone.get_default_timezone_name())
    return {"eventTime": event_time, "eventTimeZoneOffset": offset}


def _kg(value) -> float:
    return float(Decimal(value).normalize())


def _quantity(code: str, kg) -> dict:
    return {"epcClass": lot_uri(code), "quantity": _kg(kg), "uom": "KGM"}


def _derived_id(kind: str, pk: int) -> str:
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'{kind}:{pk}')}"


# --- events ------------------------------------------------------------------------------

def commissioning_event(lot: HarvestLot, event_id: uuid.UUID | None) -> dict:
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{event_id}" if event_id else _derived_id("harvest", lot.pk),
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


def grading_event(step: Transformation, items: list[tuple]) -> dict:
    """items: the step's (role, item_code, kg) rows."""
    return {
        "type": "TransformationEvent",
        "eventID": f"urn:uuid:{step.event_id}",
        **_when(step.occurred_on),
        "inputQuantityList": [_quantity(code, kg) for role, code, kg in items if role == ItemRole.INPUT],
        "outputQuantityList": [_quantity(code, kg) for role, code, kg in items if role == ItemRole.OUTPUT],
        "transformationID": lot_uri(step.grading.code),
        # CBV has no grading step; an extension URI names it (CBV 2.0 allows them).
        "bizStep": f"{namespace()}grading",
        "disposition": "active",
    }


def packing_event(step: Transformation, items: list[tuple], box_uris: dict[str, str]) -> dict:
    """items: the step's (role, item_code, kg) rows: the graded lot in, the boxes out."""
    return {
        "type": "AggregationEvent",
        "eventID": f"urn:uuid:{step.event_id}",
        **_when(step.occurred_on),
        "parentID": packing_uri(step.packing.code),
        "childEPCs": [box_uris[code] for role, code, _kg in items if role == ItemRole.OUTPUT],
        "childQuantityList": [_quantity(code, kg) for role, code, kg in items if role == ItemRole.INPUT],
        "action": "ADD",
        "bizStep": "packing",
        "disposition": "in_progress",
    }


BOX_STEPS = {BoxStatus.SOLD: ("retail_selling", "retail_sold"), BoxStatus.SHIPPED: ("shipping", "in_transit")}


def box_event(*, pk: int, to_status: str, at: datetime.datetime, box_uri: str) -> dict:
    """A box status change (a BoxEvent row's pk, to_status and at) as an EPCIS event."""
    biz_step, disposition = BOX_STEPS[to_status]
    return {
        "type": "ObjectEvent",
        "eventID": _derived_id("box-event", pk),
        **_when(timezone.localdate(at)),
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


# A season holds tens of thousands of boxes and lineage items: they are read as plain rows
# (values_list), not model instances, which cost more to build than the whole document.

def _box_uris(boxes: QuerySet[PackedBox]) -> dict[str, str]:
    """The printed URL of each box, by code.

    A box's URL is the same for every box of its lot and pack up to the code at its end
    (/b/{code}, or a Digital Link ending /21/{serial}); it is made once per lot and pack by
    codes.box_url and the rest are that prefix and their code, not a URL reverse each.
    """
    rows = list(boxes.order_by().values_list("pk", "code", "graded_lot_id", "pack_size_id"))
    firsts: dict[tuple[int, int], int] = {}
    for pk, _code, lot_id, pack_id in rows:
        firsts.setdefault((lot_id, pack_id), pk)
    prefixes = {}
    for box in PackedBox.objects.filter(pk__in=list(firsts.values())).select_related("pack_size", "graded_lot", "cooperative"):
        url = codes.box_url(box)
        if not url.endswith(box.code):
            raise ValueError(f"a box URL must end with the box's code: {url}")
        prefixes[box.graded_lot_id, box.pack_size_id] = url.removesuffix(box.code)
    return {code: prefixes[lot_id, pack_id] + code for _pk, code, lot_id, pack_id in rows}


def _items_by_step(steps: list[Transformation]) -> dict[int, list[tuple]]:
    """The (role, item_code, kg) rows of each step, in their stored order."""
    items = defaultdict(list)
    for step_id, role, code, kg in (TransformationItem.objects.filter(transformation__in=[s.pk for s in steps])
                                    .order_by("transformation_id", "role", "pk")
                                    .values_list("transformation_id", "role", "item_code", "kg")):
        items[step_id].append((role, code, kg))
    return items


def _commissioning_ids(harvest_lots: QuerySet[HarvestLot]) -> dict[str, uuid.UUID]:
    """The event_id of the lineage step that commissioned each harvest lot, by lot code."""
    return dict(TransformationItem.objects.filter(
        transformation__kind=TransformationKind.COMMISSIONING, role=ItemRole.OUTPUT, item_kind=ItemKind.HARVEST_LOT,
        item_code__in=harvest_lots.values("code")).values_list("item_code", "transformation__event_id"))


def _events_for(*, harvest_lots: QuerySet[HarvestLot], plot_ids: set[int], gradings, packings, boxes: QuerySet[PackedBox],
                until=None) -> list[dict]:
    lots = list(harvest_lots.select_related("plot"))
    commissioned = _commissioning_ids(harvest_lots)
    events = [commissioning_event(h, commissioned.get(h.code)) for h in lots]
    inspections = Inspection.objects.filter(plot_id__in=plot_ids).select_related("plot", "checkpoint")
    if until is not None:
        inspections = inspections.filter(inspected_on__lte=until)
    events += [inspection_event(i) for i in inspections]
    steps = list(Transformation.objects.filter(kind=TransformationKind.GRADING, grading__in=gradings).select_related("grading"))
    items = _items_by_step(steps)
    events += [grading_event(step, items[step.pk]) for step in steps]
    uris = _box_uris(boxes)
    steps = list(Transformation.objects.filter(kind=TransformationKind.PACKING, packing__in=packings).select_related("packing"))
    items = _items_by_step(steps)
    events += [packing_event(step, items[step.pk], uris) for step in steps]
    changes = BoxEvent.objects.filter(box__in=boxes, to_status__in=list(BOX_STEPS)).order_by("box_id", "at", "pk")
    for pk, to_status, at, code in changes.values_list("pk", "to_status", "at", "box__code"):
        events.append(box_event(pk=pk, to_status=to_status, at=at, box_uri=uris[code]))
    return events


def graded_lot_history(lot: GradedLot) -> dict:
    """The EPCIS document of a graded lot: its harvest lots, their plots' inspections, its
    grading, its packings and what became of its boxes."""
    harvest_lots = HarvestLot.objects.filter(grading_input__grading_id=lot.grading_id)
    harvests = list(harvest_lots.values_list("plot_id", "harvested_on"))
    events = _events_for(harvest_lots=harvest_lots, plot_ids={plot_id for plot_id, _day in harvests},
                         gradings=[lot.grading_id], packings=lot.packings.values("pk"),
                         boxes=PackedBox.objects.filter(graded_lot=lot),
                         until=max((day for _plot_id, day in harvests), default=None))
    return document(events, about=f"lot/{lot.code}")


def season_history(*, cooperative_id: int, season: int) -> dict:
    """Every event of a cooperative's season (harvests of that year and what followed)."""
    harvest_lots = HarvestLot.objects.filter(cooperative_id=cooperative_id, harvested_on__year=season)
    plot_ids = set(Plot.objects.filter(cooperative_id=cooperative_id).values_list("pk", flat=True))
    gradings = list(GradedLot.objects.filter(grading__inputs__harvest_lot__in=harvest_lots)
                    .order_by().values_list("grading_id", flat=True).distinct())
    lots = GradedLot.objects.filter(grading_id__in=gradings)
    events = _events_for(harvest_lots=harvest_lots, plot_ids=plot_ids, gradings=gradings,
                         packings=Packing.objects.filter(graded_lot__in=lots).values("pk"),
                         boxes=PackedBox.objects.filter(graded_lot__in=lots))
    events = [e for e in events if e["bizStep"] != "inspecting" or e["eventTime"][:4] == str(season)]
    return document(events, about=f"season/{cooperative_id}/{season}")
