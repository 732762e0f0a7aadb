"""Writes of the village shop: buyers, carts, checkout, payment, fulfilment, refunds, payouts.

Locks are taken in one order everywhere so two writers cannot deadlock: the payment row
(the orders app's payments lock it first in the webhook), then the shop order, then
listings in pk order, then boxes. Checkout locks the listings it sells from, so two
checkouts of one product take turns at the stock; the boxes move by conditional UPDATE
(shop.boxes), and produce's check constraint is the backstop.

Money goes through the ledger (ledger_post, programme accounts of the cooperative's
county): a paid order is Dr online_clearing / Cr sales, a refund Dr refunds / Cr
online_clearing. The farmers' shares are recorded here (LotSale, PayoutShare); the
ledger has no account for money owed to farmers yet.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.money import format_fen
from cuntao.core.scope import Role, Scope
from cuntao.core.validators import normalize_phone
from cuntao.ledger.models import AccountKind, TransactionKind
from cuntao.ledger.services import SYSTEM_SCOPE, Reference, account_for, ledger_post
from cuntao.produce.models import Cooperative, GradedContribution, PackSize, Standard, StandardStatus
from cuntao.shop import boxes
from cuntao.shop.models import (
    MAX_BOXES_PER_LINE,
    MAX_LINES,
    Buyer,
    CartLine,
    Listing,
    LotSale,
    PayoutShare,
    ShopOrder,
    ShopOrderEvent,
    ShopOrderLine,
    ShopOrderStatus,
)
from cuntao.shop.split import fee_of, split_largest_remainder

logger = logging.getLogger("cuntao.shop")

PAYMENT_PURPOSE = "shop_order"
# How long checkout holds the boxes for payment; expired holds go back to stock.
RESERVATION_MINUTES = 30
REFUNDABLE = (ShopOrderStatus.PAID, ShopOrderStatus.PACKED, ShopOrderStatus.SHIPPED)
CANCELLABLE_BY_STAFF = (ShopOrderStatus.AWAITING_PAYMENT, ShopOrderStatus.PAID, ShopOrderStatus.PACKED)


@dataclass(frozen=True)
class Delivery:
    recipient_name: str
    recipient_phone: str
    address: str


# --- who may act ------------------------------------------------------------------------

def buyer_of(scope: Scope) -> Buyer:
    """The signed-in city buyer, or Forbidden (staff and partners are not buyers)."""
    user = scope.user
    buyer = Buyer.objects.filter(user_id=getattr(user, "pk", None)).first() if user is not None else None
    if buyer is None:
        raise Forbidden(_("Sign in as a city buyer to do this."), code="not_a_buyer")
    return buyer


def may_manage_cooperative(scope: Scope, cooperative: Cooperative) -> bool:
    """County staff of the cooperative's county (and programme admins) run its shop orders."""
    return scope.is_staff_scope and scope.may_reach_county(cooperative.county_id)


def _require_cooperative_staff(scope: Scope, cooperative: Cooperative) -> None:
    if not may_manage_cooperative(scope, cooperative):
        raise NotFound(detail="cooperative")


# --- buyers -----------------------------------------------------------------------------

@transaction.atomic
def buyer_register(*, name: str, phone: str, password: str) -> Buyer:
    """Register a city buyer: a user who signs in with their phone, and the buyer profile.

    The phone is checked and stored in E.164 form; the password must pass the project's
    password validators. A phone already registered is refused (sign in instead).
    """
    from cuntao.network.services import username_for_phone

    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Tell us your name, for the parcel label.")]
    elif len(name) > 50:
        errors["name"] = [_("A name has at most 50 characters.")]
    e164 = ""
    try:
        e164 = normalize_phone(phone)
    except ValidationError as e:
        errors["phone"] = e.messages
    User = get_user_model()
    username = username_for_phone(e164) if e164 else ""
    if e164 and (Buyer.objects.filter(phone=e164).exists() or User.objects.filter(username=username).exists()):
        errors["phone"] = [_("This phone number is already registered: sign in instead.")]
    try:
        validate_password(password or "", user=User(username=username, first_name=name))
    except ValidationError as e:
        errors["password"] = e.messages
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, first_name=name[:150])
            return Buyer.objects.create(user=user, name=name, phone=e164)
    except IntegrityError:
        raise ValidationError({"phone": [_("This phone number is already registered: sign in instead.")]}) from None


