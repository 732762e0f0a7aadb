"""Double-entry books of the station network: accounts, transactions, entries, settlements.

Amounts are integer fen in one signed column: a debit is positive, a credit negative.
A transaction balances when its entries sum to zero, and an account's balance is the
plain sum of its entries (shown with the sign of the account's normal side). One
signed column keeps both checks a single SUM and makes a wrong sign impossible to
hide in a second column.

Every account, transaction and entry carries its county. The programme's own accounts
are kept per county as well (the programme's sub-ledger in that county), so every
transaction stays inside one county, the shard key; the programme's totals are sums
over counties.
"""

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cuntao.network.models import County, Station


class Owner(models.TextChoices):
    STATION = "station", _("Station")
    COUNTY = "county", _("County")
    PROGRAMME = "programme", _("Programme")


class AccountKind(models.TextChoices):
    """The chart of accounts (科目表). Normal side in brackets; see ACCOUNT_CHART."""

    # Owned by a station
    CASH_IN_HAND = "cash_in_hand", _("Cash in hand")
    CREDIT_RECEIVABLE = "credit_receivable", _("Villagers' credit owed")
    COMMISSION_PENDING = "commission_pending", _("Commission pending")
    COMMISSION_OWED = "commission_owed", _("Commission owed to the partner")
    CASH_SHORT = "cash_short", _("Settlement differences")
    # Owned by a county
    CASH_RECEIVED = "cash_received", _("County cash from partners")
    # Owned by the programme (kept per county)
    SALES = "sales", _("Sales")
    REFUNDS = "refunds", _("Refunds")
    ONLINE_CLEARING = "online_clearing", _("Held by the payment provider")
    COMMISSION_EXPENSE = "commission_expense", _("Commission expense")


DEBIT, CREDIT = 1, -1


# kind -> (owner, normal side, meaning). The meaning is what a positive balance says.
ACCOUNT_CHART = {
    AccountKind.CASH_IN_HAND: (Owner.STATION, DEBIT, _(
        "Cash the partner holds for the programme: cash taken for orders and credit repayments, "
        "less cash refunds and cash handed over to the county. What the partner must hand over.")),
    AccountKind.CREDIT_RECEIVABLE: (Owner.STATION, DEBIT, _(
        "What villagers who bought on credit (赊账) still owe.")),
    AccountKind.COMMISSION_PENDING: (Owner.STATION, CREDIT, _(
        "Commission on orders whose goods are not yet handed over or whose return window is still open.")),
    AccountKind.COMMISSION_OWED: (Owner.STATION, CREDIT, _(
        "Commission the partner has earned and not yet been paid.")),
    AccountKind.CASH_SHORT: (Owner.STATION, DEBIT, _(
        "Cash the partner declared as handed over but the county did not count (a negative balance is "
        "cash counted beyond what was declared). Each difference is named on its settlement.")),
    AccountKind.CASH_RECEIVED: (Owner.COUNTY, DEBIT, _(
        "Cash at the county operation centre: counted in from partners at settlement, less commission paid out.")),
    AccountKind.SALES: (Owner.PROGRAMME, CREDIT, _(
        "Goods sold to villagers, gross, whichever way they paid.")),
    AccountKind.REFUNDS: (Owner.PROGRAMME, DEBIT, _(
        "Money returned to villagers for cancelled or returned orders (reduces sales).")),
    AccountKind.ONLINE_CLEARING: (Owner.PROGRAMME, DEBIT, _(
        "Money paid online that the payment provider holds for the programme.")),
    AccountKind.COMMISSION_EXPENSE: (Owner.PROGRAMME, DEBIT, _(
        "Commission the programme owes or has paid to partners, net of reversals.")),
}


def kinds_of(owner: str) -> list[str]:
    return [kind.value for kind, (kind_owner, _side, _meaning) in ACCOUNT_CHART.items() if kind_owner == owner]


