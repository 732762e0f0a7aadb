"""Writes of the ledger: one balanced posting per business event, and settlements.

`ledger_post` is the only function that writes entries. The helpers below it are what
the orders app calls, one per money event of an order's life; each docstring lists its
lines as "Dr account / Cr account" (debit = positive amount, credit = negative).

Balances are sums over entries; no running balance is kept on Account. A cached
balance would make every posting lock its accounts, and the programme's accounts in a
county take part in nearly every posting there, so a Double-11 burst would queue on
one row. Instead a helper that *decides* on a balance (a hand-over no larger than the
cash in hand, a payout no larger than the commission owed) first locks that one
account row (select_for_update) and then sums: two such writers take turns, other
postings pass freely. A sum over one account is an index range scan
(ledger_entry_account_time).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.db import Columns, insert_new
from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.money import format_fen
from cuntao.core.scope import Role, Scope
from cuntao.ledger.models import (
    ACCOUNT_CHART,
    Account,
    AccountKind,
    Entry,
    Owner,
    Settlement,
    SettlementEvent,
    SettlementStatus,
    Transaction,
    TransactionKind,
)
from cuntao.network.models import County, Station

# Postings made by the system itself (a payment provider's webhook, a nightly job that
# earns commissions whose return window has passed) carry no actor.
SYSTEM_SCOPE = Scope(user=None, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)

# One posting line may move at most 10 million yuan; beyond that it is a typo or an attack.
MAX_LINE_FEN = 1_000_000_000
MAX_DEDUPE_KEY = 160


class PostingRefused(DomainError):
    """ledger_post refused the lines; nothing was written."""

    code = "posting_refused"


@dataclass(frozen=True)
class Reference:
    """What caused a posting: a model's label (app_label.model) and the object's id as text."""

    type: str
    id: str

    @classmethod
    def to(cls, obj: Model) -> "Reference":
        return cls(obj._meta.label_lower, str(obj.pk))

    def __str__(self):
        return f"{self.type}:{self.id}"


@dataclass(frozen=True)
class StationPosting:
    """One money event of a station: Dr debit / Cr credit (account kinds) of amount_fen."""

    kind: str
    debit: str
    credit: str
    amount_fen: int
    reference: Reference
    dedupe_key: str
    memo: str = ""


# --- accounts -------------------------------------------------------------------------

def account_for(*, kind: str, station: Station | None = None, county: County | int | None = None) -> Account:
    """The account of this kind for the station (station kinds) or the county (others).

    Made on first use. A county or programme account may be named by a station, meaning
    that station's county. Two first uses at once meet at the unique constraint and
    both get the same row.
    """
    owner = ACCOUNT_CHART[AccountKind(kind)][0]
    if owner == Owner.STATION:
        if station is None:
            raise ValueError(f"{kind} is a station account: name the station")
        account, _created = Account.objects.get_or_create(
            station=station, kind=kind, defaults={"county_id": station.county_id, "owner": owner})
        return account
    county_id = station.county_id if station is not None else (county.pk if isinstance(county, County) else county)
    if county_id is None:
        raise ValueError(f"{kind} is a {owner} account: name the county or a station in it")
    account, _created = Account.objects.get_or_create(
        county_id=county_id, station=None, kind=kind, defaults={"owner": owner})
    return account


def accounts_of_station(*, station: Station, kinds) -> dict[str, Account]:
    """account_for each of kinds for the station, by kind, in one query when all exist.

    The hot path of a posting: an order's payment and commission each name two accounts.
    """
    kinds = {AccountKind(kind) for kind in kinds}
    station_kinds = [k for k in kinds if ACCOUNT_CHART[k][0] == Owner.STATION]
    county_kinds = [k for k in kinds if ACCOUNT_CHART[k][0] != Owner.STATION]
    found = {account.kind: account for account in _accounts_where(station, station_kinds, county_kinds)}
    for kind in kinds - found.keys():
        found[kind] = account_for(kind=kind, station=station)
    return found


# created_at is left deferred: a posting needs only the ids and kinds.
_ACCOUNT = Columns(Account, "a", only=("id", "county_id", "station_id", "owner", "kind"))


def _accounts_where(station: Station, station_kinds: list[str], county_kinds: list[str]) -> list[Account]:
    """The station's accounts of station_kinds and its county's of county_kinds, in one statement.

    Hand-written: every order reads its accounts, and the ORM's compiling of this
    query cost more than the query.
    """
    def kinds_in(kinds):
        return f"a.kind IN ({', '.join(['%s'] * len(kinds))})" if kinds else "1 = 0"

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_ACCOUNT.sql} FROM ledger_account a "
                       f"WHERE (a.station_id = %s AND {kinds_in(station_kinds)}) "
                       f"OR (a.county_id = %s AND a.station_id IS NULL AND {kinds_in(county_kinds)})",
                       [station.pk, *station_kinds, station.county_id, *county_kinds])
        return [_ACCOUNT.build(row) for row in cursor.fetchall()]


def lock_accounts(accounts: list[Account]) -> None:
    """Lock the accounts' rows for this transaction, in primary-key order."""
    list(Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk")
         .values_list("pk", flat=True))