# --- listings ---------------------------------------------------------------------------

@transaction.atomic
def listing_publish(*, scope: Scope, pack_size: PackSize, price_fen: int | None = None, image_url: str = "") -> Listing:
    """Put a pack size of a published, branded standard on sale; a repeat updates price and image.

    The price defaults to the standard's price guidance.
    """
    # Read afresh: the caller's pack_size may carry a copy of its standard from before publishing.
    standard = Standard.objects.select_related("brand", "cooperative").get(pk=pack_size.standard_id)
    cooperative = standard.cooperative
    _require_cooperative_staff(scope, cooperative)
    if standard.status != StandardStatus.PUBLISHED or standard.brand_id is None:
        raise Conflict(_("Only pack sizes of a published standard with a brand can be sold."),
                       code="standard_not_published")
    price = pack_size.price_guidance_fen if price_fen is None else price_fen
    if type(price) is not int or price <= 0:
        raise ValidationError({"price_fen": [_("Give the price per box as a whole number of fen, more than zero.")]})
    brand = standard.brand
    title_zh = f"{brand.name} {pack_size.name}"[:120]
    title_en = f"{brand.name_en or brand.name} {pack_size.name_en or pack_size.name}"[:120]
    listing, _created = Listing.objects.update_or_create(
        cooperative=cooperative, pack_size=pack_size,
        defaults={"county_id": cooperative.county_id, "title_zh": title_zh, "title_en": title_en, "price_fen": price,
                  "story": brand.story, "image_url": image_url[:300], "is_listed": True})
    return listing


# --- cart -------------------------------------------------------------------------------

def _clean_quantity(quantity, field: str = "quantity") -> int:
    if type(quantity) is not int:
        raise ValidationError({field: [_("Give the number of boxes as a whole number.")]})
    if quantity < 1:
        raise ValidationError({field: [_("Buy at least 1 box.")]})
    if quantity > MAX_BOXES_PER_LINE:
        raise ValidationError({field: [_("At most %(max)s boxes of one product per order.") % {"max": MAX_BOXES_PER_LINE}]})
    return quantity


def _listed(listing_id) -> Listing:
    listing = Listing.objects.filter(pk=listing_id, is_listed=True).first() if type(listing_id) is int else None
    if listing is None:
        raise NotFound(_("This product is not on sale."), detail="listing")
    return listing


@transaction.atomic
def cart_put(*, scope: Scope, listing_id: int, quantity: int, add: bool = False) -> CartLine:
    """Set (or, with add, raise by) the boxes of a product in the buyer's cart; at most 20."""
    buyer = buyer_of(scope)
    quantity = _clean_quantity(quantity)
    listing = _listed(listing_id)
    line = CartLine.objects.select_for_update().filter(buyer=buyer, listing=listing).first()
    if line is None:
        return CartLine.objects.create(buyer=buyer, listing=listing, quantity=quantity)
    total = line.quantity + quantity if add else quantity
    _clean_quantity(total)
    line.quantity = total
    line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def cart_remove(*, scope: Scope, listing_id: int) -> None:
    buyer = buyer_of(scope)
    CartLine.objects.filter(buyer=buyer, listing_id=listing_id).delete()


# --- checkout ---------------------------------------------------------------------------

def _clean_lines(lines) -> list[tuple[int, int]]:
    """(listing_id, quantity) pairs; field errors name the line ("lines.2.quantity")."""
    if not lines:
        raise ValidationError({"lines": [_("Put at least one box in the cart.")]})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": [_("An order has at most %(max)s products.") % {"max": MAX_LINES}]})
    errors: dict[str, list[str]] = {}
    cleaned, seen = [], set()
    for i, line in enumerate(lines):
        try:
            listing_id, quantity = line
        except (TypeError, ValueError):
            errors[f"lines.{i}"] = [_("A line is a product and a number of boxes.")]
            continue
        if type(listing_id) is not int or listing_id <= 0:
            errors[f"lines.{i}.product_id"] = [_("Choose a product.")]
        elif listing_id in seen:
            errors[f"lines.{i}.product_id"] = [_("This product is on another line already.")]
        seen.add(listing_id)
        try:
            _clean_quantity(quantity, f"lines.{i}.quantity")
        except ValidationError as e:
            errors.update(e.message_dict)
        cleaned.append((listing_id, quantity))
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_delivery(*, recipient_name: str, recipient_phone: str, address: str) -> Delivery:
    errors: dict[str, list[str]] = {}
    name, address = (recipient_name or "").strip(), (address or "").strip()
    if not name:
        errors["recipient_name"] = [_("Name the person who receives the parcel.")]
    elif len(name) > 50:
        errors["recipient_name"] = [_("A name has at most 50 characters.")]
    phone = ""
    try:
        phone = normalize_phone(recipient_phone)
    except ValidationError as e:
        errors["recipient_phone"] = e.messages
    if len(address) < 8:
        errors["address"] = [_("Give the full address: province, city, district, street and number.")]
    elif len(address) > 300:
        errors["address"] = [_("An address has at most 300 characters.")]
    if errors:
        raise ValidationError(errors)
    return Delivery(recipient_name=name, recipient_phone=phone, address=address)


