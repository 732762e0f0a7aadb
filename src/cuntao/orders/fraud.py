"""Fraud signals for county review (风险提示): computed from the orders, never stored, never punishing.

Each signal is a Flag with the orders that raised it. Its key names the flag and its
latest evidence (the newest order that counts), so a review covers what the reviewer
saw: a new order of the same kind raises the flag again under a new key.

The signals, over the last LOOKBACK_DAYS of one county:

- burst: BURST_COUNT or more orders for one villager within BURST_WINDOW.
- cancelled after the commission appeared: at a station, of the orders that carried a
  commission, at least CANCEL_MIN_COUNT and more than CANCEL_RATE were cancelled.
  Grouped by station, as a station has one partner at a time.
- own household: orders for the partner's own household. A partner has no link to a
  villager record, so the partner's villager record is the villager of their station
  with the partner's phone or ID number; their household is that record's household.
- returns above the norm: a station with at least RETURN_MIN_COUNT returns whose return
  rate (returned of the orders handed over) is more than RETURN_FACTOR times the rate of
  the rest of the county. The rest of the county, not the mean including the station
  itself, so one station's many returns cannot raise the bar it is measured against.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Forbidden, NotFound
from cuntao.core.scope import Scope
from cuntao.network.models import Partner, PartnerStatus, Station
from cuntao.network.selectors import county_get_for_actor
from cuntao.orders.models import FlagKind, FlagReview, Order, OrderEvent, OrderStatus
from cuntao.villagers.models import Villager

LOOKBACK_DAYS = 90
BURST_COUNT = 3
BURST_WINDOW = timedelta(hours=24)
CANCEL_MIN_COUNT = 3
CANCEL_RATE = 0.3
RETURN_MIN_COUNT = 3
RETURN_FACTOR = 2
EVIDENCE_MAX = 30
REACHED_VILLAGER = (OrderStatus.HANDED_OVER, OrderStatus.COMPLETED, OrderStatus.RETURNED)


@dataclass
class Flag:
    key: str
    kind: str
    station: Station
    summary: str
    orders: list[Order] = field(default_factory=list)
    review: FlagReview | None = None

    @property
    def kind_label(self) -> str:
        return FlagKind(self.kind).label


def _require_county_staff(scope: Scope, county_id: int) -> None:
    """Partners never see the signals about themselves; staff see only their counties (NotFound elsewhere)."""
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff see fraud signals."))
    county_get_for_actor(scope=scope, county_id=county_id)


def _county_orders(scope: Scope, county_id: int, since: datetime):
    _require_county_staff(scope, county_id)
    return scope.filter(Order.objects.filter(county_id=county_id, placed_at__gte=since))


def county_flags(*, scope: Scope, county_id: int, now: datetime | None = None) -> list[Flag]:
    """Every current flag in the county, unreviewed first, each with its review if any."""
    now = now or timezone.now()
    orders = _county_orders(scope, county_id, now - timedelta(days=LOOKBACK_DAYS))
    flags = [*_bursts(orders), *_cancelled_after_commission(orders), *_own_household(orders, county_id),
             *_returns_above_norm(orders)]
    reviews = {r.flag_key: r for r in FlagReview.objects.filter(county_id=county_id, flag_key__in=[f.key for f in flags])
               .select_related("reviewed_by")}
    for flag in flags:
        flag.review = reviews.get(flag.key)
    return sorted(flags, key=lambda f: (f.review is not None, f.station.code, f.kind, f.key))


def flag_get(*, scope: Scope, county_id: int, flag_key: str) -> Flag:
    for flag in county_flags(scope=scope, county_id=county_id):
        if flag.key == flag_key:
            return flag
    raise NotFound(_("This flag is no longer raised; reload the list."), detail="flag")


def review_list(*, scope: Scope, county_id: int, limit: int = 50):
    """The county's latest reviews, including those of flags no longer raised."""
    _require_county_staff(scope, county_id)
    return (scope.filter(FlagReview.objects.filter(county_id=county_id))
            .select_related("station", "reviewed_by").order_by("-reviewed_at", "-pk")[:limit])


def _with_relations(qs):
    return qs.select_related("station", "villager").order_by("placed_at", "pk")


def _bursts(orders) -> list[Flag]:
    busy = orders.values("villager_id").annotate(n=Count("pk")).filter(n__gte=BURST_COUNT).values("villager_id")
    by_villager = defaultdict(list)
    for order in _with_relations(orders.filter(villager_id__in=busy)):
        by_villager[order.villager_id].append(order)
    flags = []
    for villager_orders in by_villager.values():
        i = 0
        while i + BURST_COUNT <= len(villager_orders):
            start = villager_orders[i]
            if villager_orders[i + BURST_COUNT - 1].placed_at - start.placed_at > BURST_WINDOW:
                i += 1
                continue
            burst = [o for o in villager_orders[i:] if o.placed_at - start.placed_at <= BURST_WINDOW]
            flags.append(Flag(
                key=f"burst:{start.villager_id}:{start.pk}:{burst[-1].pk}", kind=FlagKind.BURST, station=start.station,
                summary=_("%(count)s orders for %(villager)s within 24 hours from %(start)s.")
                % {"count": len(burst), "villager": start.villager.name,
                   "start": timezone.localtime(start.placed_at).strftime("%Y-%m-%d %H:%M")},
                orders=burst[:EVIDENCE_MAX]))
            i += len(burst)
    return flags