def account_balance_fen(account: Account) -> int:
    """The raw balance (debits minus credits); lock the account first to decide on it."""
    return Entry.objects.filter(account=account).aggregate(total=Sum("amount_fen"))["total"] or 0


# --- the one writer of entries ---------------------------------------------------------

def _refuse(message, code: str):
    raise PostingRefused(message, code=code)


def _checked_lines(county_id: int, lines) -> list[tuple[Account, int]]:
    if not lines:
        _refuse(_("A posting needs at least two lines."), "empty_posting")
    checked = []
    for line in lines:
        try:
            account, amount = line
        except (TypeError, ValueError):
            _refuse(_("Each line is an account and an amount in fen."), "bad_line")
        if not isinstance(account, Account) or account.pk is None:
            _refuse(_("Each line is an account and an amount in fen."), "bad_line")
        # bool is an int in Python and float/Decimal may carry fractions of a fen: only int.
        if type(amount) is not int:
            _refuse(_("Amounts are whole fen (integers), never fractions or floats."), "not_integer_fen")
        if amount == 0:
            _refuse(_("A line of zero moves nothing; leave it out."), "zero_line")
        if abs(amount) > MAX_LINE_FEN:
            _refuse(_("A line may move at most %(max)s fen.") % {"max": MAX_LINE_FEN}, "amount_too_large")
        checked.append((account, amount))
    if len(checked) < 2:
        _refuse(_("A posting needs at least two lines."), "empty_posting")
    total = sum(amount for _account, amount in checked)
    if total != 0:
        _refuse(_("Debits and credits differ by %(diff)s fen; a posting must balance.") % {"diff": total},
                "unbalanced")
    return checked


def _clean_dedupe_key(dedupe_key: str) -> str:
    dedupe_key = (dedupe_key or "").strip()
    if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY:
        _refuse(_("A posting needs a dedupe key of 1 to %(max)s characters.") % {"max": MAX_DEDUPE_KEY},
                "bad_dedupe_key")
    return dedupe_key


def _require_one_county(county_id: int, checked) -> None:
    # The county as the database knows it, not as the caller's objects say.
    counties = dict(Account.objects.filter(pk__in={a.pk for a, _amount in checked}).order_by()
                    .values_list("pk", "county_id"))
    if any(counties.get(account.pk) != county_id for account, _amount in checked):
        _refuse(_("Every account of a posting belongs to the posting's county."), "cross_county")


def _signature(pairs) -> list[tuple[int, int]]:
    return sorted((account_id, amount) for account_id, amount in pairs)


def _replay(existing: Transaction, kind: str, checked) -> Transaction:
    """The earlier posting of the same event, if it had the same kind and lines."""
    same = existing.kind == kind and _signature(existing.entries.values_list("account_id", "amount_fen")) == _signature(
        (account.pk, amount) for account, amount in checked)
    if not same:
        raise Conflict(_("This event was already posted with different amounts (key %(key)s).")
                       % {"key": existing.dedupe_key}, code="dedupe_key_reused")
    existing.replayed = True
    return existing


