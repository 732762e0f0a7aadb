"""Reads of cooperatives, records, lots and boxes, always within the caller's scope.

Rows with a station (members, plots, records, harvest lots) reach a partner through it;
county staff reach their county's rows. Inspectors reach only the cooperatives they are
assigned to (InspectorAssignment), whatever their other role.
"""

import datetime

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet

from cuntao.core.errors import NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.produce.models import (
    Cooperative,
    FarmRecord,
    GradedContribution,
    GradedLot,
    HarvestLot,
    Inspection,
    InspectionResult,
    InspectorAssignment,
    Member,
    PackedBox,
    Plot,
    RecordKind,
    Standard,
    StandardStatus,
    Transformation,
    TransformationItem,
    Violation,
    ViolationStatus,
)

# --- cooperatives, members, plots ---------------------------------------------------

def cooperative_list(*, scope: Scope) -> QuerySet[Cooperative]:
    """Cooperatives of the counties in scope (a partner sees their county's)."""
    return scope.filter(Cooperative.objects.select_related("county"), station_field=None).order_by("name")


def cooperative_get_for_actor(*, scope: Scope, slug: str) -> Cooperative:
    return get_in_scope(cooperative_list(scope=scope), name="cooperative", slug=slug)


def member_list(*, scope: Scope, cooperative_id: int | None = None) -> QuerySet[Member]:
    qs = scope.filter(Member.objects.select_related("village", "station", "cooperative"))
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    return qs.order_by("name", "pk")


def plot_list(*, scope: Scope, cooperative_id: int | None = None) -> QuerySet[Plot]:
    qs = scope.filter(Plot.objects.select_related("member", "village", "cooperative"))
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    return qs.order_by("village__name", "name", "pk")


def plot_get_for_actor(*, scope: Scope, plot_id: int, lock: bool = False) -> Plot:
    qs = scope.filter(Plot.objects.select_related("member", "village", "cooperative", "county"))
    return get_in_scope(qs, name="plot", lock=lock, pk=plot_id)


# --- inspectors -----------------------------------------------------------------------

def inspector_cooperative_ids(*, scope: Scope) -> frozenset[int]:
    """The cooperatives the user is currently assigned to inspect."""
    if scope.user_id is None:
        return frozenset()
    return frozenset(InspectorAssignment.objects.filter(user_id=scope.user_id, ended_at__isnull=True)
                     .values_list("cooperative_id", flat=True))


def inspector_plot_get(*, scope: Scope, plot_id: int) -> Plot:
    """A plot of a cooperative the user inspects; NotFound for any other."""
    qs = Plot.objects.select_related("member", "village", "cooperative", "county")
    return get_in_scope(qs.filter(cooperative_id__in=inspector_cooperative_ids(scope=scope)), name="plot", pk=plot_id)


def inspector_violation_get(*, scope: Scope, violation_id: int, lock: bool = False) -> Violation:
    qs = Violation.objects.filter(cooperative_id__in=inspector_cooperative_ids(scope=scope))
    return get_in_scope(qs, name="violation", lock=lock, pk=violation_id)


def inspector_plots(*, scope: Scope) -> QuerySet[Plot]:
    """Plots to inspect, those with open violations first."""
    ids = inspector_cooperative_ids(scope=scope)
    return (Plot.objects.filter(cooperative_id__in=ids).select_related("member", "village", "cooperative")
            .annotate(open_violations=Count("violations", filter=Q(violations__status=ViolationStatus.OPEN)))
            .order_by("-open_violations", "village__name", "name", "pk"))


def assignments_in_scope(*, scope: Scope) -> QuerySet[InspectorAssignment]:
    return (scope.filter(InspectorAssignment.objects.filter(ended_at__isnull=True), station_field=None)
            .select_related("user", "cooperative"))


# --- standards ------------------------------------------------------------------------

def standard_for(*, cooperative_id: int, crop: str, on: datetime.date) -> Standard | None:
    """The published standard that governs a crop on a date: that season's, else the latest."""
    qs = (Standard.objects.filter(cooperative_id=cooperative_id, product__crop=crop, status=StandardStatus.PUBLISHED)
          .select_related("product", "brand"))
    return qs.filter(season=on.year).first() or qs.filter(season__lte=on.year).order_by("-season").first()


def standard_list(*, scope: Scope, cooperative_id: int | None = None) -> QuerySet[Standard]:
    qs = scope.filter(Standard.objects.select_related("product", "brand", "cooperative"), station_field=None)
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    return qs


def standard_get_for_actor(*, scope: Scope, standard_id: int, lock: bool = False) -> Standard:
    return get_in_scope(standard_list(scope=scope), name="standard", lock=lock, pk=standard_id)


