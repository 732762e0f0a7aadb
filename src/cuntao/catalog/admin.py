"""Django admin for the programme: every save goes through the catalogue's services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cuntao.catalog import services
from cuntao.catalog.models import Category, Merchant, MerchantEvent, Product, ProductEvent
from cuntao.core.admin import ReadOnlyInline
from cuntao.core.money import format_fen


class MerchantEventInline(ReadOnlyInline):
    model = MerchantEvent
    readonly_fields = fields = ["action", "actor", "at"]


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "contact_phone", "verified_at", "archived_at"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter), ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "contact_phone"]
    fields = ["name", "contact_phone", "verified_at", "verified_by", "archived_at", "archived_by"]
    readonly_fields = ["verified_at", "verified_by", "archived_at", "archived_by"]
    inlines = [MerchantEventInline]
    actions = ["verify", "archive"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "contact_phone"])
        else:
            created = services.merchant_create(scope=request.scope, name=obj.name, contact_phone=obj.contact_phone)
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False  # products and orders hang on a merchant: archive it instead

    @admin.action(description=_("Verify the selected merchants"))
    def verify(self, request, queryset):
        for merchant in queryset.filter(archived_at__isnull=True):
            services.merchant_verify(scope=request.scope, merchant=merchant)

    @admin.action(description=_("Archive the selected merchants"))
    def archive(self, request, queryset):
        for merchant in queryset:
            services.merchant_archive(scope=request.scope, merchant=merchant)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "commission_rate_bp", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        services.category_save(scope=request.scope, category=obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["merchant", "category", "sku", "name", "description", "unit", "price_fen", "local_price_fen", "stock",
                  "is_large_item", "picture"]

    def clean(self):
        data = super().clean()
        values = {k: v for k, v in data.items() if k in ("price_fen", "local_price_fen", "stock", "sku", "name", "unit")}
        if not self.instance.pk or "merchant" in self.changed_data:
            values["merchant"] = data.get("merchant")
        for field, problems in services.product_check_fields(values).items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, problems)
        return data


class ProductEventInline(ReadOnlyInline):
    model = ProductEvent
    readonly_fields = fields = ["action", "changes", "actor", "at"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["sku", "name", "category", "merchant", "price", "stock", "is_large_item", "archived_at"]
    list_filter = ["category", "is_large_item", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["sku", "name", "name_tokens"]
    list_select_related = ["category", "merchant"]
    raw_id_fields = ["merchant"]
    readonly_fields = ["thumbnail_preview", "archived_at", "archived_by", "name_tokens"]
    inlines = [ProductEventInline]
    actions = ["archive"]

    @admin.display(description=_("price"), ordering="price_fen")
    def price(self, obj):
        return format_fen(obj.price_fen)

    @admin.display(description=_("thumbnail"))
    def thumbnail_preview(self, obj):
        return format_html('<img src="{}" width="80">', obj.thumbnail.url) if obj.thumbnail else "—"

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k in services.PRODUCT_FIELDS}
        picture = data.pop("picture", None)
        picture = picture if picture and "picture" in form.changed_data else None
        try:
            if change:
                changes = {k: v for k, v in data.items() if k in form.changed_data}
                saved = services.product_update(scope=request.scope, product=obj, picture=picture, **changes)
            else:
                saved = services.product_create(scope=request.scope, picture=picture, **data)
        except ValidationError as e:  # the form checked the fields; this is a race (a SKU taken meanwhile)
            self.message_user(request, "; ".join(e.messages), level=messages.ERROR)
            raise
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Archive the selected products"))
    def archive(self, request, queryset):
        for product in queryset:
            services.product_archive(scope=request.scope, product=product)