@transaction.atomic
def ledger_post(*, scope: Scope, county: County | int, kind: str, lines, dedupe_key: str, memo: str = "",
                reference: Reference | None = None) -> Transaction:
    """Post one balanced transaction; a repeat of the same event returns the first posting.

    lines are (Account, amount_fen) pairs, debit positive and credit negative, each a
    non-zero int. Refuses (PostingRefused, nothing written) an empty or one-line
    posting, a zero line, a float or Decimal, an unbalanced sum, and an account of
    another county; an adjustment (a hand-made correction) needs county staff.
    dedupe_key names the business event and is unique per county: the
    same key with the same kind and lines returns the existing transaction (with
    `replayed = True`); with different ones it is a Conflict. Locks nothing: see the
    module docstring.
    """
    county_id = county.pk if isinstance(county, County) else county
    if kind not in TransactionKind.values:
        _refuse(_("Unknown kind of posting."), "bad_kind")
    dedupe_key = _clean_dedupe_key(dedupe_key)
    if not scope.may_reach_county(county_id):
        raise NotFound(detail="county")
    if kind == TransactionKind.ADJUSTMENT and not scope.is_staff_scope:
        raise Forbidden(_("Only county staff may post an adjustment."))
    checked = _checked_lines(county_id, lines)
    _require_one_county(county_id, checked)
    return _write_posting(scope=scope, county_id=county_id, kind=kind, checked=checked, dedupe_key=dedupe_key,
                          memo=memo, reference=reference)


def _write_posting(*, scope: Scope, county_id: int, kind: str, checked, dedupe_key: str, memo: str,
                   reference: Reference | None) -> Transaction:
    """Write the checked lines, or replay the earlier posting of dedupe_key; inside a transaction.

    The insert comes first: a repeat is rare, so it is found by the unique index
    (county, dedupe_key) rather than by a query before every posting.
    """
    now = timezone.now()
    try:
        # A concurrent twin waits here on the unique index until the first commits.
        with transaction.atomic():
            txn = Transaction.objects.create(
                county_id=county_id, kind=kind, memo=(memo or "")[:200], dedupe_key=dedupe_key, actor=scope.user,
                reference_type=reference.type if reference else "", reference_id=reference.id if reference else "",
                created_at=now,
            )
    except IntegrityError:
        return _replay(Transaction.objects.get(county_id=county_id, dedupe_key=dedupe_key), kind, checked)
    Entry.objects.bulk_create([
        Entry(transaction=txn, county_id=county_id, account=account, amount_fen=amount, created_at=now)
        for account, amount in checked
    ])
    txn.replayed = False
    return txn


# --- helpers for the orders app --------------------------------------------------------

def _require_station(scope: Scope, station: Station) -> None:
    if not scope.may_reach_station(station.pk, station.county_id):
        raise NotFound(detail="station")


def _positive_fen(amount, field: str = "amount_fen") -> int:
    if type(amount) is not int:
        raise ValidationError({field: [_("Give the amount as a whole number of fen.")]})
    if amount <= 0:
        raise ValidationError({field: [_("The amount must be more than zero.")]})
    if amount > MAX_LINE_FEN:
        raise ValidationError({field: [_("The amount is larger than any single payment can be.")]})
    return amount


def _post_for_station(*, scope, station, kind, debit: str, credit: str, amount_fen: int, reference: Reference,
                      dedupe_key: str | None, memo: str, accounts: dict | None = None) -> Transaction:
    """Dr debit / Cr credit, both named by kind, for the station (or its county)."""
    _require_station(scope, station)
    amount_fen = _positive_fen(amount_fen)
    accounts = accounts or {}
    if not {debit, credit} <= accounts.keys():
        accounts = {**accounts_of_station(station=station, kinds={debit, credit} - accounts.keys()), **accounts}
    # Both accounts were just read from the database as the station's (or its county's):
    # ledger_post's checks of the lines and of their county would add nothing but queries.
    checked = [(accounts[debit], amount_fen), (accounts[credit], -amount_fen)]
    return _write_posting(scope=scope, county_id=station.county_id, kind=kind, checked=checked,
                          dedupe_key=_clean_dedupe_key(dedupe_key or f"{kind}:{reference}"), memo=memo,
                          reference=reference)


