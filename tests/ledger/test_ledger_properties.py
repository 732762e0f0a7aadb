"""Random sequences of the ledger's helpers keep the books true (hypothesis stateful test).

After every step: every transaction balances; no entry sits on an account of another
county; each station's cash equals cash taken minus cash refunded minus cash handed
over; credit owed and commission owed match what happened; a commission once reversed
is never earned.
"""

from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from cuntao.core.errors import Conflict
from cuntao.core.scope import resolve_scope
from cuntao.ledger.models import Transaction
from cuntao.ledger.selectors import misfiled_entries, station_balances, unbalanced_transactions
from cuntao.ledger.services import (
    Reference,
    accrue_commission,
    commission_payout,
    earn_commission,
    record_cash_payment,
    record_cash_refund,
    record_credit_refund,
    record_credit_repayment,
    record_credit_sale,
    record_online_payment,
    record_online_refund,
    reverse_commission,
    settlement_confirm,
    settlement_submit,
)
from tests.factories import PartnerFactory, StaffFactory, StationFactory, UserFactory

AMOUNTS = st.integers(min_value=1, max_value=200_000)
PICK = st.integers(min_value=0, max_value=10_000)


@dataclass
class Order:
    ref: Reference
    station: int  # index into the machine's stations
    method: str  # cash, credit, online
    amount: int
    commission: int
    repaid: int = 0
    commission_state: str = "pending"  # pending, earned, reversed
    returned: bool = False


def CREDIT_OWED(o):  # noqa: N802 - predicates read as names here
    return o.method == "credit" and not o.returned and o.repaid < o.amount


def RETURNABLE(o):  # noqa: N802
    return not o.returned and o.commission_state == "pending"


def NOT_EARNED(o):  # noqa: N802
    return o.commission_state != "earned"


def PAID_NOW(o):  # noqa: N802
    return o.method != "credit"


