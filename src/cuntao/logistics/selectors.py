"""Reads of parcels, always through the caller's scope."""

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cuntao.core.errors import NotFound
from cuntao.core.scope import Scope, get_in_scope
from cuntao.logistics.conf import default_shelf_capacity, remind_after_days
from cuntao.logistics.models import (
    Parcel,
    ParcelEvent,
    ParcelStatus,
    ReceiptDiscrepancy,
    Source,
    StationReceipt,
    StationShelf,
)


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


def parcel_of_order(*, scope: Scope, order_ref: str) -> Parcel | None:
    """The parcel registered for one of our orders (by its number), if it has shipped."""
    return (parcel_list(scope=scope).filter(source=Source.OUR_ORDER, order_ref=order_ref)
            .order_by("pk").first())


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


def station_shelf_capacity(*, station_id: int) -> int:
    """How many parcels the station's shelves hold (its own setting, or the default)."""
    capacity = StationShelf.objects.filter(station_id=station_id).values_list("capacity_parcels", flat=True).first()
    return capacity or default_shelf_capacity()


def station_parcel_counts(*, scope: Scope, station_id: int, now=None) -> dict[str, int]:
    """The station panel's figures, in one query: waiting, waiting long, to return, expected, shelf use."""
    now = now or timezone.now()
    long_before = now - timedelta(days=remind_after_days())
    counts = parcel_list(scope=scope, station_id=station_id).aggregate(
        waiting=Count("pk", filter=Q(status=ParcelStatus.AT_STATION)),
        waiting_long=Count("pk", filter=Q(status=ParcelStatus.AT_STATION, arrived_at_station_at__lt=long_before)),
        return_due=Count("pk", filter=Q(status=ParcelStatus.RETURN_DUE)),
        expected=Count("pk", filter=Q(status__in=(ParcelStatus.SORTED, ParcelStatus.IN_TRANSIT))),
    )
    capacity = station_shelf_capacity(station_id=station_id)
    shelved = counts["waiting"] + counts["return_due"]
    return {**counts, "shelved": shelved, "capacity": capacity, "over_capacity": max(shelved - capacity, 0)}


def station_returns(*, scope: Scope, station_id: int) -> QuerySet[Parcel]:
    """Parcels on the station's return list, waiting for the driver; oldest first."""
    return parcel_list(scope=scope, station_id=station_id, status=ParcelStatus.RETURN_DUE).order_by(
        "return_due_at", "pk")


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


def parcel_event_proof_for_actor(*, scope: Scope, event_id: int) -> ParcelEvent:
    """An event with a proof of delivery, if the caller may see its parcel; else NotFound."""
    qs = scope.filter(ParcelEvent.objects.select_related("parcel"), station_field="parcel__station").exclude(proof="")
    return get_in_scope(qs, name="proof", pk=event_id)