def plot_calendar(*, plot: Plot, on: datetime.date) -> list[dict]:
    """The SOP tasks of the plot's standard with their windows and whether each is done."""
    standard = standard_for(cooperative_id=plot.cooperative_id, crop=plot.crop, on=on)
    if standard is None:
        return []
    done = dict(FarmRecord.objects.filter(plot=plot, kind=RecordKind.TASK_DONE, standard=standard)
                .values_list("sop_task_id", "occurred_on"))
    return [{"task": task, "done_on": done.get(task.pk),
             "state": "done" if task.pk in done else ("due" if task.window_starts_on <= on <= task.window_ends_on
                                                      else ("late" if on > task.window_ends_on else "later"))}
            for task in standard.sop_tasks.all()]


# --- records and violations -----------------------------------------------------------

def record_list(*, scope: Scope, plot_id: int | None = None, cooperative_id: int | None = None,
                kind: str | None = None) -> QuerySet[FarmRecord]:
    qs = scope.filter(FarmRecord.objects.select_related("plot", "member", "allowed_input", "sop_task"))
    if plot_id is not None:
        qs = qs.filter(plot_id=plot_id)
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.prefetch_related("violations").order_by("-occurred_on", "-pk")


def violation_list(*, scope: Scope, cooperative_id: int | None = None, status: str | None = None) -> QuerySet[Violation]:
    qs = scope.filter(Violation.objects.select_related("plot", "plot__member", "record"), station_field="plot__station")
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-found_at", "-pk")


def open_violation_plot_ids(*, plot_ids) -> set[int]:
    return set(Violation.objects.filter(plot_id__in=list(plot_ids), status=ViolationStatus.OPEN)
               .values_list("plot_id", flat=True))


# --- lots and boxes ---------------------------------------------------------------------

def harvest_lot_list(*, scope: Scope, cooperative_id: int | None = None, status: str | None = None) -> QuerySet[HarvestLot]:
    qs = scope.filter(HarvestLot.objects.select_related("member", "plot", "plot__village"))
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-harvested_on", "-pk")


def harvest_lots_for_grading(*, scope: Scope, codes: list[str]) -> list[HarvestLot]:
    """The harvest lots of these codes; grading is staff work, so county scope applies."""
    qs = scope.filter(HarvestLot.objects.select_related("plot", "member"), station_field=None)
    found = {lot.code: lot for lot in qs.filter(code__in=codes)}
    missing = [code for code in codes if code not in found]
    if missing:
        raise NotFound(detail=f"harvest lots {missing}")
    return [found[code] for code in codes]


def graded_lot_list(*, scope: Scope, cooperative_id: int | None = None) -> QuerySet[GradedLot]:
    qs = scope.filter(GradedLot.objects.select_related("grade", "grading", "standard"), station_field=None)
    if cooperative_id is not None:
        qs = qs.filter(cooperative_id=cooperative_id)
    return qs.order_by("-created_at", "-pk")


def graded_lot_get_for_actor(*, scope: Scope, code: str, lock: bool = False) -> GradedLot:
    return get_in_scope(graded_lot_list(scope=scope), name="graded lot", lock=lock, code=code)


def box_list(*, scope: Scope, graded_lot_id: int | None = None, packing_id: int | None = None) -> QuerySet[PackedBox]:
    qs = scope.filter(PackedBox.objects.select_related("pack_size", "graded_lot", "graded_lot__grade", "cooperative"),
                      station_field=None)
    if graded_lot_id is not None:
        qs = qs.filter(graded_lot_id=graded_lot_id)
    if packing_id is not None:
        qs = qs.filter(packing_id=packing_id)
    return qs.order_by("packing_id", "code")


def contributions_of(*, graded_lot: GradedLot) -> QuerySet[GradedContribution]:
    return graded_lot.contributions.select_related("member", "plot", "harvest_lot").order_by("member__name", "pk")


def suspect_boxes(*, scope: Scope) -> QuerySet[PackedBox]:
    """Boxes flagged as possible counterfeits, most recently flagged first."""
    return (box_list(scope=scope).filter(suspect_since__isnull=False)
            .order_by("-suspect_since", "code"))


# --- lineage ----------------------------------------------------------------------------

def _inputs_of(item_kind: str, codes: set[str]) -> list[TransformationItem]:
    """The input items of the transformations that produced these outputs."""
    made_by = TransformationItem.objects.filter(role="output", item_kind=item_kind, item_code__in=codes)
    return list(TransformationItem.objects.filter(role="input", transformation__in=made_by.values("transformation"))
                .select_related("transformation"))


def lineage_of_box(*, code: str) -> dict[str, set[str]]:
    """Walk the append-only lineage back from a box: its graded lot, harvest lots and plots.

    Reads only Transformation rows, so it answers as the lineage was recorded even if a
    lot row were later changed by hand.
    """
    found: dict[str, set[str]] = {"box": {code}, "graded_lot": set(), "harvest_lot": set(), "plot": set()}
    frontier = {"box": {code}}
    while frontier:
        next_frontier: dict[str, set[str]] = {}
        for kind, codes in frontier.items():
            for item in _inputs_of(kind, codes):
                if item.item_code not in found.setdefault(item.item_kind, set()):
                    found[item.item_kind].add(item.item_code)
                    next_frontier.setdefault(item.item_kind, set()).add(item.item_code)
        frontier = next_frontier
    return found


