from django.contrib import admin

from cuntao.core.admin import ReadOnlyInline
from cuntao.network.models import County, Partner, Province, StaffMembership, Station, StationStatusEvent, Village


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en"]


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "province", "specialty"]
    list_filter = ["province"]
    search_fields = ["name", "code"]


@admin.register(Village)
class VillageAdmin(admin.ModelAdmin):
    list_display = ["name", "county", "lat", "lon", "population", "households"]
    list_filter = ["county"]
    search_fields = ["name"]


class StationStatusEventInline(ReadOnlyInline):
    """Status changes go through the county console, which records them."""

    model = StationStatusEvent
    readonly_fields = ["from_status", "to_status", "actor", "at", "note"]


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "village", "county", "status", "opened_at"]
    list_filter = ["status", "county"]
    search_fields = ["code", "name", "village__name"]
    readonly_fields = ["status", "status_changed_at", "opened_at"]
    raw_id_fields = ["village"]
    inlines = [StationStatusEventInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "station", "phone", "status", "contract_start", "contract_end"]
    list_filter = ["status", "county"]
    search_fields = ["full_name", "phone", "station__code"]
    raw_id_fields = ["user", "station"]
    readonly_fields = ["identity_verified_at", "identity_verified_by"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "county", "created_at"]
    list_filter = ["role", "county"]
    raw_id_fields = ["user"]
