"""The village shop for city buyers: buyers, listings, carts, orders, box allocations, payouts.

A listing is one pack size of a cooperative's brand (from the produce standard's brand
section), sold by the box. Its stock is not a counter: it is the number of the
cooperative's packed boxes of that pack size that are in stock (produce.PackedBox).
Checkout takes boxes out of stock for the order (status reserved, order_ref = the order
number) with a conditional UPDATE under the listing's row lock; produce's check
constraint ties every box out of stock to exactly one order.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cuntao.core.validators import validate_phone
from cuntao.network.models import County

# The most boxes of one product in one order: a family's order, not a wholesaler's.
MAX_BOXES_PER_LINE = 20
MAX_LINES = 20


class Buyer(models.Model):
    """A city buyer (城市买家): a profile on a Django user, signing in with their phone."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shop_buyer",
                                verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, unique=True, validators=[validate_phone])
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("city buyer")
        verbose_name_plural = _("city buyers")

    def __str__(self):
        return self.name


class Listing(models.Model):
    """A shop product (商品): one pack size of a cooperative's brand, sold by the box.

    The price starts from the standard's price guidance and is kept here, so a change of
    guidance does not change what a buyer saw in their cart.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    cooperative = models.ForeignKey("produce.Cooperative", on_delete=models.PROTECT, related_name="shop_listings",
                                    verbose_name=_("cooperative"))
    pack_size = models.ForeignKey("produce.PackSize", on_delete=models.PROTECT, related_name="shop_listings",
                                  verbose_name=_("pack size"))
    title_zh = models.CharField(_("title (Chinese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    story = models.TextField(_("story"), blank=True)
    price_fen = models.PositiveBigIntegerField(_("price per box (fen)"))
    image_url = models.CharField(_("image URL"), max_length=300, blank=True,
                                 help_text=_("A photo of the box; leave empty for the brand's default picture."))
    is_listed = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(_("listed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shop listing")
        verbose_name_plural = _("shop listings")
        ordering = ["cooperative", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cooperative", "pack_size"], name="shop_listing_one_per_pack_size",
                                    violation_error_message=_("This pack size is already listed.")),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="shop_listing_price_positive",
                                   violation_error_message=_("A box must cost something.")),
        ]

    def __str__(self):
        return self.title_zh

    def get_absolute_url(self):
        return reverse("shop:product", args=[self.pk])

    def title_in(self, language: str | None) -> str:
        if language and language.startswith("en") and self.title_en:
            return self.title_en
        return self.title_zh


class CartLine(models.Model):
    """One product in a buyer's cart (购物车): how many boxes they mean to buy."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="cart_lines", verbose_name=_("buyer"))
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("boxes"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["buyer", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "listing"], name="shop_cart_listing_once",
                                    violation_error_message=_("This product is already in the cart.")),
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=MAX_BOXES_PER_LINE),
                                   name="shop_cart_quantity_in_range",
                                   violation_error_message=_("A cart line holds 1 to 20 boxes.")),
        ]

    def __str__(self):
        return f"{self.listing_id} x {self.quantity}"


class ShopOrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    EXPIRED = "expired", _("Expired unpaid")
    CANCELLED = "cancelled", _("Cancelled")


# While in these statuses an order holds its boxes.
HOLDING_STATUSES = (ShopOrderStatus.AWAITING_PAYMENT, ShopOrderStatus.PAID, ShopOrderStatus.PACKED)


