"""Random sequences of place, pay online, advance, hand over, cancel, return, repay,
settle and complete keep stock, cash, credit and commission true (hypothesis stateful test).

After every step: every ledger transaction balances; stock equals the start minus what
live orders hold; the station's cash equals cash taken minus cash refunded minus cash
remitted to the county; online money sits on the clearing account, never in the
station's cash; what the villager owes matches; no returned or cancelled order ever
has its commission earned.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cuntao.catalog.models import Product
from cuntao.core.errors import Conflict, DomainError
from cuntao.core.scope import resolve_scope
from cuntao.ledger.models import Transaction
from cuntao.ledger.services import (
    Reference,
    account_balance_fen,
    account_for,
    commission_state,
    settlement_confirm,
    settlement_submit,
)
from cuntao.orders.models import CreditAccount, Order
from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay
from cuntao.orders.services import (
    credit_repay,
    order_advance,
    order_cancel,
    order_checkout,
    order_complete_due,
    order_hand_over,
    order_return,
)
from tests.factories import PartnerFactory, StaffFactory, StationFactory, UserFactory
from tests.orders.factories import give_credit, place, rice_cooker, villager_at

START_STOCK = 12
LIMIT = 100_000
PICK = st.integers(min_value=0, max_value=1000)
LIVE = ("awaiting_payment", "placed", "paid", "shipped", "at_county_warehouse", "at_station", "handed_over", "completed")


class OrdersMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each example runs in a savepoint that teardown() rolls back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.station = StationFactory()
        partner = PartnerFactory(station=self.station, user=UserFactory())
        self.scope = resolve_scope(partner.user)
        self.staff = resolve_scope(StaffFactory(county=self.station.county, user=UserFactory()).user)
        self.villager = villager_at(self.station)
        give_credit(self.scope, self.villager, LIMIT)
        self.product = rice_cooker(stock=START_STOCK)
        self.orders: list[dict] = []  # {"pk", "method", "qty", "amount", "status", "paid"}
        self.cash = 0
        self.online = 0  # paid online, less refunded: on the programme's clearing account
        self.remitted = 0
        self.owed = 0
        self.repayments = 0

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _held(self) -> int:
        return sum(o["qty"] for o in self.orders if o["status"] in LIVE)

    def _pick(self, i, statuses):
        found = [o for o in self.orders if o["status"] in statuses]
        return found[i % len(found)] if found else None

    @rule(method=st.sampled_from(["cash_now", "cash_on_delivery", "credit", "online"]), qty=st.integers(1, 4))
    def place_order(self, method, qty):
        amount = qty * self.product.price_fen
        try:
            order = place(self.scope, self.station, self.villager, self.product, quantity=qty, payment_method=method)
        except Conflict as e:
            assert e.code == "out_of_stock" and START_STOCK - self._held() < qty
            return
        except DomainError as e:
            assert e.code == "credit_limit_exceeded" and self.owed + amount > LIMIT
            return
        assert START_STOCK - self._held() >= qty
        paid = method not in ("cash_on_delivery", "online")
        self.orders.append({"pk": order.pk, "method": method, "qty": qty, "amount": amount,
                            "status": order.status, "paid": paid})
        if method == "cash_now":
            self.cash += amount
        elif method == "credit":
            self.owed += amount

    @rule(i=PICK, approve=st.booleans())
    def pay_online(self, i, approve):
        """The villager pays (or declines) on the provider's page; its signed webhook arrives later."""
        o = self._pick(i, ("awaiting_payment",))
        if o is None:
            return
        # The pending payment, or a new QR after an earlier decline (what the partner's page does).
        payment, _checkout = order_checkout(order=Order.objects.get(pk=o["pk"]))
        sandbox_pay(provider_ref=payment.provider_ref, approve=approve)
        sandbox_deliver_webhooks()
        sandbox_deliver_webhooks()  # a second delivery run finds nothing new to apply
        if approve:
            o["paid"], o["status"] = True, "paid"
            self.online += o["amount"]

    @rule(share=st.integers(1, 100), short=st.integers(0, 500))
    def settle(self, share, short):
        """The partner hands part of the cash to the county, which counts it (perhaps short)."""
        amount = self.cash * share // 100
        if amount <= 0:
            return
        settlement = settlement_submit(scope=self.scope, station=self.station, amount_fen=amount)
        counted = max(amount - short, 0)
        settlement_confirm(scope=self.staff, settlement=settlement, counted_fen=counted,
                           note="" if counted == amount else "short in the count")
        self.cash -= amount
        self.remitted += amount

    @rule(i=PICK)
    def bring_to_station(self, i):
        o = self._pick(i, ("placed", "paid"))
        if o is None:
            return
        order = Order.objects.get(pk=o["pk"])
        for status in ("shipped", "at_county_warehouse", "at_station"):
            order = order_advance(scope=self.staff, order=order, to_status=status)
        o["status"] = order.status

    @rule(i=PICK)
    def hand_over(self, i):
        o = self._pick(i, ("at_station",))
        if o is None:
            return
        order_hand_over(scope=self.scope, order=Order.objects.get(pk=o["pk"]))
        if not o["paid"]:
            o["paid"] = True
            self.cash += o["amount"]
        o["status"] = "handed_over"

    def _refund(self, o):
        if not o["paid"]:
            return
        if o["method"] == "online":
            self.online -= o["amount"]
        elif o["method"] == "credit":
            cancel = min(o["amount"], self.owed)
            self.owed -= cancel
            self.cash -= o["amount"] - cancel
        else:
            self.cash -= o["amount"]

    @rule(i=PICK)
    def cancel(self, i):
        o = self._pick(i, LIVE)
        if o is None:
            return
        try:
            order_cancel(scope=self.scope, order=Order.objects.get(pk=o["pk"]), reason="test")
        except Conflict:
            assert o["status"] in ("handed_over", "completed")
            return
        self._refund(o)
        o["status"] = "cancelled"

    @rule(i=PICK, late=st.booleans())
    def return_goods(self, i, late):
        o = self._pick(i, ("handed_over", "completed"))
        if o is None:
            return
        order = Order.objects.get(pk=o["pk"])
        now = order.handed_over_at + timedelta(days=8 if late else 1)
        try:
            order_return(scope=self.scope, order=order, reason="test", now=now)
        except Conflict:
            assert late or o["status"] == "completed"
            return
        self._refund(o)
        o["status"] = "returned"

    @rule(amount=st.integers(1, 50_000))
    def repay(self, amount):
        self.repayments += 1
        try:
            credit_repay(scope=self.scope, villager=self.villager, amount_fen=amount,
                         dedupe_key=f"r{self.repayments}")
        except ValidationError:
            assert amount > self.owed
            return
        self.owed -= amount
        self.cash += amount

    @precondition(lambda self: any(o["status"] == "handed_over" for o in self.orders))
    @rule()
    def complete_due(self):
        done = order_complete_due(now=timezone.now() + timedelta(days=30))
        assert done == sum(1 for o in self.orders if o["status"] == "handed_over")
        for o in self.orders:
            if o["status"] == "handed_over":
                o["status"] = "completed"

    @invariant()
    def books_are_true(self):
        for txn in Transaction.objects.filter(county_id=self.station.county_id):
            assert txn.entries.aggregate(s=Sum("amount_fen"))["s"] == 0
        assert Product.objects.get(pk=self.product.pk).stock == START_STOCK - self._held()
        assert account_balance_fen(account_for(kind="cash_in_hand", station=self.station)) == self.cash
        clearing = account_for(kind="online_clearing", county=self.station.county_id)
        assert abs(account_balance_fen(clearing)) == self.online
        assert CreditAccount.objects.get(villager=self.villager).outstanding_fen == self.owed
        for o in self.orders:
            order = Order.objects.get(pk=o["pk"])
            assert order.status == o["status"]
            state = commission_state(county_id=self.station.county_id, reference=Reference.to(order))
            assert state == order.commission_state
            if o["status"] in ("cancelled", "returned"):
                assert state == "reversed"
            if state == "earned":
                assert o["status"] == "completed"


@pytest.mark.django_db
def test_random_order_lives_keep_stock_cash_credit_and_commission_true():
    run_state_machine_as_test(OrdersMachine, settings=settings(
        max_examples=25, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
