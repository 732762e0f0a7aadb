from datetime import datetime

from django.http import HttpRequest, JsonResponse
from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate

from cuntao.core.idempotency import idempotent_create
from cuntao.network.selectors import station_for_write, station_get_for_actor
from cuntao.orders.models import CommissionState, OrderStatus, PaymentMethod
from cuntao.orders.selectors import order_detail, order_get_for_actor, order_list
from cuntao.orders.services import (
    order_advance,
    order_cancel,
    order_hand_over,
    order_place,
    order_return,
    return_window_ends,
)
from cuntao.villagers.selectors import villager_get_for_actor

router = Router(tags=["orders"])


class OrderLineIn(Schema):
    product_id: int
    quantity: int = Field(..., description="1 to 999.")
    expected_unit_price_fen: int = Field(..., description="The unit price the partner showed the villager, in fen. "
                                         "If it changed, the answer is 409 price_changed with the new prices.")


class OrderIn(Schema):
    station: str | None = Field(None, description="Station code; a partner may leave it out for their own station.")
    villager_id: int
    lines: list[OrderLineIn] = Field(..., max_length=50)
    payment_method: PaymentMethod = Field(..., description="cash_now, cash_on_delivery or credit; online and "
                                          "relative_pays are not available yet and are refused.")


class OrderLineOut(Schema):
    product_id: int
    product_name: str = Field(..., alias="product.name")
    quantity: int
    unit_price_fen: int
    local_price_fen: int | None
    commission_rate_bp: int
    line_total_fen: int
    commission_fen: int


class OrderEventOut(Schema):
    at: datetime
    by: str | None
    from_status: str
    to_status: OrderStatus
    note: str


class OrderOut(Schema):
    number: str
    station: str = Field(..., alias="station.code")
    villager_id: int
    villager_name: str = Field(..., alias="villager.name")
    status: OrderStatus
    payment_method: PaymentMethod
    goods_total_fen: int
    local_total_fen: int
    savings_fen: int
    commission_fen: int
    commission_state: CommissionState
    placed_at: datetime
    paid_at: datetime | None
    handed_over_at: datetime | None
    return_window_days: int
    return_window_ends: datetime | None = None

    @staticmethod
    def resolve_return_window_ends(obj):
        return return_window_ends(obj)


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    events: list[OrderEventOut]


class ReasonIn(Schema):
    reason: str = Field(..., max_length=1000)


class AdvanceIn(Schema):
    to_status: str = Field(..., description="shipped, at_county_warehouse or at_station.")


def detail_response(order) -> JsonResponse:
    # Built already in its JSON shape (the aliases above read model attributes, not dict keys).
    return JsonResponse(detail(order))


def detail(order) -> dict:
    lines, events = order_detail(order=order)
    data = OrderOut.from_orm(order).model_dump(mode="json")
    data["lines"] = [OrderLineOut.from_orm(line).model_dump(mode="json") for line in lines]
    data["events"] = [OrderEventOut(at=e.at, by=e.actor.get_username() if e.actor else None, from_status=e.from_status,
                                    to_status=e.to_status, note=e.note).model_dump(mode="json") for e in events]
    return data


@router.get("/orders", response=list[OrderOut], summary="Orders in scope, with each one's commission and its state")
@paginate
def list_orders(request: HttpRequest, station: str | None = None, status: OrderStatus | None = None,
                villager_id: int | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return order_list(scope=request.scope, station_id=station_id, status=status, villager_id=villager_id)


@router.post("/orders", response={201: OrderDetailOut}, summary="Place an assisted order for a villager")
def create_order(request: HttpRequest, payload: OrderIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        station = station_for_write(scope=scope, code=payload.station)
        villager = villager_get_for_actor(scope=scope, villager_id=payload.villager_id)
        order = order_place(
            scope=scope, station=station, villager=villager, payment_method=payload.payment_method,
            lines=[(line.product_id, line.quantity, line.expected_unit_price_fen) for line in payload.lines],
            idempotency_key=idempotency_key or "")
        return 201, detail(order)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/orders/{number}", response=OrderDetailOut, summary="One order with its lines and events")
def get_order(request: HttpRequest, number: str):
    return detail_response(order_get_for_actor(scope=request.scope, number=number))


@router.post("/orders/{number}/cancel", response=OrderDetailOut, summary="Cancel before the hand-over")
def cancel_order(request: HttpRequest, number: str, payload: ReasonIn):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_cancel(scope=request.scope, order=order, reason=payload.reason))


@router.post("/orders/{number}/return", response=OrderDetailOut, summary="Take goods back within the return window")
def return_order(request: HttpRequest, number: str, payload: ReasonIn):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_return(scope=request.scope, order=order, reason=payload.reason))


@router.post("/orders/{number}/handover", response=OrderDetailOut, summary="Hand the goods to the villager")
def hand_over_order(request: HttpRequest, number: str):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_hand_over(scope=request.scope, order=order))


@router.post("/orders/{number}/advance", response=OrderDetailOut,
             summary="County staff: shipped, at the county warehouse, at the station")
def advance_order(request: HttpRequest, number: str, payload: AdvanceIn):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_advance(scope=request.scope, order=order, to_status=payload.to_status))
