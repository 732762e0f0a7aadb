from django.contrib import admin

from cuntao.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cuntao.logistics.models import (
    CountyFleet,
    DeliveryRun,
    DeliveryStop,
    HomeLocation,
    Parcel,
    ParcelEvent,
    ReceiptDiscrepancy,
    RoutePlan,
    StationReceipt,
    StationShelf,
)


class EventInline(ReadOnlyInline):
    """Events are appended by the services, never edited here."""

    model = ParcelEvent
    fields = readonly_fields = ["at", "place", "kind", "from_status", "to_status", "actor", "note"]


@admin.register(CountyFleet)
class CountyFleetAdmin(admin.ModelAdmin):
    list_display = ["county", "vehicle_count", "capacity_parcels", "max_route_minutes"]


@admin.register(RoutePlan)
class RoutePlanAdmin(ReadOnlyAdmin):
    list_display = ["county", "date", "status", "created_by", "created_at"]
    list_filter = ["county", "status"]


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    """Read-only: statuses change only through the scans and hand-over services."""

    list_display = ["code", "station", "status", "source", "carrier", "carrier_tracking_no", "created_at"]
    list_filter = ["county", "status", "source", "direction"]
    search_fields = ["code", "carrier_tracking_no", "order_ref", "station__code"]
    exclude = ["pickup_code_digest", "tracking_token"]
    inlines = [EventInline]


@admin.register(StationReceipt)
class StationReceiptAdmin(ReadOnlyAdmin):
    list_display = ["station", "opened_at", "closed_at"]
    list_filter = ["county"]


@admin.register(ReceiptDiscrepancy)
class ReceiptDiscrepancyAdmin(ReadOnlyAdmin):
    list_display = ["station", "kind", "parcel", "scanned_code", "at"]
    list_filter = ["county", "kind"]


@admin.register(StationShelf)
class StationShelfAdmin(admin.ModelAdmin):
    list_display = ["station", "capacity_parcels", "updated_by", "updated_at"]
    list_filter = ["county"]


@admin.register(HomeLocation)
class HomeLocationAdmin(ReadOnlyAdmin):
    list_display = ["villager", "station", "lat", "lon", "updated_at"]
    list_filter = ["county"]


class DeliveryStopInline(ReadOnlyInline):
    model = DeliveryStop
    fields = readonly_fields = ["sequence", "parcel", "at_home", "outcome", "failure_reason", "note", "done_at"]


@admin.register(DeliveryRun)
class DeliveryRunAdmin(ReadOnlyAdmin):
    list_display = ["station", "date", "status", "distance_m", "created_by"]
    list_filter = ["county", "status"]
    inlines = [DeliveryStopInline]