class ShopOrder(models.Model):
    """A city buyer's order (城市订单) of boxes from one cooperative.

    One cooperative packs and ships it as one parcel, so an order never spans two.
    Boxes are reserved at checkout (their order_ref is this order's number) and held
    until reserved_until; payment sells them. refunded_fen is what went back through
    the payment provider.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    cooperative = models.ForeignKey("produce.Cooperative", on_delete=models.PROTECT, related_name="shop_orders",
                                    verbose_name=_("cooperative"))
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer"))
    number = models.CharField(_("order number"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=ShopOrderStatus,
                              default=ShopOrderStatus.AWAITING_PAYMENT)
    goods_total_fen = models.PositiveBigIntegerField(_("total (fen)"))
    refunded_fen = models.PositiveBigIntegerField(_("refunded (fen)"), default=0)
    recipient_name = models.CharField(_("recipient"), max_length=50)
    recipient_phone = models.CharField(_("recipient's phone"), max_length=20, validators=[validate_phone])
    address = models.CharField(_("delivery address"), max_length=300)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    reserved_until = models.DateTimeField(_("boxes held until"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("expired or cancelled at"), null=True, blank=True)
    parcel = models.OneToOneField("logistics.Parcel", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="shop_order", verbose_name=_("parcel"))

    class Meta:
        verbose_name = _("shop order")
        verbose_name_plural = _("shop orders")
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["buyer", "-placed_at"]),
            models.Index(fields=["cooperative", "status"]),
            models.Index(fields=["status", "reserved_until"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="shop_order_idempotency_key_unique_per_buyer",
                                    violation_error_message=_("An order with this idempotency key already exists.")),
            models.CheckConstraint(condition=Q(goods_total_fen__gt=0), name="shop_order_total_positive",
                                   violation_error_message=_("An order must cost something.")),
            models.CheckConstraint(condition=Q(refunded_fen__lte=models.F("goods_total_fen")),
                                   name="shop_order_refund_at_most_total",
                                   violation_error_message=_("No more can be refunded than was paid.")),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("shop:order", args=[self.number])

    @property
    def holds_boxes(self) -> bool:
        return self.status in HOLDING_STATUSES


class ShopOrderLine(models.Model):
    """The boxes of one product in an order (订单明细), at the price of checkout."""

    order = models.ForeignKey(ShopOrder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order"))
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("boxes"))
    unit_price_fen = models.PositiveBigIntegerField(_("price per box (fen)"))
    line_total_fen = models.PositiveBigIntegerField(_("line total (fen)"))

    class Meta:
        verbose_name = _("shop order line")
        verbose_name_plural = _("shop order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "listing"], name="shop_order_line_listing_once",
                                    violation_error_message=_("A product appears once in an order.")),
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=MAX_BOXES_PER_LINE),
                                   name="shop_order_line_quantity_in_range",
                                   violation_error_message=_("An order line holds 1 to 20 boxes.")),
        ]

    def __str__(self):
        return f"{self.listing_id} x {self.quantity}"


class ShopOrderEvent(models.Model):
    """One change of a shop order's status: who, when, from, to, and why."""

    order = models.ForeignKey(ShopOrder, on_delete=models.PROTECT, related_name="events", verbose_name=_("order"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=20, choices=ShopOrderStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=ShopOrderStatus)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("shop order event")
        verbose_name_plural = _("shop order events")
        ordering = ["order", "at", "pk"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"


class LotSale(models.Model):
    """What one order sold from one graded lot (批次销售): revenue, the cooperative's fee, the farmers' part.

    Written once, when the order is delivered; farmers_fen is shared out in PayoutShare.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    cooperative = models.ForeignKey("produce.Cooperative", on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("cooperative"))
    order = models.ForeignKey(ShopOrder, on_delete=models.PROTECT, related_name="lot_sales", verbose_name=_("order"))
    graded_lot = models.ForeignKey("produce.GradedLot", on_delete=models.PROTECT, related_name="shop_sales",
                                   verbose_name=_("graded lot"))
    boxes = models.PositiveIntegerField(_("boxes"))
    revenue_fen = models.PositiveBigIntegerField(_("revenue (fen)"))
    fee_rate_bp = models.PositiveIntegerField(_("cooperative fee (basis points)"))
    fee_fen = models.PositiveBigIntegerField(_("cooperative fee (fen)"))
    farmers_fen = models.PositiveBigIntegerField(_("farmers' share (fen)"))
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("lot sale")
        verbose_name_plural = _("lot sales")
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "graded_lot"], name="shop_lot_sale_once_per_order",
                                    violation_error_message=_("This lot's sale in this order is already counted.")),
            models.CheckConstraint(condition=Q(farmers_fen=models.F("revenue_fen") - models.F("fee_fen")),
                                   name="shop_lot_sale_adds_up",
                                   violation_error_message=_("The farmers' share is the revenue less the fee.")),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.graded_lot_id}: {self.revenue_fen}"


class PayoutShare(models.Model):
    """One farmer's share of a lot sale (农户分成), by the graded weight they contributed."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    lot_sale = models.ForeignKey(LotSale, on_delete=models.PROTECT, related_name="shares",
                                 verbose_name=_("lot sale"))
    member = models.ForeignKey("produce.Member", on_delete=models.PROTECT, related_name="shop_payouts",
                               verbose_name=_("farmer"))
    contributed_g = models.PositiveBigIntegerField(_("graded weight contributed (g)"))
    amount_fen = models.PositiveBigIntegerField(_("share (fen)"))

    class Meta:
        verbose_name = _("farmer's payout share")
        verbose_name_plural = _("farmers' payout shares")
        ordering = ["lot_sale", "member"]
        constraints = [
            models.UniqueConstraint(fields=["lot_sale", "member"], name="shop_payout_share_once",
                                    violation_error_message=_("This farmer's share of this sale is already counted.")),
        ]

    def __str__(self):
        return f"{self.member_id}: {self.amount_fen}"