def post_new_events(*, scope: Scope, station: Station, postings: list[StationPosting],
                    accounts: dict | None = None) -> list[Transaction]:
    """Post events that cannot have been posted before, inside the caller's transaction.

    For postings whose reference this transaction has just made (a new order's payment
    and commission): no earlier posting of their keys can exist, so there is no
    savepoint and no replay look-up, and all of them take two inserts. Were a key
    posted already, the unique (county, dedupe_key) index refuses it and the caller's
    transaction rolls back.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("post_new_events writes inside the caller's transaction")
    _require_station(scope, station)
    amounts = [_positive_fen(posting.amount_fen) for posting in postings]
    kinds = {kind for posting in postings for kind in (posting.debit, posting.credit)}
    accounts = accounts or {}
    if not kinds <= accounts.keys():
        accounts = {**accounts_of_station(station=station, kinds=kinds - accounts.keys()), **accounts}
    now = timezone.now()
    txns = insert_new([Transaction(
        county_id=station.county_id, kind=posting.kind, memo=posting.memo[:200], actor=scope.user,
        dedupe_key=_clean_dedupe_key(posting.dedupe_key), reference_type=posting.reference.type,
        reference_id=posting.reference.id, created_at=now) for posting in postings])
    insert_new([Entry(transaction=txn, county_id=station.county_id, account=accounts[kind], amount_fen=amount,
                      created_at=now)
                for txn, posting, fen in zip(txns, postings, amounts, strict=True)
                for kind, amount in ((posting.debit, fen), (posting.credit, -fen))])
    for txn in txns:
        txn.replayed = False
    return txns


# The accounts (debit, credit) of the helpers an order's placing calls: an order reads
# them for its payment and its commission in one accounts_of_station and passes them
# to each helper as `accounts`, which must be the station's (or its county's).
CASH_PAYMENT_ACCOUNTS = (AccountKind.CASH_IN_HAND, AccountKind.SALES)
CREDIT_SALE_ACCOUNTS = (AccountKind.CREDIT_RECEIVABLE, AccountKind.SALES)
COMMISSION_ACCRUAL_ACCOUNTS = (AccountKind.COMMISSION_EXPENSE, AccountKind.COMMISSION_PENDING)


def cash_payment(*, amount_fen: int, reference: Reference, dedupe_key: str | None = None,
                 memo: str = "") -> StationPosting:
    """A villager pays cash at the station (now, or on delivery/pickup).

    Dr station cash_in_hand / Cr programme sales. dedupe_key defaults to
    "payment:cash:<reference>": pass your own when one order takes two cash payments.
    """
    debit, credit = CASH_PAYMENT_ACCOUNTS
    return StationPosting(TransactionKind.PAYMENT, debit, credit, amount_fen, reference,
                          dedupe_key or f"payment:cash:{reference}", memo)


@transaction.atomic
def record_cash_payment(*, scope: Scope, station: Station, amount_fen: int, reference: Reference,
                        dedupe_key: str | None = None, memo: str = "", accounts: dict | None = None) -> Transaction:
    """Post cash_payment(...) for the station."""
    return _post_for_station(scope=scope, station=station, accounts=accounts, **vars(cash_payment(
        amount_fen=amount_fen, reference=reference, dedupe_key=dedupe_key, memo=memo)))


@transaction.atomic
def record_online_payment(*, scope: Scope, station: Station, amount_fen: int, reference: Reference,
                          dedupe_key: str | None = None, memo: str = "") -> Transaction:
    """The payment provider confirms an online payment (the villager's or a relative's).

    Dr programme online_clearing / Cr programme sales, in the station's county. The
    station's cash is untouched. Call it from the verified webhook with SYSTEM_SCOPE and
    the provider's payment id in dedupe_key, so a replayed webhook posts nothing new
    (default "payment:online:<reference>").
    """
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.PAYMENT,
                             debit=AccountKind.ONLINE_CLEARING, credit=AccountKind.SALES, amount_fen=amount_fen,
                             reference=reference, dedupe_key=dedupe_key or f"payment:online:{reference}", memo=memo)


def credit_sale(*, amount_fen: int, reference: Reference, dedupe_key: str | None = None,
                memo: str = "") -> StationPosting:
    """A trusted villager buys on credit (赊账); the per-villager limit is the orders app's check.

    Dr station credit_receivable / Cr programme sales.
    """
    debit, credit = CREDIT_SALE_ACCOUNTS
    kind = TransactionKind.CREDIT_SALE
    return StationPosting(kind, debit, credit, amount_fen, reference, dedupe_key or f"{kind}:{reference}", memo)


@transaction.atomic
def record_credit_sale(*, scope: Scope, station: Station, amount_fen: int, reference: Reference,
                       dedupe_key: str | None = None, memo: str = "", accounts: dict | None = None) -> Transaction:
    """Post credit_sale(...) for the station."""
    return _post_for_station(scope=scope, station=station, accounts=accounts, **vars(credit_sale(
        amount_fen=amount_fen, reference=reference, dedupe_key=dedupe_key, memo=memo)))


def _require_within(account: Account, amount_fen: int, message: str) -> None:
    """Refuse an amount above the account's normal-side balance; locks the account first."""
    lock_accounts([account])
    available = account_balance_fen(account) * account.normal_side
    if amount_fen > available:
        raise ValidationError({"amount_fen": [message % {"available": format_fen(available), "amount": format_fen(amount_fen)}]})


