"""Reads of orders, always within the caller's scope."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from cuntao.core.errors import NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.orders.models import (
    PAYMENT_PURPOSE,
    PROVIDER_PAYMENT_METHODS,
    CommissionState,
    CreditAccount,
    ExternalOrder,
    Order,
    OrderStatus,
    PayLink,
    Payment,
    PaymentMethod,
)


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
    """The order's lines (with products) and its events (with who did them).

    An order order_place has just written carries them (placed_rows): no query then.
    """
    if getattr(order, "placed_rows", None) is not None:
        lines, events = order.placed_rows
        return list(lines), list(events)
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


# --- credit (赊账) ---------------------------------------------------------------------

@dataclass(frozen=True)
class CreditMovement:
    """One line of a villager's credit history: an order on credit (+) or a repayment (-)."""

    at: object
    kind: str  # "order" or "repayment"
    amount_fen: int
    order: Order | None = None
    by: object | None = None


def credit_history(*, scope: Scope, villager_id: int, limit: int = 100) -> list[CreditMovement]:
    """The villager's credit orders and cash repayments, newest first.

    Repayments are the ledger's credit_repayment postings that name the villager's
    credit account; their amount is the cash taken in.
    """
    from cuntao.ledger.models import Transaction, TransactionKind

    orders = order_list(scope=scope, villager_id=villager_id).filter(payment_method=PaymentMethod.CREDIT)[:limit]
    moves = [CreditMovement(at=o.placed_at, kind="order", amount_fen=o.goods_total_fen, order=o, by=None)
             for o in orders]
    account = credit_account_for(scope=scope, villager_id=villager_id)
    if account is not None:
        repayments = (Transaction.objects.filter(county_id=account.county_id, kind=TransactionKind.CREDIT_REPAYMENT,
                                                 reference_type=CreditAccount._meta.label_lower,
                                                 reference_id=str(account.pk))
                      .annotate(amount=Sum("entries__amount_fen", filter=Q(entries__amount_fen__gt=0)))
                      .select_related("actor").order_by("-created_at", "-pk")[:limit])
        moves += [CreditMovement(at=t.created_at, kind="repayment", amount_fen=t.amount or 0, by=t.actor)
                  for t in repayments]
    return sorted(moves, key=lambda m: m.at, reverse=True)[:limit]


def credit_debtors(*, scope: Scope, station_id: int) -> QuerySet[CreditAccount]:
    """The station's villagers who owe money on credit, the largest debt first."""
    return (scope.filter(CreditAccount.objects.filter(station_id=station_id, outstanding_fen__gt=0))
            .select_related("villager").order_by("-outstanding_fen", "villager__name_pinyin"))


# --- county staff moving orders along --------------------------------------------------

# The stages of the county's board, each with the orders waiting in it and where they go next.
ORDER_BOARD_STAGES = {
    "to_ship": OrderStatus.SHIPPED,
    OrderStatus.SHIPPED: OrderStatus.AT_COUNTY_WAREHOUSE,
    OrderStatus.AT_COUNTY_WAREHOUSE: OrderStatus.AT_STATION,
    OrderStatus.AT_STATION: None,  # the partner hands over
}


def _stage_filter(stage: str) -> Q:
    if stage == "to_ship":
        # Cash-on-delivery orders ship unpaid; other unpaid orders wait for their payment.
        return Q(status=OrderStatus.PAID) | Q(status=OrderStatus.PLACED, payment_method=PaymentMethod.CASH_ON_DELIVERY)
    return Q(status=stage)


def county_order_board(*, scope: Scope, county_id: int, stage: str) -> QuerySet[Order]:
    """The county's orders waiting in one stage, oldest first (they have waited longest)."""
    qs = scope.filter(Order.objects.filter(county_id=county_id).filter(_stage_filter(stage)))
    return qs.select_related("station", "villager").order_by("placed_at", "pk")


def county_order_board_counts(*, scope: Scope, county_id: int) -> dict[str, int]:
    qs = scope.filter(Order.objects.filter(county_id=county_id))
    counts = qs.aggregate(**{stage: Count("pk", filter=_stage_filter(stage)) for stage in ORDER_BOARD_STAGES})
    return {stage: counts[stage] or 0 for stage in ORDER_BOARD_STAGES}


def order_next_status(order: Order) -> str | None:
    """Where county staff move this order next, or None if it is not theirs to move."""
    for stage, to_status in ORDER_BOARD_STAGES.items():
        if to_status and _in_stage(order, stage):
            return to_status
    return None


def _in_stage(order: Order, stage: str) -> bool:
    if stage == "to_ship":
        return order.status == OrderStatus.PAID or (
            order.status == OrderStatus.PLACED and order.payment_method == PaymentMethod.CASH_ON_DELIVERY)
    return order.status == stage


# --- external-marketplace orders -------------------------------------------------------

def external_order_list(*, scope: Scope, station_id: int | None = None, status: str | None = None,
                        villager_id: int | None = None) -> QuerySet[ExternalOrder]:
    """External-marketplace orders in scope, newest first: behind the station page and the API."""
    qs = scope.filter(ExternalOrder.objects.select_related("station", "villager"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if status:
        qs = qs.filter(status=status)
    if villager_id is not None:
        qs = qs.filter(villager_id=villager_id)
    return qs.order_by("-recorded_at", "-pk")


def external_order_get_for_actor(*, scope: Scope, external_order_id: int) -> ExternalOrder:
    qs = scope.filter(ExternalOrder.objects.select_related("station", "villager", "recorded_by"))
    return get_in_scope(qs, name="external order", pk=external_order_id)


def external_order_events(*, external_order: ExternalOrder) -> list:
    return list(external_order.events.select_related("actor").order_by("at", "pk"))


# --- payments through the provider ---------------------------------------------------------

def order_payment_current(*, order: Order):
    """The order's latest provider payment (pending, paid, declined...), or None for cash and credit."""
    if order.payment_method not in PROVIDER_PAYMENT_METHODS:
        return None  # without asking: only the provider's methods make payments
    return Payment.objects.filter(purpose=PAYMENT_PURPOSE, reference=order.number).order_by("-pk").first()


def pay_link_by_token(*, token: str):
    """A relative's pay link by its token, without a scope: the unguessable token is the permission."""
    link = (PayLink.objects.select_related("order", "order__station", "order__villager", "relative")
            .filter(token=token[:64]).first())
    if link is None:
        raise NotFound(detail="pay link")
    return link
