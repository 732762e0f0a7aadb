"""Reads of the ledger, always through the caller's scope.

Balances are sums of entries (debit +, credit −); `shown_fen` turns one to the
account's normal side, so a positive number reads naturally ("cash in hand ¥120").
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from cuntao.core.scope import Scope, get_in_scope
from cuntao.ledger.models import (
    ACCOUNT_CHART,
    Account,
    AccountKind,
    Entry,
    Owner,
    Settlement,
    SettlementStatus,
    Transaction,
    TransactionKind,
    kinds_of,
)
from cuntao.network.models import Station


@dataclass(frozen=True)
class Balance:
    kind: str
    label: str
    meaning: str
    normal_side: int
    balance_fen: int  # debits minus credits

    @property
    def shown_fen(self) -> int:
        return self.balance_fen * self.normal_side


def _balance(kind: str, raw: int) -> Balance:
    owner, side, meaning = ACCOUNT_CHART[AccountKind(kind)]
    return Balance(kind=kind, label=AccountKind(kind).label, meaning=meaning, normal_side=side, balance_fen=raw)


def account_list(*, scope: Scope, county_id: int | None = None, station_id: int | None = None) -> QuerySet[Account]:
    """Accounts in scope with `balance_fen`; a partner sees their station's accounts only."""
    qs = scope.filter(Account.objects.select_related("station", "county"))
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    return qs.annotate(balance_fen=Coalesce(Sum("entries__amount_fen"), 0)).order_by("county_id", "station_id", "kind")


def station_balances(*, scope: Scope, station: Station) -> list[Balance]:
    """Every station account's balance, in chart order, zero for accounts not yet used."""
    raw = dict(account_list(scope=scope, station_id=station.pk).values_list("kind", "balance_fen"))
    return [_balance(kind, raw.get(kind, 0)) for kind in kinds_of(Owner.STATION)]


def county_balances(*, scope: Scope, county_id: int) -> list[Balance]:
    """The county's and the programme's accounts in the county (staff only see them)."""
    raw = dict(account_list(scope=scope, county_id=county_id).filter(station__isnull=True)
               .values_list("kind", "balance_fen"))
    kinds = kinds_of(Owner.COUNTY) + kinds_of(Owner.PROGRAMME)
    return [_balance(kind, raw.get(kind, 0)) for kind in kinds]


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The network-time-zone day as a UTC-comparable [start, end)."""
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), tz)
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min), tz)
    return start, end


def _station_account(scope: Scope, station: Station, kind: str) -> Account | None:
    return account_list(scope=scope, station_id=station.pk).filter(kind=kind).first()


def _sum_before(account: Account | None, moment: datetime.datetime) -> int:
    if account is None:
        return 0
    return Entry.objects.filter(account=account, created_at__lt=moment).aggregate(t=Sum("amount_fen"))["t"] or 0


@dataclass
class StatementRow:
    entry: Entry
    amount_fen: int  # on the account's normal side
    running_fen: int


@dataclass
class Statement:
    station: Station
    balance: Balance
    date_from: datetime.date
    date_to: datetime.date
    opening_fen: int
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def closing_fen(self) -> int:
        return self.rows[-1].running_fen if self.rows else self.opening_fen


STATEMENT_MAX_ROWS = 2000


def station_statement(*, scope: Scope, station: Station, kind: str, date_from: datetime.date,
                      date_to: datetime.date) -> Statement:
    """One station account's entries over [date_from, date_to], each with the balance after it.

    Amounts and balances are on the account's normal side (cash in: +, cash out: −).
    """
    account = _station_account(scope, station, kind)
    side = ACCOUNT_CHART[AccountKind(kind)][1]
    start, _end = day_bounds(date_from)
    _start, end = day_bounds(date_to)
    opening = _sum_before(account, start) * side
    statement = Statement(station=station, balance=_balance(kind, 0), date_from=date_from, date_to=date_to,
                          opening_fen=opening)
    running = opening
    if account is not None:
        entries = (Entry.objects.filter(account=account, created_at__gte=start, created_at__lt=end)
                   .select_related("transaction", "transaction__actor").order_by("created_at", "pk")[:STATEMENT_MAX_ROWS])
        for entry in entries:
            amount = entry.amount_fen * side
            running += amount
            statement.rows.append(StatementRow(entry=entry, amount_fen=amount, running_fen=running))
        statement.balance = _balance(kind, _sum_before(account, end))
    return statement


# What each kind of cash movement means on the cash sheet, in the order the sheet sums them.
CASH_SHEET_GROUPS = [
    TransactionKind.PAYMENT,
    TransactionKind.CREDIT_REPAYMENT,
    TransactionKind.REFUND,
    TransactionKind.SETTLEMENT,
    TransactionKind.ADJUSTMENT,
]


@dataclass
class CashSheet:
    """A station's cash over one day (现金日报): what came in, what went out, what to hand over."""

    station: Station
    day: datetime.date
    opening_fen: int
    rows: list[StatementRow]
    totals: list[tuple[str, str, int]]  # (kind, label, sum of the day's movements of that kind)
    open_settlement: Settlement | None

    @property
    def movements_fen(self) -> int:
        return sum(row.amount_fen for row in self.rows)

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.movements_fen

    @property
    def to_hand_over_fen(self) -> int:
        """Cash the partner holds for the programme at the day's end, less any hand-over being counted."""
        waiting = self.open_settlement.declared_fen if self.open_settlement else 0
        return max(self.closing_fen - waiting, 0)


