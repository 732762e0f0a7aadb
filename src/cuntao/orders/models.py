from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cuntao.catalog.models import Product
from cuntao.network.models import County, Station
from cuntao.villagers.models import Villager

MAX_QUANTITY = 999


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    AT_COUNTY_WAREHOUSE = "at_county_warehouse", _("At the county warehouse")
    AT_STATION = "at_station", _("At the station")
    HANDED_OVER = "handed_over", _("Handed over")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")


class PaymentMethod(models.TextChoices):
    """How the villager pays.

    ONLINE and RELATIVE_PAYS are named so the API and pages can show them, but they are
    not available yet (the payment provider and pay links are still to come): order_place
    refuses them with a field error.
    """

    CASH_NOW = "cash_now", _("Cash now at the station")
    CASH_ON_DELIVERY = "cash_on_delivery", _("Cash on delivery or pickup")
    CREDIT = "credit", _("Credit (赊账)")
    ONLINE = "online", _("Online")
    RELATIVE_PAYS = "relative_pays", _("A relative pays")


AVAILABLE_PAYMENT_METHODS = (PaymentMethod.CASH_NOW, PaymentMethod.CASH_ON_DELIVERY, PaymentMethod.CREDIT)


class CommissionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    EARNED = "earned", _("Earned")
    REVERSED = "reversed", _("Reversed")


class Order(models.Model):
    """An assisted order (代购订单): a partner buys goods for a villager at the station.

    Totals are kept on the row as the partner confirmed them: goods_total_fen is what the
    villager pays, local_total_fen what the same goods cost in the township shop (for the
    savings shown), commission_fen the partner's commission from the category rates.
    commission_state mirrors the ledger's postings (accrued, then earned or reversed).
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="orders", verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, related_name="orders", verbose_name=_("villager"))
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("placed by"))
    number = models.CharField(_("order number"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus, default=OrderStatus.PLACED)
    payment_method = models.CharField(_("payment method"), max_length=20, choices=PaymentMethod)
    goods_total_fen = models.PositiveBigIntegerField(_("goods total (fen)"))
    local_total_fen = models.PositiveBigIntegerField(_("township shop total (fen)"), default=0)
    commission_fen = models.PositiveBigIntegerField(_("commission (fen)"), default=0)
    commission_state = models.CharField(_("commission state"), max_length=10, choices=CommissionState,
                                        default=CommissionState.PENDING)
    return_window_days = models.PositiveSmallIntegerField(_("return window (days)"), default=7)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    placed_at = models.DateTimeField(_("placed at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("completed, cancelled or returned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["station", "-placed_at"]),
            models.Index(fields=["county", "status"]),
            models.Index(fields=["status", "handed_over_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["station", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="order_idempotency_key_unique_per_station",
                                    violation_error_message=_("An order with this idempotency key already exists.")),
            models.CheckConstraint(condition=Q(goods_total_fen__gt=0), name="order_total_positive",
                                   violation_error_message=_("An order must cost something.")),
        ]

    def __str__(self):
        return self.number

    @property
    def savings_fen(self) -> int:
        return max(self.local_total_fen - self.goods_total_fen, 0) if self.local_total_fen else 0

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None


class OrderLine(models.Model):
    """One product of an order (订单明细) at the price the partner confirmed."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_fen = models.PositiveBigIntegerField(_("unit price (fen)"))
    local_price_fen = models.PositiveBigIntegerField(_("township shop unit price (fen)"), null=True, blank=True)
    commission_rate_bp = models.PositiveIntegerField(_("commission rate (basis points)"))
    line_total_fen = models.PositiveBigIntegerField(_("line total (fen)"))
    commission_fen = models.PositiveBigIntegerField(_("commission (fen)"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY),
                                   name="order_line_quantity_1_to_999",
                                   violation_error_message=_("A quantity is from 1 to 999.")),
            models.UniqueConstraint(fields=["order", "product"], name="order_line_product_once",
                                    violation_error_message=_("A product appears once in an order.")),
        ]

    def __str__(self):
        return f"{self.product_id} x {self.quantity}"


class OrderEvent(models.Model):
    """One change of an order's status (订单事件): who, when, from, to, and why."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events", verbose_name=_("order"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=20, choices=OrderStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=OrderStatus)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "at", "pk"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status} -> {self.to_status}"


class CreditAccount(models.Model):
    """A villager's credit (赊账) at their station: a limit the partner set, and what they owe.

    outstanding_fen is kept on this row, changed only by the orders services while they
    hold this row's lock (select_for_update), in the same transaction as the ledger
    posting. The ledger's credit_receivable account is per station, not per villager,
    so the per-villager figure cannot be summed from it; the row lock is also what makes
    two credit orders for one villager take turns at the limit check.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    villager = models.OneToOneField(Villager, on_delete=models.PROTECT, related_name="credit_account",
                                    verbose_name=_("villager"))
    limit_fen = models.PositiveBigIntegerField(_("credit limit (fen)"), default=0)
    outstanding_fen = models.PositiveBigIntegerField(_("outstanding (fen)"), default=0)
    limit_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("limit set by"))
    limit_set_at = models.DateTimeField(_("limit set at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        constraints = [
            models.CheckConstraint(condition=Q(outstanding_fen__gte=0), name="credit_outstanding_not_negative",
                                   violation_error_message=_("A villager cannot owe less than nothing.")),
        ]

    def __str__(self):
        return f"{self.villager_id}: {self.outstanding_fen}/{self.limit_fen}"

    @property
    def available_fen(self) -> int:
        return max(self.limit_fen - self.outstanding_fen, 0)
