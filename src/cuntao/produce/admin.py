from django.contrib import admin

from cuntao.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cuntao.produce.models import (
    AllowedInput,
    Brand,
    CentralPurchase,
    Cooperative,
    FarmRecord,
    GradedLot,
    GradeSpec,
    HarvestLot,
    Inspection,
    InspectionCheckpoint,
    InspectorAssignment,
    Member,
    PackedBox,
    PackSize,
    Plot,
    Product,
    SopTask,
    Standard,
    Transformation,
    TransformationItem,
    Violation,
)


@admin.register(Cooperative)
class CooperativeAdmin(admin.ModelAdmin):
    list_display = ["name", "county", "registration_no", "fee_rate_bp", "gs1_company_prefix"]
    list_select_related = ["county"]
    list_filter = ["county"]
    search_fields = ["name", "registration_no"]
    filter_horizontal = ["villages"]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["name", "cooperative", "village", "station", "show_name_publicly", "active"]
    list_select_related = ["cooperative", "village", "station"]
    list_filter = ["cooperative", "active"]
    search_fields = ["name", "phone"]
    raw_id_fields = ["villager"]


@admin.register(Plot)
class PlotAdmin(admin.ModelAdmin):
    list_display = ["name", "member", "village", "area_mu", "crop"]
    list_select_related = ["member", "village"]
    list_filter = ["cooperative", "crop"]


class SectionInline(admin.TabularInline):
    extra = 0

    def has_change_permission(self, request, obj=None):
        # A published standard is immutable (services refuse too); a new version is a new row.
        return obj is None or obj.status == "draft"

    has_add_permission = has_delete_permission = has_change_permission


class AllowedInputInline(SectionInline):
    model = AllowedInput


class SopTaskInline(SectionInline):
    model = SopTask


class GradeInline(SectionInline):
    model = GradeSpec


class CheckpointInline(SectionInline):
    model = InspectionCheckpoint


class PackSizeInline(SectionInline):
    model = PackSize


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ["title", "product", "season", "version", "status", "published_at"]
    list_select_related = ["product"]
    list_filter = ["status", "season"]
    inlines = [AllowedInputInline, SopTaskInline, GradeInline, CheckpointInline, PackSizeInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != "draft":
            return [f.name for f in Standard._meta.fields]
        return ["status", "published_at", "published_by"]


admin.site.register([Brand, Product])


@admin.register(CentralPurchase)
class CentralPurchaseAdmin(admin.ModelAdmin):
    list_display = ["purchased_on", "allowed_input", "supplier", "quantity", "total_fen", "cooperative"]
    list_select_related = ["allowed_input", "cooperative"]


@admin.register(FarmRecord)
class FarmRecordAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "kind", "plot", "input_name", "dose_per_mu", "compliant"]
    list_select_related = ["plot", "plot__member"]
    list_filter = ["kind", "compliant", "cooperative"]


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["found_at", "kind", "plot", "status", "cleared_by"]
    list_select_related = ["plot", "plot__member", "cleared_by"]
    list_filter = ["status", "kind"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["inspected_on", "checkpoint", "plot", "result", "inspector"]
    list_select_related = ["checkpoint", "plot", "plot__member", "inspector"]


@admin.register(HarvestLot)
class HarvestLotAdmin(ReadOnlyAdmin):
    list_display = ["code", "member", "plot", "harvested_on", "kg", "status"]
    list_select_related = ["member", "plot", "plot__member"]
    search_fields = ["code"]


@admin.register(GradedLot)
class GradedLotAdmin(ReadOnlyAdmin):
    list_display = ["code", "grade", "kg", "packed_kg", "status"]
    list_select_related = ["grade"]
    search_fields = ["code"]


@admin.register(PackedBox)
class PackedBoxAdmin(ReadOnlyAdmin):
    list_display = ["code", "graded_lot", "pack_size", "status", "order_ref", "scan_count", "suspect_since"]
    list_select_related = ["graded_lot", "pack_size"]
    list_filter = ["status"]
    search_fields = ["code", "order_ref"]


class TransformationItemInline(ReadOnlyInline):
    model = TransformationItem
    readonly_fields = [f.name for f in TransformationItem._meta.fields]


@admin.register(Transformation)
class TransformationAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "kind", "cooperative", "event_id"]
    list_select_related = ["cooperative"]
    inlines = [TransformationItemInline]


@admin.register(InspectorAssignment)
class InspectorAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "cooperative", "assigned_by", "assigned_at", "ended_at"]
    list_select_related = ["user", "cooperative", "assigned_by"]
    raw_id_fields = ["user"]