def cash_sheet(*, scope: Scope, station: Station, day: datetime.date) -> CashSheet:
    """The station's cash on one day in the network time zone: opening, each movement with its reason, closing."""
    statement = station_statement(scope=scope, station=station, kind=AccountKind.CASH_IN_HAND, date_from=day,
                                  date_to=day)
    totals: dict[str, int] = {}
    for row in statement.rows:
        totals[row.entry.transaction.kind] = totals.get(row.entry.transaction.kind, 0) + row.amount_fen
    ordered = [kind for kind in CASH_SHEET_GROUPS if kind in totals] + [k for k in totals if k not in CASH_SHEET_GROUPS]
    _start, end = day_bounds(day)
    open_settlement = (settlement_list(scope=scope, station_id=station.pk, status=SettlementStatus.SUBMITTED)
                       .filter(submitted_at__lt=end).first())
    return CashSheet(station=station, day=day, opening_fen=statement.opening_fen, rows=statement.rows,
                     totals=[(kind, TransactionKind(kind).label, totals[kind]) for kind in ordered],
                     open_settlement=open_settlement)


def settlement_list(*, scope: Scope, county_id: int | None = None, station_id: int | None = None,
                    status: str | None = None) -> QuerySet[Settlement]:
    qs = scope.filter(Settlement.objects.select_related("station", "submitted_by", "confirmed_by"))
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-submitted_at", "-pk")


def settlement_get_for_actor(*, scope: Scope, settlement_id: int) -> Settlement:
    return get_in_scope(settlement_list(scope=scope), name="settlement", pk=settlement_id)


def settlement_history(*, settlement: Settlement):
    return settlement.events.select_related("actor").order_by("at", "pk")


def county_settlement_counts(*, scope: Scope, county_id: int) -> dict[str, int]:
    return settlement_list(scope=scope, county_id=county_id).aggregate(
        waiting=Count("pk", filter=Q(status=SettlementStatus.SUBMITTED)),
        confirmed=Count("pk", filter=Q(status=SettlementStatus.CONFIRMED)),
    )


def unbalanced_transactions(*, county_id: int | None = None) -> QuerySet[Transaction]:
    """Transactions whose entries do not sum to zero (or have none): always empty unless something is wrong."""
    qs = Transaction.objects.all()
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    return qs.annotate(total=Coalesce(Sum("entries__amount_fen"), 0), lines=Count("entries")).filter(
        Q(lines__lt=2) | ~Q(total=0))


def misfiled_entries(*, county_id: int | None = None) -> QuerySet[Entry]:
    """Entries whose account, account's station or transaction is of another county: always empty."""
    qs = Entry.objects.all()
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    return qs.filter(~Q(account__county_id=F("county_id")) | ~Q(transaction__county_id=F("county_id"))
                     | (Q(account__station__isnull=False) & ~Q(account__station__county_id=F("county_id"))))