def transformations_for(*, cooperative_id: int, since: datetime.date | None = None) -> QuerySet[Transformation]:
    qs = Transformation.objects.filter(cooperative_id=cooperative_id)
    if since is not None:
        qs = qs.filter(occurred_on__gte=since)
    return qs.prefetch_related("items").order_by("occurred_on", "pk")


# --- public trace page --------------------------------------------------------------------

# Every box of a graded lot tells the same story, so it is read and rendered once per lot
# and kept for a short while (box_for_trace's parts, trace.html's cached fragment): a scan
# of any of a lot's thousands of boxes then reads one row and writes its scan. A change
# (an inspection, a cleared violation) shows within STORY_TTL seconds.
STORY_TTL = 120
BOX_PARTS = ("cooperative", "cooperative__county", "pack_size", "graded_lot", "graded_lot__grade", "graded_lot__grading",
             "graded_lot__standard", "graded_lot__standard__brand", "graded_lot__standard__product")


def box_for_trace(*, code: str) -> PackedBox:
    """A box with everything its public page shows; NotFound if none.

    The box row is read with its lot's code only; the rows it shares with the other boxes
    of its lot and pack (lot, grade, grading, standard, brand, cooperative, county, pack)
    are read once per STORY_TTL and kept, keyed by the lot's random code. On PostgreSQL,
    planning the ten-table join alone cost more than the rest of a cached page.
    """
    box = PackedBox.objects.filter(code=code).annotate(lot_code=F("graded_lot__code")).order_by().first()
    if box is None:
        raise NotFound(detail="box")
    key = f"produce:box-parts:{box.lot_code}:{box.pack_size_id}:{box.cooperative_id}"
    parts = cache.get(key)
    if parts is None:
        full = PackedBox.objects.select_related(*BOX_PARTS).order_by().get(pk=box.pk)
        parts = (full.graded_lot, full.pack_size, full.cooperative)
        cache.set(key, parts, STORY_TTL)
    box.graded_lot, box.pack_size, box.cooperative = parts
    return box


def trace_story(*, box: PackedBox) -> dict:
    """What the public page tells about a box: where it grew, who grew it, how it was kept.

    Not cached here: the page reads it only to render its cached fragment (trace.html),
    and one cache entry per lot instead of two keeps more lots in a small cache.
    """
    lot = box.graded_lot
    return {**_lot_story(lot, until=box.packed_on), "box": box, "lot": lot, "standard": lot.standard,
            "cooperative": box.cooperative}


def _lot_story(lot: GradedLot, *, until: datetime.date) -> dict:
    harvest_lots = list(HarvestLot.objects.filter(grading_input__grading_id=lot.grading_id)
                        .select_related("member", "plot", "plot__village", "station").order_by("harvested_on", "pk"))
    plot_ids = {h.plot_id for h in harvest_lots}
    last_harvest = max((h.harvested_on for h in harvest_lots), default=until)
    inputs = list(FarmRecord.objects.filter(plot_id__in=plot_ids, kind=RecordKind.INPUT_APPLIED, occurred_on__lte=last_harvest,
                                            standard_id=lot.standard_id).select_related("allowed_input")
                  .order_by("occurred_on", "pk"))
    inspections = list(Inspection.objects.filter(plot_id__in=plot_ids).select_related("checkpoint")
                       .order_by("inspected_on", "pk"))
    members = {h.member_id: h.member for h in harvest_lots}
    return {
        "harvest_lots": harvest_lots,
        "villages": sorted({h.plot.village.name for h in harvest_lots}),
        "stations": sorted({h.station.name for h in harvest_lots if h.station}),
        "farmers": [{"name": m.public_name, "photo": m.photo.url if (m.show_photo_publicly and m.photo) else ""}
                    for m in members.values()],
        "harvested_from": min((h.harvested_on for h in harvest_lots), default=None),
        "harvested_to": last_harvest,
        "inputs": inputs,
        "inputs_compliant": all(r.compliant for r in inputs),
        "inspections": inspections,
        "inspections_passed": sum(1 for i in inspections if i.result == InspectionResult.PASSED),
        "photos": list(_public_photos(plot_ids)),
    }


def _public_photos(plot_ids):
    from cuntao.produce.models import Photo

    return (Photo.objects.filter(public=True).filter(Q(record__plot_id__in=plot_ids) | Q(inspection__plot_id__in=plot_ids))
            .order_by("taken_at", "pk")[:6])


def prefetch_for_labels(qs: QuerySet[PackedBox]) -> QuerySet[PackedBox]:
    return qs.select_related("pack_size", "graded_lot", "graded_lot__grade", "graded_lot__standard__brand", "cooperative")



def station_produce_panel(*, scope: Scope, station_id: int) -> dict:
    """The station's cooperative farmers at a glance: plots, open violations, harvest lots waiting."""
    plots = scope.filter(Plot.objects.filter(station_id=station_id))
    return {
        "plots": plots.count(),
        "open_violations": violation_list(scope=scope).filter(plot__station_id=station_id,
                                                              status=ViolationStatus.OPEN).count(),
    }
