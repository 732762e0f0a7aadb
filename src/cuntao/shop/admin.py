from django.contrib import admin

from cuntao.core.admin import ReadOnlyAdmin, ReadOnlyInline
from cuntao.shop.models import Buyer, Listing, LotSale, PayoutShare, ShopOrder, ShopOrderEvent, ShopOrderLine


class LineInline(ReadOnlyInline):
    model = ShopOrderLine


class EventInline(ReadOnlyInline):
    model = ShopOrderEvent


@admin.register(ShopOrder)
class ShopOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "cooperative", "buyer", "status", "goods_total_fen", "refunded_fen", "placed_at"]
    list_filter = ["status", "county"]
    search_fields = ["number", "recipient_name"]
    inlines = [LineInline, EventInline]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    """Prices, titles, pictures and whether a pack is on sale may be edited here."""

    list_display = ["title_zh", "cooperative", "pack_size", "price_fen", "is_listed"]
    list_filter = ["is_listed", "county"]
    fields = ["title_zh", "title_en", "story", "price_fen", "image_url", "is_listed"]


@admin.register(Buyer)
class BuyerAdmin(ReadOnlyAdmin):
    list_display = ["name", "phone", "created_at"]
    search_fields = ["name", "phone"]


class ShareInline(ReadOnlyInline):
    model = PayoutShare


@admin.register(LotSale)
class LotSaleAdmin(ReadOnlyAdmin):
    list_display = ["order", "graded_lot", "boxes", "revenue_fen", "fee_fen", "farmers_fen", "created_at"]
    list_filter = ["cooperative"]
    inlines = [ShareInline]
