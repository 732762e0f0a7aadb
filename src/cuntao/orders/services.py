"""Writes of assisted orders: place, advance, hand over, complete, cancel, return; credit.

Each service is one transaction. Locks are taken in one order everywhere so two writers
cannot deadlock: an online order's provider payments (the webhook locks the payment
first), the order row, then products (in pk order, through the catalogue's
product_lock_for_update), then the villager's credit account. Money goes through the
ledger's helpers, whose dedupe keys name the order, so a repeat posts nothing twice.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.catalog.models import Product
from cuntao.catalog.services import ProductForSale, product_lock_for_sale, product_lock_for_update, product_stock_move
from cuntao.core.db import insert_new, pk_where
from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.money import format_fen
from cuntao.core.scope import Scope
from cuntao.ledger import services as ledger
from cuntao.ledger.services import SYSTEM_SCOPE, Reference
from cuntao.network.models import Station
from cuntao.notify.kinds import yuan
from cuntao.notify.services import NoticeRequest, notice_enqueue, notices_enqueue
from cuntao.orders import payments
from cuntao.orders.fraud import flag_get
from cuntao.orders.models import (
    AVAILABLE_PAYMENT_METHODS,
    MAX_QUANTITY,
    PAYMENT_PURPOSE,
    PROVIDER_PAYMENT_METHODS,
    CommissionState,
    CreditAccount,
    ExternalOrder,
    ExternalOrderEvent,
    ExternalOrderStatus,
    ExternalPlatform,
    FlagReview,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PayLink,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ReviewOutcome,
)
from cuntao.villagers.models import MigrantRelative, Villager
from cuntao.villagers.services import require_station_serving

MAX_LINES = 50
# The most credit a partner may give one villager, unless the deployment sets its own.
CREDIT_LIMIT_MAX_FEN = getattr(settings, "ORDERS_CREDIT_LIMIT_MAX_FEN", 200_000)
RETURN_WINDOW_DAYS = 7

# The statuses an order may move to by order_advance, and from which.
ADVANCE_FROM = {
    OrderStatus.SHIPPED: (OrderStatus.PAID, OrderStatus.PLACED),
    OrderStatus.AT_COUNTY_WAREHOUSE: (OrderStatus.SHIPPED,),
    OrderStatus.AT_STATION: (OrderStatus.AT_COUNTY_WAREHOUSE,),
}
CANCELLABLE = (OrderStatus.PLACED, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.AT_COUNTY_WAREHOUSE,
               OrderStatus.AT_STATION)
REFUND_METHOD = {PaymentMethod.CASH_NOW: "cash", PaymentMethod.CASH_ON_DELIVERY: "cash", PaymentMethod.CREDIT: "credit",
                 PaymentMethod.ONLINE: "online", PaymentMethod.RELATIVE_PAYS: "online"}
# How long an online order waits for the villager to pay on a phone at the station, and a
# relative's pay link for the relative (settings may change both).
ONLINE_PAYMENT_MINUTES = 30
PAY_LINK_HOURS = 48


class PriceChanged(Conflict):
    """A price changed between what the partner saw and now; new_prices maps product id to fen."""

    code = "price_changed"

    def __init__(self, message, *, new_prices: dict[int, int], fields: dict):
        super().__init__(message, fields=fields)
        self.new_prices = new_prices


@dataclass(frozen=True)
class LineInput:
    product_id: int
    quantity: int
    expected_unit_price_fen: int


# --- helpers ---------------------------------------------------------------------------

def _require_station(scope: Scope, station: Station) -> None:
    if not scope.may_reach_station(station.pk, station.county_id):
        raise NotFound(detail="station")


def _event(order: Order, *, scope: Scope, from_status: str, to_status: str, at: datetime, note: str = "") -> None:
    OrderEvent.objects.create(order=order, county_id=order.county_id, actor=scope.user, at=at,
                              from_status=from_status, to_status=to_status, note=(note or "")[:300])


def _set_status(order: Order, *, scope: Scope, to_status: str, at: datetime, note: str = "", **fields) -> Order:
    from_status = order.status
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields])
    _event(order, scope=scope, from_status=from_status, to_status=to_status, at=at, note=note)
    return order


def _lock_order(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


def _as_int(value):
    return value if type(value) is int else None


def _clean_lines(lines) -> list[LineInput]:
    """Check the shape of the lines; field errors name the line ("lines.2.quantity")."""
    errors: dict[str, list[str]] = {}
    if not lines:
        raise ValidationError({"lines": [_("Add at least one product.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [_("An order has at most %(max)s lines.") % {"max": MAX_LINES}]})
    cleaned, seen = [], {}
    for i, line in enumerate(lines):
        if isinstance(line, LineInput):
            product_id, quantity, price = line.product_id, line.quantity, line.expected_unit_price_fen
        else:
            try:
                product_id, quantity, price = line
            except (TypeError, ValueError):
                errors[f"lines.{i}"] = [_("A line is a product, a quantity and the price you saw.")]
                continue
        product_id, quantity, price = _as_int(product_id), _as_int(quantity), _as_int(price)
        if product_id is None or product_id <= 0:
            errors[f"lines.{i}.product_id"] = [_("Choose a product.")]
        elif product_id in seen:
            errors[f"lines.{i}.product_id"] = [_("This product is already on line %(line)s; change its quantity there.")
                                               % {"line": seen[product_id] + 1}]
        else:
            seen[product_id] = i
        if quantity is None:
            errors[f"lines.{i}.quantity"] = [_("Give the quantity as a whole number.")]
        elif quantity < 1:
            errors[f"lines.{i}.quantity"] = [_("The quantity must be at least 1.")]
        elif quantity > MAX_QUANTITY:
            errors[f"lines.{i}.quantity"] = [_("The quantity can be at most %(max)s.") % {"max": MAX_QUANTITY}]
        if price is None or price <= 0:
            errors[f"lines.{i}.expected_unit_price_fen"] = [_("Give the unit price you saw, in fen.")]
        cleaned.append(LineInput(product_id, quantity, price))
    if errors:
        raise ValidationError(errors)
    return cleaned


# Tries at a fresh number when one was taken (one in 16.7 million per order that day).
NUMBER_ATTEMPTS = 3


def _new_number(station: Station, now: datetime) -> str:
    # Station code, date and a random tail: readable over the phone, unique by the index.
    # The local date: an order placed at 03:37 in Jinzhai is that day's, not yesterday's in UTC.
    return f"{station.code}-{timezone.localtime(now):%y%m%d}-{secrets.token_hex(3).upper()}"


def commission_of(line_total_fen: int, rate_bp: int) -> int:
    """Commission in whole fen, rounded down: the partner never sees a fraction of a fen."""
    return line_total_fen * rate_bp // 10_000


def _lock_credit_account(villager: Villager) -> CreditAccount | None:
    return CreditAccount.objects.select_for_update().filter(villager_id=villager.pk).first()


# --- place -----------------------------------------------------------------------------

def order_place(*, scope: Scope, station: Station, villager: Villager, lines, payment_method: str,
                idempotency_key: str = "", return_window_days: int = RETURN_WINDOW_DAYS,
                relative_id: int | None = None) -> Order:
    """Place an assisted order for a villager and take payment the chosen way.

    lines are (product_id, quantity, expected_unit_price_fen): the price the partner
    showed the villager. Refusals change nothing: field errors (ValidationError) name
    the line; a price that changed is PriceChanged (409, with the new prices, so the
    partner confirms and sends again); too little stock is a 409 out_of_stock naming
    the product; credit beyond the villager's limit is a 400 credit_limit_exceeded.
    cash_now and credit orders are paid at once; cash_on_delivery stays placed until
    the hand-over; online and relative_pays orders await the provider's payment (a
    relative_pays order sends a pay link to relative_id, one of the villager's migrant
    relatives) and are cancelled if unpaid by payment_due_at. A repeat with the same
    idempotency_key at the station returns the first order (found under the product
    locks, so a twin waits for the first to commit).

    The checks that need no lock run before the transaction, so on SQLite the single
    write lock is held only for the locked reads and the writes.
    """
    _require_station(scope, station)
    key = (idempotency_key or "").strip()
    if len(key) > 255:
        raise ValidationError({"idempotency_key": [_("An idempotency key has at most 255 characters.")]})
    require_station_serving(station)
    errors: dict[str, list[str]] = {}
    if villager.station_id != station.pk:
        errors["villager"] = [_("This villager is registered at another station.")]
    if payment_method not in PaymentMethod.values:
        errors["payment_method"] = [_("Choose cash now, cash on delivery, credit, online or a relative pays.")]
    elif payment_method not in AVAILABLE_PAYMENT_METHODS:
        errors["payment_method"] = [_("\"%(method)s\" is not available yet; choose cash now, cash on delivery "
                                      "or credit.") % {"method": PaymentMethod(payment_method).label}]
    relative = _relative_to_pay(villager, payment_method, relative_id, errors)
    try:
        cleaned = _clean_lines(lines)
    except ValidationError as e:
        errors.update(e.message_dict)
    if type(return_window_days) is not int or not 0 <= return_window_days <= 90:
        errors["return_window_days"] = [_("The return window is 0 to 90 days.")]
    if errors:
        raise ValidationError(errors)

    attempt = 0
    while True:
        attempt += 1
        number = _new_number(station, timezone.now())
        try:
            with transaction.atomic():
                order = _place_locked(scope=scope, station=station, villager=villager, cleaned=cleaned, number=number,
                                      payment_method=payment_method, key=key, return_window_days=return_window_days)
                if order.status == OrderStatus.PLACED and order.payment_method in PROVIDER_PAYMENT_METHODS:
                    _await_payment(order, scope=scope, relative=relative)
                return order
        except IntegrityError:
            # A twin with the same key over other products took no lock in common with this
            # one; the unique (station, key) index made this one wait, then refused it.
            existing = _order_by_key(station, key) if key else None
            if existing is not None:
                return existing
            # Or the number's random tail met another order's that day: draw again.
            if attempt == NUMBER_ATTEMPTS or pk_where(Order, number=number) is None:
                raise


def _order_by_key(station: Station, key: str) -> Order | None:
    pk = pk_where(Order, station_id=station.pk, idempotency_key=key)  # nearly always none: no model to build
    return Order.objects.get(pk=pk) if pk else None


def _place_locked(*, scope: Scope, station: Station, villager: Villager, cleaned: list[LineInput], number: str,
                  payment_method: str, key: str, return_window_days: int) -> Order:
    """order_place's work under the product locks; the caller holds the transaction.

    The Double-11 hot path: each kind of row takes one statement (the order, its lines,
    the stock of all of them, its events, the ledger's transactions and entries, the
    notices), and the statements are built once (product_lock_for_sale, insert_new).
    """
    products = product_lock_for_sale(product_ids=[line.product_id for line in cleaned])
    if key:
        # A twin with the same key may have committed while this one waited for the locks.
        existing = _order_by_key(station, key)
        if existing is not None:
            return existing
    missing = {f"lines.{i}.product_id": [_("This product is not on sale.")]
               for i, line in enumerate(cleaned)
               if line.product_id not in products or not products[line.product_id].listed}
    if missing:
        raise ValidationError(missing)
    changed = {i: products[line.product_id] for i, line in enumerate(cleaned)
               if products[line.product_id].price_fen != line.expected_unit_price_fen}
    if changed:
        raise PriceChanged(
            _("Prices changed since you looked: %(changes)s. Show the villager the new prices and confirm.")
            % {"changes": "; ".join(_("%(name)s is now %(new)s (was %(old)s)") % {
                "name": p.name, "new": format_fen(p.price_fen), "old": format_fen(cleaned[i].expected_unit_price_fen)}
                for i, p in changed.items())},
            new_prices={p.id: p.price_fen for p in changed.values()},
            fields={f"lines.{i}.expected_unit_price_fen": [str(p.price_fen)] for i, p in changed.items()},
        )
    for i, line in enumerate(cleaned):
        product = products[line.product_id]
        if product.stock < line.quantity:
            raise Conflict(_("Only %(stock)s of %(name)s left; %(wanted)s asked for.")
                           % {"stock": product.stock, "name": product.name, "wanted": line.quantity},
                           code="out_of_stock", fields={f"lines.{i}.quantity": [
                               _("Only %(stock)s left.") % {"stock": product.stock}]})

    goods_total = sum(products[line.product_id].price_fen * line.quantity for line in cleaned)
    credit = None
    if payment_method == PaymentMethod.CREDIT:
        credit = _lock_credit_account(villager)
        limit = credit.limit_fen if credit else 0
        outstanding = credit.outstanding_fen if credit else 0
        if outstanding + goods_total > limit:
            raise DomainError(
                _("%(villager)s may owe at most %(limit)s and already owes %(outstanding)s; this order of %(total)s "
                  "is too much on credit.") % {"villager": villager.name, "limit": format_fen(limit),
                                               "outstanding": format_fen(outstanding), "total": format_fen(goods_total)},
                code="credit_limit_exceeded", fields={"payment_method": [_("Over the credit limit.")]})

    now = timezone.now()
    order_lines = []
    for line in cleaned:
        product = products[line.product_id]
        line_total = product.price_fen * line.quantity
        order_lines.append(OrderLine(
            product=_product_named(product), quantity=line.quantity, unit_price_fen=product.price_fen,
            local_price_fen=product.local_price_fen, commission_rate_bp=product.commission_rate_bp,
            line_total_fen=line_total, commission_fen=commission_of(line_total, product.commission_rate_bp)))
    local_total = (sum((line.local_price_fen or line.unit_price_fen) * line.quantity for line in order_lines)
                   if any(line.local_price_fen for line in order_lines) else 0)
    # Paid at once: written paid, with both events (placed, paid), rather than placed and then updated.
    pays_now = payment_method in (PaymentMethod.CASH_NOW, PaymentMethod.CREDIT)
    [order] = insert_new([Order(
        county_id=station.county_id, station=station, villager=villager, placed_by=scope.user,
        number=number, status=OrderStatus.PAID if pays_now else OrderStatus.PLACED,
        payment_method=payment_method, goods_total_fen=goods_total, local_total_fen=local_total,
        commission_fen=sum(line.commission_fen for line in order_lines),
        commission_state=CommissionState.PENDING, return_window_days=return_window_days,
        idempotency_key=key, placed_at=now, paid_at=now if pays_now else None)])
    for line in order_lines:
        line.order = order
    insert_new(order_lines)
    product_stock_move(changes={line.product_id: -line.quantity for line in cleaned})
    steps = [("", OrderStatus.PLACED)] + ([(OrderStatus.PLACED, OrderStatus.PAID)] if pays_now else [])
    events = insert_new([
        OrderEvent(order=order, county_id=order.county_id, actor=scope.user, at=now, from_status=from_status,
                   to_status=to_status) for from_status, to_status in steps])
    order.placed_rows = (order_lines, events)  # what the answer shows, without reading it back

    ref = Reference.to(order)
    memo = _("Order %(number)s") % {"number": order.number}
    payment = {PaymentMethod.CASH_NOW: ledger.cash_payment,
               PaymentMethod.CREDIT: ledger.credit_sale}.get(payment_method)
    postings = (([payment(amount_fen=goods_total, reference=ref, memo=memo)] if payment else [])
                + ([ledger.commission_accrual(amount_fen=order.commission_fen, reference=ref, memo=memo)]
                   if order.commission_fen else []))
    if postings:
        ledger.post_new_events(scope=scope, station=station, postings=postings)
    if credit is not None:
        CreditAccount.objects.filter(pk=credit.pk).update(outstanding_fen=F("outstanding_fen") + goods_total)
    params = {"order_no": order.number, "amount": yuan(goods_total)}
    # Placed and paid are told together, in one insert; the order is new, so nothing was told of it before.
    notices_enqueue(events=[NoticeRequest("order_placed", f"order:{order.pk}:placed", params)]
                    + ([NoticeRequest("order_paid", f"order:{order.pk}:paid", params)] if pays_now else []),
                    villager=villager, station_id=station.pk, actor=scope.user, new_events=True)
    return order


def _product_named(product: ProductForSale) -> Product:
    """The line's product as a model with only its name read (the answer shows it); the rest loads if asked."""
    return Product.from_db(None, ["id", "name"], [product.id, product.name])


