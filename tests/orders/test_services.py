from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from cuntao.catalog.models import Product
from cuntao.catalog.services import product_update
from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.ledger.models import Entry, Transaction
from cuntao.ledger.services import (
    Reference,
    account_balance_fen,
    account_for,
    commission_state,
)
from cuntao.notify.models import Notice
from cuntao.orders.models import (
    CommissionState,
    CreditAccount,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from cuntao.orders.services import (
    PriceChanged,
    credit_repay,
    order_advance,
    order_cancel,
    order_complete_due,
    order_hand_over,
    order_place,
    order_return,
)
from tests.catalog.factories import SYSTEM
from tests.orders.factories import (
    fertiliser,
    give_credit,
    place,
    rice_cooker,
    villager_at,
)


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def staff(clerk, scope_of):
    return scope_of(clerk)


@pytest.fixture
def villager(station):
    return villager_at(station)


@pytest.fixture
def cooker(db):
    return rice_cooker()


def snapshot():
    """Everything an order could change: counts of rows, stock, credit owed."""
    return {
        "orders": Order.objects.count(), "lines": OrderLine.objects.count(), "events": OrderEvent.objects.count(),
        "transactions": Transaction.objects.count(), "entries": Entry.objects.count(),
        "notices": Notice.objects.count(),
        "stock": dict(Product.objects.values_list("pk", "stock")),
        "owed": dict(CreditAccount.objects.values_list("pk", "outstanding_fen")),
    }


def assert_balanced():
    for txn in Transaction.objects.all():
        assert txn.entries.aggregate(s=Sum("amount_fen"))["s"] == 0, txn.kind
    assert (Entry.objects.aggregate(s=Sum("amount_fen"))["s"] or 0) == 0


def cash_in_hand(station):
    return account_balance_fen(account_for(kind="cash_in_hand", station=station))


def to_station(staff, order):
    for status in ("shipped", "at_county_warehouse", "at_station"):
        order = order_advance(scope=staff, order=order, to_status=status)
    return order


# --- bad input changes nothing ---------------------------------------------------------

@pytest.mark.parametrize("quantity,message", [
    (0, "at least 1"), (-3, "at least 1"), (1000, "at most 999"), (10**12, "at most 999"), ("2", "whole number"),
    (2.5, "whole number"),
])
def test_bad_quantity_is_a_field_error_naming_the_line_and_changes_nothing(scope, station, villager, cooker,
                                                                          quantity, message):
    other = fertiliser()
    before = snapshot()
    with pytest.raises(ValidationError) as e:
        order_place(scope=scope, station=station, villager=villager, payment_method="cash_now",
                    lines=[(other.pk, 1, other.price_fen), (cooker.pk, quantity, cooker.price_fen)])
    assert list(e.value.message_dict) == ["lines.1.quantity"]
    assert message in e.value.message_dict["lines.1.quantity"][0]
    assert snapshot() == before


def test_price_changed_is_a_409_with_the_new_price_and_changes_nothing(scope, station, villager, cooker):
    product_update(scope=SYSTEM, product=cooker, price_fen=21900)
    before = snapshot()
    with pytest.raises(PriceChanged) as e:
        order_place(scope=scope, station=station, villager=villager, payment_method="cash_now",
                    lines=[(cooker.pk, 1, 19900)])
    assert e.value.status == 409 and e.value.code == "price_changed"
    assert e.value.new_prices == {cooker.pk: 21900}
    assert e.value.fields == {"lines.0.expected_unit_price_fen": ["21900"]}
    assert "¥219.00" in str(e.value.message) and "¥199.00" in str(e.value.message)
    assert snapshot() == before
    # Confirmed at the new price, the same order goes through.
    order = order_place(scope=scope, station=station, villager=villager, payment_method="cash_now",
                        lines=[(cooker.pk, 1, 21900)])
    assert order.goods_total_fen == 21900


def test_out_of_stock_is_a_409_naming_the_product_and_changes_nothing(scope, station, villager, cooker):
    before = snapshot()
    with pytest.raises(Conflict) as e:
        place(scope, station, villager, cooker, quantity=11)
    assert e.value.code == "out_of_stock" and "美的电饭煲" in str(e.value.message)
    assert "lines.0.quantity" in e.value.fields
    assert snapshot() == before


def test_unlisted_product_is_refused_and_changes_nothing(scope, station, villager, cooker):
    from cuntao.catalog.services import product_archive
    product_archive(scope=SYSTEM, product=cooker)
    before = snapshot()
    with pytest.raises(ValidationError) as e:
        place(scope, station, villager, cooker)
    assert "lines.0.product_id" in e.value.message_dict
    assert snapshot() == before


def test_credit_over_the_limit_names_limit_and_outstanding_and_changes_nothing(scope, station, villager, cooker):
    give_credit(scope, villager, 30000)
    place(scope, station, villager, cooker, payment_method="credit")  # owes ¥199.00
    before = snapshot()
    with pytest.raises(DomainError) as e:
        place(scope, station, villager, cooker, payment_method="credit")
    assert e.value.status == 400 and e.value.code == "credit_limit_exceeded"
    assert "¥300.00" in str(e.value.message) and "¥199.00" in str(e.value.message)
    assert snapshot() == before


def test_credit_without_a_limit_is_refused(scope, station, villager, cooker):
    before = snapshot()
    with pytest.raises(DomainError) as e:
        place(scope, station, villager, cooker, payment_method="credit")
    assert e.value.code == "credit_limit_exceeded"
    assert snapshot() == before


@pytest.mark.parametrize("method", ["barter", ""])
def test_unknown_payment_methods_are_refused_by_field(scope, station, villager, cooker, method):
    before = snapshot()
    with pytest.raises(ValidationError) as e:
        place(scope, station, villager, cooker, payment_method=method)
    assert list(e.value.message_dict) == ["payment_method"]
    assert snapshot() == before


def test_villager_of_another_station_is_refused(scope, station, other_station, cooker):
    with pytest.raises(ValidationError) as e:
        place(scope, station, villager_at(other_station), cooker)
    assert "villager" in e.value.message_dict
    assert Order.objects.count() == 0


def test_partner_cannot_order_at_another_station(scope, other_station, cooker):
    with pytest.raises(NotFound):
        place(scope, other_station, villager_at(other_station), cooker)


def test_same_product_twice_and_empty_orders_are_field_errors(scope, station, villager, cooker):
    with pytest.raises(ValidationError) as e:
        order_place(scope=scope, station=station, villager=villager, payment_method="cash_now",
                    lines=[(cooker.pk, 1, 19900), (cooker.pk, 2, 19900)])
    assert "lines.1.product_id" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        order_place(scope=scope, station=station, villager=villager, payment_method="cash_now", lines=[])
    assert "lines" in e.value.message_dict


# --- happy paths -----------------------------------------------------------------------

def test_cash_now_order_is_paid_takes_stock_cash_and_accrues_commission(scope, station, villager, cooker):
    other = fertiliser()
    order = order_place(scope=scope, station=station, villager=villager, payment_method="cash_now",
                        lines=[(cooker.pk, 2, 19900), (other.pk, 3, 12000)])
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert order.goods_total_fen == 2 * 19900 + 3 * 12000
    assert order.local_total_fen == 2 * 25900 + 3 * 13500
    assert order.savings_fen == order.local_total_fen - order.goods_total_fen
    assert order.commission_fen == 2 * 19900 * 300 // 10000 + 3 * 12000 * 200 // 10000
    assert order.commission_state == CommissionState.PENDING
    assert order.placed_by == scope.user
    cooker.refresh_from_db(), other.refresh_from_db()
    assert (cooker.stock, other.stock) == (8, 7)
    assert cash_in_hand(station) == order.goods_total_fen
    assert commission_state(county_id=station.county_id, reference=Reference.to(order)) == "pending"
    assert [(e.from_status, e.to_status) for e in order.events.all()] == [("", "placed"), ("placed", "paid")]
    assert sorted(Notice.objects.values_list("kind", flat=True)) == ["order_paid", "order_placed"]
    assert_balanced()


def test_cash_on_delivery_stays_unpaid_until_hand_over_then_takes_cash(scope, staff, station, villager, cooker):
    order = place(scope, station, villager, cooker, payment_method="cash_on_delivery")
    assert order.status == OrderStatus.PLACED and order.paid_at is None
    assert cash_in_hand(station) == 0
    assert list(Notice.objects.values_list("kind", flat=True)) == ["order_placed"]
    order = to_station(staff, order)
    order = order_hand_over(scope=scope, order=order)
    assert order.status == OrderStatus.HANDED_OVER and order.paid_at is not None
    assert cash_in_hand(station) == 19900
    assert Notice.objects.filter(kind="order_paid").count() == 1
    assert order_hand_over(scope=scope, order=order).status == OrderStatus.HANDED_OVER  # repeat: no second payment
    assert cash_in_hand(station) == 19900
    assert_balanced()


def test_credit_order_is_paid_on_credit_and_raises_what_the_villager_owes(scope, station, villager, cooker):
    give_credit(scope, villager, 50000)
    order = place(scope, station, villager, cooker, payment_method="credit")
    assert order.status == OrderStatus.PAID
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 19900
    assert account_balance_fen(account_for(kind="credit_receivable", station=station)) == 19900
    assert cash_in_hand(station) == 0
    account = credit_repay(scope=scope, villager=villager, amount_fen=9900, dedupe_key="r1")
    assert account.outstanding_fen == 10000 and cash_in_hand(station) == 9900
    assert credit_repay(scope=scope, villager=villager, amount_fen=9900, dedupe_key="r1").outstanding_fen == 10000
    with pytest.raises(ValidationError):
        credit_repay(scope=scope, villager=villager, amount_fen=10001, dedupe_key="r2")
    assert_balanced()


def test_credit_limit_is_capped_by_the_county_maximum(scope, villager):
    with pytest.raises(ValidationError) as e:
        give_credit(scope, villager, 10**9)
    assert "limit_fen" in e.value.message_dict


def test_same_idempotency_key_returns_the_first_order(scope, station, villager, cooker):
    first = place(scope, station, villager, cooker, idempotency_key="k-1")
    again = place(scope, station, villager, cooker, idempotency_key="k-1")
    assert again.pk == first.pk and Order.objects.count() == 1
    cooker.refresh_from_db()
    assert cooker.stock == 9


# --- the way to the villager, completion and commission --------------------------------

def test_partner_cannot_advance_orders_and_bad_transitions_are_conflicts(scope, staff, station, villager, cooker):
    order = place(scope, station, villager, cooker)
    with pytest.raises(Forbidden):
        order_advance(scope=scope, order=order, to_status="shipped")
    with pytest.raises(Conflict):
        order_advance(scope=staff, order=order, to_status="at_station")
    with pytest.raises(Conflict):
        order_hand_over(scope=scope, order=order)
    unpaid_credit = place(scope, station, villager, fertiliser(), payment_method="cash_on_delivery")
    assert order_advance(scope=staff, order=unpaid_credit, to_status="shipped").status == "shipped"


def test_order_completes_and_earns_commission_only_after_the_return_window(scope, staff, station, villager, cooker):
    order = order_hand_over(scope=scope, order=to_station(staff, place(scope, station, villager, cooker)))
    assert order_complete_due(now=order.handed_over_at + timedelta(days=6)) == 0
    later = order.handed_over_at + timedelta(days=7, seconds=1)
    assert order_complete_due(now=later) == 1
    assert order_complete_due(now=later) == 0  # idempotent
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.commission_state == CommissionState.EARNED
    assert commission_state(county_id=station.county_id, reference=Reference.to(order)) == "earned"
    owed = account_balance_fen(account_for(kind="commission_owed", station=station))
    assert -owed == order.commission_fen
    assert order.events.last().to_status == "completed" and order.events.last().actor is None
    assert_balanced()


# --- cancel and return -----------------------------------------------------------------

@pytest.mark.parametrize("method", ["cash_now", "credit", "cash_on_delivery"])
def test_cancel_returns_stock_and_money_the_way_it_came_and_reverses_commission(scope, station, villager, cooker,
                                                                                method):
    give_credit(scope, villager, 50000)
    order = place(scope, station, villager, cooker, quantity=2, payment_method=method)
    order = order_cancel(scope=scope, order=order, reason="村民改主意了")
    assert order.status == OrderStatus.CANCELLED and order.commission_state == CommissionState.REVERSED
    cooker.refresh_from_db()
    assert cooker.stock == 10
    assert cash_in_hand(station) == 0
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 0
    assert account_balance_fen(account_for(kind="credit_receivable", station=station)) == 0
    assert commission_state(county_id=station.county_id, reference=Reference.to(order)) == "reversed"
    assert order.events.last().note == "村民改主意了" and order.events.last().actor == scope.user
    assert order_cancel(scope=scope, order=order, reason="again").status == OrderStatus.CANCELLED
    assert cash_in_hand(station) == 0
    assert_balanced()


def test_cancel_after_hand_over_is_refused(scope, staff, station, villager, cooker):
    order = order_hand_over(scope=scope, order=to_station(staff, place(scope, station, villager, cooker)))
    with pytest.raises(Conflict):
        order_cancel(scope=scope, order=order, reason="late")
    with pytest.raises(ValidationError):
        order_cancel(scope=scope, order=order, reason="  ")


def test_return_within_the_window_refunds_restocks_and_no_commission_is_ever_earned(scope, staff, station,
                                                                                    villager, cooker):
    order = order_hand_over(scope=scope, order=to_station(staff, place(scope, station, villager, cooker)))
    order = order_return(scope=scope, order=order, reason="坏了", now=order.handed_over_at + timedelta(days=6))
    assert order.status == OrderStatus.RETURNED
    cooker.refresh_from_db()
    assert cooker.stock == 10 and cash_in_hand(station) == 0
    assert order_complete_due(now=order.handed_over_at + timedelta(days=30)) == 0
    order.refresh_from_db()
    assert order.commission_state == CommissionState.REVERSED
    assert commission_state(county_id=station.county_id, reference=Reference.to(order)) == "reversed"
    assert account_balance_fen(account_for(kind="commission_owed", station=station)) == 0
    assert_balanced()


def test_return_after_the_window_is_refused_and_changes_nothing(scope, staff, station, villager, cooker):
    order = order_hand_over(scope=scope, order=to_station(staff, place(scope, station, villager, cooker)))
    before = snapshot()
    with pytest.raises(Conflict) as e:
        order_return(scope=scope, order=order, reason="坏了", now=order.handed_over_at + timedelta(days=7))
    assert e.value.code == "return_window_closed"
    assert snapshot() == before


def test_credit_order_repaid_then_returned_gives_the_repaid_part_back_in_cash(scope, staff, station, villager, cooker):
    give_credit(scope, villager, 50000)
    order = place(scope, station, villager, cooker, payment_method="credit")
    credit_repay(scope=scope, villager=villager, amount_fen=5000, dedupe_key="part")
    order = order_hand_over(scope=scope, order=to_station(staff, order))
    order_return(scope=scope, order=order, reason="不合适", now=timezone.now())
    assert CreditAccount.objects.get(villager=villager).outstanding_fen == 0
    assert cash_in_hand(station) == 0  # 50.00 repaid in, 50.00 refunded out
    assert account_balance_fen(account_for(kind="credit_receivable", station=station)) == 0
    assert_balanced()


def test_partner_of_another_station_cannot_cancel(scope, scope_of, station, villager, cooker, far_station):
    from cuntao.network.models import Partner
    order = place(scope, station, villager, cooker)
    far = scope_of(Partner.objects.get(station=far_station).user)
    with pytest.raises(NotFound):
        order_cancel(scope=far, order=order, reason="x")


def test_an_order_number_already_taken_that_day_is_drawn_again(scope, station, villager, cooker, monkeypatch):
    from django.db import IntegrityError

    from cuntao.orders import services

    first = place(scope, station, villager, cooker)
    drawn = iter([first.number, f"{station.code}-FRESH1"])
    monkeypatch.setattr(services, "_new_number", lambda station, now: next(drawn))
    second = place(scope, station, villager, cooker, idempotency_key="another")
    assert second.number == f"{station.code}-FRESH1"
    assert Product.objects.get(pk=cooker.pk).stock == 8  # one unit each: the drawn-again try took stock once
    assert Transaction.objects.filter(reference_id=str(second.pk)).count() == 2  # its payment and commission once
    monkeypatch.setattr(services, "_new_number", lambda station, now: first.number)
    with pytest.raises(IntegrityError):  # never free: after a few draws it gives up and changes nothing
        place(scope, station, villager, cooker)
    assert Order.objects.count() == 2 and Product.objects.get(pk=cooker.pk).stock == 8


def test_the_order_number_carries_the_local_date(scope, station, villager, cooker, monkeypatch):
    import datetime

    from cuntao.orders import services

    # 19:30 UTC on 29 November is 03:30 on 30 November in China Standard Time.
    late = datetime.datetime(2026, 11, 29, 19, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(services.timezone, "now", lambda: late)
    assert place(scope, station, villager, cooker).number.startswith(f"{station.code}-261130-")