def _new_number(now: datetime) -> str:
    return f"SO{now:%y%m%d}-{secrets.token_hex(4).upper()}"


def _event(order: ShopOrder, *, actor, from_status: str, to_status: str, at: datetime, note: str = "") -> None:
    ShopOrderEvent.objects.create(order=order, county_id=order.county_id, actor=actor, at=at,
                                  from_status=from_status, to_status=to_status, note=(note or "")[:300])


def _set_status(order: ShopOrder, *, actor, to_status: str, at: datetime, note: str = "", **fields) -> ShopOrder:
    from_status = order.status
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", *fields])
    _event(order, actor=actor, from_status=from_status, to_status=to_status, at=at, note=note)
    return order


def shop_checkout(*, scope: Scope, lines, delivery: Delivery, idempotency_key: str = "",
                  now: datetime | None = None) -> ShopOrder:
    """Place an order of boxes and hold them for payment (RESERVATION_MINUTES).

    lines are (listing_id, quantity), all of one cooperative (it packs and ships them
    as one parcel). Refusals change nothing: field errors name the line; a product not
    on sale is a field error; fewer boxes in stock than asked is a 409 out_of_stock
    naming the line. A repeat with the buyer's same idempotency_key returns the first
    order. The boxes checked out leave the buyer's cart.
    """
    buyer = buyer_of(scope)
    key = (idempotency_key or "").strip()
    if len(key) > 255:
        raise ValidationError({"idempotency_key": [_("An idempotency key has at most 255 characters.")]})
    if key:
        existing = ShopOrder.objects.filter(buyer=buyer, idempotency_key=key).first()
        if existing is not None:
            return existing
    cleaned = _clean_lines(lines)
    with transaction.atomic():
        return _checkout_locked(scope=scope, buyer=buyer, cleaned=cleaned, delivery=delivery, key=key,
                                now=now or timezone.now())