# --- the way to the villager -----------------------------------------------------------

@transaction.atomic
def order_advance(*, scope: Scope, order: Order, to_status: str, note: str = "") -> Order:
    """Move the order along its way: shipped, at the county warehouse, at the station.

    County staff or the system (logistics) only. A repeat of the current status is a
    no-op, so a retried scan changes nothing.
    """
    _require_station(scope, order.station)
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff move orders along their way."))
    if to_status not in ADVANCE_FROM:
        raise ValidationError({"to_status": [_("Move an order to shipped, the county warehouse or the station.")]})
    order = _lock_order(order)
    if order.status == to_status:
        return order
    allowed = ADVANCE_FROM[to_status]
    if order.status not in allowed or (
            order.status == OrderStatus.PLACED and order.payment_method != PaymentMethod.CASH_ON_DELIVERY):
        raise Conflict(_("Order %(number)s is %(status)s and cannot move to %(to)s.")
                       % {"number": order.number, "status": order.get_status_display(),
                          "to": OrderStatus(to_status).label}, code="bad_transition")
    return _set_status(order, scope=scope, to_status=to_status, at=timezone.now(), note=note)


@transaction.atomic
def order_hand_over(*, scope: Scope, order: Order) -> Order:
    """Give the goods to the villager at the station; cash on delivery is taken now.

    The return window starts now. A repeat is a no-op.
    """
    _require_station(scope, order.station)
    order = _lock_order(order)
    if order.status == OrderStatus.HANDED_OVER:
        return order
    if order.status != OrderStatus.AT_STATION:
        raise Conflict(_("Order %(number)s is %(status)s; goods are handed over once they are at the station.")
                       % {"number": order.number, "status": order.get_status_display()}, code="bad_transition")
    now = timezone.now()
    fields = {"handed_over_at": now}
    if order.payment_method == PaymentMethod.CASH_ON_DELIVERY and order.paid_at is None:
        ledger.record_cash_payment(scope=scope, station=order.station, amount_fen=order.goods_total_fen,
                                   reference=Reference.to(order),
                                   memo=_("Order %(number)s, cash on delivery") % {"number": order.number})
        fields["paid_at"] = now
        notice_enqueue(kind="order_paid", villager=order.villager, dedupe_key=f"order:{order.pk}:paid",
                       params={"order_no": order.number, "amount": yuan(order.goods_total_fen)},
                       station_id=order.station_id, actor=scope.user)
    return _set_status(order, scope=scope, to_status=OrderStatus.HANDED_OVER, at=now, **fields)