class Account(models.Model):
    """An account (账户) of a station, a county or the programme (in one county).

    One account per owner and kind, made on first use by `account_for`. Its balance is
    the sum of its entries; no running balance is stored (see selectors.account_balances).
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("station"))
    owner = models.CharField(_("owner"), max_length=10, choices=Owner)
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["county", "station", "kind"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(owner=Owner.STATION) & Q(station__isnull=False) & Q(kind__in=kinds_of(Owner.STATION)))
                | (Q(owner=Owner.COUNTY) & Q(station__isnull=True) & Q(kind__in=kinds_of(Owner.COUNTY)))
                | (Q(owner=Owner.PROGRAMME) & Q(station__isnull=True) & Q(kind__in=kinds_of(Owner.PROGRAMME))),
                name="ledger_account_owner_matches_kind",
                violation_error_message=_("A station account names its station; county and programme accounts name "
                                          "none; the kind must belong to the owner."),
            ),
            models.UniqueConstraint(fields=["station", "kind"], condition=Q(station__isnull=False),
                                    name="ledger_one_station_account_per_kind",
                                    violation_error_message=_("This station already has an account of this kind.")),
            models.UniqueConstraint(fields=["county", "kind"], condition=Q(station__isnull=True),
                                    name="ledger_one_county_account_per_kind",
                                    violation_error_message=_("This county already has an account of this kind.")),
        ]

    def __str__(self):
        owner = self.station.code if self.station_id else self.county.code
        return f"{owner} · {self.get_kind_display()}"

    @property
    def normal_side(self) -> int:
        return ACCOUNT_CHART[self.kind][1]

    @property
    def meaning(self) -> str:
        return ACCOUNT_CHART[self.kind][2]


class TransactionKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")
    CREDIT_SALE = "credit_sale", _("Sale on credit")
    CREDIT_REPAYMENT = "credit_repayment", _("Credit repayment")
    COMMISSION_ACCRUAL = "commission_accrual", _("Commission accrued")
    COMMISSION_EARNED = "commission_earned", _("Commission earned")
    COMMISSION_REVERSAL = "commission_reversal", _("Commission reversed")
    SETTLEMENT = "settlement", _("Cash handed to the county")
    COMMISSION_PAYOUT = "commission_payout", _("Commission paid out")
    ADJUSTMENT = "adjustment", _("Adjustment")


class Transaction(models.Model):
    """A balanced posting (记账凭证): entries that sum to zero, written once, never changed.

    `reference` says what caused it (app label and model, and the object's id as text);
    `dedupe_key` is unique in the county, so one business event cannot post twice.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    kind = models.CharField(_("kind"), max_length=24, choices=TransactionKind)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    reference_type = models.CharField(_("caused by (type)"), max_length=60, blank=True)
    reference_id = models.CharField(_("caused by (id)"), max_length=64, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=160)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["reference_type", "reference_id"], name="ledger_txn_reference")]
        constraints = [
            models.UniqueConstraint(fields=["county", "dedupe_key"], name="ledger_dedupe_key_unique_in_county",
                                    violation_error_message=_("This event has already been posted.")),
            models.CheckConstraint(condition=~Q(dedupe_key=""), name="ledger_dedupe_key_not_empty",
                                   violation_error_message=_("Every posting needs a dedupe key.")),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.reference_display}"

    @property
    def reference_display(self) -> str:
        """The cause as people say it: "order 12" rather than "orders.order:12"."""
        if not self.reference_type:
            return ""
        try:
            name = apps.get_model(self.reference_type)._meta.verbose_name
        except (LookupError, ValueError):
            name = self.reference_type
        return f"{name} {self.reference_id}"


class Entry(models.Model):
    """One line of a transaction (分录): a signed amount on one account.

    Debit is positive, credit negative. The county and the time are copied from the
    transaction so a balance at any moment is one indexed range sum over one account.
    """

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries",
                                    verbose_name=_("transaction"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account"))
    amount_fen = models.BigIntegerField(_("amount (fen, debit +, credit −)"))
    created_at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["account", "created_at", "id"], name="ledger_entry_account_time")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_fen=0), name="ledger_entry_amount_not_zero",
                                   violation_error_message=_("An entry moves some money: its amount is not zero.")),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.amount_fen}"


class SettlementStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Handed over, awaiting count")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class Settlement(models.Model):
    """A hand-over of cash (结算) from a station's partner to the county.

    The partner declares what they hand over; county staff count it and confirm the
    counted amount, which posts the cash movement. A difference between declared and
    counted is kept here and on the station's settlement-differences account.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    status = models.CharField(_("status"), max_length=10, choices=SettlementStatus, default=SettlementStatus.SUBMITTED)
    declared_fen = models.BigIntegerField(_("declared (fen)"))
    counted_fen = models.BigIntegerField(_("counted (fen)"), null=True, blank=True)
    note = models.CharField(_("partner's note"), max_length=500, blank=True)
    confirm_note = models.CharField(_("county's note"), max_length=500, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                                     verbose_name=_("handed over by"))
    submitted_at = models.DateTimeField(_("handed over at"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("counted by"))
    confirmed_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("posting"))

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["county", "status"]), models.Index(fields=["station", "submitted_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(declared_fen__gt=0), name="ledger_settlement_declared_positive",
                                   violation_error_message=_("Hand over more than nothing.")),
            models.CheckConstraint(condition=Q(counted_fen__isnull=True) | Q(counted_fen__gte=0),
                                   name="ledger_settlement_counted_not_negative",
                                   violation_error_message=_("The counted amount cannot be negative.")),
            models.CheckConstraint(
                condition=(Q(status=SettlementStatus.CONFIRMED) & Q(counted_fen__isnull=False)
                           & Q(transaction__isnull=False) & Q(confirmed_at__isnull=False))
                | (~Q(status=SettlementStatus.CONFIRMED) & Q(counted_fen__isnull=True) & Q(transaction__isnull=True)),
                name="ledger_settlement_confirmed_has_count",
                violation_error_message=_("A confirmed settlement has a counted amount and a posting; others have neither."),
            ),
            models.UniqueConstraint(fields=["station"], condition=Q(status=SettlementStatus.SUBMITTED),
                                    name="ledger_one_open_settlement_per_station",
                                    violation_error_message=_("This station already has a hand-over waiting to be counted.")),
        ]

    def __str__(self):
        return f"{self.station_id} {self.declared_fen} {self.status}"

    @property
    def difference_fen(self) -> int | None:
        """Declared minus counted: positive when cash is missing, negative when there is extra."""
        return None if self.counted_fen is None else self.declared_fen - self.counted_fen


class SettlementEvent(models.Model):
    """One change of a settlement's status: who, when, from, to, note."""

    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="events",
                                   verbose_name=_("settlement"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+", verbose_name=_("county"))
    from_status = models.CharField(_("from"), max_length=10, choices=SettlementStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=SettlementStatus)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("settlement status change")
        verbose_name_plural = _("settlement status changes")
        ordering = ["settlement", "at", "pk"]

    def __str__(self):
        return f"{self.settlement_id}: {self.from_status} -> {self.to_status}"