def _checkout_locked(*, scope: Scope, buyer: Buyer, cleaned: list[tuple[int, int]], delivery: Delivery, key: str,
                     now: datetime) -> ShopOrder:
    listings = {listing.pk: listing for listing in Listing.objects.select_for_update(of=("self",))
                .filter(pk__in=[listing_id for listing_id, _q in cleaned]).order_by("pk")}
    if key:
        # A twin with the same key may have committed while this one waited for the locks.
        existing = ShopOrder.objects.filter(buyer=buyer, idempotency_key=key).first()
        if existing is not None:
            return existing
    missing = {f"lines.{i}.product_id": [_("This product is not on sale.")]
               for i, (listing_id, _q) in enumerate(cleaned)
               if listing_id not in listings or not listings[listing_id].is_listed}
    if missing:
        raise ValidationError(missing)
    cooperative_ids = {listings[listing_id].cooperative_id for listing_id, _q in cleaned}
    if len(cooperative_ids) > 1:
        raise ValidationError({"lines": [_("One order holds the boxes of one cooperative, which ships them together; "
                                           "check out each cooperative's boxes on their own.")]})
    first = listings[cleaned[0][0]]
    order = ShopOrder(county_id=first.county_id, cooperative_id=first.cooperative_id, buyer=buyer,
                      number=_new_number(now), status=ShopOrderStatus.AWAITING_PAYMENT,
                      goods_total_fen=sum(listings[lid].price_fen * q for lid, q in cleaned),
                      recipient_name=delivery.recipient_name, recipient_phone=delivery.recipient_phone,
                      address=delivery.address, idempotency_key=key, placed_at=now,
                      reserved_until=now + timedelta(minutes=RESERVATION_MINUTES))
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        existing = ShopOrder.objects.filter(buyer=buyer, idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return existing
    for i, (listing_id, quantity) in enumerate(cleaned):
        listing = listings[listing_id]
        ShopOrderLine.objects.create(order=order, listing=listing, quantity=quantity, unit_price_fen=listing.price_fen,
                                     line_total_fen=listing.price_fen * quantity)
        taken = boxes.boxes_reserve(cooperative_id=listing.cooperative_id, pack_size_id=listing.pack_size_id,
                                    count=quantity, order_ref=order.number, actor=scope.user)
        if not taken:
            left = boxes.boxes_in_stock(cooperative_id=listing.cooperative_id, pack_size_id=listing.pack_size_id).count()
            # Raising rolls back the order and every box taken for earlier lines.
            raise Conflict(_("Only %(left)s boxes of %(name)s are left; %(wanted)s asked for.")
                           % {"left": left, "name": listing.title_zh, "wanted": quantity},
                           code="out_of_stock",
                           fields={f"lines.{i}.quantity": [_("Only %(left)s left.") % {"left": left}]})
    CartLine.objects.filter(buyer=buyer, listing_id__in=list(listings)).delete()
    _event(order, actor=scope.user, from_status="", to_status=ShopOrderStatus.AWAITING_PAYMENT, at=now)
    return order


def shop_checkout_cart(*, scope: Scope, cooperative_id: int | None, delivery: Delivery,
                       idempotency_key: str = "") -> ShopOrder:
    """Check out the cart's boxes of one cooperative (the only one, if the cart holds one)."""
    buyer = buyer_of(scope)
    if idempotency_key:
        existing = ShopOrder.objects.filter(buyer=buyer, idempotency_key=idempotency_key.strip()).first()
        if existing is not None:
            return existing
    cart = list(CartLine.objects.filter(buyer=buyer).select_related("listing").order_by("pk"))
    cooperatives = {line.listing.cooperative_id for line in cart}
    if cooperative_id is None and len(cooperatives) > 1:
        raise ValidationError({"cooperative_id": [_("Your cart holds boxes of several cooperatives: "
                                                    "choose which to check out first.")]})
    lines = [(line.listing_id, line.quantity) for line in cart
             if cooperative_id is None or line.listing.cooperative_id == cooperative_id]
    return shop_checkout(scope=scope, lines=lines, delivery=delivery, idempotency_key=idempotency_key)


# --- payment ----------------------------------------------------------------------------

def shop_order_pay(*, scope: Scope, order: ShopOrder, return_url: str):
    """Start (or resume) the payment of an order awaiting it; returns the provider's Checkout.

    Outside any transaction of ours: the provider may be a network call away.
    """
    from cuntao.orders.payments import payment_start

    buyer = buyer_of(scope)
    if order.buyer_id != buyer.pk:
        raise NotFound(detail="shop order")
    order.refresh_from_db()
    now = timezone.now()
    if order.status != ShopOrderStatus.AWAITING_PAYMENT:
        raise Conflict(_("Order %(number)s is %(status)s; there is nothing to pay.")
                       % {"number": order.number, "status": order.get_status_display()}, code="not_payable")
    if order.reserved_until <= now:
        raise Conflict(_("The boxes were held for you until %(time)s; that time has passed. Check out again.")
                       % {"time": timezone.localtime(order.reserved_until).strftime("%H:%M")}, code="reservation_expired")
    _payment, checkout = payment_start(
        purpose=PAYMENT_PURPOSE, reference=order.number, amount_fen=order.goods_total_fen, county_id=order.county_id,
        description=_("Village shop order %(number)s") % {"number": order.number}, return_url=return_url,
        expires_at=order.reserved_until)
    return checkout


def _lock(order_pk: int) -> ShopOrder:
    return ShopOrder.objects.select_for_update(of=("self",)).select_related("cooperative").get(pk=order_pk)


def _post_payment(order: ShopOrder, payment) -> None:
    clearing = account_for(kind=AccountKind.ONLINE_CLEARING, county=order.county_id)
    sales = account_for(kind=AccountKind.SALES, county=order.county_id)
    ledger_post(scope=SYSTEM_SCOPE, county=order.county_id, kind=TransactionKind.PAYMENT,
                lines=[(clearing, payment.amount_fen), (sales, -payment.amount_fen)],
                dedupe_key=f"payment:online:{payment.provider_ref}", reference=Reference.to(order),
                memo=_("Shop order %(number)s") % {"number": order.number})


def _refund_later(payment, amount_fen: int, reason: str) -> None:
    """Give money back once this transaction commits (the provider is outside it)."""
    from cuntao.orders.payments import payment_refund

    def refund():
        try:
            payment_refund(payment=payment, amount_fen=amount_fen, reason=reason)
        except DomainError:
            logger.exception("shop refund of payment %s failed; refund it by hand", payment.provider_ref)

    transaction.on_commit(refund)


def shop_payment_succeeded(payment) -> None:
    """The payment handler for "shop_order": the order is paid and its boxes sold.

    Runs inside the webhook's transaction with the payment locked, once per payment. A
    payment for an order that expired meanwhile takes the boxes back if they are still
    in stock, else it is refunded in full after commit; so is a second payment of an
    order already paid.
    """
    order = ShopOrder.objects.filter(number=payment.reference).first()
    if order is None:
        logger.error("payment %s names no shop order %s", payment.provider_ref, payment.reference)
        _refund_later(payment, payment.amount_fen, "no such order")
        return
    order = _lock(order.pk)
    now = timezone.now()
    if payment.amount_fen != order.goods_total_fen:
        logger.error("payment %s of %s fen for order %s of %s fen", payment.provider_ref, payment.amount_fen,
                     order.number, order.goods_total_fen)
        _refund_later(payment, payment.amount_fen, "amount does not match the order")
        return
    if order.status == ShopOrderStatus.EXPIRED and not _take_boxes_again(order):
        _post_payment(order, payment)
        _post_refund(order, payment.amount_fen, key=f"late:{payment.provider_ref}")
        _event(order, actor=None, from_status=order.status, to_status=order.status, at=now,
               note="paid after the boxes were released; refunded")
        _refund_later(payment, payment.amount_fen, "paid after the hold expired")
        return
    if order.status not in (ShopOrderStatus.AWAITING_PAYMENT, ShopOrderStatus.EXPIRED):
        _post_payment(order, payment)
        _post_refund(order, payment.amount_fen, key=f"duplicate:{payment.provider_ref}")
        _refund_later(payment, payment.amount_fen, "order already paid")
        return
    boxes.boxes_sell(order_ref=order.number)
    _post_payment(order, payment)
    _set_status(order, actor=None, to_status=ShopOrderStatus.PAID, at=now, paid_at=now, closed_at=None)


def _take_boxes_again(order: ShopOrder) -> bool:
    """An expired order paid late: hold its boxes again if enough are still in stock."""
    lines = list(order.lines.select_related("listing").order_by("listing_id"))
    list(Listing.objects.select_for_update(of=("self",)).filter(pk__in=[line.listing_id for line in lines])
         .order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        for line in lines:
            if not boxes.boxes_reserve(cooperative_id=order.cooperative_id, pack_size_id=line.listing.pack_size_id,
                                       count=line.quantity, order_ref=order.number, actor=None):
                transaction.set_rollback(True)
                return False
    return True


def shop_payment_failed(payment) -> None:
    """A declined payment: the boxes stay held until the hold expires, so the buyer may try again."""
    order = ShopOrder.objects.filter(number=payment.reference).first()
    if order is not None:
        _event(order, actor=None, from_status=order.status, to_status=order.status, at=timezone.now(),
               note="payment declined")


# --- expiry -----------------------------------------------------------------------------

def shop_reservations_expire(*, now: datetime | None = None) -> int:
    """Put the boxes of every order unpaid past its hold back in stock; returns how many expired.

    Each order in its own transaction. Idempotent: a second run finds nothing to do.
    """
    now = now or timezone.now()
    due = list(ShopOrder.objects.filter(status=ShopOrderStatus.AWAITING_PAYMENT, reserved_until__lte=now)
               .order_by("pk").values_list("pk", "number"))
    return sum(1 for pk, number in due if _expire_one(pk, number, now))


def _expire_pending_payments(number: str) -> None:
    """No one may pay an order given up on; lock its pending payments (before the order, as the webhook does)."""
    from cuntao.orders.models import Payment, PaymentStatus
    from cuntao.orders.payments import payment_expire, payment_lock

    for payment_pk in (Payment.objects.filter(purpose=PAYMENT_PURPOSE, reference=number, status=PaymentStatus.PENDING)
                       .order_by("pk").values_list("pk", flat=True)):
        payment_expire(payment_lock(payment_pk))


@transaction.atomic
def _expire_one(pk: int, number: str, now: datetime) -> bool:
    _expire_pending_payments(number)
    order = _lock(pk)
    if order.status != ShopOrderStatus.AWAITING_PAYMENT or order.reserved_until > now:
        return False
    boxes.boxes_release(order_ref=order.number, note="hold expired")
    _set_status(order, actor=None, to_status=ShopOrderStatus.EXPIRED, at=now, closed_at=now,
                note=_("Not paid in time; the boxes are back in stock."))
    return True


# --- fulfilment -------------------------------------------------------------------------

def _bad_transition(order: ShopOrder, action: str) -> Conflict:
    return Conflict(_("Order %(number)s is %(status)s and cannot be %(action)s.")
                    % {"number": order.number, "status": order.get_status_display(), "action": action},
                    code="bad_transition")


@transaction.atomic
def shop_order_pack(*, scope: Scope, order: ShopOrder) -> ShopOrder:
    """The cooperative has packed the order's boxes for shipping. A repeat is a no-op."""
    _require_cooperative_staff(scope, order.cooperative)
    order = _lock(order.pk)
    if order.status == ShopOrderStatus.PACKED:
        return order
    if order.status != ShopOrderStatus.PAID:
        raise _bad_transition(order, _("packed"))
    now = timezone.now()
    return _set_status(order, actor=scope.user, to_status=ShopOrderStatus.PACKED, at=now, packed_at=now)


def dispatch_station(cooperative: Cooperative):
    """The station the cooperative's parcels leave from: an open one in its villages, else a member's."""
    from cuntao.network.models import Station

    village_ids = list(cooperative.villages.values_list("pk", flat=True))
    station = Station.objects.filter(village_id__in=village_ids, status="open").order_by("pk").first()
    if station is None:
        station_ids = cooperative.members.exclude(station=None).values_list("station_id", flat=True)
        station = Station.objects.filter(pk__in=station_ids).order_by("pk").first()
    return station


@transaction.atomic
def shop_order_ship(*, scope: Scope, order: ShopOrder, carrier: str = "", carrier_tracking_no: str = "") -> ShopOrder:
    """Hand the packed order to logistics: an outbound parcel from the cooperative's station.

    The parcel's tracking link is what the buyer follows. A repeat is a no-op.
    """
    from cuntao.logistics.models import Direction, Source
    from cuntao.logistics.services import parcel_register

    _require_cooperative_staff(scope, order.cooperative)
    order = _lock(order.pk)
    if order.status == ShopOrderStatus.SHIPPED:
        return order
    if order.status != ShopOrderStatus.PACKED:
        raise _bad_transition(order, _("shipped"))
    station = dispatch_station(order.cooperative)
    if station is None:
        raise Conflict(_("The cooperative has no station to send parcels from; link a village with a station to it."),
                       code="no_dispatch_station")
    weight_g = sum(boxes.boxes_of_order(order_ref=order.number).values_list("net_weight_g", flat=True))
    # The cooperative's staff act for the county here: logistics registers a parcel for
    # county staff or the station's partner, and who may ship was checked above.
    acting = Scope(user=scope.user, role=Role.COUNTY_STAFF, county_ids=frozenset({order.county_id}), station_ids=None)
    parcel = parcel_register(scope=acting, station=station, source=Source.OUR_ORDER, direction=Direction.OUTBOUND,
                             addressee_name=order.recipient_name, carrier=carrier, carrier_tracking_no=carrier_tracking_no,
                             weight_g=weight_g, order_ref=order.number)
    boxes.boxes_ship(order_ref=order.number, actor=scope.user)
    now = timezone.now()
    return _set_status(order, actor=scope.user, to_status=ShopOrderStatus.SHIPPED, at=now, shipped_at=now,
                       parcel=parcel)


@transaction.atomic
def shop_order_deliver(*, scope: Scope, order: ShopOrder) -> ShopOrder:
    """The buyer received the parcel (they say so, or the cooperative's staff do).

    The sale is final now: each graded lot's revenue, less the cooperative's fee, is
    shared among its farmers (record_payouts). A repeat is a no-op.
    """
    if not may_manage_cooperative(scope, order.cooperative) and order.buyer_id != buyer_of(scope).pk:
        raise NotFound(detail="shop order")
    order = _lock(order.pk)
    if order.status == ShopOrderStatus.DELIVERED:
        return order
    if order.status != ShopOrderStatus.SHIPPED:
        raise _bad_transition(order, _("delivered"))
    now = timezone.now()
    _set_status(order, actor=scope.user, to_status=ShopOrderStatus.DELIVERED, at=now, delivered_at=now)
    record_payouts(order=order, now=now)
    return order


# --- refunds and cancelling -------------------------------------------------------------

def _succeeded_payment(order: ShopOrder, lock: bool = False):
    from cuntao.orders.models import Payment, PaymentStatus
    from cuntao.orders.payments import payment_lock

    payment = (Payment.objects.filter(purpose=PAYMENT_PURPOSE, reference=order.number,
                                      status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED))
               .order_by("paid_at", "pk").first())
    return payment_lock(payment.pk) if (payment is not None and lock) else payment


def _post_refund(order: ShopOrder, amount_fen: int, *, key: str) -> None:
    refunds = account_for(kind=AccountKind.REFUNDS, county=order.county_id)
    clearing = account_for(kind=AccountKind.ONLINE_CLEARING, county=order.county_id)
    ledger_post(scope=SYSTEM_SCOPE, county=order.county_id, kind=TransactionKind.REFUND,
                lines=[(refunds, amount_fen), (clearing, -amount_fen)], dedupe_key=f"refund:online:shop:{key}",
                reference=Reference.to(order), memo=_("Shop order %(number)s") % {"number": order.number})


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why, for the buyer's and the cooperative's records.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("A reason has at most 300 characters.")]})
    return reason