def return_window_ends(order: Order) -> datetime | None:
    if order.handed_over_at is None:
        return None
    return order.handed_over_at + timedelta(days=order.return_window_days)


def order_complete_due(*, now: datetime | None = None) -> int:
    """Complete every handed-over order whose return window has passed; earn its commission.

    Each order in its own transaction, so one failure does not hold back the rest.
    Idempotent: a second run finds nothing to do. Returns how many it completed.
    """
    now = now or timezone.now()
    done = 0
    candidates = (Order.objects.filter(status=OrderStatus.HANDED_OVER, handed_over_at__lte=now)
                  .values_list("pk", "handed_over_at", "return_window_days"))
    for pk, handed_over_at, days in candidates:
        if handed_over_at + timedelta(days=days) > now:
            continue
        if _complete_one(pk, now):
            done += 1
    return done


@transaction.atomic
def _complete_one(pk: int, now: datetime) -> bool:
    order = Order.objects.select_for_update().select_related("station").get(pk=pk)
    ends = return_window_ends(order)
    if order.status != OrderStatus.HANDED_OVER or ends is None or ends > now:
        return False
    if order.commission_fen:
        ledger.earn_commission(scope=SYSTEM_SCOPE, station=order.station, reference=Reference.to(order),
                               memo=_("Order %(number)s") % {"number": order.number})
    _set_status(order, scope=SYSTEM_SCOPE, to_status=OrderStatus.COMPLETED, at=now, closed_at=now,
                commission_state=CommissionState.EARNED, note=_("Return window passed."))
    return True


