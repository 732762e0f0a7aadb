"""Load-test data: many boxes behind one real graded lot, for the trace-page benchmark.

Not for the demo or production: the boxes are written past the packing service (which
would refuse to pack more kilograms than were graded), so the lot's packed weight is not
kept. Each batch is one packing with its own lineage step, so a box's trace page reads
exactly what a real box's does. Rows go in through the database's own bulk path (COPY on
PostgreSQL, executemany on SQLite, see demo/bulk.py): a million boxes and their lineage
items are two million rows, too many for bulk_create's per-value preparation.
"""

from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from cuntao.demo.bulk import insert_rows
from cuntao.produce import codes
from cuntao.produce.models import (
    BoxStatus,
    GradedLot,
    ItemKind,
    ItemRole,
    PackedBox,
    Packing,
    PackSize,
    Transformation,
    TransformationItem,
    TransformationKind,
)

BATCH = 5000
BOX_FIELDS = ("cooperative", "county", "packing", "graded_lot", "pack_size", "code", "net_weight_g", "packed_on",
              "status", "order_ref", "status_changed_at", "scan_count", "suspect_reason")
ITEM_FIELDS = ("transformation", "role", "item_kind", "item_code", "kg")


def _new_codes(count: int) -> list[str]:
    # Distinct within the batch; a clash with an existing box (about 1 in 10^9 per box at a
    # million boxes) would fail the unique constraint and the run, never pass silently.
    found: set[str] = set()
    while len(found) < count:
        found.add(codes.new_box_code())
    return list(found)


def _bulk_packing(*, graded_lot: GradedLot, pack: PackSize, count: int, actor) -> None:
    packing = Packing.objects.create(cooperative_id=graded_lot.cooperative_id, county_id=graded_lot.county_id,
                                     graded_lot=graded_lot, pack_size=pack, box_count=count,
                                     code=f"K-BULK-{codes.random_token(8)}", packed_on=graded_lot.grading.graded_on,
                                     packed_by=actor)
    ops = connection.ops
    packed_on = ops.adapt_datefield_value(packing.packed_on)
    now = ops.adapt_datetimefield_value(timezone.now())
    box_codes = _new_codes(count)
    insert_rows(PackedBox, BOX_FIELDS, [
        (graded_lot.cooperative_id, graded_lot.county_id, packing.pk, graded_lot.pk, pack.pk, code, pack.net_weight_g,
         packed_on, BoxStatus.IN_STOCK, "", now, 0, "") for code in box_codes])
    step = Transformation.objects.create(cooperative_id=graded_lot.cooperative_id, county_id=graded_lot.county_id,
                                         kind=TransformationKind.PACKING, occurred_on=packing.packed_on,
                                         packing=packing, actor=actor)
    box_kg = ops.adapt_decimalfield_value(Decimal(pack.net_weight_g) / 1000, 12, 3)
    lot_kg = ops.adapt_decimalfield_value(Decimal(pack.net_weight_g) * count / 1000, 12, 3)
    insert_rows(TransformationItem, ITEM_FIELDS,
                [(step.pk, ItemRole.INPUT, ItemKind.GRADED_LOT, graded_lot.code, lot_kg)]
                + [(step.pk, ItemRole.OUTPUT, ItemKind.BOX, code, box_kg) for code in box_codes])


def produce_seed_bulk_boxes(*, graded_lot: GradedLot, boxes: int, actor, on_batch=lambda n: None) -> int:
    """Add `boxes` in-stock boxes to the graded lot in packings of BATCH; return how many."""
    pack = PackSize.objects.filter(standard_id=graded_lot.standard_id, grade_id=graded_lot.grade_id).first()
    made = 0
    while made < boxes:
        count = min(BATCH, boxes - made)
        with transaction.atomic():
            _bulk_packing(graded_lot=graded_lot, pack=pack, count=count, actor=actor)
        made += count
        on_batch(made)
    return made
