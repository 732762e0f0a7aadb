"""Reads of the village shop.

The shop window (listings, the feed) is public: anyone may read it, so those reads take
no scope. A buyer reads only their own cart and orders (through the scope's user); the
cooperative's staff read its orders and payouts within their scope.
"""

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum
from django.urls import NoReverseMatch, reverse

from cuntao.core.errors import NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.produce.models import BoxStatus, Brand, Cooperative, Member, PackedBox
from cuntao.shop import boxes
from cuntao.shop.models import CartLine, Listing, PayoutShare, ShopOrder, ShopOrderStatus
from cuntao.shop.services import buyer_of, may_manage_cooperative

# --- the public shop window -------------------------------------------------------------


def _with_stock(listings: list[Listing]) -> list[Listing]:
    counts = boxes.stock_counts([(listing.cooperative_id, listing.pack_size_id) for listing in listings])
    for listing in listings:
        listing.stock = counts[(listing.cooperative_id, listing.pack_size_id)]
    return listings


def _window() -> QuerySet[Listing]:
    return (Listing.objects.filter(is_listed=True)
            .select_related("cooperative", "pack_size", "pack_size__standard", "pack_size__standard__brand",
                            "pack_size__grade"))


def public_listings(*, brand_slug: str | None = None, cooperative_slug: str | None = None) -> list[Listing]:
    """Listings on sale with their stock (boxes in stock), for the shop's pages and the feed.

    Three queries whatever the number of listings: listings, stock counts, and nothing more.
    """
    qs = _window()
    if brand_slug:
        qs = qs.filter(pack_size__standard__brand__slug=brand_slug)
    if cooperative_slug:
        qs = qs.filter(cooperative__slug=cooperative_slug)
    return _with_stock(list(qs.order_by("cooperative__name", "pk")))


def public_listing(*, listing_id: int) -> Listing:
    listing = _window().filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(detail="listing")
    return _with_stock([listing])[0]


def public_brands() -> list[Brand]:
    """Brands with something on sale, each with its cooperative."""
    return list(Brand.objects.filter(standards__pack_sizes__shop_listings__is_listed=True)
                .select_related("cooperative").distinct().order_by("name"))


def public_cooperatives() -> list[Cooperative]:
    return list(Cooperative.objects.filter(shop_listings__is_listed=True).distinct().order_by("name"))


def public_brand(*, slug: str) -> Brand:
    brand = Brand.objects.select_related("cooperative").filter(slug=slug).first()
    if brand is None:
        raise NotFound(detail="brand")
    return brand


def public_cooperative(*, slug: str) -> Cooperative:
    cooperative = Cooperative.objects.filter(slug=slug).first()
    if cooperative is None:
        raise NotFound(detail="cooperative")
    return cooperative


def trace_url_of(box: PackedBox | None) -> str:
    """The public traceability page of a box, if the produce app serves one."""
    if box is None:
        return ""
    try:
        return box.get_absolute_url()
    except NoReverseMatch:
        return ""


def sample_box(*, listing: Listing) -> PackedBox | None:
    """A box of this product in stock, newest first: its trace page tells the product's story."""
    return (PackedBox.objects.filter(cooperative_id=listing.cooperative_id, pack_size_id=listing.pack_size_id,
                                     status=BoxStatus.IN_STOCK).order_by("-pk").first())


# --- the buyer's own --------------------------------------------------------------------


@dataclass
class CartGroup:
    """The cart's lines of one cooperative: what one checkout makes into one order."""

    cooperative: Cooperative
    lines: list
    total_fen: int


def cart_groups(*, scope: Scope) -> list[CartGroup]:
    buyer = buyer_of(scope)
    lines = list(CartLine.objects.filter(buyer=buyer).select_related("listing", "listing__cooperative",
                                                                     "listing__pack_size").order_by("pk"))
    _with_stock([line.listing for line in lines])
    groups: dict[int, CartGroup] = {}
    for line in lines:
        line.total_fen = line.listing.price_fen * line.quantity
        group = groups.setdefault(line.listing.cooperative_id, CartGroup(line.listing.cooperative, [], 0))
        group.lines.append(line)
        group.total_fen += line.total_fen
    return list(groups.values())