@transaction.atomic
def record_credit_repayment(*, scope: Scope, station: Station, amount_fen: int, reference: Reference,
                            dedupe_key: str | None = None, memo: str = "") -> Transaction:
    """A villager pays back credit in cash at the station.

    Dr station cash_in_hand / Cr station credit_receivable. Refused above what the
    station's villagers owe in all (the per-villager balance is the orders app's check).
    """
    _require_station(scope, station)
    amount_fen = _positive_fen(amount_fen)
    receivable = account_for(kind=AccountKind.CREDIT_RECEIVABLE, station=station)
    if not Transaction.objects.filter(county_id=station.county_id, dedupe_key=dedupe_key or
                                      f"{TransactionKind.CREDIT_REPAYMENT}:{reference}").exists():
        _require_within(receivable, amount_fen, _("Villagers owe %(available)s on credit here; %(amount)s is more."))
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.CREDIT_REPAYMENT,
                             debit=AccountKind.CASH_IN_HAND, credit=AccountKind.CREDIT_RECEIVABLE,
                             amount_fen=amount_fen, reference=reference, dedupe_key=dedupe_key, memo=memo,
                             accounts={AccountKind.CREDIT_RECEIVABLE: receivable})


REFUND_FROM = {
    "cash": AccountKind.CASH_IN_HAND,
    "online": AccountKind.ONLINE_CLEARING,
    "credit": AccountKind.CREDIT_RECEIVABLE,
}


@transaction.atomic
def record_refund(*, scope: Scope, station: Station, amount_fen: int, reference: Reference, method: str,
                  dedupe_key: str | None = None, memo: str = "") -> Transaction:
    """Return money the way it came, for a cancelled order or a return at the station.

    Dr programme refunds / Cr station cash_in_hand (method "cash": the partner pays the
    villager back from the till), Cr programme online_clearing ("online": the provider
    refunds), or Cr station credit_receivable ("credit": the villager's debt is
    cancelled, refused above what villagers owe). dedupe_key defaults to
    "refund:<method>:<reference>": pass your own for a second refund of one
    reference (a second return from the same order). That the refund is no larger than
    what the order was paid is the orders app's check. Cash in hand may go below zero
    when the partner refunds more cash than they hold: the county then owes them.
    """
    if method not in REFUND_FROM:
        raise ValidationError({"method": [_("Refund by cash, online or credit.")]})
    _require_station(scope, station)
    amount_fen = _positive_fen(amount_fen)
    source = account_for(kind=REFUND_FROM[method], station=station)
    key = dedupe_key or f"refund:{method}:{reference}"
    if method == "credit" and not Transaction.objects.filter(county_id=station.county_id, dedupe_key=key).exists():
        _require_within(source, amount_fen, _("Villagers owe %(available)s on credit here; %(amount)s is more."))
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.REFUND, debit=AccountKind.REFUNDS,
                             credit=source.kind, amount_fen=amount_fen, reference=reference, dedupe_key=key,
                             memo=memo, accounts={source.kind: source})


