"""Orders meet parcels: shipping an order registers its parcel, and the parcel's scans move the order.

Orders sits above logistics, so the link is made from here: `order_ship` calls the
logistics service, and `parcel_changed` (sent by logistics inside the scan's
transaction) is answered by `order_follow_parcel`, connected in OrdersConfig.ready().
The order moves in the same transaction as the scan; a retried or out-of-order scan
moves it only forward, and never twice.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict
from cuntao.core.scope import Role, Scope
from cuntao.logistics.models import Parcel, Source
from cuntao.logistics.selectors import parcel_of_order
from cuntao.logistics.services import parcel_register
from cuntao.logistics.signals import ParcelChange
from cuntao.orders.models import Order, OrderStatus
from cuntao.orders.services import order_advance, order_cancel, order_hand_over

logger = logging.getLogger(__name__)

# The order's way, in order; a parcel's change moves the order up to its step.
WAY = (OrderStatus.SHIPPED, OrderStatus.AT_COUNTY_WAREHOUSE, OrderStatus.AT_STATION)
STEP_OF_CHANGE = {ParcelChange.AT_WAREHOUSE: OrderStatus.AT_COUNTY_WAREHOUSE,
                  ParcelChange.AT_STATION: OrderStatus.AT_STATION,
                  ParcelChange.HANDED_OVER: OrderStatus.AT_STATION}
CLOSED = (OrderStatus.CANCELLED, OrderStatus.RETURNED)
PAST_THE_WAY = (OrderStatus.HANDED_OVER, OrderStatus.COMPLETED)


def order_parcel(*, scope: Scope, order: Order) -> Parcel | None:
    """The parcel registered for the order, if it has shipped and the caller may see it."""
    return parcel_of_order(scope=scope, order_ref=order.number)


@transaction.atomic
def order_ship(*, scope: Scope, order: Order, carrier: str, tracking_number: str, weight_g: int = 0,
               volume_cm3: int = 0) -> Parcel:
    """Ship an assisted order: the order becomes shipped and its parcel is announced to the county.

    County staff only (order_advance and parcel_register both check). A repeat with the
    same carrier and tracking number returns the parcel already registered; another
    tracking number for a shipped order is a Conflict.
    """
    carrier, tracking_number = (carrier or "").strip(), (tracking_number or "").strip()
    errors = {}
    if not carrier:
        errors["carrier"] = [_("Name the carrier.")]
    if not tracking_number:
        errors["tracking_number"] = [_("Enter the carrier's tracking number.")]
    if errors:
        raise ValidationError(errors)
    order = order_advance(scope=scope, order=order, to_status=OrderStatus.SHIPPED)  # locks the order
    existing = order_parcel(scope=scope, order=order)
    if existing is not None:
        if (existing.carrier, existing.carrier_tracking_no) == (carrier, tracking_number):
            return existing
        raise Conflict(_("Order %(number)s already shipped as %(carrier)s %(tracking)s.")
                       % {"number": order.number, "carrier": existing.carrier,
                          "tracking": existing.carrier_tracking_no}, code="already_shipped")
    return parcel_register(scope=scope, station=order.station, source=Source.OUR_ORDER, villager=order.villager,
                           carrier=carrier, carrier_tracking_no=tracking_number, weight_g=weight_g,
                           volume_cm3=volume_cm3, order_ref=order.number)


def order_hand_over_at_counter(*, scope: Scope, order: Order) -> Order:
    """Hand the goods over from the order's page: only for goods that came without a parcel.

    Goods that came as a parcel are handed over through the parcel (pickup code or an
    identity check), which records who received it and moves this order by the signal;
    handing over the order alone would leave the parcel on the shelf.
    """
    parcel = order_parcel(scope=scope, order=order)
    if parcel is not None:
        raise Conflict(_("The goods of order %(number)s came as parcel %(parcel)s: hand over the parcel with its "
                         "pickup code or an identity check.") % {"number": order.number, "parcel": parcel.code},
                       code="hand_over_the_parcel")
    return order_hand_over(scope=scope, order=order)


def _system_scope_for(order: Order, actor) -> Scope:
    """County rights over the order's county, acting for whoever scanned.

    A partner's scan at the station moves the order to "at the station", a step
    order_advance keeps for county staff; the scan is the system's evidence, and the
    event still names the partner who scanned.
    """
    return Scope(user=actor, role=Role.COUNTY_STAFF, county_ids=frozenset({order.county_id}), station_ids=None)


def _advance_to(order: Order, *, target: str, scope: Scope, note: str) -> Order:
    """Move the order step by step up to `target` on its way; a step already passed is skipped."""
    for step in WAY[WAY.index(order.status) + 1 if order.status in WAY else 0:WAY.index(target) + 1]:
        order = order_advance(scope=scope, order=order, to_status=step, note=note)
    return order


def order_follow_parcel(sender, *, parcel: Parcel, kind: str, scope: Scope, **kwargs) -> None:
    """Move an order along when its parcel moves (a `parcel_changed` receiver).

    Only parcels of our orders count. The goods of a cancelled or returned order are not
    handed over (Conflict: the parcel goes back); its scans change nothing. A hand-over
    takes the cash of a cash-on-delivery order through order_hand_over.
    """
    if parcel.source != Source.OUR_ORDER or not parcel.order_ref:
        return
    if kind == ParcelChange.RETURNED:
        _cancel_for_return(parcel, scope=scope)
        return
    if kind not in STEP_OF_CHANGE:
        return
    order = (Order.objects.select_for_update().select_related("station")
             .filter(county_id=parcel.county_id, number=parcel.order_ref).first())
    if order is None:
        logger.warning("Parcel %s names order %s, which does not exist", parcel.code, parcel.order_ref)
        return
    if order.status in CLOSED:
        if kind == ParcelChange.HANDED_OVER:
            raise Conflict(_("Order %(number)s is %(status)s: do not hand this parcel over; it goes back.")
                           % {"number": order.number, "status": order.get_status_display()},
                           code="order_closed")
        return
    if order.status in PAST_THE_WAY:
        return
    note = _("parcel %(code)s") % {"code": parcel.code}
    order = _advance_to(order, target=STEP_OF_CHANGE[kind], scope=_system_scope_for(order, scope.user), note=note)
    if kind == ParcelChange.HANDED_OVER:
        order_hand_over(scope=scope, order=order)  # the hand-over is the partner's act: their cash


def _cancel_for_return(parcel: Parcel, *, scope: Scope) -> None:
    """The goods went back uncollected or refused: the order is cancelled and its money returned the way it came."""
    order = (Order.objects.select_for_update().select_related("station")
             .filter(county_id=parcel.county_id, number=parcel.order_ref).first())
    if order is None or order.status in CLOSED or order.status in PAST_THE_WAY:
        return
    order_cancel(scope=scope, order=order,
                 reason=_("Parcel %(code)s went back to the county uncollected.") % {"code": parcel.code})