# --- undo ------------------------------------------------------------------------------

def _undo(order: Order, *, scope: Scope, to_status: str, reason: str, now: datetime) -> Order:
    """Put the stock back, return the money the way it came, reverse the commission.

    The caller holds the order's lock and has checked the status.
    """
    lines = list(order.lines.all())
    product_lock_for_update(product_ids=[line.product_id for line in lines])
    product_stock_move(changes={line.product_id: line.quantity for line in lines})
    ref = Reference.to(order)
    memo = _("Order %(number)s: %(reason)s") % {"number": order.number, "reason": reason}
    if order.paid_at is not None:
        _refund(order, scope=scope, reference=ref, memo=memo)
    if order.payment_method in PROVIDER_PAYMENT_METHODS:
        _close_pending_payments(order)
    if order.commission_fen:
        ledger.reverse_commission(scope=scope, station=order.station, reference=ref, memo=memo[:200])
    return _set_status(order, scope=scope, to_status=to_status, at=now, note=reason, closed_at=now,
                       commission_state=CommissionState.REVERSED)


def _refund(order: Order, *, scope: Scope, reference: Reference, memo: str) -> None:
    method = REFUND_METHOD[order.payment_method]
    amount = order.goods_total_fen
    if method == "credit":
        credit = _lock_credit_account(order.villager)
        # What the villager already paid back of this debt comes back as cash.
        cancel = min(amount, credit.outstanding_fen if credit else 0)
        if cancel:
            ledger.record_refund(scope=scope, station=order.station, amount_fen=cancel, reference=reference,
                                 method="credit", memo=memo[:200])
            CreditAccount.objects.filter(pk=credit.pk).update(outstanding_fen=F("outstanding_fen") - cancel)
        amount -= cancel
        method = "cash"
    if amount:
        ledger.record_refund(scope=scope, station=order.station, amount_fen=amount, reference=reference,
                             method=method, memo=memo[:200])
    if method == "online":  # last: the provider's refund is the one step a rollback cannot undo
        _refund_through_provider(order, amount_fen=amount, reason=memo)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why, for the villager's and the county's records.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("A reason has at most 300 characters.")]})
    return reason


