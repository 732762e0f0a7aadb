import uuid
from datetime import datetime

from django.http import HttpRequest, JsonResponse
from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate

from cuntao.core.idempotency import idempotent_create
from cuntao.network.selectors import station_for_write, station_get_for_actor

# Credit, external-marketplace orders and fraud signals.
from cuntao.orders.fraud import county_flags, flag_get
from cuntao.orders.models import (
    CommissionState,
    ExternalOrderStatus,
    ExternalPlatform,
    FlagKind,
    OrderStatus,
    PayLink,
    PaymentMethod,
    PaymentStatus,
    ReviewOutcome,
)
from cuntao.orders.parcels import order_hand_over_at_counter, order_ship
from cuntao.orders.payments import full_url, webhook_receive
from cuntao.orders.selectors import (
    credit_account_for,
    credit_history,
    external_order_events,
    external_order_get_for_actor,
    external_order_list,
    order_detail,
    order_get_for_actor,
    order_list,
    order_payment_current,
)
from cuntao.orders.services import (
    credit_limit_set,
    credit_repay,
    external_order_act,
    external_order_record,
    flag_review,
    order_advance,
    order_cancel,
    order_checkout,
    order_place,
    order_return,
    pay_link_url,
    return_window_ends,
)
from cuntao.villagers.selectors import villager_get_for_actor, villager_with_station_for_actor

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
    payment_method: PaymentMethod = Field(..., description="cash_now and credit are paid at once; "
                                          "cash_on_delivery at the hand-over; online and relative_pays await the "
                                          "payment provider (status awaiting_payment, see payment.pay_url) and are "
                                          "cancelled if unpaid by payment_due_at.")
    relative_id: int | None = Field(None, description="For relative_pays: the villager's migrant relative who gets "
                                    "the pay link by text message.")


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
    payment_due_at: datetime | None = None
    handed_over_at: datetime | None
    return_window_days: int
    return_window_ends: datetime | None = None

    @staticmethod
    def resolve_return_window_ends(obj):
        return return_window_ends(obj)


class OrderPaymentOut(Schema):
    status: PaymentStatus
    amount_fen: int
    refunded_fen: int
    pay_url: str = Field(..., description="The provider's checkout for the villager's phone (QR), while pending.")
    expires_at: datetime | None
    pay_link_url: str | None = Field(None, description="The relative's pay link, for relative_pays.")


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]
    events: list[OrderEventOut]
    payment: OrderPaymentOut | None = Field(None, description="Online and relative-pays orders: the latest payment.")


def payment_out(order) -> dict | None:
    payment = order_payment_current(order=order)
    if payment is None:
        return None
    link = PayLink.objects.filter(order=order).first()
    return OrderPaymentOut(status=payment.status, amount_fen=payment.amount_fen, refunded_fen=payment.refunded_fen,
                           pay_url=full_url(payment.checkout_url), expires_at=payment.expires_at,
                           pay_link_url=pay_link_url(link) if link else None).model_dump(mode="json")


class WebhookOut(Schema):
    result: str = Field(..., description="applied, replayed (already received: nothing changed) or ignored.")


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
    data["payment"] = payment_out(order)
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
    # Read before idempotent_create's transaction: on SQLite it holds the one write lock.
    scope = request.scope
    villager = villager_with_station_for_actor(scope=scope, villager_id=payload.villager_id)
    if payload.station is None and villager.station_id == scope.station_id:
        station = villager.station  # the partner's own station, already read with the villager
    else:
        station = station_for_write(scope=scope, code=payload.station)

    def create():
        order = order_place(
            scope=scope, station=station, villager=villager, payment_method=payload.payment_method,
            lines=[(line.product_id, line.quantity, line.expected_unit_price_fen) for line in payload.lines],
            idempotency_key=idempotency_key or "", relative_id=payload.relative_id)
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


