"""Reads of orders, always within the caller's scope."""

from django.db.models import Count, Q, QuerySet, Sum

from cuntao.core.scope import Scope, get_in_scope
from cuntao.orders.models import CommissionState, CreditAccount, Order, OrderStatus


def order_list(*, scope: Scope, station_id: int | None = None, status: str | None = None,
               villager_id: int | None = None) -> QuerySet[Order]:
    """Orders in scope, newest first: the one filter behind the order page and GET /api/v1/orders."""
    qs = scope.filter(Order.objects.select_related("station", "villager"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if status:
        qs = qs.filter(status=status)
    if villager_id is not None:
        qs = qs.filter(villager_id=villager_id)
    return qs.order_by("-placed_at", "-pk")


def order_get_for_actor(*, scope: Scope, number: str, lock: bool = False) -> Order:
    qs = scope.filter(Order.objects.select_related("station", "villager", "county", "placed_by"))
    return get_in_scope(qs, name="order", lock=lock, number=number)


def order_detail(*, order: Order) -> tuple[list, list]:
    """The order's lines (with products) and its events (with who did them)."""
    lines = list(order.lines.select_related("product").order_by("pk"))
    events = list(order.events.select_related("actor").order_by("at", "pk"))
    return lines, events


def commission_summary(*, scope: Scope, station_id: int) -> dict[str, int]:
    """The station's commission in fen by state (pending, earned, reversed)."""
    qs = scope.filter(Order.objects.filter(station_id=station_id))
    sums = qs.aggregate(**{state: Sum("commission_fen", filter=Q(commission_state=state))
                           for state in CommissionState.values})
    return {state: sums[state] or 0 for state in CommissionState.values}


def station_order_panel(*, scope: Scope, station_id: int, since) -> dict:
    """Today's orders at the station and its commission by state, for the station home."""
    qs = scope.filter(Order.objects.filter(station_id=station_id))
    today = qs.filter(placed_at__gte=since).exclude(status=OrderStatus.CANCELLED).aggregate(
        count=Count("pk"), total=Sum("goods_total_fen"))
    return {"today_count": today["count"] or 0, "today_total_fen": today["total"] or 0,
            "commission": commission_summary(scope=scope, station_id=station_id)}


def credit_account_for(*, scope: Scope, villager_id: int) -> CreditAccount | None:
    return scope.filter(CreditAccount.objects.all()).filter(villager_id=villager_id).first()


def order_preview(*, scope: Scope, lines) -> dict:
    """What an order of these (product_id, quantity) lines would cost now: for the order form.

    Products no longer on sale are left out (and listed in `missing`); the prices are
    the current ones, which the partner shows the villager and then sends back as the
    expected prices.
    """
    from cuntao.catalog.selectors import products_by_ids
    from cuntao.orders.services import commission_of

    products = products_by_ids(scope=scope, product_ids=[pid for pid, _q in lines])
    rows, missing = [], []
    for pid, quantity in lines:
        product = products.get(pid)
        if product is None:
            missing.append(pid)
            continue
        total = product.price_fen * quantity
        rate = product.category.commission_rate_bp if product.category_id else 0
        rows.append({"product": product, "quantity": quantity, "unit_price_fen": product.price_fen,
                     "line_total_fen": total, "local_total_fen": (product.local_price_fen or product.price_fen) * quantity,
                     "commission_rate_bp": rate, "commission_fen": commission_of(total, rate)})
    goods = sum(r["line_total_fen"] for r in rows)
    local = sum(r["local_total_fen"] for r in rows) if any(r["product"].local_price_fen for r in rows) else 0
    return {"rows": rows, "missing": missing, "goods_total_fen": goods, "savings_fen": max(local - goods, 0),
            "commission_fen": sum(r["commission_fen"] for r in rows)}