@transaction.atomic
def order_cancel(*, scope: Scope, order: Order, reason: str) -> Order:
    """Cancel an order before the hand-over: stock back, money back the way it came, commission reversed."""
    _require_station(scope, order.station)
    reason = _clean_reason(reason)
    _lock_payments(order)
    order = _lock_order(order)
    if order.status == OrderStatus.CANCELLED:
        return order
    if order.status not in CANCELLABLE:
        raise Conflict(_("Order %(number)s is %(status)s and can no longer be cancelled.")
                       % {"number": order.number, "status": order.get_status_display()}, code="not_cancellable")
    return _undo(order, scope=scope, to_status=OrderStatus.CANCELLED, reason=reason, now=timezone.now())


@transaction.atomic
def order_return(*, scope: Scope, order: Order, reason: str, now: datetime | None = None) -> Order:
    """Take the goods back at the station within the return window, and refund them."""
    _require_station(scope, order.station)
    reason = _clean_reason(reason)
    _lock_payments(order)
    order = _lock_order(order)
    if order.status == OrderStatus.RETURNED:
        return order
    if order.status != OrderStatus.HANDED_OVER:
        raise Conflict(_("Order %(number)s is %(status)s; only goods handed over can be returned.")
                       % {"number": order.number, "status": order.get_status_display()}, code="not_returnable")
    now = now or timezone.now()
    ends = return_window_ends(order)
    if ends <= now:
        raise Conflict(_("The return window of order %(number)s closed on %(date)s.")
                       % {"number": order.number, "date": timezone.localtime(ends).strftime("%Y-%m-%d %H:%M")},
                       code="return_window_closed")
    return _undo(order, scope=scope, to_status=OrderStatus.RETURNED, reason=reason, now=now)


# --- paid through the provider: online, a relative pays ---------------------------------

def _relative_to_pay(villager: Villager, payment_method: str, relative_id, errors: dict) -> MigrantRelative | None:
    """The migrant relative asked to pay a relative_pays order; a field error if none fits."""
    if payment_method != PaymentMethod.RELATIVE_PAYS:
        return None
    relative = (MigrantRelative.objects.filter(pk=relative_id, villager_id=villager.pk).exclude(phone="").first()
                if type(relative_id) is int else None)
    if relative is None:
        errors["relative"] = [_("Choose which of %(villager)s's relatives pays.") % {"villager": villager.name}]
    return relative


def _payment_deadline(order: Order, start: datetime) -> datetime:
    if order.payment_method == PaymentMethod.RELATIVE_PAYS:
        return start + timedelta(hours=getattr(settings, "ORDERS_PAY_LINK_HOURS", PAY_LINK_HOURS))
    return start + timedelta(minutes=getattr(settings, "ORDERS_ONLINE_PAYMENT_MINUTES", ONLINE_PAYMENT_MINUTES))


def _start_payment(order: Order) -> tuple[Payment, payments.Checkout]:
    return payments.payment_start(
        purpose=PAYMENT_PURPOSE, reference=order.number, amount_fen=order.goods_total_fen, county_id=order.county_id,
        description=_("Order %(number)s at %(station)s") % {"number": order.number, "station": order.station.name},
        return_url=reverse("orders:pay_done"), expires_at=order.payment_due_at)


def _await_payment(order: Order, *, scope: Scope, relative: MigrantRelative | None) -> None:
    """A placed online or relative-pays order waits for the provider; a relative gets the pay link."""
    now = timezone.now()
    _set_status(order, scope=scope, to_status=OrderStatus.AWAITING_PAYMENT, at=now,
                payment_due_at=_payment_deadline(order, order.placed_at))
    _start_payment(order)
    if relative is None:
        return
    link = PayLink.objects.create(county_id=order.county_id, order=order, relative=relative,
                                  token=secrets.token_urlsafe(24), created_at=now, expires_at=order.payment_due_at)
    notice_enqueue(kind="pay_link", relative=relative, dedupe_key=f"order:{order.pk}:pay_link",
                   params={"order_no": order.number, "amount": yuan(order.goods_total_fen),
                           "url": pay_link_url(link),
                           "expires": timezone.localtime(link.expires_at).strftime("%Y-%m-%d %H:%M")},
                   station_id=order.station_id, actor=scope.user)


def pay_link_url(link: PayLink) -> str:
    """The link's address for the relative's phone (absolute when settings.PUBLIC_BASE_URL is set)."""
    return payments.full_url(reverse("orders:pay_link", args=[link.token]))