@router.post("/orders/{number}/handover", response=OrderDetailOut, summary="Hand the goods to the villager",
             description="For goods that came without a parcel. Goods that came as a parcel are handed over "
             "through the parcel (409 hand_over_the_parcel here).")
def hand_over_order(request: HttpRequest, number: str):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_hand_over_at_counter(scope=request.scope, order=order))


class ShipIn(Schema):
    carrier: str = Field(..., max_length=40)
    tracking_number: str = Field(..., max_length=60)
    weight_g: int = Field(0, ge=0, le=1_000_000)
    volume_cm3: int = Field(0, ge=0, le=10_000_000)


class ShipOut(Schema):
    order_number: str
    status: str
    parcel_code: str
    carrier: str
    tracking_number: str


@router.post("/orders/{number}/ship", response=ShipOut,
             summary="County staff: the merchant shipped the order; register its parcel",
             description="The order becomes shipped and its parcel is expected at the county warehouse; the "
             "parcel's scans then move the order (at the warehouse, at the station, handed over). A repeat with "
             "the same tracking number returns the same parcel; another number is 409 already_shipped.")
def ship_order(request: HttpRequest, number: str, payload: ShipIn):
    order = order_get_for_actor(scope=request.scope, number=number)
    parcel = order_ship(scope=request.scope, order=order, carrier=payload.carrier,
                        tracking_number=payload.tracking_number, weight_g=payload.weight_g,
                        volume_cm3=payload.volume_cm3)
    order.refresh_from_db(fields=["status"])
    return {"order_number": order.number, "status": order.status, "parcel_code": parcel.code,
            "carrier": parcel.carrier, "tracking_number": parcel.carrier_tracking_no}


@router.post("/orders/{number}/advance", response=OrderDetailOut,
             summary="County staff: shipped, at the county warehouse, at the station")
def advance_order(request: HttpRequest, number: str, payload: AdvanceIn):
    order = order_get_for_actor(scope=request.scope, number=number)
    return detail_response(order_advance(scope=request.scope, order=order, to_status=payload.to_status))


# --- credit (赊账) ---------------------------------------------------------------------

class CreditMovementOut(Schema):
    at: datetime
    kind: str = Field(..., description="order (bought on credit) or repayment (cash paid back)")
    amount_fen: int
    order_number: str | None = None
    order_status: str | None = None
    by: str | None = None


class CreditAccountOut(Schema):
    villager_id: int
    villager_name: str
    limit_fen: int
    outstanding_fen: int
    available_fen: int
    history: list[CreditMovementOut]


class CreditLimitIn(Schema):
    limit_fen: int = Field(..., description="How much the villager may owe, in fen; 0 stops new credit.")


class CreditRepaymentIn(Schema):
    amount_fen: int = Field(..., description="Cash paid back at the station, in fen; at most what is owed.")


def credit_body(scope, villager) -> dict:
    account = credit_account_for(scope=scope, villager_id=villager.pk)
    history = [CreditMovementOut(at=m.at, kind=m.kind, amount_fen=m.amount_fen,
                                 order_number=m.order.number if m.order else None,
                                 order_status=m.order.status if m.order else None,
                                 by=m.by.get_username() if m.by else None)
               for m in credit_history(scope=scope, villager_id=villager.pk)]
    return CreditAccountOut(villager_id=villager.pk, villager_name=villager.name,
                            limit_fen=account.limit_fen if account else 0,
                            outstanding_fen=account.outstanding_fen if account else 0,
                            available_fen=account.available_fen if account else 0,
                            history=history).model_dump(mode="json")


@router.get("/villagers/{villager_id}/credit", response=CreditAccountOut,
            summary="A villager's credit: limit, what they owe, credit orders and repayments")
