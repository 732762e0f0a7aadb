"""Load-test data: many boxes behind one real graded lot, for the trace-page benchmark.

Not for the demo or production: the boxes are written with bulk_create past the
packing service (which would refuse to pack more kilograms than were graded), so the
lot's packed weight is not kept. Each batch is one packing with its own lineage step, so
a box's trace page reads exactly what a real box's does.
"""

from django.db import transaction

from cuntao.produce import codes
from cuntao.produce.models import (
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


def produce_seed_bulk_boxes(*, graded_lot: GradedLot, boxes: int, actor, on_batch=lambda n: None) -> int:
    """Add `boxes` in-stock boxes to the graded lot in packings of BATCH; return how many."""
    pack = PackSize.objects.filter(standard_id=graded_lot.standard_id, grade_id=graded_lot.grade_id).first()
    made = 0
    while made < boxes:
        count = min(BATCH, boxes - made)
        with transaction.atomic():
            packing = Packing.objects.create(cooperative_id=graded_lot.cooperative_id, county_id=graded_lot.county_id,
                                             graded_lot=graded_lot, pack_size=pack, box_count=count,
                                             code=f"K-BULK-{codes.random_token(8)}", packed_on=graded_lot.grading.graded_on,
                                             packed_by=actor)
            rows = PackedBox.objects.bulk_create([
                PackedBox(cooperative_id=graded_lot.cooperative_id, county_id=graded_lot.county_id, packing=packing,
                          graded_lot=graded_lot, pack_size=pack, code=codes.new_box_code(),
                          net_weight_g=pack.net_weight_g, packed_on=packing.packed_on) for _ in range(count)])
            step = Transformation.objects.create(cooperative_id=graded_lot.cooperative_id, county_id=graded_lot.county_id,
                                                 kind=TransformationKind.PACKING, occurred_on=packing.packed_on,
                                                 packing=packing, actor=actor)
            TransformationItem.objects.bulk_create(
                [TransformationItem(transformation=step, role=ItemRole.INPUT, item_kind=ItemKind.GRADED_LOT,
                                    item_code=graded_lot.code)]
                + [TransformationItem(transformation=step, role=ItemRole.OUTPUT, item_kind=ItemKind.BOX, item_code=b.code)
                   for b in rows])
        made += count
        on_batch(made)
    return made