def record_cash_refund(**kwargs) -> Transaction:
    """record_refund(method="cash"): Dr refunds / Cr station cash_in_hand."""
    return record_refund(method="cash", **kwargs)


def record_online_refund(**kwargs) -> Transaction:
    """record_refund(method="online"): Dr refunds / Cr online_clearing."""
    return record_refund(method="online", **kwargs)


def record_credit_refund(**kwargs) -> Transaction:
    """record_refund(method="credit"): Dr refunds / Cr station credit_receivable."""
    return record_refund(method="credit", **kwargs)


# Commission: one accrual per reference (an order, or an order line when lines are
# returned one by one), then exactly one of earned or reversed.

def _commission_key(kind: str, reference: Reference) -> str:
    return f"{kind}:{reference}"


def commission_accrual(*, amount_fen: int, reference: Reference, memo: str = "") -> StationPosting:
    """Commission appears as pending when the order is paid (or placed on credit/COD).

    Dr programme commission_expense / Cr station commission_pending. One accrual per
    reference: a repeat with the same amount returns it, another amount is a Conflict.
    """
    debit, credit = COMMISSION_ACCRUAL_ACCOUNTS
    kind = TransactionKind.COMMISSION_ACCRUAL
    return StationPosting(kind, debit, credit, amount_fen, reference, _commission_key(kind, reference), memo)


@transaction.atomic
def accrue_commission(*, scope: Scope, station: Station, amount_fen: int, reference: Reference,
                      memo: str = "", accounts: dict | None = None) -> Transaction:
    """Post commission_accrual(...) for the station."""
    return _post_for_station(scope=scope, station=station, accounts=accounts, **vars(commission_accrual(
        amount_fen=amount_fen, reference=reference, memo=memo)))


def _locked_accrual(station: Station, reference: Reference) -> tuple[Transaction, int]:
    """The reference's accrual, locked so earning and reversing it take turns; and its amount."""
    accrual = (Transaction.objects.select_for_update()
               .filter(county_id=station.county_id,
                       dedupe_key=_commission_key(TransactionKind.COMMISSION_ACCRUAL, reference)).first())
    if accrual is None:
        raise Conflict(_("No commission was accrued for %(ref)s.") % {"ref": reference}, code="no_commission")
    amount = -accrual.entries.get(account__kind=AccountKind.COMMISSION_PENDING).amount_fen
    return accrual, amount


def commission_state(*, county_id: int, reference: Reference) -> str | None:
    """None (no accrual), "pending", "earned" or "reversed", from the postings themselves."""
    keys = {kind: _commission_key(kind, reference) for kind in
            (TransactionKind.COMMISSION_ACCRUAL, TransactionKind.COMMISSION_EARNED, TransactionKind.COMMISSION_REVERSAL)}
    found = set(Transaction.objects.filter(county_id=county_id, dedupe_key__in=keys.values())
                .values_list("kind", flat=True))
    if TransactionKind.COMMISSION_EARNED in found:
        return "earned"
    if TransactionKind.COMMISSION_REVERSAL in found:
        return "reversed"
    return "pending" if TransactionKind.COMMISSION_ACCRUAL in found else None