def get_credit(request: HttpRequest, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    return JsonResponse(credit_body(request.scope, villager))


@router.put("/villagers/{villager_id}/credit/limit", response=CreditAccountOut, summary="Set a villager's credit limit")
def put_credit_limit(request: HttpRequest, villager_id: int, payload: CreditLimitIn):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    credit_limit_set(scope=request.scope, villager=villager, limit_fen=payload.limit_fen)
    return JsonResponse(credit_body(request.scope, villager))


@router.post("/villagers/{villager_id}/credit/repayments", response={201: CreditAccountOut},
             summary="Record cash the villager paid back (taken into the station's cash)")
def create_credit_repayment(request: HttpRequest, villager_id: int, payload: CreditRepaymentIn,
                            idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
        # The ledger's dedupe key makes the posting itself once-only, even past the key's record.
        dedupe = f"api:{request.user.pk}:{idempotency_key.strip()}" if idempotency_key else uuid.uuid4().hex
        credit_repay(scope=request.scope, villager=villager, amount_fen=payload.amount_fen, dedupe_key=dedupe)
        return 201, credit_body(request.scope, villager)

    return idempotent_create(request, key=idempotency_key, create=create)


# --- external-marketplace orders -------------------------------------------------------

class ExternalOrderIn(Schema):
    station: str | None = Field(None, description="Station code; a partner may leave it out for their own station.")
    villager_id: int
    platform: ExternalPlatform
    platform_order_number: str = Field(..., max_length=100)
    amount_fen: int = Field(..., description="What the villager paid on the platform, in fen.")
    description: str = Field(..., max_length=400, description="What was bought.")
    carrier: str = Field("", max_length=100)
    tracking_number: str = Field("", max_length=100, description="The parcel's tracking number, if known: "
                                 "logistics matches arriving parcels on it.")


class ExternalOrderEventOut(Schema):
    at: datetime
    by: str | None
    from_status: str
    to_status: ExternalOrderStatus
    note: str


class ExternalOrderOut(Schema):
    id: int
    station: str = Field(..., alias="station.code")
    villager_id: int
    villager_name: str = Field(..., alias="villager.name")
    platform: ExternalPlatform
    platform_order_number: str
    amount_fen: int
    description: str
    carrier: str
    tracking_number: str
    status: ExternalOrderStatus
    recorded_at: datetime
    closed_at: datetime | None


class ExternalOrderDetailOut(ExternalOrderOut):
    events: list[ExternalOrderEventOut]


def external_detail(order) -> dict:
    data = ExternalOrderOut.from_orm(order).model_dump(mode="json")
    data["events"] = [ExternalOrderEventOut(at=e.at, by=e.actor.get_username() if e.actor else None,
                                            from_status=e.from_status, to_status=e.to_status,
                                            note=e.note).model_dump(mode="json")
                      for e in external_order_events(external_order=order)]
    return data


@router.get("/external-orders", response=list[ExternalOrderOut],
            summary="Orders placed for villagers on other marketplaces, tracked by the station")
@paginate
def list_external_orders(request: HttpRequest, station: str | None = None, status: ExternalOrderStatus | None = None,
                         villager_id: int | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return external_order_list(scope=request.scope, station_id=station_id, status=status, villager_id=villager_id)


@router.post("/external-orders", response={201: ExternalOrderDetailOut},
             summary="Record an order placed on another marketplace; the same platform order twice is 409")
def create_external_order(request: HttpRequest, payload: ExternalOrderIn,
                          idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        station = station_for_write(scope=scope, code=payload.station)
        villager = villager_get_for_actor(scope=scope, villager_id=payload.villager_id)
        order = external_order_record(
            scope=scope, station=station, villager=villager, platform=payload.platform,
            platform_order_number=payload.platform_order_number, amount_fen=payload.amount_fen,
            description=payload.description, carrier=payload.carrier, tracking_number=payload.tracking_number)
        return 201, external_detail(order)

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/external-orders/{external_order_id}", response=ExternalOrderDetailOut,
            summary="One external-marketplace order with its events")
def get_external_order(request: HttpRequest, external_order_id: int):
    order = external_order_get_for_actor(scope=request.scope, external_order_id=external_order_id)
    return JsonResponse(external_detail(order))


class ExternalActionIn(Schema):
    action: str = Field(..., description="parcel_arrived, handed_over or cancelled")
    reason: str = Field("", max_length=1000, description="Why, for cancelled.")


@router.post("/external-orders/{external_order_id}/status", response=ExternalOrderDetailOut,
             summary="Parcel arrived, handed over, or cancelled")
def move_external_order(request: HttpRequest, external_order_id: int, payload: ExternalActionIn):
    order = external_order_get_for_actor(scope=request.scope, external_order_id=external_order_id)
    order = external_order_act(scope=request.scope, external_order=order, action=payload.action,
                               reason=payload.reason)
    return JsonResponse(external_detail(order))


# --- fraud signals ---------------------------------------------------------------------

class FlagOrderOut(Schema):
    number: str
    villager_name: str = Field(..., alias="villager.name")
    status: OrderStatus
    goods_total_fen: int
    commission_fen: int
    placed_at: datetime


class FlagReviewOut(Schema):
    outcome: ReviewOutcome
    note: str
    by: str
    at: datetime


class FlagOut(Schema):
    key: str
    kind: FlagKind
    station: str
    summary: str
    orders: list[FlagOrderOut]
    review: FlagReviewOut | None


class FlagReviewIn(Schema):
    flag_key: str = Field(..., max_length=200)
    outcome: ReviewOutcome
    note: str = Field(..., max_length=1000)


def flag_body(flag) -> dict:
    # Built in its JSON shape: the order schema's aliases read model attributes, not dict keys.
    review = flag.review
    return {"key": flag.key, "kind": flag.kind, "station": flag.station.code, "summary": flag.summary,
            "orders": [FlagOrderOut.from_orm(o).model_dump(mode="json") for o in flag.orders],
            "review": FlagReviewOut(outcome=review.outcome, note=review.note, by=review.reviewed_by.get_username(),
                                    at=review.reviewed_at).model_dump(mode="json") if review else None}


@router.get("/counties/{county_id}/fraud-flags", response=list[FlagOut],
            summary="County staff: fraud signals with the orders behind them (flags, not punishment)")
def list_fraud_flags(request: HttpRequest, county_id: int):
    flags = county_flags(scope=request.scope, county_id=county_id)
    return JsonResponse([flag_body(flag) for flag in flags], safe=False)


@router.post("/counties/{county_id}/fraud-flags/reviews", response={201: FlagOut},
             summary="County staff: mark a flag reviewed with a note and an outcome")
def create_flag_review(request: HttpRequest, county_id: int, payload: FlagReviewIn,
                       idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        flag_review(scope=request.scope, county_id=county_id, flag_key=payload.flag_key, outcome=payload.outcome,
                    note=payload.note)
        return 201, flag_body(flag_get(scope=request.scope, county_id=county_id, flag_key=payload.flag_key))

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/orders/{number}/payment", response=OrderDetailOut,
             summary="A new checkout (QR) for an order awaiting payment, after the villager's payment was declined")
def restart_payment(request: HttpRequest, number: str):
    order = order_get_for_actor(scope=request.scope, number=number)
    order_checkout(order=order)
    return detail_response(order)


# --- the payment provider's webhook ------------------------------------------------------

@router.post("/payments/webhook/{provider}", auth=None, response={200: WebhookOut}, tags=["payments"],
             summary="The payment provider's signed webhook (no login; the signature is the proof)")
def payment_webhook(request: HttpRequest, provider: str):
    """A forged signature is 400 bad_signature, a stale one 400 stale_webhook, an amount that
    is not the payment's 400 amount_mismatch: nothing changes. A replayed event id is 200
    "replayed" and changes nothing either."""
    return {"result": webhook_receive(provider_name=provider, body=request.body, headers=request.headers)}
