from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cuntao.catalog.models import Product
from cuntao.network.models import County, Station
from cuntao.villagers.models import MigrantRelative, Villager

MAX_QUANTITY = 999


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
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

    ONLINE (the villager pays on a phone, through the payment provider) and RELATIVE_PAYS
    (a pay link is sent to a migrant relative) leave the order awaiting payment until the
    provider's webhook says it is paid, or until it expires (payment_due_at).
    """

    CASH_NOW = "cash_now", _("Cash now at the station")
    CASH_ON_DELIVERY = "cash_on_delivery", _("Cash on delivery or pickup")
    CREDIT = "credit", _("Credit (赊账)")
    ONLINE = "online", _("Online")
    RELATIVE_PAYS = "relative_pays", _("A relative pays")


AVAILABLE_PAYMENT_METHODS = (PaymentMethod.CASH_NOW, PaymentMethod.CASH_ON_DELIVERY, PaymentMethod.CREDIT,
                             PaymentMethod.ONLINE, PaymentMethod.RELATIVE_PAYS)
# Paid through the payment provider: the order waits for its webhook.
PROVIDER_PAYMENT_METHODS = (PaymentMethod.ONLINE, PaymentMethod.RELATIVE_PAYS)
# Payment.purpose of an assisted order's payments (Payment.reference is the order number).
PAYMENT_PURPOSE = "order"


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
    payment_due_at = models.DateTimeField(_("to be paid by"), null=True, blank=True,
                                          help_text=_("Online and relative-pays orders are cancelled if unpaid by then."))
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


class ExternalPlatform(models.TextChoices):
    TAOBAO = "taobao", _("Taobao")
    PINDUODUO = "pinduoduo", _("Pinduoduo")
    JD = "jd", _("JD")
    DOUYIN = "douyin", _("Douyin")
    OTHER = "other", _("Other")


class ExternalOrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed on the platform")
    PARCEL_ARRIVED = "parcel_arrived", _("Parcel arrived")
    HANDED_OVER = "handed_over", _("Handed over")
    CANCELLED = "cancelled", _("Cancelled")


class ExternalOrder(models.Model):
    """Help given on another marketplace (代下单): the partner ordered for a villager on Taobao, JD...

    The station tracks it like its own order (status events, the parcel it waits for),
    but no money passes through the station's ledger: the villager paid the platform.
    If the partner paid with their own account and the villager paid them back, that is
    between the two of them, not programme cash the county settles, so it is not posted.
    tracking_number is what logistics matches an arriving parcel on.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="external_orders",
                                verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, related_name="external_orders",
                                 verbose_name=_("villager"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    platform = models.CharField(_("platform"), max_length=12, choices=ExternalPlatform)
    platform_order_number = models.CharField(_("platform's order number"), max_length=64)
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    description = models.CharField(_("what was bought"), max_length=200)
    carrier = models.CharField(_("parcel carrier"), max_length=40, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=ExternalOrderStatus,
                              default=ExternalOrderStatus.PLACED)
    recorded_at = models.DateTimeField(_("recorded at"))
    closed_at = models.DateTimeField(_("handed over or cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("external-marketplace order")
        verbose_name_plural = _("external-marketplace orders")
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["station", "-recorded_at"])]
        constraints = [
            models.UniqueConstraint(fields=["station", "platform", "platform_order_number"],
                                    name="external_order_unique_per_station_platform",
                                    violation_error_message=_("This platform order is already recorded here.")),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="external_order_amount_positive",
                                   violation_error_message=_("An order must cost something.")),
        ]

    def __str__(self):
        return f"{self.get_platform_display()} {self.platform_order_number}"


