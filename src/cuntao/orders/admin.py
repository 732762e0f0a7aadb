from django.contrib import admin

from cuntao.orders.models import CreditAccount, Order, OrderEvent, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderEvent._meta.fields]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the services, which post to the ledger."""

    list_display = ["number", "station", "villager", "status", "payment_method", "goods_total_fen", "commission_fen",
                    "commission_state", "placed_at"]
    list_filter = ["status", "payment_method", "commission_state", "county"]
    search_fields = ["number"]
    inlines = [OrderLineInline, OrderEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["villager", "station", "limit_fen", "outstanding_fen", "limit_set_at"]
    readonly_fields = ["county", "station", "villager", "outstanding_fen", "limit_set_by", "limit_set_at", "limit_fen"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