@dataclass
class Books:
    """What the machine expects of one station, kept by plain arithmetic."""

    cash_taken: int = 0
    cash_refunded: int = 0
    cash_handed_over: int = 0
    credit_owed: int = 0
    commission_owed: int = 0
    cash_short: int = 0
    open_settlement: object = None

    @property
    def cash(self) -> int:
        return self.cash_taken - self.cash_refunded - self.cash_handed_over


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint that teardown() rolls back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.stations, self.partners, self.staff = [], [], []
        first = StationFactory()
        for station in (first, StationFactory(village__county=first.county), StationFactory()):
            partner = PartnerFactory(station=station)
            clerk = StaffFactory(county=station.county, user=UserFactory()).user
            self.stations.append(station)
            self.partners.append(resolve_scope(partner.user))
            self.staff.append(resolve_scope(clerk))
        self.books = [Books() for _ in self.stations]
        self.orders: list[Order] = []
        self.serial = 0

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _ref(self) -> Reference:
        self.serial += 1
        return Reference("orders.order", f"h{self.serial}")

    def _pick(self, pick: int, want) -> Order:
        candidates = [o for o in self.orders if want(o)]
        return candidates[pick % len(candidates)]

    # --- orders ---------------------------------------------------------------------

    @rule(where=st.integers(0, 2), method=st.sampled_from(["cash", "credit", "online"]), amount=AMOUNTS)
    def place_and_pay(self, where, method, amount):
        station, scope, books = self.stations[where], self.partners[where], self.books[where]
        order = Order(ref=self._ref(), station=where, method=method, amount=amount, commission=max(amount // 20, 1))
        helper = {"cash": record_cash_payment, "credit": record_credit_sale, "online": record_online_payment}[method]
        helper(scope=scope, station=station, amount_fen=amount, reference=order.ref)
        accrue_commission(scope=scope, station=station, amount_fen=order.commission, reference=order.ref)
        if method == "cash":
            books.cash_taken += amount
        elif method == "credit":
            books.credit_owed += amount
        self.orders.append(order)

    @precondition(lambda self: any(CREDIT_OWED(o) for o in self.orders))
    @rule(pick=PICK, part=PICK)
    def repay_credit(self, pick, part):
        order = self._pick(pick, CREDIT_OWED)
        amount = 1 + part % (order.amount - order.repaid)
        record_credit_repayment(scope=self.partners[order.station], station=self.stations[order.station],
                                amount_fen=amount, reference=order.ref, dedupe_key=f"repay:{order.ref}:{order.repaid}")
        order.repaid += amount
        books = self.books[order.station]
        books.cash_taken += amount
        books.credit_owed -= amount

    @precondition(lambda self: any(RETURNABLE(o) for o in self.orders))
    @rule(pick=PICK)
    def return_order(self, pick):
        """A return within the window: money back the way it came, commission reversed."""
        order = self._pick(pick, RETURNABLE)
        station, scope, books = self.stations[order.station], self.partners[order.station], self.books[order.station]
        if order.method == "cash":
            record_cash_refund(scope=scope, station=station, amount_fen=order.amount, reference=order.ref)
            books.cash_refunded += order.amount
        elif order.method == "online":
            record_online_refund(scope=scope, station=station, amount_fen=order.amount, reference=order.ref)
        else:
            owed = order.amount - order.repaid
            if owed:
                record_credit_refund(scope=scope, station=station, amount_fen=owed, reference=order.ref,
                                     dedupe_key=f"refund-credit:{order.ref}")
                books.credit_owed -= owed
            if order.repaid:
                record_cash_refund(scope=scope, station=station, amount_fen=order.repaid, reference=order.ref,
                                   dedupe_key=f"refund-cash:{order.ref}")
                books.cash_refunded += order.repaid
        reverse_commission(scope=scope, station=station, reference=order.ref)
        order.returned, order.commission_state = True, "reversed"

    @precondition(lambda self: any(NOT_EARNED(o) for o in self.orders))
    @rule(pick=PICK)
    def earn(self, pick):
        """Handed over and the return window passed (the system's nightly job)."""
        order = self._pick(pick, NOT_EARNED)
        station, scope = self.stations[order.station], self.partners[order.station]
        if order.commission_state == "reversed":
            with pytest.raises(Conflict):
                earn_commission(scope=scope, station=station, reference=order.ref)
            return
        earn_commission(scope=scope, station=station, reference=order.ref)
        order.commission_state = "earned"
        self.books[order.station].commission_owed += order.commission

    @precondition(lambda self: any(PAID_NOW(o) for o in self.orders))
    @rule(pick=PICK)
    def repeat_a_payment(self, pick):
        """A retried request or replayed webhook posts the same event again: nothing new."""
        order = self._pick(pick, PAID_NOW)
        helper = record_cash_payment if order.method == "cash" else record_online_payment
        before = Transaction.objects.count()
        again = helper(scope=self.partners[order.station], station=self.stations[order.station],
                       amount_fen=order.amount, reference=order.ref)
        assert again.replayed and Transaction.objects.count() == before

    # --- settlement and payout ------------------------------------------------------

    def _may_hand_over(self) -> list[int]:
        return [i for i, books in enumerate(self.books) if books.open_settlement is None and books.cash > 0]

    @precondition(lambda self: self._may_hand_over())
    @rule(pick=PICK, part=PICK, too_much=st.booleans())
    def hand_over(self, pick, part, too_much):
        where = self._may_hand_over()[pick % len(self._may_hand_over())]
        books = self.books[where]
        station, scope = self.stations[where], self.partners[where]
        if too_much:
            with pytest.raises(ValidationError):
                settlement_submit(scope=scope, station=station, amount_fen=books.cash + 1 + part)
            return
        books.open_settlement = settlement_submit(scope=scope, station=station, amount_fen=1 + part % books.cash)

    def _waiting(self) -> list[int]:
        return [i for i, books in enumerate(self.books) if books.open_settlement is not None]

    @precondition(lambda self: self._waiting())
    @rule(pick=PICK, delta=st.one_of(st.just(0), st.integers(min_value=-500, max_value=500)))
    def count_and_confirm(self, pick, delta):
        where = self._waiting()[pick % len(self._waiting())]
        books = self.books[where]
        settlement = books.open_settlement
        counted = max(settlement.declared_fen + delta, 0)
        settlement_confirm(scope=self.staff[where], settlement=settlement, counted_fen=counted,
                           note="" if counted == settlement.declared_fen else "差额")
        books.cash_handed_over += settlement.declared_fen
        books.cash_short += settlement.declared_fen - counted
        books.open_settlement = None

    def _owed(self) -> list[int]:
        return [i for i, books in enumerate(self.books) if books.commission_owed > 0]

    @precondition(lambda self: self._owed())
    @rule(pick=PICK, part=PICK)
    def pay_out_commission(self, pick, part):
        where = self._owed()[pick % len(self._owed())]
        books = self.books[where]
        amount = 1 + part % books.commission_owed
        self.serial += 1
        commission_payout(scope=self.staff[where], station=self.stations[where], amount_fen=amount,
                          dedupe_key=f"h{self.serial}")
        books.commission_owed -= amount

    # --- what must always hold ------------------------------------------------------

    @invariant()
    def every_transaction_balances_inside_one_county(self):
        assert not unbalanced_transactions().exists()
        assert not misfiled_entries().exists()

    @invariant()
    def station_balances_match_what_happened(self):
        for station, scope, books in zip(self.stations, self.partners, self.books, strict=True):
            shown = {b.kind: b.shown_fen for b in station_balances(scope=scope, station=station)}
            assert shown["cash_in_hand"] == books.cash
            assert shown["credit_receivable"] == books.credit_owed
            assert shown["commission_owed"] == books.commission_owed
            assert shown["cash_short"] == books.cash_short
            pending = sum(o.commission for o in self.orders
                          if o.station == self.stations.index(station) and o.commission_state == "pending")
            assert shown["commission_pending"] == pending

    @invariant()
    def no_commission_is_both_reversed_and_earned(self):
        earned = set(Transaction.objects.filter(kind="commission_earned").values_list("reference_id", flat=True))
        reversed_ = set(Transaction.objects.filter(kind="commission_reversal").values_list("reference_id", flat=True))
        assert not earned & reversed_
        assert reversed_ == {o.ref.id for o in self.orders if o.commission_state == "reversed"}


@pytest.mark.django_db
def test_random_sequences_of_money_events_keep_the_books_true():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=30, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