class ExternalOrderEvent(models.Model):
    """One change of an external-marketplace order's status (代下单事件): who, when, from, to."""

    external_order = models.ForeignKey(ExternalOrder, on_delete=models.PROTECT, related_name="events",
                                       verbose_name=_("external-marketplace order"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=16, choices=ExternalOrderStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=ExternalOrderStatus)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("external-marketplace order event")
        verbose_name_plural = _("external-marketplace order events")
        ordering = ["external_order", "at", "pk"]

    def __str__(self):
        return f"{self.external_order_id}: {self.from_status} -> {self.to_status}"


class FlagKind(models.TextChoices):
    BURST = "burst", _("Burst of orders for one villager")
    CANCELLED_AFTER_COMMISSION = "cancelled_after_commission", _("Orders cancelled after the commission appeared")
    OWN_HOUSEHOLD = "own_household", _("Orders for the partner's own household")
    RETURNS_ABOVE_NORM = "returns_above_norm", _("Returns far above the county's norm")


class ReviewOutcome(models.TextChoices):
    NO_ISSUE = "no_issue", _("No issue")
    FOLLOW_UP = "follow_up", _("Follow up")


class FlagReview(models.Model):
    """County staff's review of one fraud signal (风险提示复核): who looked, when, and what they concluded.

    Flags are computed from the orders (cuntao.orders.fraud); `flag_key` names one flag
    and its latest evidence, so new evidence raises the flag again for a fresh look. A
    review never punishes anyone: it records the county's judgement.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    kind = models.CharField(_("kind"), max_length=32, choices=FlagKind)
    flag_key = models.CharField(_("flag"), max_length=120)
    outcome = models.CharField(_("outcome"), max_length=12, choices=ReviewOutcome)
    note = models.CharField(_("note"), max_length=500)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"))

    class Meta:
        verbose_name = _("flag review")
        verbose_name_plural = _("flag reviews")
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["county", "flag_key"], name="flag_review_once_per_flag",
                                    violation_error_message=_("This flag has already been reviewed.")),
        ]

    def __str__(self):
        return f"{self.flag_key}: {self.outcome}"


# --- payments through a provider (online, a relative pays; the shop's city buyers) ------

class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Declined")
    EXPIRED = "expired", _("Expired")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")


class Payment(models.Model):
    """A payment through the payment provider (在线支付): what is paid, for what, and where it stands.

    purpose names the app that asked ("order", "shop_order") and reference its object;
    while a payment is pending it is the only pending one for that reference (a second
    start returns it). Only cuntao.orders.payments changes a payment: the verified
    webhook marks it succeeded or failed, payment_refund adds to refunded_fen.
    """

    purpose = models.CharField(_("purpose"), max_length=30)
    reference = models.CharField(_("reference"), max_length=64)
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("county"))
    status = models.CharField(_("status"), max_length=20, choices=PaymentStatus, default=PaymentStatus.PENDING)
    provider = models.CharField(_("provider"), max_length=40)
    provider_ref = models.CharField(_("provider's reference"), max_length=64, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    return_url = models.CharField(_("return address"), max_length=500, blank=True)
    checkout_url = models.CharField(_("checkout address"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    refunded_fen = models.PositiveBigIntegerField(_("refunded (fen)"), default=0)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["purpose", "reference"]), models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "reference"], condition=Q(status="pending"),
                                    name="payment_one_pending_per_reference",
                                    violation_error_message=_("A payment for this is already waiting.")),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="payment_amount_positive",
                                   violation_error_message=_("A payment must be for some money.")),
            models.CheckConstraint(condition=Q(refunded_fen__lte=F("amount_fen")), name="payment_refund_within_amount",
                                   violation_error_message=_("No more can be refunded than was paid.")),
        ]

    def __str__(self):
        return f"{self.provider_ref} ({self.status})"

    @property
    def refundable_fen(self) -> int:
        if self.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
            return 0
        return self.amount_fen - self.refunded_fen


class PaymentWebhookEvent(models.Model):
    """A provider's webhook event, kept once (支付回调): a replayed event id finds its row and changes nothing."""

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=100)
    kind = models.CharField(_("kind"), max_length=40)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="events",
                                verbose_name=_("payment"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("payment webhook event")
        verbose_name_plural = _("payment webhook events")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payment_webhook_event_once",
                                    violation_error_message=_("This webhook event was already received.")),
        ]

    def __str__(self):
        return f"{self.provider}:{self.event_id}"


class SandboxWebhook(models.Model):
    """A webhook the sandbox provider owes us (沙箱回调队列), delivered later like a real provider's.

    Queued by the sandbox checkout page; `cuntao worker` (or sandbox_deliver_webhooks)
    signs and posts it, and tries again later if delivery fails.
    """

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    provider_ref = models.CharField(_("provider's reference"), max_length=64)
    amount_fen = models.PositiveBigIntegerField(_("amount (fen)"))
    created_at = models.DateTimeField(_("created at"))
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("sandbox webhook")
        verbose_name_plural = _("sandbox webhooks")
        ordering = ["pk"]
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event_id} {self.kind}"


class PayLink(models.Model):
    """A pay link for a migrant relative (亲属代付链接): an unguessable token, valid until expires_at.

    The link shows the order and sends the relative to the provider's checkout; it never
    starts a second payment once the order is paid.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="pay_link", verbose_name=_("order"))
    relative = models.ForeignKey(MigrantRelative, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("relative"))
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    opened_at = models.DateTimeField(_("link first opened at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pay link")
        verbose_name_plural = _("pay links")

    def __str__(self):
        return f"{self.order_id} -> {self.relative_id}"