def _order_payments(order: Order):
    return Payment.objects.filter(purpose=PAYMENT_PURPOSE, reference=order.number)


def _lock_payments(order: Order) -> list[Payment]:
    """Lock the order's provider payments before the order itself, in the webhook's lock order."""
    if order.payment_method not in PROVIDER_PAYMENT_METHODS:
        return []
    return list(_order_payments(order).select_for_update().order_by("pk"))


def _close_pending_payments(order: Order) -> None:
    for payment in _order_payments(order).filter(status=PaymentStatus.PENDING).select_for_update():
        payments.payment_expire(payment)


def _refund_through_provider(order: Order, *, amount_fen: int, reason: str) -> None:
    paid = _order_payments(order).filter(status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)).first()
    if paid is None:
        raise Conflict(_("Order %(number)s has no online payment to refund.") % {"number": order.number},
                       code="no_payment")
    payments.payment_refund(payment=paid, amount_fen=amount_fen, reason=reason)


def order_payment_succeeded(payment: Payment) -> None:
    """The provider's verified webhook: the order is paid (payment handler for purpose "order").

    Runs inside the webhook's transaction with the payment locked, once per payment. Money
    that arrives for an order no longer waiting (cancelled, expired) is taken and given
    straight back, the way it came.
    """
    order = Order.objects.select_for_update().select_related("station", "villager").get(number=payment.reference)
    now = timezone.now()
    ref = Reference.to(order)
    memo = _("Order %(number)s, paid online") % {"number": order.number}
    ledger.record_online_payment(scope=SYSTEM_SCOPE, station=order.station, amount_fen=payment.amount_fen,
                                 reference=ref, dedupe_key=f"payment:online:{payment.provider_ref}", memo=memo)
    if order.status != OrderStatus.AWAITING_PAYMENT or order.paid_at is not None:
        note = _("Paid after the order was closed; refunded.")
        payments.payment_refund(payment=payment, amount_fen=payment.amount_fen, reason=note)
        ledger.record_refund(scope=SYSTEM_SCOPE, station=order.station, amount_fen=payment.amount_fen, reference=ref,
                             method="online", dedupe_key=f"refund:online:{payment.provider_ref}", memo=note)
        _event(order, scope=SYSTEM_SCOPE, from_status=order.status, to_status=order.status, at=now, note=note)
        return
    _set_status(order, scope=SYSTEM_SCOPE, to_status=OrderStatus.PAID, at=now, paid_at=now,
                note=_("Paid online (%(ref)s).") % {"ref": payment.provider_ref})
    notice_enqueue(kind="order_paid", villager=order.villager, dedupe_key=f"order:{order.pk}:paid",
                   params={"order_no": order.number, "amount": yuan(order.goods_total_fen)},
                   station_id=order.station_id)


class PaymentClosed(DomainError):
    """The order no longer waits for payment (cancelled, or past its deadline): 410."""

    status = 410
    code = "payment_expired"


@transaction.atomic
def order_checkout(*, order: Order, now: datetime | None = None) -> tuple[Payment, payments.Checkout]:
    """The payment to pay this order with now: the pending one, or a new one after a decline.

    Refused once the order is paid (409 already_paid) or no longer waiting (410 expired).
    Callers check who may ask: the partner (scope) or the holder of the pay link.
    """
    order = _lock_order(order)
    now = now or timezone.now()
    if order.paid_at is not None:
        raise Conflict(_("Order %(number)s is already paid.") % {"number": order.number}, code="already_paid")
    if order.status != OrderStatus.AWAITING_PAYMENT or (order.payment_due_at and order.payment_due_at <= now):
        raise PaymentClosed(_("Order %(number)s can no longer be paid.") % {"number": order.number})
    return _start_payment(order)


def orders_expire_unpaid(*, now: datetime | None = None) -> int:
    """Cancel every order still awaiting payment past its deadline: stock back, payments expired.

    Each order in its own transaction; a second run finds nothing. Returns how many it cancelled.
    """
    now = now or timezone.now()
    due = Order.objects.filter(status=OrderStatus.AWAITING_PAYMENT, payment_due_at__lte=now).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if _expire_one(pk, now))


@transaction.atomic
def _expire_one(pk: int, now: datetime) -> bool:
    order = Order.objects.select_related("station").get(pk=pk)
    _lock_payments(order)
    order = Order.objects.select_for_update().select_related("station").get(pk=pk)
    if order.status != OrderStatus.AWAITING_PAYMENT or order.payment_due_at is None or order.payment_due_at > now:
        return False
    _undo(order, scope=SYSTEM_SCOPE, to_status=OrderStatus.CANCELLED, reason=_("Not paid in time."), now=now)
    return True


# --- credit ----------------------------------------------------------------------------

@transaction.atomic
def credit_limit_set(*, scope: Scope, villager: Villager, limit_fen: int) -> CreditAccount:
    """Set how much a villager may owe at their station (the partner's trust), within the maximum."""
    if not scope.may_reach_station(villager.station_id, villager.county_id):
        raise NotFound(detail="villager")
    if type(limit_fen) is not int or limit_fen < 0:
        raise ValidationError({"limit_fen": [_("Give the limit as a whole number of fen, 0 or more.")]})
    if limit_fen > CREDIT_LIMIT_MAX_FEN:
        raise ValidationError({"limit_fen": [_("The county allows at most %(max)s of credit per villager.")
                                             % {"max": format_fen(CREDIT_LIMIT_MAX_FEN)}]})
    account, _created = CreditAccount.objects.get_or_create(
        villager=villager, defaults={"county_id": villager.county_id, "station_id": villager.station_id})
    account = CreditAccount.objects.select_for_update().get(pk=account.pk)
    account.limit_fen = limit_fen
    account.limit_set_by = scope.user
    account.limit_set_at = timezone.now()
    account.save(update_fields=["limit_fen", "limit_set_by", "limit_set_at"])
    return account


