"""Reads of parcels, always through the caller's scope."""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from cuntao.core.errors import NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.logistics.models import (
    Parcel,
    ParcelEvent,
    ParcelStatus,
    ReceiptDiscrepancy,
    StationReceipt,
)

WAITING_LONG_DAYS = 3


def parcel_list(*, scope: Scope, station_id: int | None = None, status: str | None = None,
                q: str | None = None) -> QuerySet[Parcel]:
    """Parcels in scope for the list page and the API (one filter definition for both)."""
    qs = scope.filter(Parcel.objects.select_related("station", "county"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        q = q.strip()
        qs = qs.filter(Q(code=q.upper()) | Q(carrier_tracking_no=q) | Q(order_ref=q))
    return qs


def parcel_get_for_actor(*, scope: Scope, code: str, lock: bool = False) -> Parcel:
    """Fetch a parcel by our code; outside the caller's scope it does not exist."""
    return get_in_scope(parcel_list(scope=scope), name="parcel", lock=lock, code=(code or "").strip().upper())


def parcel_events(*, parcel: Parcel) -> QuerySet[ParcelEvent]:
    """The journey of a parcel the caller already holds (fetched through scope or token)."""
    return parcel.events.order_by("at", "pk")


def parcel_get_by_tracking_token(*, token: str) -> Parcel:
    """The public tracking link's parcel; a wrong token is a plain 404."""
    found = Parcel.objects.select_related("station").filter(tracking_token=token).first() if token else None
    if found is None:
        raise NotFound(detail="parcel")
    return found


def station_shelf(*, scope: Scope, station_id: int) -> QuerySet[Parcel]:
    """Parcels waiting on the station's shelf, oldest first."""
    return parcel_list(scope=scope, station_id=station_id, status=ParcelStatus.AT_STATION).order_by(
        "arrived_at_station_at", "pk")


def station_parcel_counts(*, scope: Scope, station_id: int, now=None) -> dict[str, int]:
    now = now or timezone.now()
    shelf = station_shelf(scope=scope, station_id=station_id)
    return {
        "waiting": shelf.count(),
        "waiting_long": shelf.filter(arrived_at_station_at__lt=now - timedelta(days=WAITING_LONG_DAYS)).count(),
        "expected": parcel_list(scope=scope, station_id=station_id).filter(
            status__in=(ParcelStatus.SORTED, ParcelStatus.IN_TRANSIT)).count(),
    }


def station_expected(*, scope: Scope, station_id: int) -> QuerySet[Parcel]:
    """Parcels sorted to the station and not yet scanned in."""
    return parcel_list(scope=scope, station_id=station_id).filter(
        status__in=(ParcelStatus.SORTED, ParcelStatus.IN_TRANSIT)).order_by("code")


def station_open_receipt(*, scope: Scope, station_id: int) -> StationReceipt | None:
    return scope.filter(StationReceipt.objects.all()).filter(station_id=station_id, closed_at__isnull=True).first()


def discrepancy_list(*, scope: Scope, station_id: int | None = None) -> QuerySet[ReceiptDiscrepancy]:
    qs = scope.filter(ReceiptDiscrepancy.objects.select_related("station", "parcel"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    return qs.order_by("-at", "-pk")