def _stations(ids) -> dict[int, Station]:
    return Station.objects.in_bulk(list(ids))


def _cancelled_by_a_person():
    """Cancelled by someone, not by the system (an online or pay-link order left unpaid expires by itself)."""
    return Q(status=OrderStatus.CANCELLED) & Exists(OrderEvent.objects.filter(
        order=OuterRef("pk"), to_status=OrderStatus.CANCELLED, actor__isnull=False))


def _cancelled_after_commission(orders) -> list[Flag]:
    rows = (orders.filter(commission_fen__gt=0).values("station_id")
            .annotate(total=Count("pk"), cancelled=Count("pk", filter=_cancelled_by_a_person()))
            .filter(cancelled__gte=CANCEL_MIN_COUNT))
    rows = [r for r in rows if r["cancelled"] / r["total"] > CANCEL_RATE]
    stations = _stations(r["station_id"] for r in rows)
    flags = []
    for row in rows:
        evidence = list(_with_relations(orders.filter(_cancelled_by_a_person(), station_id=row["station_id"],
                                                      commission_fen__gt=0)).reverse()[:EVIDENCE_MAX])
        flags.append(Flag(
            key=f"cancelled_after_commission:{row['station_id']}:{evidence[0].pk}",
            kind=FlagKind.CANCELLED_AFTER_COMMISSION, station=stations[row["station_id"]],
            summary=_("%(cancelled)s of %(total)s orders with a commission were cancelled (%(rate)s%%).")
            % {"cancelled": row["cancelled"], "total": row["total"],
               "rate": round(100 * row["cancelled"] / row["total"])},
            orders=evidence))
    return flags


def _partner_households(partners: list[Partner]) -> dict[int, set[int]]:
    """Station id -> ids of the villagers of its partner's own household (see the module's docstring).

    A few set-based queries for the whole county, not a few per partner.
    """
    phones = {p.phone for p in partners if p.phone}
    id_numbers = {p.national_id for p in partners if p.national_id}
    by_station = {p.station_id: p for p in partners}
    candidates = Villager.objects.filter(Q(phone__in=phones) | Q(national_id__in=id_numbers),
                                         station_id__in=by_station).values_list("pk", "station_id", "household_id",
                                                                                 "phone", "national_id")
    own: dict[int, set[int]] = defaultdict(set)
    households: dict[int, int] = {}  # household id -> station id
    for pk, station_id, household_id, phone, national_id in candidates:
        partner = by_station[station_id]
        if (phone and phone == partner.phone) or (national_id and national_id == partner.national_id):
            own[station_id].add(pk)
            if household_id:
                households[household_id] = station_id
    members = Villager.objects.filter(household_id__in=households).values_list("pk", "household_id", "station_id")
    for pk, household_id, station_id in members:
        if station_id == households[household_id]:
            own[station_id].add(pk)
    return own


def _own_household(orders, county_id: int) -> list[Flag]:
    partners = list(Partner.objects.filter(county_id=county_id, status__in=(PartnerStatus.TRAINING,
                                                                           PartnerStatus.ACTIVE))
                    .select_related("station"))
    own = _partner_households(partners)
    if not own:
        return []
    evidence = defaultdict(list)
    for order in _with_relations(orders.filter(villager_id__in=set().union(*own.values()))).reverse():
        if order.villager_id in own.get(order.station_id, ()):
            evidence[order.station_id].append(order)
    return [Flag(
        key=f"own_household:{partner.station_id}:{evidence[partner.station_id][0].pk}", kind=FlagKind.OWN_HOUSEHOLD,
        station=partner.station,
        summary=_("%(count)s orders for %(partner)s's own household (matched by phone or ID number).")
        % {"count": len(evidence[partner.station_id]), "partner": partner.full_name},
        orders=evidence[partner.station_id][:EVIDENCE_MAX])
        for partner in partners if evidence.get(partner.station_id)]


def _returns_above_norm(orders) -> list[Flag]:
    rows = list(orders.filter(status__in=REACHED_VILLAGER).values("station_id")
                .annotate(reached=Count("pk"), returned=Count("pk", filter=Q(status=OrderStatus.RETURNED)),
                          last=Max("pk", filter=Q(status=OrderStatus.RETURNED))))
    all_reached = sum(r["reached"] for r in rows)
    all_returned = sum(r["returned"] for r in rows)
    outliers = []
    for row in rows:
        rest_reached = all_reached - row["reached"]
        if row["returned"] < RETURN_MIN_COUNT or rest_reached == 0:
            continue
        rate = row["returned"] / row["reached"]
        norm = (all_returned - row["returned"]) / rest_reached
        if rate > RETURN_FACTOR * norm:
            outliers.append((row, rate, norm))
    stations = _stations(row["station_id"] for row, _r, _n in outliers)
    return [Flag(
        key=f"returns_above_norm:{row['station_id']}:{row['last']}", kind=FlagKind.RETURNS_ABOVE_NORM,
        station=stations[row["station_id"]],
        summary=_("%(returned)s of %(reached)s orders returned (%(rate)s%%); the rest of the county returns "
                  "%(norm)s%%.") % {"returned": row["returned"], "reached": row["reached"],
                                    "rate": round(100 * rate), "norm": round(100 * norm)},
        orders=list(_with_relations(orders.filter(station_id=row["station_id"], status=OrderStatus.RETURNED))
                    .reverse()[:EVIDENCE_MAX]))
        for row, rate, norm in outliers]