@transaction.atomic
def credit_repay(*, scope: Scope, villager: Villager, amount_fen: int, dedupe_key: str) -> CreditAccount:
    """The villager pays back credit in cash at the station; refused above what they owe."""
    if not scope.may_reach_station(villager.station_id, villager.county_id):
        raise NotFound(detail="villager")
    account = _lock_credit_account(villager)
    owed = account.outstanding_fen if account else 0
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValidationError({"amount_fen": [_("Give the amount as a whole number of fen, more than zero.")]})
    if amount_fen > owed:
        raise ValidationError({"amount_fen": [_("%(villager)s owes %(owed)s; %(amount)s is more.")
                                              % {"villager": villager.name, "owed": format_fen(owed),
                                                 "amount": format_fen(amount_fen)}]})
    txn = ledger.record_credit_repayment(scope=scope, station=villager.station, amount_fen=amount_fen,
                                         reference=Reference.to(account), dedupe_key=f"credit_repayment:{dedupe_key}")
    if not getattr(txn, "replayed", False):
        CreditAccount.objects.filter(pk=account.pk).update(outstanding_fen=F("outstanding_fen") - amount_fen)
    account.refresh_from_db()
    return account


# --- external-marketplace orders -------------------------------------------------------

EXTERNAL_NEXT = {
    # to: the statuses it may come from
    ExternalOrderStatus.PARCEL_ARRIVED: (ExternalOrderStatus.PLACED,),
    ExternalOrderStatus.HANDED_OVER: (ExternalOrderStatus.PARCEL_ARRIVED,),
    ExternalOrderStatus.CANCELLED: (ExternalOrderStatus.PLACED, ExternalOrderStatus.PARCEL_ARRIVED),
}
EXTERNAL_AMOUNT_MAX_FEN = 10_000_000  # ¥100,000: beyond that it is a typo


def _clean_external(*, platform, platform_order_number, amount_fen, description, carrier, tracking_number) -> dict:
    errors: dict[str, list[str]] = {}
    if platform not in ExternalPlatform.values:
        errors["platform"] = [_("Choose the platform the order was placed on.")]
    number = "".join((platform_order_number or "").split())
    if not number:
        errors["platform_order_number"] = [_("Give the platform's order number.")]
    elif len(number) > 64:
        errors["platform_order_number"] = [_("An order number has at most 64 characters.")]
    if type(amount_fen) is not int or amount_fen <= 0:
        errors["amount_fen"] = [_("Give the amount paid on the platform, more than zero.")]
    elif amount_fen > EXTERNAL_AMOUNT_MAX_FEN:
        errors["amount_fen"] = [_("At most %(max)s; check the amount.") % {"max": format_fen(EXTERNAL_AMOUNT_MAX_FEN)}]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Say what was bought.")]
    elif len(description) > 200:
        errors["description"] = [_("At most 200 characters.")]
    carrier, tracking = (carrier or "").strip(), "".join((tracking_number or "").split()).upper()
    if len(carrier) > 40:
        errors["carrier"] = [_("At most 40 characters.")]
    if len(tracking) > 40:
        errors["tracking_number"] = [_("A tracking number has at most 40 characters.")]
    if errors:
        raise ValidationError(errors)
    return {"platform": platform, "platform_order_number": number, "amount_fen": amount_fen,
            "description": description, "carrier": carrier, "tracking_number": tracking}


def _duplicate_external(station: Station, platform: str, number: str) -> Conflict:
    return Conflict(_("%(platform)s order %(number)s is already recorded at this station.")
                    % {"platform": ExternalPlatform(platform).label, "number": number},
                    code="duplicate_external_order",
                    fields={"platform_order_number": [_("Already recorded.")]})


@transaction.atomic
def external_order_record(*, scope: Scope, station: Station, villager: Villager, platform: str,
                          platform_order_number: str, amount_fen: int, description: str, carrier: str = "",
                          tracking_number: str = "") -> ExternalOrder:
    """Record an order the partner placed for a villager on another marketplace.

    Nothing is posted to the ledger (see ExternalOrder). The same platform order twice
    at a station is a 409 duplicate_external_order.
    """
    _require_station(scope, station)
    if villager.station_id != station.pk:
        raise ValidationError({"villager": [_("This villager is registered at another station.")]})
    data = _clean_external(platform=platform, platform_order_number=platform_order_number, amount_fen=amount_fen,
                           description=description, carrier=carrier, tracking_number=tracking_number)
    if ExternalOrder.objects.filter(station=station, platform=data["platform"],
                                    platform_order_number=data["platform_order_number"]).exists():
        raise _duplicate_external(station, data["platform"], data["platform_order_number"])
    now = timezone.now()
    try:
        # A twin recorded at the same moment meets the unique index here.
        with transaction.atomic():
            order = ExternalOrder.objects.create(county_id=station.county_id, station=station, villager=villager,
                                                 recorded_by=scope.user, recorded_at=now, **data)
    except IntegrityError:
        raise _duplicate_external(station, data["platform"], data["platform_order_number"]) from None
    _external_event(order, scope=scope, from_status="", to_status=ExternalOrderStatus.PLACED, at=now)
    return order


