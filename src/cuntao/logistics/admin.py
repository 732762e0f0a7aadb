from django.contrib import admin

from cuntao.logistics.models import (
    Parcel,
    ParcelEvent,
    ReceiptDiscrepancy,
    StationReceipt,
)


class EventInline(admin.TabularInline):
    """Events are appended by the services, never edited here."""

    model = ParcelEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ["at", "place", "kind", "from_status", "to_status", "actor", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Parcel)
class ParcelAdmin(admin.ModelAdmin):
    """Read-only: statuses change only through the scans and hand-over services."""

    list_display = ["code", "station", "status", "source", "carrier", "carrier_tracking_no", "created_at"]
    list_filter = ["county", "status", "source", "direction"]
    search_fields = ["code", "carrier_tracking_no", "order_ref", "station__code"]
    exclude = ["pickup_code_digest", "tracking_token"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StationReceipt)
class StationReceiptAdmin(admin.ModelAdmin):
    list_display = ["station", "opened_at", "closed_at"]
    list_filter = ["county"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReceiptDiscrepancy)
class ReceiptDiscrepancyAdmin(admin.ModelAdmin):
    list_display = ["station", "kind", "parcel", "scanned_code", "at"]
    list_filter = ["county", "kind"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
