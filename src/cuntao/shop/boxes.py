"""The shop's moves of packed boxes: take from stock for an order, sell, ship, put back.

Boxes belong to the produce app; a box out of stock names its order in order_ref
(produce's check constraint ties the two). Taking boxes goes through produce's
box_reserve (one conditional UPDATE ... WHERE status='in_stock'), and the forward
moves through box_set_status. Putting a *sold* box back in stock (a paid order
cancelled before shipping) is not among produce's transitions yet, so that one move is
a conditional UPDATE here, with its BoxEvent, until produce offers it. The callers hold
the order's lock (and, at checkout, the listing's).
"""

from django.db.models import Count, QuerySet
from django.utils import timezone

from cuntao.core.errors import Conflict
from cuntao.produce.models import BoxEvent, BoxStatus, PackedBox
from cuntao.produce.services import box_reserve, box_set_status


def boxes_in_stock(*, cooperative_id: int, pack_size_id: int) -> QuerySet[PackedBox]:
    """The boxes a listing may sell, oldest first (first packed, first sold)."""
    return (PackedBox.objects.filter(cooperative_id=cooperative_id, pack_size_id=pack_size_id,
                                     status=BoxStatus.IN_STOCK).order_by("pk"))


def stock_counts(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Boxes in stock per (cooperative_id, pack_size_id), in one query."""
    if not pairs:
        return {}
    cooperative_ids = {c for c, _p in pairs}
    pack_size_ids = {p for _c, p in pairs}
    rows = (PackedBox.objects.filter(cooperative_id__in=cooperative_ids, pack_size_id__in=pack_size_ids,
                                     status=BoxStatus.IN_STOCK)
            .values_list("cooperative_id", "pack_size_id").annotate(n=Count("pk")))
    counts = {(c, p): n for c, p, n in rows}
    return {pair: counts.get(pair, 0) for pair in pairs}


def boxes_reserve(*, cooperative_id: int, pack_size_id: int, count: int, order_ref: str, actor) -> list[int]:
    """Take `count` boxes out of stock for the order, oldest first; returns their pks, or [] if too few.

    A box another writer took meanwhile makes box_reserve refuse them all; the caller
    then refuses the order and rolls back its transaction.
    """
    picked = list(boxes_in_stock(cooperative_id=cooperative_id, pack_size_id=pack_size_id)
                  .values_list("pk", flat=True)[:count])
    if len(picked) < count:
        return []
    try:
        box_reserve(box_ids=picked, order_ref=order_ref, actor=actor)
    except Conflict:
        return []
    return picked


def _move(*, order_ref: str, from_status: str, to_status: str, actor, note: str = "") -> int:
    moved = 0
    for box in PackedBox.objects.filter(order_ref=order_ref, status=from_status).order_by("pk"):
        box_set_status(box=box, to_status=to_status, actor=actor, note=note)
        moved += 1
    return moved


def boxes_sell(*, order_ref: str, actor=None) -> int:
    """The order is paid: its reserved boxes are sold."""
    return _move(order_ref=order_ref, from_status=BoxStatus.RESERVED, to_status=BoxStatus.SOLD, actor=actor)


def boxes_ship(*, order_ref: str, actor=None) -> int:
    """The order left in its parcel: its sold boxes are shipped."""
    return _move(order_ref=order_ref, from_status=BoxStatus.SOLD, to_status=BoxStatus.SHIPPED, actor=actor)


def boxes_release(*, order_ref: str, actor=None, note: str = "") -> int:
    """The order expired or was cancelled before shipping: its boxes go back to stock."""
    released = _move(order_ref=order_ref, from_status=BoxStatus.RESERVED, to_status=BoxStatus.IN_STOCK, actor=actor,
                     note=note)
    return released + _unsell(order_ref=order_ref, actor=actor, note=note)


def _unsell(*, order_ref: str, actor, note: str) -> int:
    """Sold boxes back to stock: produce's transitions do not include it yet (see the module docstring)."""
    sold = list(PackedBox.objects.filter(order_ref=order_ref, status=BoxStatus.SOLD).order_by("pk")
                .values_list("pk", "county_id"))
    if not sold:
        return 0
    moved = (PackedBox.objects.filter(pk__in=[pk for pk, _c in sold], status=BoxStatus.SOLD, order_ref=order_ref)
             .update(status=BoxStatus.IN_STOCK, order_ref="", status_changed_at=timezone.now()))
    BoxEvent.objects.bulk_create([
        BoxEvent(box_id=pk, county_id=county_id, from_status=BoxStatus.SOLD, to_status=BoxStatus.IN_STOCK,
                 order_ref=order_ref, actor=actor, note=note[:300]) for pk, county_id in sold])
    return moved


def boxes_of_order(*, order_ref: str) -> QuerySet[PackedBox]:
    return PackedBox.objects.filter(order_ref=order_ref).order_by("pk")