@transaction.atomic
def earn_commission(*, scope: Scope, station: Station, reference: Reference, memo: str = "") -> Transaction:
    """The goods were handed over and the return window has passed: the commission is earned.

    Dr station commission_pending / Cr station commission_owed, for the accrued amount.
    Refused (Conflict) once the commission was reversed; a repeat returns the first.
    """
    _require_station(scope, station)
    _accrual, amount = _locked_accrual(station, reference)
    if commission_state(county_id=station.county_id, reference=reference) == "reversed":
        raise Conflict(_("The commission for %(ref)s was reversed and cannot be earned.") % {"ref": reference},
                       code="commission_reversed")
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.COMMISSION_EARNED,
                             debit=AccountKind.COMMISSION_PENDING, credit=AccountKind.COMMISSION_OWED,
                             amount_fen=amount, reference=reference,
                             dedupe_key=_commission_key(TransactionKind.COMMISSION_EARNED, reference), memo=memo)


@transaction.atomic
def reverse_commission(*, scope: Scope, station: Station, reference: Reference, memo: str = "") -> Transaction:
    """The order was cancelled or returned within the window: the pending commission goes.

    Dr station commission_pending / Cr programme commission_expense, for the accrued
    amount. Refused (Conflict) once the commission was earned; a repeat returns the first.
    """
    _require_station(scope, station)
    _accrual, amount = _locked_accrual(station, reference)
    if commission_state(county_id=station.county_id, reference=reference) == "earned":
        raise Conflict(_("The commission for %(ref)s is already earned and cannot be reversed.") % {"ref": reference},
                       code="commission_earned")
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.COMMISSION_REVERSAL,
                             debit=AccountKind.COMMISSION_PENDING, credit=AccountKind.COMMISSION_EXPENSE,
                             amount_fen=amount, reference=reference,
                             dedupe_key=_commission_key(TransactionKind.COMMISSION_REVERSAL, reference), memo=memo)


# --- settlement and payout -------------------------------------------------------------

def _require_county_staff(scope: Scope, county_id: int) -> None:
    if not (scope.is_staff_scope and scope.may_reach_county(county_id)):
        raise Forbidden(_("Only county staff of this county may do that."))


def _record_settlement_event(settlement: Settlement, *, scope: Scope, from_status: str, note: str = "") -> None:
    SettlementEvent.objects.create(settlement=settlement, county_id=settlement.county_id, from_status=from_status,
                                   to_status=settlement.status, actor=scope.user, note=note[:500])


@transaction.atomic
def settlement_submit(*, scope: Scope, station: Station, amount_fen: int, note: str = "") -> Settlement:
    """The partner declares the cash they hand to the county (结算申报).

    Moves no money yet: the county counts it first. At most the cash in hand (the cash
    account is locked while deciding), and one hand-over waiting at a time.
    """
    _require_station(scope, station)
    amount_fen = _positive_fen(amount_fen)
    if Settlement.objects.filter(station=station, status=SettlementStatus.SUBMITTED).exists():
        raise Conflict(_("A hand-over of this station is still waiting to be counted."), code="settlement_open")
    cash = account_for(kind=AccountKind.CASH_IN_HAND, station=station)
    _require_within(cash, amount_fen, _("You hold %(available)s in cash; you cannot hand over %(amount)s."))
    settlement = Settlement(county_id=station.county_id, station=station, declared_fen=amount_fen,
                            note=(note or "").strip()[:500], submitted_by=scope.user, submitted_at=timezone.now())
    try:
        with transaction.atomic():
            settlement.save()
    except IntegrityError:
        raise Conflict(_("A hand-over of this station is still waiting to be counted."), code="settlement_open") from None
    _record_settlement_event(settlement, scope=scope, from_status="", note=settlement.note)
    return settlement


def _locked_settlement(settlement: Settlement) -> Settlement:
    return Settlement.objects.select_for_update(of=("self",)).select_related("station").get(pk=settlement.pk)


