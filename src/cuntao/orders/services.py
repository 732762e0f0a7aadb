"""Writes of assisted orders: place, advance, hand over, complete, cancel, return; credit.

Each service is one transaction. Locks are taken in one order everywhere so two writers
cannot deadlock: the order row, then products (in pk order, through the catalogue's
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
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.catalog.models import Product
from cuntao.catalog.services import product_lock_for_update
from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.money import format_fen
from cuntao.core.scope import Scope
from cuntao.ledger import services as ledger
from cuntao.ledger.services import SYSTEM_SCOPE, Reference
from cuntao.network.models import Station
from cuntao.notify.kinds import yuan
from cuntao.notify.services import notice_enqueue
from cuntao.orders.models import (
    AVAILABLE_PAYMENT_METHODS,
    MAX_QUANTITY,
    CommissionState,
    CreditAccount,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PaymentMethod,
)
from cuntao.villagers.models import Villager
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
CANCELLABLE = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.AT_COUNTY_WAREHOUSE,
               OrderStatus.AT_STATION)
REFUND_METHOD = {PaymentMethod.CASH_NOW: "cash", PaymentMethod.CASH_ON_DELIVERY: "cash", PaymentMethod.CREDIT: "credit"}


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


def _new_number(station: Station, now: datetime) -> str:
    # Station code, date and a random tail: readable over the phone, unique by the index.
    return f"{station.code}-{now:%y%m%d}-{secrets.token_hex(3).upper()}"


def commission_of(line_total_fen: int, rate_bp: int) -> int:
    """Commission in whole fen, rounded down: the partner never sees a fraction of a fen."""
    return line_total_fen * rate_bp // 10_000


def _lock_credit_account(villager: Villager) -> CreditAccount | None:
    return CreditAccount.objects.select_for_update().filter(villager_id=villager.pk).first()


# --- place -----------------------------------------------------------------------------

def order_place(*, scope: Scope, station: Station, villager: Villager, lines, payment_method: str,
                idempotency_key: str = "", return_window_days: int = RETURN_WINDOW_DAYS) -> Order:
    """Place an assisted order for a villager and take payment the chosen way.

    lines are (product_id, quantity, expected_unit_price_fen): the price the partner
    showed the villager. Refusals change nothing: field errors (ValidationError) name
    the line; a price that changed is PriceChanged (409, with the new prices, so the
    partner confirms and sends again); too little stock is a 409 out_of_stock naming
    the product; credit beyond the villager's limit is a 400 credit_limit_exceeded.
    cash_now and credit orders are paid at once; cash_on_delivery stays placed until
    the hand-over. A repeat with the same idempotency_key at the station returns the
    first order.

    The checks that need no lock run before the transaction, so on SQLite the single
    write lock is held only for the locked reads and the writes.
    """
    _require_station(scope, station)
    key = (idempotency_key or "").strip()
    if len(key) > 255:
        raise ValidationError({"idempotency_key": [_("An idempotency key has at most 255 characters.")]})
    if key:
        existing = Order.objects.filter(station=station, idempotency_key=key).first()
        if existing is not None:
            return existing
    require_station_serving(station)
    errors: dict[str, list[str]] = {}
    if villager.station_id != station.pk:
        errors["villager"] = [_("This villager is registered at another station.")]
    if payment_method not in PaymentMethod.values:
        errors["payment_method"] = [_("Choose cash now, cash on delivery or credit.")]
    elif payment_method not in AVAILABLE_PAYMENT_METHODS:
        errors["payment_method"] = [_("\"%(method)s\" is not available yet; choose cash now, cash on delivery "
                                      "or credit.") % {"method": PaymentMethod(payment_method).label}]
    try:
        cleaned = _clean_lines(lines)
    except ValidationError as e:
        errors.update(e.message_dict)
    if type(return_window_days) is not int or not 0 <= return_window_days <= 90:
        errors["return_window_days"] = [_("The return window is 0 to 90 days.")]
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        return _place_locked(scope=scope, station=station, villager=villager, cleaned=cleaned,
                             payment_method=payment_method, key=key, return_window_days=return_window_days)


def _place_locked(*, scope: Scope, station: Station, villager: Villager, cleaned: list[LineInput],
                  payment_method: str, key: str, return_window_days: int) -> Order:
    """order_place's work under the product locks; the caller holds the transaction."""
    products = product_lock_for_update(product_ids=[line.product_id for line in cleaned])
    if key:
        # A twin with the same key may have committed while this one waited for the locks.
        existing = Order.objects.filter(station=station, idempotency_key=key).first()
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
            new_prices={p.pk: p.price_fen for p in changed.values()},
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
        rate = product.category.commission_rate_bp if product.category_id else 0
        order_lines.append(OrderLine(
            product=product, quantity=line.quantity, unit_price_fen=product.price_fen,
            local_price_fen=product.local_price_fen, commission_rate_bp=rate, line_total_fen=line_total,
            commission_fen=commission_of(line_total, rate)))
    local_total = (sum((line.local_price_fen or line.unit_price_fen) * line.quantity for line in order_lines)
                   if any(line.local_price_fen for line in order_lines) else 0)
    try:
        # A twin with the same key over other products took no lock in common with this
        # one; the unique (station, key) index makes it wait here, then refuses it.
        with transaction.atomic():
            order = Order.objects.create(
                county_id=station.county_id, station=station, villager=villager, placed_by=scope.user,
                number=_new_number(station, now), status=OrderStatus.PLACED, payment_method=payment_method,
                goods_total_fen=goods_total, local_total_fen=local_total,
                commission_fen=sum(line.commission_fen for line in order_lines),
                commission_state=CommissionState.PENDING, return_window_days=return_window_days,
                idempotency_key=key, placed_at=now)
    except IntegrityError:
        existing = Order.objects.filter(station=station, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    for line in cleaned:
        # The row is locked and its stock checked above; the CHECK (stock >= 0) is the backstop.
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") - line.quantity)
    _event(order, scope=scope, from_status="", to_status=OrderStatus.PLACED, at=now)

    ref = Reference.to(order)
    memo = _("Order %(number)s") % {"number": order.number}
    if payment_method == PaymentMethod.CASH_NOW:
        ledger.record_cash_payment(scope=scope, station=station, amount_fen=goods_total, reference=ref, memo=memo)
    elif payment_method == PaymentMethod.CREDIT:
        ledger.record_credit_sale(scope=scope, station=station, amount_fen=goods_total, reference=ref, memo=memo)
        if credit is None:  # pragma: no cover - a zero limit refused above
            raise AssertionError("credit order without a credit account")
        CreditAccount.objects.filter(pk=credit.pk).update(outstanding_fen=F("outstanding_fen") + goods_total)
    if order.commission_fen:
        ledger.accrue_commission(scope=scope, station=station, amount_fen=order.commission_fen, reference=ref, memo=memo)
    params = {"order_no": order.number, "amount": yuan(goods_total)}
    notice_enqueue(kind="order_placed", villager=villager, dedupe_key=f"order:{order.pk}:placed", params=params,
                   station_id=station.pk, actor=scope.user)
    if payment_method != PaymentMethod.CASH_ON_DELIVERY:
        _set_status(order, scope=scope, to_status=OrderStatus.PAID, at=now, paid_at=now)
        notice_enqueue(kind="order_paid", villager=villager, dedupe_key=f"order:{order.pk}:paid", params=params,
                       station_id=station.pk, actor=scope.user)
    return order


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
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
    ref = Reference.to(order)
    memo = _("Order %(number)s: %(reason)s") % {"number": order.number, "reason": reason}
    if order.paid_at is not None:
        _refund(order, scope=scope, reference=ref, memo=memo)
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