def _refund(order: ShopOrder, *, scope: Scope, payment, amount_fen: int, reason: str) -> None:
    """Refund through the provider and the ledger; the caller holds the payment's and the order's locks."""
    from cuntao.orders.payments import payment_refund

    left = order.goods_total_fen - order.refunded_fen
    if type(amount_fen) is not int or amount_fen <= 0:
        raise ValidationError({"amount_fen": [_("Refund a whole number of fen, more than zero.")]})
    if amount_fen > left:
        raise DomainError(_("Only %(left)s of order %(number)s can still be refunded; %(amount)s is more.")
                          % {"left": format_fen(left), "number": order.number, "amount": format_fen(amount_fen)},
                          code="refund_too_large", fields={"amount_fen": [_("More than was paid.")]})
    payment_refund(payment=payment, amount_fen=amount_fen, reason=reason)
    order.refunded_fen += amount_fen
    order.save(update_fields=["refunded_fen"])
    _post_refund(order, amount_fen, key=f"{order.number}:{order.refunded_fen}")
    _event(order, actor=scope.user, from_status=order.status, to_status=order.status, at=timezone.now(),
           note=_("Refunded %(amount)s: %(reason)s") % {"amount": format_fen(amount_fen), "reason": reason})


@transaction.atomic
def shop_order_refund(*, scope: Scope, order: ShopOrder, amount_fen: int, reason: str) -> ShopOrder:
    """Give back part or all of a paid order that is not yet delivered (a damaged box, say).

    Never more than was paid less what was refunded (DomainError refund_too_large).
    After delivery the farmers' shares are final, so refunds stop there.
    """
    _require_cooperative_staff(scope, order.cooperative)
    reason = _clean_reason(reason)
    payment = _succeeded_payment(order, lock=True)
    order = _lock(order.pk)
    if order.status not in REFUNDABLE or payment is None:
        raise _bad_transition(order, _("refunded"))
    _refund(order, scope=scope, payment=payment, amount_fen=amount_fen, reason=reason)
    return order