def cart_count(*, scope: Scope) -> int:
    user_id = getattr(scope.user, "pk", None)
    if user_id is None:
        return 0
    return CartLine.objects.filter(buyer__user_id=user_id).aggregate(n=Sum("quantity"))["n"] or 0


def buyer_orders(*, scope: Scope) -> QuerySet[ShopOrder]:
    return ShopOrder.objects.filter(buyer=buyer_of(scope)).select_related("cooperative").order_by("-placed_at", "-pk")


def buyer_order_get(*, scope: Scope, number: str) -> ShopOrder:
    """The buyer's own order, or the order of a cooperative the caller runs; else not found."""
    order = ShopOrder.objects.select_related("cooperative", "parcel", "buyer").filter(number=number).first()
    if order is None:
        raise NotFound(detail="shop order")
    if may_manage_cooperative(scope, order.cooperative):
        return order
    if scope.user is not None and order.buyer.user_id == getattr(scope.user, "pk", None):
        return order
    raise NotFound(detail="shop order")


def order_detail(*, order: ShopOrder) -> dict:
    """The order's lines, events, boxes (each with its trace link) and the parcel's tracking link."""
    box_rows = list(boxes.boxes_of_order(order_ref=order.number).select_related("graded_lot"))
    for box in box_rows:
        box.trace_url = trace_url_of(box)
    return {
        "lines": list(order.lines.select_related("listing").order_by("pk")),
        "events": list(order.events.select_related("actor").order_by("at", "pk")),
        "boxes": box_rows,
        "tracking_url": tracking_url_of(order),
    }


def tracking_url_of(order: ShopOrder) -> str:
    if order.parcel_id is None:
        return ""
    return reverse("logistics:track", args=[order.parcel.tracking_token])


# --- the cooperative's staff ------------------------------------------------------------


def cooperative_get_for_actor(*, scope: Scope, slug: str) -> Cooperative:
    """A cooperative whose shop the caller runs (county staff of its county); else not found."""
    from cuntao.produce.selectors import cooperative_get_for_actor as produce_cooperative_get

    if not scope.is_staff_scope:
        raise NotFound(detail="cooperative")
    return produce_cooperative_get(scope=scope, slug=slug)


def cooperative_orders(*, scope: Scope, cooperative: Cooperative, status: str | None = None) -> QuerySet[ShopOrder]:
    """The one filter behind the cooperative's order page and its API list."""
    qs = scope.filter(ShopOrder.objects.filter(cooperative=cooperative), station_field=None)
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status__in=(ShopOrderStatus.EXPIRED, ShopOrderStatus.AWAITING_PAYMENT))
    return qs.select_related("buyer", "parcel").order_by("placed_at", "pk")


def payout_totals(*, scope: Scope, cooperative: Cooperative) -> list[dict]:
    """Each farmer of the cooperative with the payouts owed to them, largest first."""
    rows = (scope.filter(PayoutShare.objects.filter(lot_sale__cooperative=cooperative), station_field=None)
            .values("member_id", "member__name")
            .annotate(total_fen=Sum("amount_fen"), grams=Sum("contributed_g"), sales=Count("lot_sale", distinct=True))
            .order_by("-total_fen", "member_id"))
    return [{"member_id": r["member_id"], "name": r["member__name"], "total_fen": r["total_fen"] or 0,
             "sales": r["sales"]} for r in rows]


def farmer_statement(*, scope: Scope, cooperative: Cooperative, member_id: int) -> dict:
    """One farmer's statement: every share of a lot sale, with the lot, the order and the fee."""
    member = get_in_scope(scope.filter(Member.objects.filter(cooperative=cooperative), station_field=None),
                          name="member", pk=member_id)
    shares = list(PayoutShare.objects.filter(member=member)
                  .select_related("lot_sale", "lot_sale__graded_lot", "lot_sale__order")
                  .order_by("lot_sale__created_at", "pk"))
    lot_grams = dict(PayoutShare.objects.filter(lot_sale__in=[s.lot_sale_id for s in shares])
                     .values("lot_sale_id").annotate(g=Sum("contributed_g")).values_list("lot_sale_id", "g"))
    for share in shares:
        share.lot_grams = lot_grams.get(share.lot_sale_id, 0)
    return {"member": member, "shares": shares, "total_fen": sum(s.amount_fen for s in shares)}