@transaction.atomic
def settlement_confirm(*, scope: Scope, settlement: Settlement, counted_fen: int, note: str = "") -> Settlement:
    """County staff confirm the cash they counted; the cash moves from station to county.

    Dr county cash_received (counted) / Dr station cash_short (declared − counted, when
    not zero) / Cr station cash_in_hand (declared). The station's cash drops by what the
    partner says they handed over; a shortfall or surplus sits on cash_short and on the
    settlement, and a note saying why is required. The settlement row is locked: of two
    confirms at once, one posts and the other gets a Conflict.
    """
    _require_county_staff(scope, settlement.county_id)
    if type(counted_fen) is not int or counted_fen < 0:
        raise ValidationError({"counted_fen": [_("Give the counted cash as a whole number of fen, zero or more.")]})
    settlement = _locked_settlement(settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise Conflict(_("This hand-over is already %(status)s.") % {"status": settlement.get_status_display()},
                       code="settlement_not_open")
    note = (note or "").strip()[:500]
    difference = settlement.declared_fen - counted_fen
    if difference and not note:
        raise ValidationError({"note": [
            _("The counted cash differs from the declared %(declared)s by %(diff)s: say why.")
            % {"declared": format_fen(settlement.declared_fen), "diff": format_fen(difference)}]})
    station = settlement.station
    lines = [(account_for(kind=AccountKind.CASH_IN_HAND, station=station), -settlement.declared_fen)]
    if counted_fen:
        lines.append((account_for(kind=AccountKind.CASH_RECEIVED, station=station), counted_fen))
    if difference:
        lines.append((account_for(kind=AccountKind.CASH_SHORT, station=station), difference))
    posting = ledger_post(scope=scope, county=settlement.county_id, kind=TransactionKind.SETTLEMENT, lines=lines,
                          memo=note, reference=Reference.to(settlement), dedupe_key=f"settlement:{settlement.pk}")
    settlement.status = SettlementStatus.CONFIRMED
    settlement.counted_fen = counted_fen
    settlement.confirm_note = note
    settlement.confirmed_by = scope.user
    settlement.confirmed_at = timezone.now()
    settlement.transaction = posting
    settlement.save(update_fields=["status", "counted_fen", "confirm_note", "confirmed_by", "confirmed_at",
                                   "transaction"])
    _record_settlement_event(settlement, scope=scope, from_status=SettlementStatus.SUBMITTED, note=note)
    return settlement


@transaction.atomic
def settlement_cancel(*, scope: Scope, settlement: Settlement, note: str = "") -> Settlement:
    """Withdraw a hand-over not yet counted (the partner, or county staff); no money moved."""
    _require_station(scope, settlement.station)
    settlement = _locked_settlement(settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise Conflict(_("This hand-over is already %(status)s.") % {"status": settlement.get_status_display()},
                       code="settlement_not_open")
    settlement.status = SettlementStatus.CANCELLED
    settlement.save(update_fields=["status"])
    _record_settlement_event(settlement, scope=scope, from_status=SettlementStatus.SUBMITTED, note=(note or "").strip())
    return settlement


@transaction.atomic
def commission_payout(*, scope: Scope, station: Station, amount_fen: int, dedupe_key: str,
                      note: str = "") -> Transaction:
    """County staff pay the partner earned commission (from the county's cash).

    Dr station commission_owed / Cr county cash_received. At most what is owed (the
    account is locked while deciding). dedupe_key names this payout, so a double
    submit pays once.
    """
    _require_county_staff(scope, station.county_id)
    _require_station(scope, station)
    amount_fen = _positive_fen(amount_fen)
    key = f"commission_payout:{dedupe_key}"
    owed = account_for(kind=AccountKind.COMMISSION_OWED, station=station)
    if not Transaction.objects.filter(county_id=station.county_id, dedupe_key=key).exists():
        _require_within(owed, amount_fen, _("The partner is owed %(available)s; %(amount)s is more."))
    return _post_for_station(scope=scope, station=station, kind=TransactionKind.COMMISSION_PAYOUT,
                             debit=AccountKind.COMMISSION_OWED, credit=AccountKind.CASH_RECEIVED,
                             amount_fen=amount_fen, reference=Reference.to(station), dedupe_key=key, memo=note,
                             accounts={AccountKind.COMMISSION_OWED: owed})