@transaction.atomic
def shop_order_cancel(*, scope: Scope, order: ShopOrder, reason: str) -> ShopOrder:
    """Cancel before shipping: the boxes go back to stock and what was paid is refunded.

    The buyer may cancel their own order while it awaits payment; the cooperative's
    staff may cancel until it ships. A repeat is a no-op.
    """
    staff = may_manage_cooperative(scope, order.cooperative)
    if not staff and order.buyer_id != buyer_of(scope).pk:
        raise NotFound(detail="shop order")
    reason = _clean_reason(reason)
    _expire_pending_payments(order.number)
    payment = _succeeded_payment(order, lock=True)
    order = _lock(order.pk)
    if order.status == ShopOrderStatus.CANCELLED:
        return order
    allowed = CANCELLABLE_BY_STAFF if staff else (ShopOrderStatus.AWAITING_PAYMENT,)
    if order.status not in allowed:
        raise _bad_transition(order, _("cancelled"))
    left = order.goods_total_fen - order.refunded_fen
    if payment is not None and order.paid_at is not None and left:
        _refund(order, scope=scope, payment=payment, amount_fen=left, reason=reason)
    boxes.boxes_release(order_ref=order.number, actor=scope.user, note=reason)
    now = timezone.now()
    return _set_status(order, actor=scope.user, to_status=ShopOrderStatus.CANCELLED, at=now, closed_at=now,
                       note=reason)