def _external_event(order: ExternalOrder, *, scope: Scope, from_status: str, to_status: str, at: datetime,
                    note: str = "") -> None:
    ExternalOrderEvent.objects.create(external_order=order, county_id=order.county_id, actor=scope.user, at=at,
                                      from_status=from_status, to_status=to_status, note=(note or "")[:300])


@transaction.atomic
def _external_move(*, scope: Scope, external_order: ExternalOrder, to_status: str, note: str = "") -> ExternalOrder:
    """Move an external order to to_status; a repeat of the current status is a no-op."""
    _require_station(scope, external_order.station)
    order = ExternalOrder.objects.select_for_update().get(pk=external_order.pk)
    if order.status == to_status:
        return order
    if order.status not in EXTERNAL_NEXT[to_status]:
        raise Conflict(_("%(order)s is %(status)s and cannot become %(to)s.")
                       % {"order": order, "status": order.get_status_display(),
                          "to": ExternalOrderStatus(to_status).label}, code="bad_transition")
    now = timezone.now()
    from_status = order.status
    order.status = to_status
    if to_status in (ExternalOrderStatus.HANDED_OVER, ExternalOrderStatus.CANCELLED):
        order.closed_at = now
    order.save(update_fields=["status", "closed_at"])
    _external_event(order, scope=scope, from_status=from_status, to_status=to_status, at=now, note=note)
    return order


def external_order_parcel_arrived(*, scope: Scope, external_order: ExternalOrder, note: str = "") -> ExternalOrder:
    """The platform's parcel reached the station (the partner says so, or logistics matched it)."""
    return _external_move(scope=scope, external_order=external_order, to_status=ExternalOrderStatus.PARCEL_ARRIVED,
                          note=note)


def external_order_hand_over(*, scope: Scope, external_order: ExternalOrder) -> ExternalOrder:
    """The villager took the parcel."""
    return _external_move(scope=scope, external_order=external_order, to_status=ExternalOrderStatus.HANDED_OVER)


def external_order_cancel(*, scope: Scope, external_order: ExternalOrder, reason: str) -> ExternalOrder:
    """The order was cancelled on the platform (or the parcel refused); the reason is kept."""
    return _external_move(scope=scope, external_order=external_order, to_status=ExternalOrderStatus.CANCELLED,
                          note=_clean_reason(reason))


def external_order_act(*, scope: Scope, external_order: ExternalOrder, action: str, reason: str = "") -> ExternalOrder:
    """Apply a named step (parcel_arrived, handed_over, cancelled): the one switch for the page and the API."""
    if action == ExternalOrderStatus.PARCEL_ARRIVED:
        return external_order_parcel_arrived(scope=scope, external_order=external_order)
    if action == ExternalOrderStatus.HANDED_OVER:
        return external_order_hand_over(scope=scope, external_order=external_order)
    if action == ExternalOrderStatus.CANCELLED:
        return external_order_cancel(scope=scope, external_order=external_order, reason=reason)
    raise ValidationError({"action": [_("Choose parcel arrived, handed over or cancelled.")]})


def external_order_parcel_arrived_by_tracking(*, scope: Scope, station: Station,
                                              tracking_number: str) -> ExternalOrder | None:
    """For logistics: mark the station's open external order waiting for this parcel as arrived.

    Returns the order, or None when no order at the station waits for that tracking
    number (most parcels are not external orders).
    """
    tracking = "".join((tracking_number or "").split()).upper()
    if not tracking:
        return None
    order = (ExternalOrder.objects.filter(station=station, tracking_number=tracking,
                                          status__in=(ExternalOrderStatus.PLACED, ExternalOrderStatus.PARCEL_ARRIVED))
             .select_related("station").first())
    if order is None:
        return None
    return external_order_parcel_arrived(scope=scope, external_order=order,
                                         note=_("Parcel %(tracking)s scanned.") % {"tracking": tracking})


# --- fraud signal reviews --------------------------------------------------------------

@transaction.atomic
def flag_review(*, scope: Scope, county_id: int, flag_key: str, outcome: str, note: str) -> FlagReview:
    """Record county staff's judgement on one current fraud flag. Never changes an order."""
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff review fraud signals."))
    errors: dict[str, list[str]] = {}
    if outcome not in ReviewOutcome.values:
        errors["outcome"] = [_("Choose no issue or follow up.")]
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Write what you checked, for the next reviewer.")]
    elif len(note) > 500:
        errors["note"] = [_("At most 500 characters.")]
    if errors:
        raise ValidationError(errors)
    flag = flag_get(scope=scope, county_id=county_id, flag_key=flag_key)
    if flag.review is not None:
        raise Conflict(_("This flag was already reviewed by %(who)s.") % {"who": flag.review.reviewed_by},
                       code="already_reviewed")
    try:
        with transaction.atomic():
            return FlagReview.objects.create(county_id=county_id, station_id=flag.station.pk, kind=flag.kind,
                                             flag_key=flag.key, outcome=outcome, note=note, reviewed_by=scope.user,
                                             reviewed_at=timezone.now())
    except IntegrityError:
        raise Conflict(_("This flag has already been reviewed."), code="already_reviewed") from None
