from django.contrib import admin

from cuntao.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cuntao.orders.models import (
    CreditAccount,
    ExternalOrder,
    ExternalOrderEvent,
    FlagReview,
    Order,
    OrderEvent,
    OrderLine,
    PayLink,
    Payment,
    PaymentWebhookEvent,
    SandboxWebhook,
)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    readonly_fields = [f.name for f in OrderEvent._meta.fields]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Read-only: orders change only through the services, which post to the ledger."""

    list_display = ["number", "station", "villager", "status", "payment_method", "goods_total_fen", "commission_fen",
                    "commission_state", "placed_at"]
    list_filter = ["status", "payment_method", "commission_state", "county"]
    search_fields = ["number"]
    inlines = [OrderLineInline, OrderEventInline]


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["villager", "station", "limit_fen", "outstanding_fen", "limit_set_at"]
    readonly_fields = ["county", "station", "villager", "outstanding_fen", "limit_set_by", "limit_set_at", "limit_fen"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExternalOrderEventInline(ReadOnlyInline):
    model = ExternalOrderEvent
    readonly_fields = [f.name for f in ExternalOrderEvent._meta.fields]


@admin.register(ExternalOrder)
class ExternalOrderAdmin(ReadOnlyAdmin):
    """Read-only: external orders change only through the services, which write the events."""

    list_display = ["__str__", "station", "villager", "status", "amount_fen", "tracking_number", "recorded_at"]
    list_filter = ["status", "platform", "county"]
    search_fields = ["platform_order_number", "tracking_number"]
    inlines = [ExternalOrderEventInline]


@admin.register(FlagReview)
class FlagReviewAdmin(ReadOnlyAdmin):
    list_display = ["flag_key", "kind", "station", "outcome", "reviewed_by", "reviewed_at"]
    list_filter = ["kind", "outcome", "county"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments change only through cuntao.orders.payments (the verified webhook, refunds)."""

    list_display = ["provider_ref", "purpose", "reference", "amount_fen", "status", "refunded_fen", "created_at",
                    "paid_at"]
    list_filter = ["status", "purpose", "provider"]
    search_fields = ["provider_ref", "reference"]


@admin.register(PaymentWebhookEvent)
class PaymentWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "provider", "kind", "payment", "received_at"]
    search_fields = ["event_id"]


@admin.register(PayLink)
class PayLinkAdmin(ReadOnlyAdmin):
    list_display = ["order", "relative", "created_at", "expires_at", "opened_at"]
    exclude = ["token"]  # the token is the relative's permission to pay; not for display


@admin.register(SandboxWebhook)
class SandboxWebhookAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "kind", "provider_ref", "attempts", "delivered_at", "last_error"]