# --- farmer payouts ---------------------------------------------------------------------

def _grams(kg) -> int:
    """Decimal kilograms (three places) as whole grams."""
    return int(kg * 1000)


def record_payouts(*, order: ShopOrder, now: datetime) -> list[LotSale]:
    """Share each graded lot's revenue in the order among its farmers; the caller holds the order's lock.

    A lot's revenue is the price of its boxes in the order, less its part of any refund
    (the refund is shared over the lots by revenue, largest remainder). The
    cooperative's fee (its fee_rate_bp, rounded down) comes off, and the rest is split
    by the graded grams each member contributed to the lot, largest remainder, so the
    shares add up to the fen exactly. Idempotent: an order's lots are counted once.
    """
    if LotSale.objects.filter(order=order).exists():
        return list(LotSale.objects.filter(order=order))
    prices = dict(order.lines.values_list("listing__pack_size_id", "unit_price_fen"))
    revenue_by_lot: dict[int, int] = {}
    count_by_lot: dict[int, int] = {}
    for lot_id, pack_size_id in boxes.boxes_of_order(order_ref=order.number).values_list("graded_lot_id",
                                                                                         "pack_size_id"):
        revenue_by_lot[lot_id] = revenue_by_lot.get(lot_id, 0) + prices.get(pack_size_id, 0)
        count_by_lot[lot_id] = count_by_lot.get(lot_id, 0) + 1
    lot_ids = sorted(revenue_by_lot)
    refund_parts = split_largest_remainder(min(order.refunded_fen, sum(revenue_by_lot.values())),
                                           [revenue_by_lot[lot] for lot in lot_ids]) if lot_ids else []
    rate = order.cooperative.fee_rate_bp
    contributions = _contributions(lot_ids)
    sales = []
    for lot_id, refund_part in zip(lot_ids, refund_parts, strict=True):
        revenue = revenue_by_lot[lot_id] - refund_part
        fee = fee_of(revenue, rate)
        sale = LotSale.objects.create(county_id=order.county_id, cooperative_id=order.cooperative_id, order=order,
                                      graded_lot_id=lot_id, boxes=count_by_lot[lot_id], revenue_fen=revenue,
                                      fee_rate_bp=rate, fee_fen=fee, farmers_fen=revenue - fee, created_at=now)
        members = contributions.get(lot_id, [])
        if not members:
            # Nobody's graded weight is on record: the farmers' part stays with the cooperative's books.
            logger.warning("graded lot %s has no contributions; its farmers' share is unassigned", lot_id)
        else:
            shares = split_largest_remainder(sale.farmers_fen, [grams for _m, grams in members])
            PayoutShare.objects.bulk_create([
                PayoutShare(county_id=order.county_id, lot_sale=sale, member_id=member_id, contributed_g=grams,
                            amount_fen=share)
                for (member_id, grams), share in zip(members, shares, strict=True)])
        sales.append(sale)
    return sales


def _contributions(lot_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """Per graded lot, (member id, graded grams) summed over the member's harvest lots, by member id."""
    grams: dict[int, dict[int, int]] = {}
    for lot_id, member_id, kg in (GradedContribution.objects.filter(graded_lot_id__in=lot_ids)
                                  .values_list("graded_lot_id", "member_id", "kg")):
        per_lot = grams.setdefault(lot_id, {})
        per_lot[member_id] = per_lot.get(member_id, 0) + _grams(kg)
    return {lot_id: sorted((m, g) for m, g in per_lot.items() if g > 0) for lot_id, per_lot in grams.items()}
